import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LK, type LogDB, type UseLog } from "../../../node/src/audit/use-log.js";
import { auditLog, reconcileLogs, auditUseCounts } from "../../../node/src/audit/check.js";
import type { UseRecordInput } from "../../../node/src/audit/record.js";
import { HeadBook, b32, openLogDb, openUseLog } from "../helpers/use-log.js";

const openLog = (dir: string, book: HeadBook, logId: string): Promise<{ db: LogDB; log: UseLog }> => openUseLog(dir, { logId, anchor: book });

describe("audit: log check and reconciliation (LevelDB edited directly)", function () {
  const A = b32();
  const B = b32();
  const grant = b32();
  let dirA: string;
  let dirB: string;
  let served: UseRecordInput[] = [];

  async function fresh() {
    dirA = mkdtempSync(join(tmpdir(), "audit-a-"));
    dirB = mkdtempSync(join(tmpdir(), "audit-b-"));
    const bookA = new HeadBook();
    const a = await openLog(dirA, bookA, A);
    const b = await openLog(dirB, new HeadBook(), B);
    served = [];
    for (let i = 0; i < 40; i++) {
      const r: UseRecordInput = { direction: "SERVED", time: 1_800_000_000 + i, requestId: b32(), grantId: i % 2 ? grant : b32(), matter: b32(), requester: B, custodian: A, typeCode: b32(), leaf: b32(), holderRef: b32() };
      served.push(r);
      await a.log.append(r);
      await b.log.append({ ...r, direction: "RECEIVED" });
      if (i === 9 || i === 24 || i === 39) await a.log.anchorNow();
    }
    return { a, b, bookA };
  }
  const close = async (...xs: { db: LogDB; log: UseLog }[]) => {
    for (const x of xs) {
      await x.log.stop();
      await x.db.close();
    }
  };
  afterEach(() => {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });

  it("an untouched log passes (a), (b) and (c); anchors carry the SERVED counts per grant", async () => {
    const { a, b, bookA } = await fresh();
    expect(bookA.heads.map((h) => h.treeSize)).to.deep.equal([10, 25, 40]);
    expect(bookA.uses[0]!.find((u) => u.grantId === grant)!.count).to.equal(5);
    const report = await auditLog(a.log, bookA.heads);
    expect(report.findings).to.deep.equal([]);
    expect(report.records).to.equal(40);
    expect(await reconcileLogs(a.log, A, b.log, B)).to.deep.equal([]);
    // (d) the counts declared with each anchor match the records; an under-reported count is found
    const anchors = bookA.heads.map((h, i) => ({ treeSize: h.treeSize, uses: bookA.uses[i]! }));
    expect(await auditUseCounts(a.log, anchors)).to.deep.equal([]);
    anchors[1]!.uses = anchors[1]!.uses.map((u) => (u.grantId === grant ? { ...u, count: u.count - 1 } : u));
    const under = await auditUseCounts(a.log, anchors);
    expect(under.map((f) => [f.kind, f.details!.treeSize, f.details!.declared, f.details!.records])).to.deep.equal([["USE_COUNT_MISMATCH", 25, 6, 7]]);
    await close(a, b);
  });

  it("detects a deleted record (gap, head mismatch) and the hidden use through the requester's log", async () => {
    const { a, b, bookA } = await fresh();
    await close(a);
    const db = await openLogDb(dirA);
    await db.del(LK.record(17));
    await db.close();
    const a2 = await openLog(dirA, bookA, A);
    const report = await auditLog(a2.log, bookA.heads);
    const kinds = report.findings.map((f) => f.kind);
    expect(report.ok).to.equal(false);
    expect(report.findings.find((f) => f.kind === "RECORD_MISSING")!.seq).to.equal(17);
    expect(kinds).to.include("HEAD_MISMATCH");
    const rec = await reconcileLogs(a2.log, A, b.log, B);
    expect(rec).to.have.length(1);
    expect(rec[0]!.kind).to.equal("UNMATCHED_RECEIVED");
    expect(rec[0]!.requestId).to.equal(served[17]!.requestId);
    await close(a2, b);
  });

  it("detects an altered record (inclusion fails against the anchored head) and the field mismatch", async () => {
    const { a, b, bookA } = await fresh();
    await close(a);
    const db = await openLogDb(dirA);
    const raw = Buffer.from((await db.get(LK.record(5)))!);
    raw[80] ^= 0xff; // inside the matter field
    await db.put(LK.record(5), raw);
    await db.close();
    const a2 = await openLog(dirA, bookA, A);
    const report = await auditLog(a2.log, bookA.heads);
    const altered = report.findings.filter((f) => f.kind === "RECORD_ALTERED");
    expect(altered.map((f) => f.seq)).to.deep.equal([5]);
    expect(report.findings.map((f) => f.kind)).to.include("HEAD_MISMATCH");
    const rec = await reconcileLogs(a2.log, A, b.log, B);
    expect(rec.map((f) => f.kind)).to.deep.equal(["RECORD_MISMATCH"]);
    expect(rec[0]!.details!.fields).to.deep.equal(["matter"]);
    await close(a2, b);
  });

  it("detects a log rewritten with its tree (record dropped, tree rebuilt): inconsistent with the anchored heads", async () => {
    const { a, b, bookA } = await fresh();
    await close(a);
    // rebuild A's log from scratch without record 30, as a dishonest custodian would
    rmSync(dirA, { recursive: true, force: true });
    const a2 = await openLog(dirA, new HeadBook(), A);
    for (let i = 0; i < served.length; i++) if (i !== 30) await a2.log.append(served[i]!);
    const report = await auditLog(a2.log, bookA.heads);
    const kinds = new Set(report.findings.map((f) => f.kind));
    expect(kinds.has("LOG_TRUNCATED")).to.equal(true); // 39 records < anchored 40
    expect(kinds.has("HEAD_MISMATCH")).to.equal(true);
    // the two earlier heads still match (records 0..24 untouched)
    expect(report.findings.filter((f) => f.kind === "HEAD_MISMATCH").map((f) => f.details!.treeSize)).to.deep.equal([40]);
    expect((await reconcileLogs(a2.log, A, b.log, B)).map((f) => f.kind)).to.deep.equal(["UNMATCHED_RECEIVED"]);
    await close(a2, b);
  });
});
