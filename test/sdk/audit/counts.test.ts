import { expect } from "chai";
import { encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { compareUseCounts, servedUsesByGrant, type UseRecord } from "../../../sdk/src/index.js";

const h = (s: string) => keccak256(toUtf8Bytes(s));
const ME = encodeBytes32String("11310115002418321F"), OTHER = encodeBytes32String("91310104MA1K000018");
const rec = (over: Partial<UseRecord>): UseRecord => ({
  direction: "SERVED", basis: "GRANT", time: 1n, requestId: h("r"), grantId: h("g1"), matter: h("m"),
  requester: OTHER, custodian: ME, typeCode: h("t"), leaf: h("l"), ...over,
});

describe("sdk/audit/counts", () => {
  it("counts SERVED grant uses of the custodian per grant, in first-seen order", () => {
    const records = [
      rec({}), rec({ grantId: h("g2") }), rec({}),
      rec({ direction: "RECEIVED", custodian: OTHER, requester: ME }), // a use this member received
      rec({ basis: "SHARING_APPROVAL", grantId: h("approval") }), // not a grant use
      rec({ custodian: OTHER }), // another custodian's record (should not be in this log; ignored)
      rec({ grantId: h("g2").toUpperCase().replace("0X", "0x") }),
    ];
    expect(servedUsesByGrant(records, ME)).to.deep.equal([{ grantId: h("g1"), count: 2 }, { grantId: h("g2"), count: 2 }]);
    expect(servedUsesByGrant([], ME)).to.deep.equal([]);
  });

  it("compares reported counts order-insensitively and names every mismatch", () => {
    const expected = [{ grantId: h("g1"), count: 2 }, { grantId: h("g2"), count: 1 }];
    expect(compareUseCounts(expected, [{ grantId: h("g2"), count: 1n }, { grantId: h("g1"), count: 2n }])).to.deep.equal({ status: "VALID", mismatches: [] });
    expect(compareUseCounts(expected, [{ grantId: h("g1"), count: 1 }, { grantId: h("g1"), count: 1 }, { grantId: h("g2"), count: 1 }]).status).to.equal("VALID");
    const bad = compareUseCounts(expected, [{ grantId: h("g1"), count: 1 }, { grantId: h("g3"), count: 1 }]);
    expect(bad.status).to.equal("INVALID");
    expect(bad.mismatches).to.deep.equal([
      { grantId: h("g1"), expected: 2, reported: 1 },
      { grantId: h("g2"), expected: 1, reported: 0 },
      { grantId: h("g3"), expected: 0, reported: 1 },
    ]);
  });
});
