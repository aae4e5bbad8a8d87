#!/usr/bin/env node
// Generates the FROZEN shared test vectors test/vectors/{leaf,merkle,holder-ref}.json.
// Run once: `npx tsx scripts/make-vectors.mjs` (tsx lets this file import the SDK's TypeScript sources).
// Each vector is computed twice, by independent paths, and the script aborts if they disagree:
//   leaf:   SDK computeLeaf (ethers AbiCoder)  vs  hand-packed 32-byte words + @noble/hashes keccak_256
//   merkle: plain reference tree (hex, ethers keccak256)  vs  the SDK's fast tree
// Once committed the files are frozen: tests read them and never regenerate them; a change is breaking.
// Pass --check to recompute and compare with the committed files instead of writing.
import { writeFileSync, readFileSync, existsSync } from "node:fs";
import { keccak256, toUtf8Bytes, ZeroHash, encodeBytes32String } from "ethers";
import { keccak_256 } from "@noble/hashes/sha3";
import { computeLeaf, encodeHeader, HashAlg } from "../sdk/src/leaf.js";
import { buildMerkleTree } from "../sdk/src/merkle/index.js";
import { referenceMerkle } from "../sdk/src/merkle/reference.js";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import { computeHolderRef, canonicalHolderId } from "../sdk/src/holder-ref.js";

const MAX64 = (1n << 64n) - 1n;
const h = (s) => keccak256(toUtf8Bytes(s));
const FF = "0x" + "ff".repeat(32);

/** Independent encoding: every field is one big-endian 32-byte word. */
function wordsOf(header) {
  const word = (v) => {
    if (typeof v === "string") return v.slice(2).toLowerCase().padStart(64, "0");
    return BigInt(v).toString(16).padStart(64, "0");
  };
  return "0x" + [header.typeCode, header.issuer, header.holderRef, header.contentHash, header.hashAlg,
    header.issuedAt, header.validFrom, header.validUntil, header.version, header.supersedes].map(word).join("");
}

const base = {
  typeCode: encodeBytes32String("BL-310000-001"),
  issuer: encodeBytes32String("11310115002418321F"),
  holderRef: h("tongban/vector/holder/91310104MA1K000018"),
  contentHash: h("tongban/vector/content/1"),
  hashAlg: HashAlg.SHA256,
  issuedAt: 1767225600n, // 2026-01-01T00:00:00Z
  validFrom: 1767225600n,
  validUntil: 1924992000n, // 2031-01-01T00:00:00Z
  version: 1,
  supersedes: ZeroHash,
};
const v1Leaf = computeLeaf(base);
const cases = [
  ["business-licence-sha256", base],
  ["sm3-content-hash", { ...base, hashAlg: HashAlg.SM3, contentHash: "0x66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" }],
  ["zero-valid-until-no-end", { ...base, validUntil: 0n }],
  ["max-uint64-times", { ...base, issuedAt: MAX64, validFrom: MAX64, validUntil: MAX64 }],
  ["supersedes-set-version-2", { ...base, version: 2, issuedAt: 1798761600n, validFrom: 1798761600n, supersedes: v1Leaf }],
  ["max-uint32-version", { ...base, version: 4294967295 }],
  ["all-zero", { typeCode: ZeroHash, issuer: ZeroHash, holderRef: ZeroHash, contentHash: ZeroHash, hashAlg: 0, issuedAt: 0n, validFrom: 0n, validUntil: 0n, version: 0, supersedes: ZeroHash }],
  ["all-max", { typeCode: FF, issuer: FF, holderRef: FF, contentHash: FF, hashAlg: 255, issuedAt: MAX64, validFrom: MAX64, validUntil: MAX64, version: 4294967295, supersedes: FF }],
  ["type-code-31-chars", { ...base, typeCode: encodeBytes32String("A".repeat(31)) }],
  ["company-holder-pudong-approval", { ...base, typeCode: encodeBytes32String("APPROVAL-310115-07"), issuer: encodeBytes32String("91310104MA1K000018"), holderRef: h("tongban/vector/holder/31010419900307123X"), validFrom: 1767312000n, validUntil: 1767225600n + 86400n * 365n }],
];

const leafVectors = cases.map(([name, header]) => {
  const encoded = encodeHeader(header);
  const leaf = computeLeaf(header);
  const words = wordsOf(header);
  if (words !== encoded.toLowerCase()) throw new Error(`${name}: ABI encoding differs from hand-packed words`);
  const leaf2 = "0x" + Buffer.from(keccak_256(Buffer.from(words.slice(2), "hex"))).toString("hex");
  if (leaf2 !== leaf) throw new Error(`${name}: leaf differs between ethers and noble paths`);
  return {
    name,
    header: {
      typeCode: header.typeCode, issuer: header.issuer, holderRef: header.holderRef, contentHash: header.contentHash,
      hashAlg: header.hashAlg, issuedAt: header.issuedAt.toString(), validFrom: header.validFrom.toString(),
      validUntil: header.validUntil.toString(), version: header.version, supersedes: header.supersedes,
    },
    encoded,
    leaf,
  };
});

