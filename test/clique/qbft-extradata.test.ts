/**
 * The QBFT genesis extraData encoder used by docs/deploy-besu-qbft.md (the only part of that guide that can
 * be checked here: Besu itself cannot be built from the registries this project reaches).
 */
import { expect } from "chai";
import { decodeRlp } from "ethers";
import { qbftExtraData } from "../../scripts/clique/qbft-extradata.mjs";

// The example genesis in Besu's "Configure QBFT consensus" page (block header validator selection).
const BESU_DOC_EXTRADATA =
  "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0";
const VALIDATORS = [
  "0x64a702e6263b7297a96638cac6ae65e6541f4169",
  "0x3923390ad55e90c237593b3b0e401f3b08a03185",
  "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
  "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
];

describe("clique: QBFT extraData for the Besu guide", function () {
  it("reproduces the extraData of Besu's documented QBFT genesis byte for byte", function () {
    expect(qbftExtraData(VALIDATORS)).to.equal(BESU_DOC_EXTRADATA);
  });

  it("encodes [vanity, validators in the given order, no votes, round 0, no seals]", function () {
    const reversed = [...VALIDATORS].reverse();
    const decoded = decodeRlp(qbftExtraData(reversed)) as [string, string[], unknown[], string, unknown[]];
    expect(decoded[0]).to.equal("0x" + "00".repeat(32));
    expect(decoded[1]).to.deep.equal(reversed);
    expect(decoded[2]).to.deep.equal([]);
    expect(decoded[3]).to.equal("0x");
    expect(decoded[4]).to.deep.equal([]);
  });

  it("rejects an empty validator set and malformed addresses", function () {
    expect(() => qbftExtraData([])).to.throw(/at least one/);
    expect(() => qbftExtraData(["0x1234"])).to.throw();
  });
});
