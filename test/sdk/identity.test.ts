import { expect } from "chai";
import {
  validateResidentId, validateUscc, isResidentId, isUscc, InvalidIdError, residentIdCheckChar, usccCheckChar, maskId,
} from "../../sdk/src/index.js";

function reasonOf(fn: () => unknown): string {
  try { fn(); } catch (e) {
    expect(e).to.be.instanceOf(InvalidIdError);
    return (e as InvalidIdError).details.reason;
  }
  throw new Error("expected InvalidIdError");
}

describe("sdk/identity", () => {
  it("accepts the domain.md resident ID samples and upper-cases x", () => {
    expect(validateResidentId("11010519491231002X")).to.equal("11010519491231002X");
    expect(validateResidentId("11010519491231002x")).to.equal("11010519491231002X");
    expect(validateResidentId(" 31010419900307123X ")).to.equal("31010419900307123X");
    expect(validateResidentId("310115198512120022")).to.equal("310115198512120022");
  });

  it("rejects bad resident IDs with the rule that failed", () => {
    expect(reasonOf(() => validateResidentId("110105194912310021"))).to.equal("CHECK_DIGIT");
    expect(reasonOf(() => validateResidentId(""))).to.equal("EMPTY");
    expect(reasonOf(() => validateResidentId("1101051949123100"))).to.equal("LENGTH");
    expect(reasonOf(() => validateResidentId("11010519491231X02X"))).to.equal("CHARSET");
    expect(reasonOf(() => validateResidentId("99010519491231002X"))).to.equal("DIVISION");
    // 1949-02-30 does not exist; fix the check char so only the date is wrong
    const feb30 = "11010519490230002";
    expect(reasonOf(() => validateResidentId(feb30 + residentIdCheckChar(feb30)))).to.equal("BIRTH_DATE");
    const future = "11010520990101002";
    expect(reasonOf(() => validateResidentId(future + residentIdCheckChar(future)))).to.equal("BIRTH_DATE");
    expect(isResidentId("110105194912310021")).to.equal(false);
    expect(isResidentId("11010519491231002X")).to.equal(true);
  });

  it("errors name the expected check character and never carry the full number", () => {
    try { validateResidentId("110105194912310021"); } catch (e) {
      const err = e as InvalidIdError;
      expect(err.name).to.equal("InvalidIdError");
      expect(err.details).to.deep.include({ idType: "RESIDENT_ID", expected: "X", got: "1", masked: "110*************21" });
      expect(err.message).to.not.include("110105194912310021");
      expect(JSON.stringify(err.details)).to.not.include("110105194912310021");
    }
    expect(maskId("abc")).to.equal("***");
  });

  it("accepts the domain.md USCC samples and rejects the invalid ones", () => {
    for (const c of ["91350100M000100Y43", "91310104MA1K000018", "11310115002418321F"]) expect(validateUscc(c)).to.equal(c);
    expect(validateUscc("91310104ma1k000018")).to.equal("91310104MA1K000018");
    expect(reasonOf(() => validateUscc("91310000MA1FL0XX00"))).to.equal("CHECK_DIGIT");
    expect(reasonOf(() => validateUscc("91110000100000000X"))).to.equal("CHECK_DIGIT");
    expect(reasonOf(() => validateUscc("91310104MA1K00001"))).to.equal("LENGTH");
    expect(reasonOf(() => validateUscc("91310104MA1K0000I8"))).to.equal("CHARSET");
    const badDiv = "91990104MA1K00001";
    expect(reasonOf(() => validateUscc(badDiv + usccCheckChar(badDiv)))).to.equal("DIVISION");
    expect(isUscc("91310104MA1K000018")).to.equal(true);
    expect(isUscc("91310000MA1FL0XX00")).to.equal(false);
  });
});
