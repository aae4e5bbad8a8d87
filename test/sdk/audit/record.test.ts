import { expect } from "chai";
import {
  USE_RECORD_BYTES, UseRecordError, bytesToHex, counterpartRecord, decodeUseRecord, encodeUseRecord, hexToBytes,
  logLeafHash, useRecordLeafHash, verifyConsistency,
} from "../../../sdk/src/index.js";
import { expectFrozenLog, readVectors, recordOf } from "./frozen-vectors.js";

const file = readVectors("use-record.json");

describe("sdk/audit/record (canonical use record)", () => {
  for (const v of file.records) {
    it(`vector: ${v.name}`, () => {
      const r = recordOf(v.record);
      const enc = encodeUseRecord(r);
      expect(enc.length).to.equal(USE_RECORD_BYTES);
      expect(bytesToHex(enc)).to.equal(v.encoded);
      expect(bytesToHex(useRecordLeafHash(r))).to.equal(v.leafHash);
      // basis 2 was named SHARING_APPROVAL when this file was frozen: same bytes, decoded as SCENARIO
      expect(decodeUseRecord(hexToBytes(v.encoded))).to.deep.equal({ ...r, basis: r.basis === "SHARING_APPROVAL" ? "SCENARIO" : r.basis });
    });
  }

  it("the frozen log: every root, audit path and consistency proof reproduces and verifies", async () => {
    const log = await expectFrozenLog(file);
    for (const p of file.consistency) {
      expect((await log.consistencyProof(p.first, p.second)).map(bytesToHex)).to.deep.equal(p.proof);
      expect(verifyConsistency(p.first, p.second, file.roots[p.first], file.roots[p.second], p.proof).status).to.equal("VALID");
    }
  });

  it("SERVED and RECEIVED records of one exchange differ only in the direction byte", () => {
    const served = recordOf(file.records[0].record);
    const received = counterpartRecord(served);
    expect(received.direction).to.equal("RECEIVED");
    const a = encodeUseRecord(served), b = encodeUseRecord(received);
    const diff = [...a].map((x, i) => (x !== b[i] ? i : -1)).filter((i) => i >= 0);
    expect(diff).to.deep.equal([1]);
    expect(counterpartRecord(received)).to.deep.equal(served);
    expect(bytesToHex(logLeafHash(a))).to.not.equal(bytesToHex(logLeafHash(b)));
  });

  it("every field changes the encoding", () => {
    const r = recordOf(file.records[0].record);
    const base = bytesToHex(encodeUseRecord(r));
    const ff = "0x" + "ab".repeat(32);
    for (const f of ["requestId", "grantId", "matter", "requester", "custodian", "typeCode", "leaf"] as const) {
      expect(bytesToHex(encodeUseRecord({ ...r, [f]: ff })), f).to.not.equal(base);
    }
    expect(bytesToHex(encodeUseRecord({ ...r, time: r.time + 1n }))).to.not.equal(base);
    expect(bytesToHex(encodeUseRecord({ ...r, basis: "SCENARIO" }))).to.not.equal(base);
    // the deprecated name encodes to the same bytes as SCENARIO
    expect(bytesToHex(encodeUseRecord({ ...r, basis: "SHARING_APPROVAL" }))).to.equal(bytesToHex(encodeUseRecord({ ...r, basis: "SCENARIO" })));
  });

  it("rejects bad fields and bad bytes with errors naming the field", () => {
    const r = recordOf(file.records[0].record);
    const field = (fn: () => unknown) => { try { fn(); } catch (e) { expect(e).to.be.instanceOf(UseRecordError); return (e as UseRecordError).details.field; } return "no error"; };
    expect(field(() => encodeUseRecord({ ...r, direction: "SENT" as never }))).to.equal("direction");
    expect(field(() => encodeUseRecord({ ...r, basis: "NONE" as never }))).to.equal("basis");
    expect(field(() => encodeUseRecord({ ...r, time: -1n }))).to.equal("time");
    expect(field(() => encodeUseRecord({ ...r, time: 1n << 64n }))).to.equal("time");
    expect(field(() => encodeUseRecord({ ...r, leaf: "0x1234" }))).to.equal("leaf");
    expect(field(() => encodeUseRecord({ ...r, grantId: "nope" }))).to.equal("grantId");
    const enc = encodeUseRecord(r);
    expect(field(() => decodeUseRecord(enc.subarray(1)))).to.equal("length");
    const v2 = Uint8Array.from(enc); v2[0] = 2;
    expect(field(() => decodeUseRecord(v2))).to.equal("version");
    const d3 = Uint8Array.from(enc); d3[1] = 3;
    expect(field(() => decodeUseRecord(d3))).to.equal("direction");
    const b0 = Uint8Array.from(enc); b0[2] = 0;
    expect(field(() => decodeUseRecord(b0))).to.equal("basis");
  });
});
