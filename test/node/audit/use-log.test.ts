import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, createHash } from "node:crypto";
import { UseLog, LK, INDEX_KIND, historyToCsv, DuplicateKeyError, type LogDB } from "../../../node/src/audit/use-log.js";
import { encodeUseRecord, decodeUseRecord, type UseRecordInput } from "../../../node/src/audit/record.js";
import { leafHash, nodeHash, EMPTY_ROOT } from "../../../node/src/audit/tree.js";
import { verifyInclusion, verifyConsistency, encodeUseRecord as sdkEncodeUseRecord } from "@tongban/sdk";
import { b32, openUseLog } from "../helpers/use-log.js";

const verifyInclusionProof = (leaf: Buffer, m: number, n: number, proof: Buffer[], root: Buffer) => verifyInclusion(leaf, m, n, proof, root).status === "VALID";
const verifyConsistencyProof = (m: number, n: number, proof: Buffer[], r1: Buffer, r2: Buffer) => verifyConsistency(m, n, r1, r2, proof).status === "VALID";


/** Reference MTH straight from RFC 6962 section 2.1 (recursive over the leaf data). */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash("sha256").digest();
  if (leaves.length === 1) return leafHash(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function rec(over: Partial<UseRecordInput> = {}): UseRecordInput {
  return {
    direction: "SERVED",
    time: Math.floor(Date.now() / 1000),
    requestId: b32(),
    grantId: b32(),
    matter: b32(),
    requester: b32(),
    custodian: b32(),
    typeCode: b32(),
    leaf: b32(),
    holderRef: b32(),
    ...over,
  };
}

describe("audit: use log (RFC 6962 Merkle log in LevelDB)", function () {
  let dir: string;
  let db: LogDB;
  let log: UseLog;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "uselog-"));
    ({ db, log } = await openUseLog(dir, { logId: b32() }, { anchorIntervalMs: 0, syncWrites: false }));
  });
  after(async () => {
    await log.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("encodes records canonically and round-trips them", () => {
    const r = rec({ direction: "RECEIVED", time: 1_700_000_000 });
    const enc = encodeUseRecord(r);
    expect(enc.length).to.equal(235);
    const { holderRef: _h, ...encoded } = r;
    expect(decodeUseRecord(enc, 7)).to.deep.equal({ ...encoded, basis: "GRANT", seq: 7 });
    expect(() => encodeUseRecord({ ...r, grantId: "0x12" })).to.throw(/grantId/);
    // byte-identical to the SDK's canonical encoding
    expect(Buffer.from(sdkEncodeUseRecord({ ...encoded, basis: "GRANT", time: BigInt(r.time) })).equals(enc)).to.equal(true);
  });

  it("roots, inclusion and consistency proofs match the RFC 6962 reference for every size 1..70", async () => {
    const datas: Buffer[] = [];
    expect(log.root()).to.equal("0x" + EMPTY_ROOT.toString("hex"));
    for (let n = 1; n <= 70; n++) {
      const r = rec();
      const { seq } = await log.append(r);
      expect(seq).to.equal(n - 1);
      datas.push(encodeUseRecord(r));
      const root = mth(datas);
      expect(log.root()).to.equal("0x" + root.toString("hex"), `root of size ${n}`);
    }
    const roots: Buffer[] = [Buffer.alloc(0)];
    for (let n = 1; n <= 70; n++) roots.push(mth(datas.slice(0, n)));
    for (const n of [1, 2, 3, 5, 8, 13, 31, 32, 33, 64, 70]) {
      expect(await log.rootAt(n)).to.equal("0x" + roots[n]!.toString("hex"));
      for (let m = 0; m < n; m++) {
        const proof = (await log.inclusionProof(m, n)).map((h) => Buffer.from(h.slice(2), "hex"));
        expect(verifyInclusionProof(leafHash(datas[m]!), m, n, proof, roots[n]!), `incl ${m}/${n}`).to.equal(true);
        // a wrong leaf or index fails
        expect(verifyInclusionProof(leafHash(datas[(m + 1) % n]!), m, n, proof, roots[n]!) && n > 1).to.equal(false);
      }
      for (let m = 1; m <= n; m++) {
        const proof = (await log.consistencyProof(m, n)).map((h) => Buffer.from(h.slice(2), "hex"));
        expect(verifyConsistencyProof(m, n, proof, roots[m]!, roots[n]!), `cons ${m}->${n}`).to.equal(true);
        if (m < n) expect(verifyConsistencyProof(m, n, proof, roots[m === 1 ? 2 : m - 1]!, roots[n]!)).to.equal(false);
      }
    }
  });

  it("survives a restart: size and right edge are reloaded, appends continue the same tree", async () => {
    const before = log.root();
    const size = log.size;
    await log.stop();
    log = new UseLog({ db, logId: b32() }, { anchorIntervalMs: 0, syncWrites: false });
    await log.start();
    expect(log.size).to.equal(size);
    expect(log.root()).to.equal(before);
    await log.append(rec());
    expect(await log.rootAt(size)).to.equal(before);
  });

  it("group-commits concurrent appends and refuses a reused unique key atomically", async () => {
    const key = b32();
    const results = await Promise.allSettled([
      log.append(rec(), { key, expiry: Date.now() + 60_000 }),
      log.append(rec(), { key, expiry: Date.now() + 60_000 }),
      ...Array.from({ length: 50 }, () => log.append(rec())),
    ]);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).to.have.length(1);
    expect((rejected[0] as PromiseRejectedResult).reason).to.be.instanceOf(DuplicateKeyError);
    const later = await log.append(rec(), { key, expiry: Date.now() + 60_000 }).then(() => "ok", (e) => e);
    expect(later).to.be.instanceOf(DuplicateKeyError);
    const seqs = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ seq: number }>).value.seq);
    expect(new Set(seqs).size).to.equal(51);
  });

  it("answers holder history in a time range with proofs that verify against the signed head, and exports CSV", async () => {
    const holder = b32();
    const member = b32();
    const t0 = 1_800_000_000;
    for (let i = 0; i < 10; i++) await log.append(rec({ holderRef: holder, requester: member, time: t0 + i * 10 }));
    const h = await log.history({ by: "holder", key: holder, from: t0 + 20, to: t0 + 60 });
    expect(h.records.map((r) => r.record.time)).to.deep.equal([2, 3, 4, 5, 6].map((i) => t0 + i * 10));
    const root = Buffer.from(h.signedHead!.root.slice(2), "hex");
    for (const r of h.records) {
      expect(r.anchored).to.equal(false);
      const ok = verifyInclusionProof(Buffer.from(r.leafHash.slice(2), "hex"), r.record.seq, r.treeSize, r.proof.map((p) => Buffer.from(p.slice(2), "hex")), root);
      expect(ok).to.equal(true);
    }
    const m = await log.history({ by: "member", key: member, limit: 3 });
    expect(m.records).to.have.length(3);
    expect(m.truncated).to.equal(true);
    const csv = historyToCsv(h);
    expect(csv.split("\r\n")[0]).to.match(/^seq,direction,time,isoTime,requestId/);
    expect(csv.trim().split("\r\n")).to.have.length(6);
    // the stored record is what the leaf commits to
    const raw = await db.get(LK.record(h.records[0]!.record.seq));
    expect("0x" + leafHash(raw!).toString("hex")).to.equal(h.records[0]!.leafHash);
  });
  it("writes exactly the documented on-disk layout (record, every perfect subtree, size, indexes, nonces) in group commits", async () => {
    // The reference is built here from the layout in use-log.ts's header, independently of the append path:
    // a log written by an earlier version of the append code must read the same as one written now.
    const d = mkdtempSync(join(tmpdir(), "uselog-layout-"));
    const { db: ldb, log: l } = await openUseLog(d, { logId: b32() }, { anchorIntervalMs: 0, syncWrites: false });
    const members = [b32(), b32(), b32()];
    const inputs: { r: UseRecordInput; u?: { key: string; expiry: number } }[] = [];
    for (let i = 0; i < 150; i++) {
      const scenario = i % 5 === 0;
      const r = rec({
        direction: i % 2 ? "SERVED" : "RECEIVED",
        time: 1_700_000_000 + (i >> 3),
        requester: members[i % 3],
        // every 7th: the same member on both sides, once in upper case (indexed once)
        custodian: i % 7 === 0 ? "0x" + members[i % 3]!.slice(2).toUpperCase() : members[(i + 1) % 3],
        ...(scenario ? { basis: "SCENARIO" as const, holderRef: undefined } : {}),
      });
      inputs.push({ r, u: i % 3 === 0 ? { key: b32(), expiry: 2_000_000_000_000 + i } : undefined });
    }
    let at = 0;
    for (const g of [1, 2, 3, 40, 104]) {
      await Promise.all(inputs.slice(at, at + g).map((x) => l.append(x.r, x.u)));
      at += g;
    }
    expect(await l.append(rec(), inputs[0]!.u).then(() => "ok", (e) => e)).to.be.instanceOf(DuplicateKeyError);
    const want = new Map<string, string>();
    const put = (k: Buffer, v: Buffer) => want.set(k.toString("hex"), v.toString("hex"));
    const u64b = (v: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(v));
      return b;
    };
    const n = inputs.length;
    let level: Buffer[] = [];
    inputs.forEach(({ r, u }, seq) => {
      const enc = encodeUseRecord(r);
      put(LK.record(seq), enc);
      level.push(leafHash(enc));
      const f = (name: "leaf" | "requester" | "custodian" | "matter" | "grantId" | "typeCode") => Buffer.from(r[name].slice(2), "hex");
      const idx = (kind: number, key: Buffer, value: Buffer = Buffer.alloc(0)) => put(LK.index(kind, key, r.time, seq), value);
      if (r.basis !== "SCENARIO") {
        idx(INDEX_KIND.holder, Buffer.from(r.holderRef!.slice(2), "hex"), enc);
        idx(INDEX_KIND.material, f("leaf"));
        idx(INDEX_KIND.grant, f("grantId"));
      } else {
        idx(INDEX_KIND.scenario, f("grantId"));
        idx(INDEX_KIND.resource, f("typeCode"));
      }
      idx(INDEX_KIND.member, f("requester"));
      idx(INDEX_KIND.member, f("custodian"));
      idx(INDEX_KIND.matter, f("matter"));
      if (u) put(LK.unique(Buffer.from(u.key.slice(2), "hex")), u64b(u.expiry));
    });
    for (let lv = 0; level.length; lv++) {
      level.forEach((h, i) => put(LK.node(lv, i), h));
      const up: Buffer[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
      level = up;
    }
    put(LK.size, u64b(n));
    const got = new Map<string, string>();
    for await (const [k, v] of ldb.iterator()) got.set(k.toString("hex"), v.toString("hex"));
    await l.stop();
    await ldb.close();
    rmSync(d, { recursive: true, force: true });
    expect(got.size).to.equal(want.size);
    for (const [k, v] of want) expect(got.get(k), `key ${k}`).to.equal(v);
    expect(l.root()).to.equal("0x" + mth(inputs.map((x) => encodeUseRecord(x.r))).toString("hex"));
  });
  it("encodes straight into one buffer byte for byte as the SDK does; bad fields still fail with the SDK's named error", () => {
    for (let i = 0; i < 300; i++) {
      const r = rec({
        direction: i % 2 ? "SERVED" : "RECEIVED",
        basis: i % 3 === 0 ? "SCENARIO" : i % 3 === 1 ? "GRANT" : undefined,
        time: i === 0 ? 0 : i === 1 ? Number.MAX_SAFE_INTEGER : Math.floor(Math.random() * 2 ** 40),
        matter: i % 4 === 0 ? "0x" + randomBytes(32).toString("hex").toUpperCase() : b32(),
      });
      const sdk = sdkEncodeUseRecord({ ...r, basis: r.basis ?? "GRANT", time: BigInt(r.time) });
      expect(encodeUseRecord(r).toString("hex"), `record ${i}`).to.equal(Buffer.from(sdk).toString("hex"));
    }
    const bad: [Partial<UseRecordInput>, string][] = [
      [{ matter: "0x" + "ab".repeat(31) }, "matter"],
      [{ leaf: "0x" + "zz".repeat(32) }, "leaf"],
      [{ requester: "ab".repeat(33) }, "requester"],
      [{ custodian: undefined as unknown as string }, "custodian"],
      [{ direction: "SENT" as "SERVED" }, "direction"],
      [{ basis: "OTHER" as "GRANT" }, "basis"],
    ];
    for (const [over, field] of bad) {
      const err = (() => {
        try {
          encodeUseRecord(rec(over));
        } catch (e) {
          return e as { name: string; details?: { field?: string } };
        }
        return undefined;
      })();
      expect(err?.name, field).to.equal("UseRecordError");
      expect(err?.details?.field).to.equal(field);
    }
  });
});
