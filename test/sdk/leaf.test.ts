import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { AbiCoder, ZeroHash, keccak256, toUtf8Bytes, hexlify } from "ethers";
import {
  computeLeaf, encodeHeader, encodeHeaderBytes, memberIdFromUscc, typeCodeToBytes32, bytes32ToString, HashAlg, HEADER_ABI_TYPES,
  InvalidHeaderError, InvalidHexError, type MaterialHeader,
} from "../../sdk/src/index.js";

const coder = AbiCoder.defaultAbiCoder();
/** Independent path: ethers' AbiCoder + keccak256. */
const ethersEncode = (h: MaterialHeader) => coder.encode(HEADER_ABI_TYPES as unknown as string[], [
  h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg, h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes,
]);
const rnd32 = () => hexlify(randomBytes(32));
const rndU = (bytes: number) => BigInt("0x" + randomBytes(bytes).toString("hex"));

const base: MaterialHeader = {
  typeCode: typeCodeToBytes32("BL-001"),
  issuer: memberIdFromUscc("11310115002418321F"),
  holderRef: keccak256(toUtf8Bytes("holder")),
  contentHash: keccak256(toUtf8Bytes("content")),
  hashAlg: HashAlg.SHA256, issuedAt: 1n, validFrom: 2n, validUntil: 0n, version: 1, supersedes: ZeroHash,
};

describe("sdk/leaf", () => {
  it("encodes a header as 10 ABI words and hashes it", () => {
    expect(encodeHeaderBytes(base).length).to.equal(320);
    expect(computeLeaf(base)).to.equal(keccak256(encodeHeader(base)));
    expect(computeLeaf({ ...base, version: 2 })).to.not.equal(computeLeaf(base));
  });

  it("property: 500 random headers encode exactly like ethers' AbiCoder", () => {
    for (let i = 0; i < 500; i++) {
      const h: MaterialHeader = {
        typeCode: rnd32(), issuer: rnd32(), holderRef: rnd32(), contentHash: rnd32(), hashAlg: Number(rndU(1)),
        issuedAt: rndU(8), validFrom: rndU(8), validUntil: i % 7 === 0 ? 0n : rndU(8), version: Number(rndU(4)),
        supersedes: i % 3 === 0 ? ZeroHash : rnd32(),
      };
      expect(encodeHeader(h)).to.equal(ethersEncode(h));
      expect(computeLeaf(h)).to.equal(keccak256(ethersEncode(h)));
    }
  });

  it("rejects out-of-range numbers and malformed bytes32 with typed errors naming the field", () => {
    const bad: [Partial<MaterialHeader>, string][] = [
      [{ hashAlg: 256 }, "hashAlg"], [{ hashAlg: -1 }, "hashAlg"], [{ version: 2 ** 32 }, "version"],
      [{ validUntil: 1n << 64n }, "validUntil"], [{ issuedAt: 1.5 as unknown as bigint }, "issuedAt"],
    ];
    for (const [over, field] of bad) {
      expect(() => computeLeaf({ ...base, ...over })).to.throw(InvalidHeaderError).with.nested.property("details.field", field);
    }
    expect(() => computeLeaf({ ...base, holderRef: "0x1234" })).to.throw(InvalidHexError).with.nested.property("details.field", "header.holderRef");
  });

  it("member ids and type codes round-trip as bytes32 strings", () => {
    expect(bytes32ToString(memberIdFromUscc("91310104ma1k000018"))).to.equal("91310104MA1K000018");
    expect(bytes32ToString(typeCodeToBytes32("BL-001"))).to.equal("BL-001");
  });
});
