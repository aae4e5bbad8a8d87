// The frozen vectors of test/vectors/ (made by the SDK side) checked against the Solidity side:
// leaf encoding (MaterialLeaf via LeafHarness and TongbanLedger.leafOf) and OZ MerkleProof verification.
import { expect } from "chai";
import { ethers } from "hardhat";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { merkle } from "../helpers/consortium";

interface LeafVector {
  name: string;
  header: {
    typeCode: string; issuer: string; holderRef: string; contentHash: string; hashAlg: number;
    issuedAt: string; validFrom: string; validUntil: string; version: number; supersedes: string;
  };
  encoded: string;
  leaf: string;
}
interface MerkleVector { name: string; leaves: string[]; root: string; proofs: string[][] }

const VECTORS = join(__dirname, "..", "..", "vectors");
const leafVectors: LeafVector[] = JSON.parse(readFileSync(join(VECTORS, "leaf.json"), "utf8")).vectors;
const merkleVectors: MerkleVector[] = JSON.parse(readFileSync(join(VECTORS, "merkle.json"), "utf8")).vectors;

async function deploy() {
  const harness = await ethers.deployContract("LeafHarness");
  const ledger = await ethers.deployContract("TongbanLedger");
  return { harness, ledger };
}

const toHeader = (h: LeafVector["header"]) => ({
  ...h, issuedAt: BigInt(h.issuedAt), validFrom: BigInt(h.validFrom), validUntil: BigInt(h.validUntil),
});

describe("LeafHarness (frozen vectors)", () => {
  it("has vectors to check", () => {
    expect(leafVectors.length).to.be.greaterThan(5);
    expect(merkleVectors.length).to.be.greaterThan(5);
  });

  for (const v of leafVectors) {
    it(`leaf: ${v.name}`, async () => {
      const { harness, ledger } = await loadFixture(deploy);
      const h = toHeader(v.header);
      expect(await harness.encodeHeader(h)).to.equal(v.encoded);
      expect(await harness.leafOf(h)).to.equal(v.leaf);
      expect(await ledger.leafOf(h)).to.equal(v.leaf);
    });
  }

  it("leaf: 30 random headers equal keccak256 of ethers' ABI encoding", async () => {
    const { harness } = await loadFixture(deploy);
    const coder = ethers.AbiCoder.defaultAbiCoder();
    const types = ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64", "uint64", "uint32", "bytes32"];
    const rand = (bytes: number) => BigInt(ethers.hexlify(ethers.randomBytes(bytes)));
    for (let n = 0; n < 30; n++) {
      const h = {
        typeCode: ethers.hexlify(ethers.randomBytes(32)), issuer: ethers.hexlify(ethers.randomBytes(32)),
        holderRef: ethers.hexlify(ethers.randomBytes(32)), contentHash: ethers.hexlify(ethers.randomBytes(32)),
        hashAlg: Number(rand(1)), issuedAt: rand(8), validFrom: rand(8), validUntil: rand(8),
        version: Number(rand(4)), supersedes: ethers.hexlify(ethers.randomBytes(32)),
      };
      const encoded = coder.encode(types, [h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg,
        h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes]);
      expect(await harness.leafOf(h)).to.equal(ethers.keccak256(encoded));
    }
  });

  for (const v of merkleVectors) {
    it(`merkle: ${v.name} (${v.leaves.length} leaves)`, async () => {
      const { harness } = await loadFixture(deploy);
      const t = merkle(v.leaves); // this suite's own tree builder agrees with the vectors
      expect(t.root).to.equal(v.root);
      for (let i = 0; i < v.leaves.length; i++) {
        expect(t.proof(i)).to.deep.equal(v.proofs[i]);
        expect(await harness.verify(v.proofs[i], v.root, v.leaves[i])).to.equal(true);
        expect(await harness.processProof(v.proofs[i], v.leaves[i])).to.equal(v.root);
      }
      // a proof does not verify a leaf outside the tree
      const other = ethers.id(`not-${v.name}`);
      expect(await harness.verify(v.proofs[0], v.root, other)).to.equal(false);
    });
  }
});
