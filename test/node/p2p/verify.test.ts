/**
 * The requester's verifier (node/src/p2p/verify.ts) hashes the leaf and the Merkle proof's pairs with the
 * native keccak (SDK `verify` option `keccak256`): the native and the SDK's portable paths must give identical
 * results, on proofs that must pass (the frozen tree vectors, random trees) and on proofs that must FAIL; an
 * issuer's EIP-712 seal recovered natively (option `ecrecover`) gives the SDK's ethers result.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Wallet, getBytes, keccak256 } from "ethers";
import {
  buildMerkleTree, buildBundle, computeLeaf, hashContent, HashAlg, ledgerInterface, processProof, signLeafEip712, verify,
  type MaterialHeader, type ProofBundle,
} from "@tongban/sdk";
import { nativeKeccak256, onlineVerifier } from "../../../node/src/p2p/verify.js";
import type { ChainRpc } from "../../../node/src/p2p/chain.js";

const merkleVectors = JSON.parse(readFileSync(new URL("../../vectors/merkle.json", import.meta.url), "utf8")) as {
  vectors: { name: string; leaves: string[]; root: string; proofs: string[][] }[];
};
const LEDGER = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const Z = "0x" + "0".repeat(64);
const hex32 = () => "0x" + randomBytes(32).toString("hex");
const flip = (h: string, byte: number) => h.slice(0, 2 + 2 * byte) + (h[2 + 2 * byte] === "0" ? "1" : "0") + h.slice(3 + 2 * byte);

function header(content: Uint8Array, i: number): MaterialHeader {
  return {
    typeCode: "0x" + "42".repeat(32), issuer: "0x" + "31".repeat(32), holderRef: "0x" + i.toString(16).padStart(64, "0"),
    contentHash: hashContent(content, HashAlg.SHA256), hashAlg: HashAlg.SHA256,
    issuedAt: 1767225600n, validFrom: 1767225600n, validUntil: 0n, version: 1, supersedes: Z,
  };
}

/** a ChainRpc answering every materialState read with the state of an anchored, active material of `bundle` */
function chainFor(bundle: ProofBundle): { rpc: ChainRpc; calls: () => number } {
  let calls = 0;
  const answer = () => {
    calls++;
    return ledgerInterface().encodeFunctionResult("materialState", [{
      anchored: true, anchoredBlock: 7n, anchoredAt: 1767225700n, issuer: bundle.header.issuer, typeCode: bundle.header.typeCode,
      jurisdiction: 310115, count: 9, issuerActiveNow: true, status: 0, reason: 0, statusBy: Z, statusBlock: 0n, statusAt: 0n,
      supersededBy: Z, supersedes: Z, hashAlgStatus: 1, hashAlgRetiredAt: 0n,
    }]);
  };
  const rpc = {
    call: async () => answer(),
    callAtBlock: async () => answer(),
    latestBlockHash: async () => "0x" + "bb".repeat(32),
    chainId: async () => 31337,
  } as unknown as ChainRpc;
  return { rpc, calls: () => calls };
}

