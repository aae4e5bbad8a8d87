// Generates the FROZEN vectors test/vectors/grant.json and test/vectors/grant-delegation.json (the grantee's
// signed delegation, added later in its own file so grant.json stays byte-identical) (run once:
// `npx tsx test/sdk/grants/make-vectors.ts`; `--check` compares with the committed files instead of writing). Every value is computed twice, by the SDK
// (ethers TypedDataEncoder / AbiCoder) and by hand-packed 32-byte words hashed with @noble/hashes keccak_256,
// and the script refuses to write if they disagree. Once committed the file is frozen.
import { readFileSync, writeFileSync } from "node:fs";
import { keccak_256 } from "@noble/hashes/sha3";
import { Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import {
  computeGrantId, grantDomain, grantDomainSeparator, hashGrantTerms, holderGrantDigest, holderRevokeDigest,
  signGrant, signGrantRevocation, type GrantTerms, GrantOrigin, type GrantOriginName,
  granteeDelegationDigest, signDelegation, recoverDelegationSigner,
} from "../../../sdk/src/index.js";

const OUT = new URL("../../vectors/grant.json", import.meta.url);
const OUT_DELEGATION = new URL("../../vectors/grant-delegation.json", import.meta.url);
const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
const un = (h: string) => Buffer.from(h.slice(2), "hex");
const k = (...parts: (Uint8Array | string)[]) => hex(keccak_256(Buffer.concat(parts.map((p) => (typeof p === "string" ? un(p) : Buffer.from(p))))));
const word = (v: string | bigint | number) => typeof v === "string" ? un(v.toLowerCase().padEnd(2, "0")).length === 32 ? un(v) : Buffer.from(v.slice(2).padStart(64, "0"), "hex") : Buffer.from(BigInt(v).toString(16).padStart(64, "0"), "hex");
const str = (s: string) => keccak_256(Buffer.from(s, "utf8"));

const TERMS_TYPE = "GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)";
const GRANT_TYPE = "HolderGrant(GrantTerms terms,uint256 nonce,uint256 deadline)" + TERMS_TYPE;
const REVOKE_TYPE = "HolderRevoke(bytes32 grantId,uint256 nonce,uint256 deadline)";
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

const chainId = 31337n;
const verifyingContract = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const domain = grantDomain(chainId, verifyingContract);
const handSeparator = k(str(DOMAIN_TYPE), str("TongbanAuthorisations"), str("1"), word(chainId), word(verifyingContract));

function handTerms(t: GrantTerms): string {
  return k(str(TERMS_TYPE), word(t.holderRef), word(t.grantee), word(t.matter),
    keccak_256(Buffer.concat(t.typeCodes.map(un))), keccak_256(Buffer.concat(t.leaves.map(un))),
    word(t.notBefore), word(t.notAfter), word(t.maxUses));
}
const handId = (parent: string, origin: GrantOriginName, th: string, salt: string) =>
  k(handSeparator, parent, word(GrantOrigin[origin]), th, salt);

const b = encodeBytes32String;
const h = (s: string) => keccak256(toUtf8Bytes(s));
const ZERO = "0x" + "00".repeat(32);
// Test key only (never a real holder's): keccak256("tongban/vector/holder-key").
const holderKey = h("tongban/vector/holder-key");
const holder = new Wallet(holderKey);

const base: GrantTerms = {
  holderRef: h("tongban/vector/holder/91310104MA1K000018"),
  grantee: b("11310104MB2F000050"),
  matter: b("MATTER-310000-0042"),
  typeCodes: [b("BIZ_LICENCE")],
  leaves: [],
  notBefore: 1767225600n,
  notAfter: 1769904000n,
  maxUses: 3,
};
const cases: { name: string; terms: GrantTerms; origin: GrantOriginName; parentId: string; salt: string | bigint; nonce?: bigint; deadline?: bigint }[] = [
  { name: "holder-signed, one type", terms: base, origin: "HOLDER_SIGNATURE", parentId: ZERO, salt: 0n, nonce: 0n, deadline: 1767229200n },
  { name: "identity provider, types and leaves", origin: "IDENTITY_PROVIDER", parentId: ZERO, salt: h("salt-1"),
    terms: { ...base, typeCodes: [b("BIZ_LICENCE"), b("FOOD_PERMIT")], leaves: [h("leaf-1"), h("leaf-2")], maxUses: 10 } },
  { name: "delegation, one leaf, max values", origin: "DELEGATION", parentId: h("parent"), salt: "0x" + "ff".repeat(32),
    terms: { ...base, grantee: b("91310104MA1K000018"), typeCodes: [], leaves: [h("leaf-1")], notBefore: 0n, notAfter: (1n << 64n) - 1n, maxUses: 0xffffffff } },
];

const sdkSeparator = grantDomainSeparator(domain);
if (sdkSeparator !== handSeparator) throw new Error(`domain separator differs: ${sdkSeparator} vs ${handSeparator}`);
const vectors = [];
for (const c of cases) {
  const termsHash = hashGrantTerms(c.terms);
  if (termsHash !== handTerms(c.terms)) throw new Error(`${c.name}: terms hash differs`);
  const salt = typeof c.salt === "bigint" ? "0x" + c.salt.toString(16).padStart(64, "0") : c.salt;
  const grantId = computeGrantId({ domain, parentId: c.parentId, origin: c.origin, terms: c.terms, salt: c.salt });
  if (grantId !== handId(c.parentId, c.origin, termsHash, salt)) throw new Error(`${c.name}: grant id differs`);
  const v: Record<string, unknown> = {
    name: c.name,
    terms: { ...c.terms, notBefore: String(c.terms.notBefore), notAfter: String(c.terms.notAfter) },
    termsHash, origin: c.origin, parentId: c.parentId, salt, grantId,
  };
  if (c.nonce !== undefined) {
    const digest = holderGrantDigest(domain, c.terms, c.nonce, c.deadline!);
    const handDigest = k("0x1901", handSeparator, k(str(GRANT_TYPE), termsHash, word(c.nonce), word(c.deadline!)));
    if (digest !== handDigest) throw new Error(`${c.name}: digest differs`);
    const sig = await signGrant(holderKey, domain, c.terms, c.nonce, c.deadline!);
    if (sig !== (await signGrant(holder, domain, c.terms, c.nonce, c.deadline!))) throw new Error("signatures differ");
    Object.assign(v, { nonce: String(c.nonce), deadline: String(c.deadline), digest, signature: sig });
  }
  vectors.push(v);
}
const rid = vectors[0]!.grantId as string;
const revokeDigest = holderRevokeDigest(domain, rid, 1n, 1767232800n);
if (revokeDigest !== k("0x1901", handSeparator, k(str(REVOKE_TYPE), rid, word(1n), word(1767232800n)))) throw new Error("revoke digest differs");
const file = {
  description: "FROZEN. Authorisations EIP-712 typed data and grant ids (contracts/interfaces/IAuthorisations.sol). Times, nonces, deadlines are decimal strings. Made by test/sdk/grants/make-vectors.ts (SDK vs hand-packed words).",
  domain: { name: "TongbanAuthorisations", version: "1", chainId: String(chainId), verifyingContract },
  domainSeparator: sdkSeparator,
  typeHashes: { GrantTerms: hex(str(TERMS_TYPE)), HolderGrant: hex(str(GRANT_TYPE)), HolderRevoke: hex(str(REVOKE_TYPE)) },
  holderKey, holderAddress: holder.address,
  vectors,
  revoke: { grantId: rid, nonce: "1", deadline: "1767232800", digest: revokeDigest, signature: await signGrantRevocation(holderKey, domain, rid, 1n, 1767232800n) },
};
const text = JSON.stringify(file, null, 2) + "\n";

// ---- the grantee's signed delegation (GranteeDelegation), a child of the holder-signed root above
const DELEGATION_TYPE = "GranteeDelegation(bytes32 parentId,GrantTerms terms,uint256 nonce,uint256 deadline)" + TERMS_TYPE;
// Test key only: keccak256("tongban/vector/agent-key"), an account of the root's grantee member.
const agentKey = h("tongban/vector/agent-key");
const agent = new Wallet(agentKey);
const parentId = vectors[0]!.grantId as string;
const delegationCases: { name: string; terms: GrantTerms; nonce: bigint; deadline: bigint }[] = [
  { name: "agent delegates one leaf to a department, nonce 0", nonce: 0n, deadline: 1767229200n,
    terms: { ...base, grantee: b("11310000MB2F00006Y"), typeCodes: [], leaves: [h("leaf-1")], notBefore: 1767225600n, notAfter: 1768435200n, maxUses: 1 } },
  { name: "agent delegates the whole type, nonce 7, max deadline", nonce: 7n, deadline: (1n << 256n) - 1n,
    terms: { ...base, grantee: b("91310104MA1K000018"), maxUses: 3 } },
];
const delegations = [];
for (const c of delegationCases) {
  const termsHash = hashGrantTerms(c.terms);
  if (termsHash !== handTerms(c.terms)) throw new Error(`${c.name}: terms hash differs`);
  const d = { parentId, terms: c.terms, nonce: c.nonce, deadline: c.deadline };
  const digest = granteeDelegationDigest(domain, d);
  const handDigest = k("0x1901", handSeparator, k(str(DELEGATION_TYPE), parentId, termsHash, word(c.nonce), word(c.deadline)));
  if (digest !== handDigest) throw new Error(`${c.name}: delegation digest differs`);
  const signature = await signDelegation(agentKey, domain, d);
  if (signature !== (await signDelegation(agent, domain, d))) throw new Error(`${c.name}: key and Wallet signatures differ`);
  if (recoverDelegationSigner(domain, d, signature) !== agent.address) throw new Error(`${c.name}: signer does not recover`);
  const salt = "0x" + c.nonce.toString(16).padStart(64, "0");
  const grantId = computeGrantId({ domain, parentId, origin: "DELEGATION", terms: c.terms, salt: c.nonce });
  if (grantId !== handId(parentId, "DELEGATION", termsHash, salt)) throw new Error(`${c.name}: child id differs`);
  delegations.push({
    name: c.name,
    terms: { ...c.terms, notBefore: String(c.terms.notBefore), notAfter: String(c.terms.notAfter) },
    termsHash, nonce: String(c.nonce), deadline: String(c.deadline), digest, signature, salt, grantId,
  });
}
const delegationFile = {
  description: "FROZEN. The grantee's signed delegation (EIP-712 GranteeDelegation, delegateGrantBySignature) in the domain of grant.json; parentId is grant.json's first (holder-signed) grant; the child's salt is bytes32(nonce). Made by test/sdk/grants/make-vectors.ts (SDK vs hand-packed words).",
  domain: file.domain,
  domainSeparator: sdkSeparator,
  typeHashes: { GranteeDelegation: hex(str(DELEGATION_TYPE)) },
  agentKey, agentAddress: agent.address,
  parentId,
  vectors: delegations,
};
const delegationText = JSON.stringify(delegationFile, null, 2) + "\n";

if (process.argv.includes("--check")) {
  let bad = false;
  if (readFileSync(OUT, "utf8") !== text) { console.error("grant.json differs from a recomputation"); bad = true; }
  if (readFileSync(OUT_DELEGATION, "utf8") !== delegationText) { console.error("grant-delegation.json differs from a recomputation"); bad = true; }
  if (bad) process.exit(1);
  console.log("grant.json and grant-delegation.json match");
} else {
  writeFileSync(OUT, text);
  writeFileSync(OUT_DELEGATION, delegationText);
  console.log("wrote", OUT.pathname, OUT_DELEGATION.pathname);
}
