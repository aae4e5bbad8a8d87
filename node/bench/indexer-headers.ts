/**
 * CPU of the indexer's header feed for this node's batches: 12 batches of 8,000 fresh materials (what the
 * feed indexes when batches of B = 10,000 are confirmed), two ways, each in its own fresh store, alternating
 * ways over 3 rounds:
 *   json  — the core's `headerJson` per material (hex fields) + `addBatchHeaders` (JSON `H!` records);
 *   bytes — `addBatchHeaderBytes` from the 320-byte ABI headers (what the feed uses now: binary `H!` records),
 *           yielding to the event loop every `FEED_SLICE` materials;
 *   unsliced — the same without yielding (`feedSlice: Infinity`, the feed before 2026-11-25).
 * Ways alternate (IX_WAYS, default bytes,unsliced); IX_STORE = LevelDB open options of the store as JSON.
 * Prints process CPU (main thread + LevelDB's background threads) per material from open to close — close waits
 * for the compaction in progress, so the LevelDB work the writes cause is counted —, the main thread's busy time
 * per material (event-loop utilisation: what the node's request handling competes with), the longest the event loop
 * was blocked (monitorEventLoopDelay max: how long an API request arriving meanwhile waits), and the store's size.
 *
 *   node --import tsx node/bench/indexer-headers.ts
 */
import { mkdtempSync, rmSync, readdirSync, statSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Indexer } from "../src/indexer/indexer.js";
import { headerJson } from "../src/core/service.js";
import { encodeHeaderInto, hex, keccakBuf } from "../src/core/header.js";

const BATCHES = Number(process.env.BATCHES ?? 12);
const PER = 8000;
// IX_STORE: LevelDB open options of the index store as JSON, e.g. '{"compression":false}' (default: the node's)
const storeOptions = process.env.IX_STORE ? (JSON.parse(process.env.IX_STORE) as { compression?: boolean; writeBufferSize?: number }) : undefined;
const h32 = (s: string) => createHash("sha256").update(s).digest();
let seq = 0;

type Way = "json" | "bytes" | "unsliced";
async function run(way: Way): Promise<{ us: number; main: number; mib: number; stallMs: number }> {
  // inputs prepared before the clock starts
  const batches = Array.from({ length: BATCHES }, (_, b) => {
    const encs: Buffer[] = [];
    for (let i = 0; i < PER; i++, seq++) {
      encs.push(encodeHeaderInto({ typeCode: h32("type"), issuer: h32("issuer"), holderRef: h32(`holder ${seq}`), contentHash: h32(`content ${seq}`), hashAlg: 1, issuedAt: 1_700_000_000 + seq, validFrom: 1_700_000_000, validUntil: 0, version: 1, supersedes: Buffer.alloc(32) }, Buffer.alloc(320)));
    }
    return { root: hex(h32(`root ${way} ${b} ${seq}`)), encs, leaves: encs.map((e) => hex(keccakBuf(e))) };
  });
  const dir = mkdtempSync(join(tmpdir(), "tongban-ix-bench-"));
  const idx = new Indexer({ provider: { send: async () => { throw new Error("no chain in this benchmark"); } }, address: "0x" + "11".repeat(20), dbPath: dir, storeOptions, ...(way === "unsliced" ? { feedSlice: Infinity } : {}) });
  const c0 = process.cpuUsage();
  const e0 = performance.eventLoopUtilization();
  // the longest the event loop was blocked (what an API request arriving meanwhile waits)
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await idx.open();
  for (const { root, encs, leaves } of batches) {
    if (way === "json") await idx.addBatchHeaders(root, leaves.map((leaf, i) => ({ leaf, header: headerJson(encs[i]!) })));
    else await idx.addBatchHeaderBytes(root, leaves, encs);
  }
  delay.disable();
  await idx.stop();
  const c = process.cpuUsage(c0);
  const main = performance.eventLoopUtilization(e0).active * 1000; // main thread busy, us
  const bytes = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  rmSync(dir, { recursive: true, force: true });
  return { us: (c.user + c.system) / (BATCHES * PER), main: main / (BATCHES * PER), mib: bytes / 2 ** 20, stallMs: delay.max / 1e6 };
}

// IX_WAYS: which ways to alternate (default bytes,unsliced; json = the old JSON path)
const ways = (process.env.IX_WAYS ?? "bytes,unsliced").split(",") as Way[];
const out: Record<string, { us: number; main: number; mib: number; stallMs: number }[]> = Object.fromEntries(ways.map((w) => [w, []]));
await run("bytes"); // warm-up (JIT)
for (let r = 0; r < 3; r++) for (const way of ways) out[way]!.push(await run(way));
console.log(`indexer header feed, ${BATCHES} batches x ${PER.toLocaleString("en")} materials per store, 3 rounds, load ${loadavg()[0]!.toFixed(1)}`);
for (const [way, rs] of Object.entries(out)) {
  console.log(
    `${way.padEnd(8)}: ${rs.map((x) => x.us.toFixed(1)).join(" / ")} us process CPU per material (open to close); main thread busy ${rs.map((x) => x.main.toFixed(1)).join(" / ")} us; ` +
      `longest event-loop block ${rs.map((x) => x.stallMs.toFixed(0)).join(" / ")} ms; store ${rs[0]!.mib.toFixed(0)} MiB`,
  );
}
