import { expect } from "chai";
import { readFileSync } from "node:fs";
import { computeLeaf, encodeHeader, buildMerkleTree, verifyProof, processProof } from "../../sdk/src/index.js";

const leafFile = JSON.parse(readFileSync(new URL("../vectors/leaf.json", import.meta.url), "utf8"));
const merkleFile = JSON.parse(readFileSync(new URL("../vectors/merkle.json", import.meta.url), "utf8"));

describe("frozen vectors (test/vectors)", () => {
  it("has the promised coverage", () => {
    expect(leafFile.vectors.length).to.be.at.least(8);
    const sizes = merkleFile.vectors.map((v: { leaves: string[] }) => v.leaves.length);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 13, 33]) expect(sizes).to.include(n);
  });

  for (const v of leafFile.vectors) {
    it(`leaf vector ${v.name}`, () => {
      const header = {
        ...v.header,
        issuedAt: BigInt(v.header.issuedAt), validFrom: BigInt(v.header.validFrom), validUntil: BigInt(v.header.validUntil),
      };
      expect(encodeHeader(header)).to.equal(v.encoded);
      expect(computeLeaf(header)).to.equal(v.leaf);
    });
  }

  for (const v of merkleFile.vectors) {
    it(`merkle vector ${v.name}`, () => {
      const tree = buildMerkleTree(v.leaves);
      expect(tree.root).to.equal(v.root);
      expect(tree.getAllProofs()).to.deep.equal(v.proofs);
      v.leaves.forEach((leaf: string, i: number) => {
        expect(processProof(leaf, v.proofs[i])).to.equal(v.root);
        expect(verifyProof(leaf, v.proofs[i], v.root)).to.equal(true);
      });
    });
  }
});
