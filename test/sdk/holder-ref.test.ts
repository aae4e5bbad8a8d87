import { expect } from "chai";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import {
  computeHolderRef, canonicalHolderId, InvalidIdError, InvalidConsortiumKeyError, InvalidHexError,
} from "../../sdk/src/index.js";

const file = JSON.parse(readFileSync(new URL("../vectors/holder-ref.json", import.meta.url), "utf8"));

describe("sdk/holder-ref", () => {
  for (const v of file.vectors) {
    it(`vector ${v.name}`, () => {
      expect(canonicalHolderId(v)).to.equal(v.canonical);
      expect(computeHolderRef(v, file.key)).to.equal(v.holderRef);
    });
  }

  it("is keyed: another key gives another reference; same person, same key, same reference", () => {
    const id = { idType: "RESIDENT_ID", idNumber: "11010519491231002X" };
    const k1 = randomBytes(32), k2 = randomBytes(32);
    expect(computeHolderRef(id, k1)).to.equal(computeHolderRef({ ...id, idNumber: "11010519491231002x" }, k1));
    expect(computeHolderRef(id, k1)).to.not.equal(computeHolderRef(id, k2));
    expect(computeHolderRef(id, k1)).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("separates ID types: the same number under two types gives two references", () => {
    const k = randomBytes(32);
    expect(computeHolderRef({ idType: "PASSPORT", idNumber: "E1" }, k)).to.not.equal(computeHolderRef({ idType: "OTHER", idNumber: "E1" }, k));
  });

  it("rejects a bad ID, a bad type, an ambiguous opaque number and a wrong-size key", () => {
    const k = randomBytes(32);
    expect(() => computeHolderRef({ idType: "RESIDENT_ID", idNumber: "110105194912310021" }, k)).to.throw(InvalidIdError, /check character/);
    expect(() => computeHolderRef({ idType: "USCC", idNumber: "91310000MA1FL0XX00" }, k)).to.throw(InvalidIdError);
    expect(() => computeHolderRef({ idType: "passport", idNumber: "E1" }, k)).to.throw(InvalidIdError).with.nested.property("details.reason", "ID_TYPE");
    expect(() => computeHolderRef({ idType: "PASSPORT", idNumber: "  " }, k)).to.throw(InvalidIdError).with.nested.property("details.reason", "EMPTY");
    expect(() => computeHolderRef({ idType: "PASSPORT", idNumber: "E1|X" }, k)).to.throw(InvalidIdError).with.nested.property("details.reason", "CHARSET");
    expect(() => computeHolderRef({ idType: "PASSPORT", idNumber: "E1" }, randomBytes(16))).to.throw(InvalidConsortiumKeyError);
    expect(() => computeHolderRef({ idType: "PASSPORT", idNumber: "E1" }, "0xzz")).to.throw(InvalidHexError);
  });
});
