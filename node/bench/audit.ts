/**
 * Audit query benchmark: a use log of N records (default 1,000,000) in LevelDB, then holder / material /
 * member history queries, each record returned with its inclusion proof against the latest anchored head.
 * Prints figures; not a test.
 *
 *   npx tsx node/bench/audit.ts [records=1000000] [holders=100000] [queries=2000]
 *
 * The heads are "anchored" into an in-memory book here (the chain is not what is measured); records are
 * appended through the real group-committed append path with fsync off (bulk load).
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { verifyInclusion } from "@tongban/sdk";
import { UseLog, type HeadAnchorSink, type IndexKind } from "../src/audit/use-log.js";

const N = Number(process.argv[2] ?? 1_000_000);
const HOLDERS = Number(process.argv[3] ?? 100_000);
const Q = Number(process.argv[4] ?? 2000);
const hex = () => "0x" + randomBytes(32).toString("hex");
// cheap distinct ids for the bulk load (random ones cost more than the append being measured); every id is
// a function of its number so that a kept log (BENCH_DB) can be queried again
const idOf = (n: number, kind = "00") => "0x" + kind + "5a".repeat(23) + n.toString(16).padStart(16, "0");

class Book implements HeadAnchorSink {
  size = 0;
  root = "";
  async latestAnchoredSize() {
    return this.size;
  }
  async anchorHead(size: number, root: string) {
    this.size = size;
    this.root = root;
    return { blockNumber: 1, txHash: hex() };
  }
}

function pct(xs: number[], p: number): number {
  return xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
}

async function main(): Promise<void> {
  // BENCH_DB=<dir>: keep the loaded log there and reuse it on the next run (loading is the slow part)
  const keep = process.env.BENCH_DB;
  const dir = keep ?? mkdtempSync(join(tmpdir(), "audit-bench-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  const book = new Book();
  const log = new UseLog({ db, logId: hex(), anchor: book }, { syncWrites: false, anchorIntervalMs: 0, anchorEvery: 1e12 });
  await log.start();
  const holders = Array.from({ length: HOLDERS }, (_, i) => idOf(i, "01"));
  const members = Array.from({ length: 40 }, (_, i) => idOf(i, "02"));
  const matters = Array.from({ length: 200 }, (_, i) => idOf(i, "03"));
  const types = Array.from({ length: 50 }, (_, i) => idOf(i, "04"));
  const grants = Array.from({ length: 50_000 }, (_, i) => idOf(i, "05"));
  const materials = Array.from({ length: Math.min(N, 100_000) }, (_, i) => idOf(i * 2));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loadFrom = log.size;
  const t0s = 1_767_225_600; // 2026-01-01
  // BENCH_WINDOW: appends in flight during the load (2,000: bulk; a serving node's groups are as large as its
  // concurrent requests, e.g. 1-32)
  const WINDOW = Number(process.env.BENCH_WINDOW ?? 2000);
  // the ids are derived from a salt kept with the log, so a reused log can be queried with the same keys
  let appended = log.size;
  if (appended > 0) console.log(`reusing ${dir}: ${appended} records`);
  while (appended < N) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < WINDOW && appended < N; i++, appended++) {
      const h = holders[appended % HOLDERS]!;
      const leaf = idOf(appended * 2);
      batch.push(
        log.append({
          direction: appended % 2 ? "SERVED" : "RECEIVED",
          time: t0s + Math.floor(appended / 10),
          requestId: idOf(appended * 2 + 1),
          grantId: grants[appended % grants.length]!,
          matter: matters[appended % matters.length]!,
          requester: members[appended % members.length]!,
          custodian: members[(appended * 7 + 3) % members.length]!,
          typeCode: types[appended % types.length]!,
          leaf,
          holderRef: h,
        }),
      );
    }
    await Promise.all(batch);
    if (appended % 100_000 < WINDOW) process.stdout.write(`  appended ${appended} (${((appended / (performance.now() - t0)) * 1000).toFixed(0)} records/s)\n`);
  }
  const loadMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const loaded = N - loadFrom;
  if (loaded > 0) console.log(`append: ${loaded} records in ${(loadMs / 1000).toFixed(1)} s: ${((loaded / loadMs) * 1000).toFixed(0)} appends/s, CPU ${(((cpu.user + cpu.system) / loaded)).toFixed(1)} µs/append (user ${(cpu.user / loaded).toFixed(1)}, system ${(cpu.system / loaded).toFixed(1)}), fsync off`);
  const head = (await log.anchorNow())!;
  book.size = head.size;
  book.root = head.root;
  if (loadMs > 1000) console.log(`use log: ${N} records, ${HOLDERS} holders (~${(N / HOLDERS).toFixed(0)} records each), loaded in ${(loadMs / 1000).toFixed(1)} s (${((N / loadMs) * 1000).toFixed(0)} appends/s, fsync off); anchored head size ${book.size}`);

  const run = async (label: string, by: IndexKind, keys: string[], range?: (i: number) => { from: number; to: number }) => {
    // warm-up (a serving node's caches are warm): 10% of the queries, on other keys, untimed
    for (let i = 0; i < Q / 10; i++) await log.history({ by, key: keys[(i * 104729 + 13) % keys.length]!, ...(range ? range(i) : {}), limit: 1000 });
    const lat: number[] = [];
    let records = 0;
    let verified = 0;
    for (let i = 0; i < Q; i++) {
      const key = keys[(i * 7919) % keys.length]!;
      const s = performance.now();
      const h = await log.history({ by, key, ...(range ? range(i) : {}), limit: 1000 });
      lat.push(performance.now() - s);
      records += h.records.length;
      // check a sample outside the timing: proofs really verify against the anchored root
      if (i % 50 === 0) {
        for (const r of h.records) {
          if (verifyInclusion(r.leafHash, r.record.seq, r.treeSize, r.proof, book.root).status !== "VALID") throw new Error(`proof of ${r.record.seq} does not verify`);
          verified++;
        }
      }
    }
    lat.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(44)} ${Q} queries, ${(records / Q).toFixed(1)} records/query with proofs: p50 ${pct(lat, 0.5).toFixed(2)} ms, p95 ${pct(lat, 0.95).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms (${verified} proofs re-verified)`,
    );
  };
  await run("holder history (all time)", "holder", holders);
  await run("holder history (time range, ~half)", "holder", holders, () => ({ from: t0s + Math.floor(N / 20), to: t0s + Math.floor(N / 10) }));
  await run("material history", "material", materials);
  await run("matter history (time range, ~100 s)", "matter", matters, (i) => ({ from: t0s + (i % 1000) * 10, to: t0s + (i % 1000) * 10 + 100 }));
  await log.stop();
  await db.close();
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
