import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { keccak256, toUtf8Bytes, hexlify } from "ethers";
import {
  buildMerkleTree, computeMerkleRoot, hashPair, processProof, verifyProof, MerkleError, InvalidHexError,
} from "../../../sdk/src/index.js";
import { keccak64Wasm } from "../../../sdk/src/merkle/keccak-wasm.js";
import { referenceMerkle, referenceHashPair } from "../../../sdk/src/merkle/reference.js";

const leafOf = (s: string) => keccak256(toUtf8Bytes(s));
const randomLeaves = (n: number) => Array.from({ length: n }, () => hexlify(randomBytes(32)));

describe("sdk/merkle", () => {
  it("uses the WebAssembly hasher on this platform", () => {
    expect(keccak64Wasm()).to.not.equal(null);
  });

  it("fast tree == reference tree for random sizes (roots and every proof)", () => {
    const sizes = [1, 2, 3, 6, 9, 16, 17, 31, 64, 65, 100, 127, 129, 257];
    for (let k = 0; k < 6; k++) sizes.push(1 + Math.floor(Math.random() * 600));
    for (const n of sizes) {
      const leaves = randomLeaves(n);
      const ref = referenceMerkle(leaves);
      for (const hasher of ["auto", "js"] as const) {
        const tree = buildMerkleTree(leaves, { hasher });
        expect(tree.root, `size ${n} ${hasher}`).to.equal(ref.root);
        expect(tree.getAllProofs(), `size ${n} ${hasher}`).to.deep.equal(ref.proofs);
      }
    }
  });

  it("accepts Uint8Array leaves and gives the same root as hex", () => {
    const leaves = randomLeaves(11);
    const bytes = leaves.map((l) => Uint8Array.from(Buffer.from(l.slice(2), "hex")));
    expect(buildMerkleTree(bytes).root).to.equal(buildMerkleTree(leaves).root);
  });

  it("a batch of one: root == leaf, empty proof", () => {
    const leaf = leafOf("only");
    const tree = buildMerkleTree([leaf]);
    expect(tree.root).to.equal(leaf);
    expect(tree.getProof(0)).to.deep.equal([]);
    expect(verifyProof(leaf, [], leaf)).to.equal(true);
    expect(computeMerkleRoot([leaf])).to.equal(leaf);
  });

  it("carries an odd last node up unchanged", () => {
    const [a, b, c] = [leafOf("a"), leafOf("b"), leafOf("c")];
    const tree = buildMerkleTree([a, b, c]);
    expect(tree.root).to.equal(referenceHashPair(referenceHashPair(a, b), c));
    expect(tree.getProof(2)).to.deep.equal([referenceHashPair(a, b)]);
  });

  it("hashPair is commutative and equals the sorted-pair reference", () => {
    const [a, b] = randomLeaves(2);
    expect(hashPair(a!, b!)).to.equal(hashPair(b!, a!));
    expect(hashPair(a!, b!)).to.equal(referenceHashPair(a!, b!));
  });

  it("verifyProof rejects a wrong leaf, a wrong root and a tampered proof element", () => {
    const leaves = randomLeaves(13);
    const tree = buildMerkleTree(leaves);
    const proof = tree.getProof(5);
    expect(verifyProof(leaves[5]!, proof, tree.root)).to.equal(true);
    expect(verifyProof(leaves[6]!, proof, tree.root)).to.equal(false);
    expect(verifyProof(leaves[5]!, proof, leafOf("x"))).to.equal(false);
    const bad = [...proof];
    bad[1] = bad[1]!.slice(0, 10) + (bad[1]![10] === "0" ? "1" : "0") + bad[1]!.slice(11);
    expect(verifyProof(leaves[5]!, bad, tree.root)).to.equal(false);
    expect(processProof(leaves[5]!, proof)).to.equal(tree.root);
  });

  it("getProofBytes matches getProof; leaf() and indexOf() find leaves", () => {
    const leaves = randomLeaves(9);
    const tree = buildMerkleTree(leaves);
    for (let i = 0; i < 9; i++) {
      expect(tree.getProofBytes(i).map((b) => hexlify(b))).to.deep.equal(tree.getProof(i));
      expect(tree.leaf(i)).to.equal(leaves[i]);
      expect(tree.indexOf(leaves[i]!.toUpperCase().replace("0X", "0x"))).to.equal(i);
    }
    expect(tree.indexOf(leafOf("absent"))).to.equal(-1);
  });

  it("throws typed errors naming the problem", () => {
    expect(() => buildMerkleTree([])).to.throw(MerkleError).with.property("details").that.deep.includes({ reason: "EMPTY" });
    try {
      buildMerkleTree([leafOf("a"), "0x1234"]);
      expect.fail("no throw");
    } catch (e) {
      expect(e).to.be.instanceOf(MerkleError);
      expect((e as MerkleError).details).to.deep.include({ reason: "BAD_LEAF", index: 1 });
    }
    expect(() => buildMerkleTree([leafOf("a"), "0x" + "zz".repeat(32)])).to.throw(MerkleError);
    expect(() => buildMerkleTree([leafOf("a")]).getProof(1)).to.throw(MerkleError, /out of range/);
    expect(() => verifyProof("0x12", [], leafOf("a"))).to.throw(InvalidHexError);
  });
});