const sizes = [1, 2, 3, 4, 5, 7, 8, 13, 33];
const merkleVectors = sizes.map((n) => {
  const leaves = Array.from({ length: n }, (_, i) => h(`tongban/vector/merkle/${n}/${i}`));
  return { name: `size-${n}`, leaves };
});
merkleVectors.push({ name: "size-3-duplicate-leaves", leaves: [h("dup"), h("dup"), h("other")] });
for (const v of merkleVectors) {
  const ref = referenceMerkle(v.leaves);
  const fast = buildMerkleTree(v.leaves);
  if (fast.root !== ref.root) throw new Error(`${v.name}: fast root differs from reference`);
  if (JSON.stringify(fast.getAllProofs()) !== JSON.stringify(ref.proofs)) throw new Error(`${v.name}: proofs differ`);
  v.root = ref.root;
  v.proofs = ref.proofs;
}

const leafFile = {
  description: "FROZEN. Material leaf = keccak256(abi.encode(bytes32 typeCode, bytes32 issuer, bytes32 holderRef, bytes32 contentHash, uint8 hashAlg, uint64 issuedAt, uint64 validFrom, uint64 validUntil, uint32 version, bytes32 supersedes)) per contracts/interfaces/IMaterialRegistry.sol. uint64 fields are decimal strings. Made by scripts/make-vectors.mjs; changing any value is a breaking change.",
  vectors: leafVectors,
};
const merkleFile = {
  description: "FROZEN. Material Merkle tree per IMaterialRegistry.sol: leaves in order; pairs (2i,2i+1) hashed with commutative keccak256 of the sorted pair (OpenZeppelin MerkleProof); odd last node carried up unchanged; one leaf => root == leaf, empty proof; leaves not re-hashed. proofs[i] = sibling nodes bottom-up for leaves[i]. Made by scripts/make-vectors.mjs; changing any value is a breaking change.",
  vectors: merkleVectors.map((v) => ({ name: v.name, leaves: v.leaves, root: v.root, proofs: v.proofs })),
};

// Holder references: SDK (node:crypto HMAC) vs @noble/hashes hmac(sha256) over the canonical string.
const holderKey = "0x" + Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString("hex");
const holderCases = [
  ["resident-id-standard-example", { idType: "RESIDENT_ID", idNumber: "11010519491231002X" }],
  ["resident-id-lowercase-x-normalised", { idType: "RESIDENT_ID", idNumber: "11010519491231002x" }],
  ["resident-id-shanghai", { idType: "RESIDENT_ID", idNumber: "31010419900307123X" }],
  ["resident-id-digit-check", { idType: "RESIDENT_ID", idNumber: "310115198512120022" }],
  ["uscc-company", { idType: "USCC", idNumber: "91310104MA1K000018" }],
  ["uscc-department", { idType: "USCC", idNumber: "11310115002418321F" }],
  ["uscc-lowercase-normalised", { idType: "USCC", idNumber: "91350100m000100y43" }],
  ["passport-opaque-trimmed", { idType: "PASSPORT", idNumber: "  E12345678 " }],
  ["hk-macao-permit-opaque", { idType: "HK_MACAO_PERMIT", idNumber: "H12345678" }],
];
const holderVectors = holderCases.map(([name, id]) => {
  const canonical = canonicalHolderId(id);
  const holderRef = computeHolderRef(id, holderKey);
  const again = "0x" + Buffer.from(hmac(sha256, Buffer.from(holderKey.slice(2), "hex"), Buffer.from(canonical, "utf8"))).toString("hex");
  if (again !== holderRef) throw new Error(`${name}: holderRef differs between node:crypto and noble`);
  return { name, idType: id.idType, idNumber: id.idNumber, canonical, holderRef };
});
const holderFile = {
  description: "FROZEN. holderRef = HMAC-SHA256(key, utf8(idType + '|' + canonicalIdNumber)). RESIDENT_ID (GB 11643) and USCC (GB 32100) are validated and upper-cased; other types (^[A-Z][A-Z0-9_]{0,31}$) are opaque, trimmed, case kept. Test key only: bytes 0x00..0x1f. Made by scripts/make-vectors.mjs; changing any value is a breaking change.",
  key: holderKey,
  vectors: holderVectors,
};

const outputs = [["test/vectors/leaf.json", leafFile], ["test/vectors/merkle.json", merkleFile], ["test/vectors/holder-ref.json", holderFile]];
if (process.argv.includes("--check")) {
  let bad = 0;
  for (const [path, obj] of outputs) {
    const same = existsSync(path) && readFileSync(path, "utf8") === JSON.stringify(obj, null, 2) + "\n";
    process.stdout.write(`${path}: ${same ? "matches" : "DIFFERS"}\n`);
    if (!same) bad++;
  }
  process.exit(bad ? 1 : 0);
}
for (const [path, obj] of outputs) writeFileSync(path, JSON.stringify(obj, null, 2) + "\n");
process.stdout.write(`wrote ${leafVectors.length} leaf, ${merkleVectors.length} merkle, ${holderVectors.length} holder-ref vectors\n`);