describe("node/p2p/verify (the requester's verifier, native keccak)", () => {
  it("the native keccak256 is keccak-256 (vs ethers) for every length around the rate, Buffer or Uint8Array view", () => {
    for (const n of [0, 1, 31, 32, 63, 64, 65, 135, 136, 137, 271, 272, 320, 1000]) {
      const d = randomBytes(n + 3);
      const view = new Uint8Array(d.buffer, d.byteOffset + 3, n);
      expect("0x" + Buffer.from(nativeKeccak256(view)).toString("hex"), `${n} bytes`).to.equal(keccak256(view));
      expect("0x" + Buffer.from(nativeKeccak256(Buffer.from(view))).toString("hex")).to.equal(keccak256(view));
    }
  });

  it("frozen tree vectors: the native proof path reaches every root, as the portable one does", () => {
    for (const v of merkleVectors.vectors) {
      v.leaves.forEach((leaf, i) => {
        expect(processProof(leaf, v.proofs[i]!, { keccak256: nativeKeccak256 }), `${v.name} leaf ${i}`).to.equal(v.root);
        expect(processProof(leaf, v.proofs[i]!)).to.equal(v.root);
      });
    }
  });

  it("property: random trees and tampered proofs (must FAIL): native == portable, and only the true proof reaches the root", () => {
    let failing = 0;
    for (let t = 0; t < 30; t++) {
      const size = 2 + Math.floor(Math.random() * 500);
      const leaves = Array.from({ length: size }, hex32);
      const tree = buildMerkleTree(leaves);
      const i = Math.floor(Math.random() * size);
      const proof = tree.getProof(i);
      expect(processProof(leaves[i]!, proof, { keccak256: nativeKeccak256 })).to.equal(tree.root);
      const j = Math.floor(Math.random() * proof.length);
      const bad: [string, string[]][] = [
        [flip(leaves[i]!, Math.floor(Math.random() * 32)), proof],
        [leaves[i]!, proof.map((p, k) => (k === j ? flip(p, Math.floor(Math.random() * 32)) : p))],
        [leaves[i]!, proof.slice(1)],
        [leaves[i]!, [...proof, hex32()]],
        [leaves[(i + 1) % size]!, proof],
      ];
      for (const [leaf, p] of bad) {
        const native = processProof(leaf, p, { keccak256: nativeKeccak256 });
        expect(native).to.equal(processProof(leaf, p));
        expect(native).to.not.equal(tree.root);
        failing++;
      }
    }
    expect(failing).to.equal(150);
  });

  it("onlineVerifier gives exactly the SDK's portable verify result: good material, tampered proof, header, content", async () => {
    const contents = Array.from({ length: 300 }, (_, i) => new Uint8Array(randomBytes(64 + i)));
    const headers = contents.map(header);
    const tree = buildMerkleTree(headers.map(computeLeaf));
    for (const index of [0, 150, 299]) {
      const bundle = buildBundle({ header: headers[index]!, proof: tree.getProof(index), root: tree.root, chainId: 31337n, contract: LEDGER, blockNumber: 7n });
      expect(bundle.proof.length).to.be.greaterThan(4); // 9, 9 and 5 (the last leaf is carried up)
      const cases: [string, Uint8Array, ProofBundle, string][] = [
        ["good", contents[index]!, bundle, "INTEGRITY_OK"],
        ["proof element", contents[index]!, { ...bundle, proof: bundle.proof.map((p, k) => (k === 3 ? flip(p, 5) : p)) }, "PROOF_MISMATCH"],
        ["proof order", contents[index]!, { ...bundle, proof: [bundle.proof[1]!, bundle.proof[0]!, ...bundle.proof.slice(2)] }, "PROOF_MISMATCH"],
        ["root", contents[index]!, { ...bundle, root: flip(bundle.root, 0) }, "PROOF_MISMATCH"],
        ["header", contents[index]!, { ...bundle, header: { ...bundle.header, version: 2 } }, "LEAF_MISMATCH"],
        ["content", contents[(index + 1) % 300]!, bundle, "CONTENT_HASH_MISMATCH"],
      ];
      for (const coalesce of [false, true]) {
        for (const [name, content, b, reason] of cases) {
          const chain = chainFor(b);
          const viaNode = await onlineVerifier(chain.rpc, LEDGER, { coalesce })(content, b);
          const portable = await verify({ content }, b, { provider: { call: async () => chainFor(b).rpc.call(LEDGER, "0x"), getNetwork: async () => ({ chainId: 31337n }) }, ledger: LEDGER });
          expect(viaNode, `${name} (coalesce ${coalesce})`).to.deep.equal(portable);
          expect(viaNode.checks[0]!.reason, name).to.equal(reason);
          expect(viaNode.ok, name).to.equal(name === "good");
          expect(chain.calls(), name).to.equal(1); // the chain is still read once per verification
        }
      }
    }
  });

  it("sealed bundles: the native seal recovery (option ecrecover) gives exactly the SDK's ethers result: valid, forged signer name, another key, malleated (high-s) signature", async () => {
    const contents = Array.from({ length: 20 }, (_, i) => new Uint8Array(randomBytes(100 + i)));
    const headers = contents.map(header);
    const tree = buildMerkleTree(headers.map(computeLeaf));
    const issuer = Wallet.createRandom();
    const N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    for (const index of [0, 7, 19]) {
      const plain = buildBundle({ header: headers[index]!, proof: tree.getProof(index), root: tree.root, chainId: 31337n, contract: LEDGER, blockNumber: 7n });
      const seal = await signLeafEip712(plain.leaf, issuer.privateKey, { chainId: 31337n, ledger: LEDGER });
      const other = await signLeafEip712(plain.leaf, Wallet.createRandom().privateKey, { chainId: 31337n, ledger: LEDGER });
      const s = BigInt("0x" + seal.signature.slice(66, 130));
      const highS = "0x" + seal.signature.slice(2, 66) + (N - s).toString(16).padStart(64, "0") + (seal.signature.endsWith("1b") ? "1c" : "1b");
      const cases: [string, ProofBundle, string][] = [
        ["sealed", { ...plain, seal }, "SEAL_VALID"],
        ["forged signer name", { ...plain, seal: { ...seal, signer: Wallet.createRandom().address } }, "SEAL_SIGNER_MISMATCH"],
        ["another key's signature", { ...plain, seal: { ...seal, signature: other.signature } }, "SEAL_SIGNER_MISMATCH"],
        ["malleated signature", { ...plain, seal: { ...seal, signature: highS } }, "SEAL_MALFORMED"], // ethers: "non-canonical s"
      ];
      for (const [name, b, reason] of cases) {
        const viaNode = await onlineVerifier(chainFor(b).rpc, LEDGER, { coalesce: false })(contents[index]!, b);
        const portable = await verify({ content: contents[index]! }, b, { provider: { call: async () => chainFor(b).rpc.call(LEDGER, "0x"), getNetwork: async () => ({ chainId: 31337n }) }, ledger: LEDGER });
        expect(viaNode, name).to.deep.equal(portable);
        const sig = viaNode.checks.find((c) => c.check === "SIGNATURE")!;
        expect(sig.reason, name).to.equal(reason);
      }
    }
  });
});
