/**
 * Exchange 1.1 batch signatures (node/src/p2p/messages.ts batchDigest / batchTree / batchRoot, exchange.ts
 * BatchSigner, SignerKeys.signerOnce) against reference implementations: the batch digest against ethers'
 * EIP-712 encoder, the tree and its proofs against a fold written here with ethers' keccak256 (OpenZeppelin
 * MerkleProof's sorted-pair rule), a frozen root, the proof's edge cases, and the signer's batching.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { keccak256, concat, toUtf8Bytes, TypedDataEncoder, Wallet } from "ethers";
import {
  EXCHANGE_BATCH_EIP712_TYPES,
  EXCHANGE_DOMAIN_NAME,
  MAX_BATCH_PROOF,
  BatchChecks,
  MalformedError,
  SignerKeys,
  batchDigest,
  batchRoot,
  batchTree,
  domainSeparator,
  recoverSigner,
  signDigest,
} from "../../../node/src/p2p/messages.js";
import { BatchSigner } from "../../../node/src/p2p/exchange.js";

const hex = (b: Buffer) => "0x" + b.toString("hex");
const digests = (n: number) => Array.from({ length: n }, () => randomBytes(32));

/** OpenZeppelin MerkleProof.processProof (commutative keccak of the sorted pair), with ethers. */
function ozProcessProof(leaf: string, proof: string[]): string {
  let h = leaf;
  for (const p of proof) h = BigInt(h) <= BigInt(p) ? keccak256(concat([h, p])) : keccak256(concat([p, h]));
  return h;
}

