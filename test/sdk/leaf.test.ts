import { expect } from "chai";
import { ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import { computeLeaf, encodeHeader, memberIdFromUscc, typeCodeToBytes32, HashAlg } from "../../sdk/src/index.js";

describe("sdk/leaf", () => {
  it("encodes a header as 10 ABI words and hashes it", () => {
    const h = {
      typeCode: typeCodeToBytes32("BL-001"),
      issuer: memberIdFromUscc("11310115002418321F"),
      holderRef: keccak256(toUtf8Bytes("holder")),
      contentHash: keccak256(toUtf8Bytes("content")),
      hashAlg: HashAlg.SHA256, issuedAt: 1n, validFrom: 2n, validUntil: 0n, version: 1, supersedes: ZeroHash,
    };
    expect((encodeHeader(h).length - 2) / 2).to.equal(320);
    expect(computeLeaf(h)).to.equal(keccak256(encodeHeader(h)));
    expect(computeLeaf({ ...h, version: 2 })).to.not.equal(computeLeaf(h));
  });
});
