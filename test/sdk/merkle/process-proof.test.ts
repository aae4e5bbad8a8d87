import { expect } from "chai";
import { readFileSync } from "node:fs";
import { getBytes, keccak256 } from "ethers";
import { buildMerkleTree, processProof, verifyProof, MerkleError, InvalidHexError } from "../../../sdk/src/index.js";
import { referenceHashPair } from "../../../sdk/src/merkle/reference.js";
import { prng } from "../helpers/bundle-mutations.js";

const merkleVectors = JSON.parse(readFileSync(new URL("../../vectors/merkle.json", import.meta.url), "utf8")) as {
  vectors: { name: string; leaves: string[]; root: string; proofs: string[][] }[];
};

/** an independent keccak-256 (ethers' JS) as the caller-supplied hash */
const supplied = (d: Uint8Array) => getBytes(keccak256(d));

const hex32 = (rnd: () => number) => "0x" + Array.from({ length: 32 }, () => Math.floor(rnd() * 256).toString(16).padStart(2, "0")).join("");
const flipBit = (h: string, rnd: () => number) => {
  const b = getBytes(h);
  b[Math.floor(rnd() * 32)]! ^= 1 << Math.floor(rnd() * 8);
  return "0x" + Buffer.from(b).toString("hex");
};

/** what processProof does, as a value: its root, or the error's class, message and reason */
function outcome(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message} ${JSON.stringify((e as MerkleError).details?.reason ?? "")}`;
  }
}

describe("sdk/merkle processProof with a supplied keccak256 (options.keccak256) or the WebAssembly hasher (options.hasher)", () => {
  it("frozen vectors (test/vectors/merkle.json): every leaf's proof reaches the root on both paths", () => {
    let n = 0;
    for (const v of merkleVectors.vectors) {
      v.leaves.forEach((leaf, i) => {
        expect(processProof(leaf, v.proofs[i]!), `${v.name} leaf ${i}`).to.equal(v.root);
        expect(processProof(leaf, v.proofs[i]!, { keccak256: supplied }), `${v.name} leaf ${i}`).to.equal(v.root);
        expect(verifyProof(leaf, v.proofs[i]!, v.root, { keccak256: supplied })).to.equal(true);
        expect(processProof(leaf, v.proofs[i]!, { hasher: "auto" }), `${v.name} leaf ${i}`).to.equal(v.root);
        expect(processProof(leaf, v.proofs[i]!, { hasher: "js", keccak256: () => new Uint8Array(32) })).to.equal(v.root); // hasher wins
        n++;
      });
    }
    expect(n).to.be.greaterThan(50); // 79 leaves over the sizes of the file
  });

  it("property: on random trees and on tampered proofs that must FAIL, both paths give the same root", () => {
    const rnd = prng(20261125);
    let failing = 0;
    for (let t = 0; t < 40; t++) {
      const size = 1 + Math.floor(rnd() * 300);
      const leaves = Array.from({ length: size }, () => hex32(rnd));
      const tree = buildMerkleTree(leaves);
      for (let k = 0; k < 5; k++) {
        const i = Math.floor(rnd() * size);
        const proof = tree.getProof(i);
        expect(processProof(leaves[i]!, proof, { keccak256: supplied })).to.equal(tree.root);
        // tamper: flip a bit of the leaf or of one element, drop/append/swap elements, another leaf's proof
        const cases: [string, string[]][] = [[flipBit(leaves[i]!, rnd), proof], [leaves[(i + 1) % size]!, size > 1 ? proof : [hex32(rnd)]], [leaves[i]!, [...proof, hex32(rnd)]]];
        if (proof.length > 0) {
          const j = Math.floor(rnd() * proof.length);
          cases.push([leaves[i]!, proof.map((p, x) => (x === j ? flipBit(p, rnd) : p))], [leaves[i]!, proof.slice(0, -1)]);
        }
        if (proof.length > 1) cases.push([leaves[i]!, [proof[1]!, proof[0]!, ...proof.slice(2)]]);
        for (const [leaf, p] of cases) {
          const portable = processProof(leaf, p);
          expect(processProof(leaf, p, { keccak256: supplied })).to.equal(portable);
          expect(processProof(leaf, p, { hasher: "auto" })).to.equal(portable);
          expect(portable).to.not.equal(tree.root);
          expect(verifyProof(leaf, p, tree.root, { keccak256: supplied })).to.equal(false);
          failing++;
        }
      }
    }
    expect(failing).to.be.greaterThan(800);
  });

  it("the supplied hash gets exactly each sorted 64-byte pair, once per proof element", () => {
    const leaves = Array.from({ length: 21 }, (_, i) => keccak256(Buffer.from(`leaf ${i}`)));
    const tree = buildMerkleTree(leaves);
    const seen: string[] = [];
    const root = processProof(leaves[9]!, tree.getProof(9), { keccak256: (d) => (seen.push("0x" + Buffer.from(d).toString("hex")), supplied(d)) });
    expect(root).to.equal(tree.root);
    expect(seen).to.have.length(tree.getProof(9).length);
    let node = leaves[9]!;
    tree.getProof(9).forEach((sib, k) => {
      const [lo, hi] = node.toLowerCase() <= sib.toLowerCase() ? [node, sib] : [sib, node];
      expect(seen[k]).to.equal(lo.toLowerCase() + hi.slice(2).toLowerCase());
      node = referenceHashPair(node, sib);
    });
  });

  it("bytes and upper-case hex inputs give the same result on both paths; a digest written into the input buffer is copied", () => {
    const leaves = Array.from({ length: 13 }, (_, i) => keccak256(Buffer.from(`x${i}`)));
    const tree = buildMerkleTree(leaves);
    const proof = tree.getProof(4);
    const asBytes = proof.map((p) => getBytes(p));
    const upper = proof.map((p) => "0x" + p.slice(2).toUpperCase());
    for (const p of [asBytes, upper]) {
      expect(processProof(getBytes(leaves[4]!), p)).to.equal(tree.root);
      expect(processProof(getBytes(leaves[4]!), p, { keccak256: supplied })).to.equal(tree.root);
      expect(processProof(getBytes(leaves[4]!), p, { hasher: "auto" })).to.equal(tree.root);
    }
    // a hash that returns a view of the buffer it was given (after writing the digest there)
    const inPlace = (d: Uint8Array) => { d.set(supplied(d), 0); return d.subarray(0, 32); };
    expect(processProof(leaves[4]!, proof, { keccak256: inPlace })).to.equal(tree.root);
  });

  it("malformed input throws the same typed error on both paths", () => {
    const good = keccak256(Buffer.from("good"));
    const bad: unknown[] = ["0x12", "0x" + "zz".repeat(32), "0X" + "ab".repeat(32), "ab".repeat(33), "0x" + "ab".repeat(33), 42, null, new Uint8Array(31)];
    for (const b of bad) {
      const portable = outcome(() => processProof(good, [good, b as string]));
      expect(portable).to.match(/^(InvalidHexError|MerkleError): /);
      expect(outcome(() => processProof(good, [good, b as string], { keccak256: supplied })), String(b)).to.equal(portable);
      expect(outcome(() => processProof(good, [good, b as string], { hasher: "auto" })), String(b)).to.equal(portable);
      expect(outcome(() => processProof(b as string, [good], { keccak256: supplied })), String(b)).to.equal(outcome(() => processProof(b as string, [good])));
      expect(outcome(() => processProof(b as string, [good], { hasher: "auto" })), String(b)).to.equal(outcome(() => processProof(b as string, [good])));
    }
    expect(() => processProof(good, ["0x12"])).to.throw(InvalidHexError, "proof[0] must be 32 bytes, got 1");
    expect(() => processProof(good, [good, "0x" + "zz".repeat(32)], { keccak256: supplied })).to.throw(InvalidHexError, "proof[1] is not 0x-prefixed even-length hex");
  });

  it("hasher auto: still right after a big tree grew the WebAssembly memory, and does not disturb a tree's proofs", () => {
    const leaves = Array.from({ length: 7 }, (_, i) => keccak256(Buffer.from(`g${i}`)));
    const small = buildMerkleTree(leaves);
    expect(processProof(leaves[3]!, small.getProof(3), { hasher: "auto" })).to.equal(small.root);
    const rnd = prng(5);
    const big = buildMerkleTree(Array.from({ length: 70_000 }, () => hex32(rnd))); // > 2 MiB of levels: memory grows
    expect(processProof(leaves[3]!, small.getProof(3), { hasher: "auto" })).to.equal(small.root);
    expect(processProof(big.leaf(69_999), big.getProof(69_999), { hasher: "auto" })).to.equal(big.root);
    const bytesProof = big.getProofBytes(12_345); // views into the tree: must not be altered
    const copy = bytesProof.map((b) => b.slice());
    expect(processProof(big.leaf(12_345), bytesProof, { hasher: "auto" })).to.equal(big.root);
    expect(bytesProof).to.deep.equal(copy);
  });

  it("a supplied hash that does not return 32 bytes throws MerkleError BAD_DIGEST naming the proof element", () => {
    const [a, b] = [keccak256(Buffer.from("a")), keccak256(Buffer.from("b"))];
    for (const wrong of [(d: Uint8Array) => supplied(d).slice(0, 31), () => "nope" as unknown as Uint8Array, () => new Uint8Array(33)]) {
      try {
        processProof(a, [b], { keccak256: wrong });
        expect.fail("no throw");
      } catch (e) {
        expect(e).to.be.instanceOf(MerkleError);
        expect((e as MerkleError).details).to.deep.include({ reason: "BAD_DIGEST", index: 0 });
      }
    }
    expect(processProof(a, [], { keccak256: () => new Uint8Array(1) })).to.equal(a); // an empty proof hashes nothing
  });
});
