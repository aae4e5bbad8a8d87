/**
 * Data uses under an application scenario (basis SCENARIO) in the node's use log: the frozen vectors decode
 * the same in the node, one tree and one set of heads for both bases, scenario/resource/member/matter indexes
 * with proofs, per-grant anchor counts of GRANT records only (also after a restart), and the audit check's
 * use counts and reconciliation unaffected by scenario records.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogueCode, dataUseToUseRecord, verifyInclusion, type UseRecord as SdkUseRecord } from "@tongban/sdk";
import type { UseLog, LogDB } from "../../../node/src/audit/use-log.js";
import { decodeUseRecord, encodeUseRecord, type UseRecordInput } from "../../../node/src/audit/record.js";
import { auditLog, auditUseCounts, reconcileLogs } from "../../../node/src/audit/check.js";
import { HeadBook, b32, openUseLog } from "../helpers/use-log.js";

const vectors = JSON.parse(readFileSync(new URL("../../vectors/use-record-scenario.json", import.meta.url), "utf8"));

describe("audit: data uses under a scenario in the use log", function () {
  const PROVIDER = b32();
  const CONSUMER = b32();
  const grant = b32();
  let dir: string;
  let db: LogDB;
  let log: UseLog;
  const book = new HeadBook();

  const open = async () => {
    ({ db, log } = await openUseLog(dir, { logId: PROVIDER, anchor: book }));
  };
  const dataUse = (i: number, over: Partial<Parameters<typeof dataUseToUseRecord>[0]> = {}): SdkUseRecord => dataUseToUseRecord({
    direction: "SERVED", time: BigInt(1_800_000_000 + i), requestId: b32(), scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001",
    consumer: CONSUMER, provider: PROVIDER, matter: "MATTER-0042", queryHash: b32(), ...over,
  });
  const grantUse = (i: number): UseRecordInput => ({
    direction: "SERVED", time: 1_800_000_000 + i, requestId: b32(), grantId: grant, matter: b32(), requester: CONSUMER, custodian: PROVIDER,
    typeCode: b32(), leaf: b32(), holderRef: b32(),
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "uselog-scn-"));
    await open();
  });
  after(async () => {
    await log.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("decodes the frozen scenario vectors with their basis; encodes them byte for byte", () => {
    for (const v of vectors.records) {
      const raw = Buffer.from(v.encoded.slice(2), "hex");
      const r = decodeUseRecord(raw, 0);
      expect(r.basis, v.name).to.equal(v.record.basis);
      expect(r.grantId).to.equal(v.record.grantId);
      expect("0x" + encodeUseRecord({ ...r, time: Number(v.record.time) }).toString("hex")).to.equal(v.encoded);
    }
  });

  it("appendDataUse: SCENARIO records in the same tree; refuses GRANT records and GRANT inputs need a holderRef", async () => {
    const a = await log.append(grantUse(0));
    const d = await log.appendDataUse(dataUse(1));
    expect([a.seq, d.seq]).to.deep.equal([0, 1]);
    expect((await log.getRecord(1))!.basis).to.equal("SCENARIO");
    expect((await log.getRecord(0))!.basis).to.equal("GRANT");
    let err: unknown;
    try { await log.appendDataUse({ ...dataUse(2), basis: "GRANT" }); } catch (e) { err = e; }
    expect(String(err)).to.match(/basis SCENARIO/);
    const { holderRef: _h, ...noHolder } = grantUse(3);
    err = undefined;
    try { await log.append(noHolder); } catch (e) { err = e; }
    expect(String(err)).to.match(/holderRef/);
    expect(log.size).to.equal(2);
  });

  it("per-grant counts in anchored heads and unanchored uses cover GRANT records only", async () => {
    for (let i = 10; i < 16; i++) await log.appendDataUse(dataUse(i));
    // a scenario whose id equals the grant id: told apart by the basis byte
    await log.appendDataUse({ ...dataUse(16), grantId: grant });
    await log.append(grantUse(17));
    expect(log.unanchoredUses(grant)).to.equal(2);
    const head = await log.anchorNow();
    expect(head!.size).to.equal(10);
    expect(book.uses[0]).to.deep.equal([{ grantId: grant, count: 2 }]);
    expect(log.unanchoredUses(grant)).to.equal(0);
    // after a restart the unanchored counts are recomputed from the records, still GRANT only
    await log.appendDataUse({ ...dataUse(18), grantId: grant });
    await log.append(grantUse(19));
    await log.stop();
    await db.close();
    await open();
    expect(log.unanchoredUses(grant)).to.equal(1);
    await log.anchorNow();
    expect(book.uses[1]).to.deep.equal([{ grantId: grant, count: 1 }]);
    const anchors = book.heads.map((h, i) => ({ treeSize: h.treeSize, uses: book.uses[i]! }));
    expect(await auditUseCounts(log, anchors)).to.deep.equal([]);
    expect((await auditLog(log, book.heads)).findings).to.deep.equal([]);
  });

  it("history by scenario, resource, member and matter includes the data uses with proofs against the anchored head", async () => {
    await log.appendDataUse(dataUse(30, { resourceCode: "R310115-0002", direction: "RECEIVED" }));
    const byScenario = await log.history({ by: "scenario", key: catalogueCode("SCN-OPEN-SHOP") });
    expect(byScenario.records.map((r) => r.record.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 12]);
    expect(byScenario.records.every((r) => r.record.basis === "SCENARIO")).to.equal(true);
    for (const p of byScenario.records) {
      const root = p.anchored ? byScenario.anchoredHead!.root : byScenario.signedHead!.root;
      expect(verifyInclusion(p.leafHash, p.record.seq, p.treeSize, p.proof, root).status, `seq ${p.record.seq}`).to.equal("VALID");
    }
    expect(byScenario.records.filter((r) => r.anchored).length).to.equal(7);
    const byResource = await log.history({ by: "resource", key: catalogueCode("R310115-0002") });
    expect(byResource.records.map((r) => [r.record.seq, r.record.direction])).to.deep.equal([[12, "RECEIVED"]]);
    const byMatter = await log.history({ by: "matter", key: catalogueCode("MATTER-0042") });
    expect(byMatter.records.length).to.equal(10); // every data use, including the two with a grant-like scenario id
    const byMember = await log.history({ by: "member", key: CONSUMER });
    expect(byMember.records.map((r) => r.record.basis).filter((b) => b === "SCENARIO").length).to.equal(10);
    expect(byMember.records.map((r) => r.record.basis).filter((b) => b === "GRANT").length).to.equal(3);
    // the grant index holds material uses only
    const byGrant = await log.history({ by: "grant", key: grant });
    expect(byGrant.records.map((r) => r.record.basis)).to.deep.equal(["GRANT", "GRANT", "GRANT"]);
  });

  it("reconciliation compares material exchanges only (a consumer's data use has no SERVED counterpart to demand)", async () => {
    const cdir = mkdtempSync(join(tmpdir(), "uselog-scn-c-"));
    const { db: cdb, log: clog } = await openUseLog(cdir, { logId: CONSUMER }, { anchorIntervalMs: 0, syncWrites: false });
    try {
      // the consumer's RECEIVED counterparts of the provider's GRANT records, and its own data uses
      for await (const { seq, raw } of log.scan()) {
        const r = decodeUseRecord(raw, seq);
        if (r.basis === "GRANT") await clog.append({ ...r, direction: "RECEIVED", holderRef: b32() });
      }
      await clog.appendDataUse(dataUse(40, { direction: "RECEIVED" }));
      expect(await reconcileLogs(log, PROVIDER, clog, CONSUMER)).to.deep.equal([]);
    } finally {
      await clog.stop();
      await cdb.close();
      rmSync(cdir, { recursive: true, force: true });
    }
  });
});
