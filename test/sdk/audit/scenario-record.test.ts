import { expect } from "chai";
import {
  bytesToHex, dataUseToUseRecord, decodeDataUse, decodeUseRecord, encodeUseRecord, hexToBytes, servedUsesByGrant,
  useRecordLeafHash, catalogueCode, type DataUse, type UseRecord,
} from "../../../sdk/src/index.js";
import { expectFrozenLog, readVectors, recordOf } from "./frozen-vectors.js";

const file = readVectors("use-record-scenario.json");

describe("sdk/audit: data uses under a scenario (basis SCENARIO) in the use log", () => {
  for (const v of file.records) {
    it(`vector: ${v.name}`, () => {
      const r = recordOf(v.record);
      expect(bytesToHex(encodeUseRecord(r))).to.equal(v.encoded);
      expect(bytesToHex(useRecordLeafHash(r))).to.equal(v.leafHash);
      const bytes = hexToBytes(v.encoded);
      expect(bytes[0]).to.equal(1); // layout version unchanged
      expect(bytes[2]).to.equal(r.basis === "GRANT" ? 1 : 2);
      expect(decodeUseRecord(bytes)).to.deep.equal(r);
      if (v.dataUse) {
        const u = { ...(v.dataUse as DataUse), time: BigInt(v.dataUse.time) };
        expect(dataUseToUseRecord(u)).to.deep.equal(r);
        const back = decodeDataUse(bytes);
        expect([back.scenarioId, back.resourceCode, back.consumer, back.provider, back.queryHash]).to.deep.equal(
          [catalogueCode(u.scenarioId), catalogueCode(u.resourceCode), u.consumer, u.provider, u.queryHash]);
      }
    });
  }

  it("one log holds both bases: roots and inclusion proofs reproduce and verify", async () => {
    await expectFrozenLog(file);
  });

  it("per-grant counts cover GRANT records only (a scenario id equal to a grant id is not counted)", () => {
    const recs = file.records.map((v: { record: Record<string, unknown> }) => recordOf(v.record));
    expect(servedUsesByGrant(recs, file.custodian)).to.deep.equal(file.grantCounts);
    expect(file.grantCounts).to.deep.equal([{ grantId: recs[2].grantId, count: 2 }]);
    // flipping the basis byte of the look-alike record makes it count: the basis is what excludes it
    const flipped = recs.map((r: UseRecord, i: number) => (i === 5 ? { ...r, basis: "GRANT" as const, direction: "SERVED" as const } : r));
    expect(servedUsesByGrant(flipped, file.custodian)[0]!.count).to.equal(3);
  });

  it("the deprecated basis name SHARING_APPROVAL encodes to SCENARIO's bytes and decodes as SCENARIO", () => {
    const r = recordOf(file.records[0].record);
    const old = encodeUseRecord({ ...r, basis: "SHARING_APPROVAL" });
    expect(bytesToHex(old)).to.equal(file.records[0].encoded);
    expect(decodeUseRecord(old).basis).to.equal("SCENARIO");
  });
});