describe("exchange 1.1 batch signatures", () => {
  const wallet = Wallet.createRandom();
  const key = Buffer.from(wallet.privateKey.slice(2), "hex");
  const verifyingContract = "0x" + randomBytes(20).toString("hex");
  const sep = domainSeparator({ chainId: 31337, verifyingContract });

  it("batchDigest equals ethers' EIP-712 hash of ExchangeBatch(bytes32 root)", () => {
    for (let i = 0; i < 10; i++) {
      const root = randomBytes(32);
      const want = TypedDataEncoder.hash({ name: EXCHANGE_DOMAIN_NAME, version: "1", chainId: 31337, verifyingContract }, EXCHANGE_BATCH_EIP712_TYPES, { root: hex(root) });
      expect(hex(batchDigest(sep, root))).to.equal(want);
    }
  });

  it("every leaf's proof leads to the root, by batchRoot and by OpenZeppelin's processProof rule, for 1..70 leaves", () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = digests(n);
      const { root, proofs } = batchTree(leaves);
      expect(proofs).to.have.length(n);
      if (n === 1) {
        expect(root.equals(leaves[0]!)).to.equal(true);
        expect(proofs[0]).to.deep.equal([]);
        continue;
      }
      for (let i = 0; i < n; i++) {
        expect(proofs[i]!.length, `n ${n} leaf ${i}`).to.be.within(1, Math.ceil(Math.log2(n)));
        expect(hex(batchRoot(leaves[i]!, proofs[i]!.map(hex)))).to.equal(hex(root));
        expect(ozProcessProof(hex(leaves[i]!), proofs[i]!.map(hex))).to.equal(hex(root));
      }
    }
  });

  it("frozen vector: the tree over keccak256('0')..keccak256('4')", () => {
    const leaves = [0, 1, 2, 3, 4].map((i) => Buffer.from(keccak256(toUtf8Bytes(String(i))).slice(2), "hex"));
    const { root, proofs } = batchTree(leaves);
    expect(hex(root)).to.equal("0x4f331eea09f3fb17afd740103781bc8f5f21188c1d86e8ce951320a5884e1b4a");
    expect(proofs.map((p) => p.length)).to.deep.equal([3, 3, 3, 3, 1]);
    // the last (odd) leaf moves up unchanged: its one sibling is the root of the first four
    const four = batchTree(leaves.slice(0, 4)).root;
    expect(hex(proofs[4]![0]!)).to.equal(hex(four));
  });

  it("a proof that is not 1..16 hashes of 32 bytes is MALFORMED; a changed hash leads elsewhere", () => {
    const d = randomBytes(32);
    for (const bad of [undefined, "0x" + "00".repeat(32), [], Array(MAX_BATCH_PROOF + 1).fill(hex(randomBytes(32))), ["0x1234"], [123], [hex(randomBytes(32)) + "00"]]) {
      expect(() => batchRoot(d, bad), JSON.stringify(bad)?.slice(0, 40)).to.throw(MalformedError);
    }
    const leaves = digests(8);
    const { root, proofs } = batchTree(leaves);
    const changed = proofs[3]!.map(hex);
    changed[1] = changed[1]!.slice(0, -1) + (changed[1]!.endsWith("0") ? "1" : "0");
    expect(hex(batchRoot(leaves[3]!, changed))).to.not.equal(hex(root));
    // another leaf with leaf 3's proof does not reach the root
    expect(hex(batchRoot(leaves[4]!, proofs[3]!.map(hex)))).to.not.equal(hex(root));
  });

  it("BatchSigner: the digests asked for in one turn share one signature whose batch digest recovers the signer; one alone is signed as itself; at most `max` per signature", async () => {
    const s = new BatchSigner(key, sep, 4);
    const one = await s.sign(randomBytes(32).fill(1));
    expect(one.proof).to.deep.equal([]);
    expect(recoverSigner(Buffer.alloc(32, 1), one.signature)).to.equal(wallet.address.toLowerCase());
    const ds = digests(10);
    const out = await Promise.all(ds.map((d) => s.sign(d)));
    expect(new Set(out.map((o) => o.signature)).size).to.equal(3); // 4 + 4 + 2
    for (let i = 0; i < ds.length; i++) {
      expect(out[i]!.proof.length).to.be.greaterThan(0);
      const root = batchRoot(ds[i]!, out[i]!.proof.map(hex));
      expect(recoverSigner(batchDigest(sep, root), out[i]!.signature)).to.equal(wallet.address.toLowerCase());
    }
    expect(s.stats).to.deep.equal({ requests: 11, signatures: 4, largest: 4 });
    // a batch signature is not a signature of any one request's own digest
    expect(recoverSigner(ds[0]!, out[0]!.signature)).to.not.equal(wallet.address.toLowerCase());
  });

  it("BatchChecks answers exactly what folding to the root and checking its signature answers, in any order, and refuses malformed proofs first", () => {
    const signer = wallet.address.toLowerCase();
    const full = (keys: SignerKeys, d: Buffer, proof: string[], sig: string) => keys.signer(batchDigest(sep, batchRoot(d, proof)), sig);
    for (const n of [2, 3, 7, 64, 200]) {
      const ds = digests(n);
      const { root, proofs } = batchTree(ds);
      const sig = signDigest(batchDigest(sep, root), key);
      const checks = new BatchChecks(new SignerKeys());
      const ref = new SignerKeys();
      const order = ds.map((_, i) => i).sort(() => Math.random() - 0.5);
      for (const i of order) {
        const proof = proofs[i]!.map(hex);
        expect(checks.signer(sep, ds[i]!, proof, sig, [signer]), `n ${n} leaf ${i}`).to.equal(signer);
        // a right prefix with a wrong rest: what full folding says (another root: not the signer)
        if (proof.length >= 2) {
          const wrongRest = [...proof.slice(0, -1), hex(randomBytes(32))];
          expect(checks.signer(sep, ds[i]!, wrongRest, sig, [signer])).to.equal(full(ref, ds[i]!, wrongRest, sig)).and.to.not.equal(signer);
        }
        // the same proof under another signature: not the signer's
        const other = signDigest(randomBytes(32), key);
        expect(checks.signer(sep, ds[i]!, proof, other)).to.equal(full(ref, ds[i]!, proof, other)).and.to.not.equal(signer);
        // a digest that is not in the batch, with a member's proof
        const stranger = randomBytes(32);
        expect(checks.signer(sep, stranger, proof, sig)).to.not.equal(signer);
      }
      // malformed proofs are refused even when their first step would reach a known node
      expect(() => checks.signer(sep, ds[0]!, [...proofs[0]!.map(hex), "0x12"], sig)).to.throw(MalformedError);
      expect(() => checks.signer(sep, ds[0]!, Array(MAX_BATCH_PROOF + 1).fill(hex(proofs[0]![0]!)), sig)).to.throw(MalformedError);
    }
  });

  it("SignerKeys.signerOnce answers what signer answers, for good and bad signatures, on repeated asks", () => {
    const keys = new SignerKeys();
    const d = randomBytes(32);
    const sig = signDigest(d, key);
    const other = signDigest(randomBytes(32), key);
    for (let i = 0; i < 3; i++) {
      expect(keys.signerOnce(d, sig, [wallet.address.toLowerCase()])).to.equal(wallet.address.toLowerCase());
      expect(keys.signerOnce(d, other)).to.equal(keys.signer(d, other)).and.to.not.equal(wallet.address.toLowerCase());
      expect(keys.signerOnce(d, "0x1234")).to.equal(undefined);
    }
  });
});
