/**
 * Ingest benchmark: sustained registrations/s through the MaterialService (persisted with fsync, batched,
 * anchored on a real `hardhat node`, confirmed) and ack->anchored latency p50/p99, with a 1 s batch interval.
 *
 *   npm run bench -w node                      # 20 s of load, 4 concurrent clients x 1,000 requests per call
 *   BENCH_SECONDS=60 BENCH_CLIENTS=8 BENCH_CHUNK=500 npm run bench -w node
 *
 * Environment: BENCH_SECONDS, BENCH_CLIENTS, BENCH_CHUNK, BENCH_RATE (target materials/s, 0 = as fast as
 * possible), BENCH_SYNC (1 = fsync each intake write, default), BENCH_HASH_WORKER (1 = hash leaves of large
 * calls in a worker thread, default), BENCH_BATCH_SIZE (default 10,000), BENCH_INTERVAL_MS (default 1,000).
 * Chain, member and core come from setup.ts (shared with http.ts).
 */
import { randomBytes } from "node:crypto";
import { env, procCpu, startBenchCore, drained, ackToAnchored } from "./setup.js";
import type { RegisterRequest } from "../src/core/types.js";

const SECONDS = env("BENCH_SECONDS", 20);
const CLIENTS = env("BENCH_CLIENTS", 4);
const CHUNK = env("BENCH_CHUNK", 1000);
const RATE = env("BENCH_RATE", 0);
const SYNC = env("BENCH_SYNC", 1) === 1;
const BATCH = env("BENCH_BATCH_SIZE", 10_000);
const INTERVAL = env("BENCH_INTERVAL_MS", 1000);
const HASH_WORKER = env("BENCH_HASH_WORKER", 1) === 1;
const USCC = "11310115002418321F";
const TYPE = "BIZ_LICENCE";
const JURS = [310104, 310115];

const bench = await startBenchCore({ uscc: USCC, type: TYPE, jurisdictions: [310115, 310104], batchSize: BATCH, batchIntervalMs: INTERVAL, syncWrites: SYNC, hashWorker: HASH_WORKER });
const { core, chain } = bench;
let code = 0;
try {
  // requests: unique content hashes from a counter (cheap), holder refs from a small pool
  const prefix = randomBytes(24).toString("hex");
  const holders = Array.from({ length: 1024 }, () => "0x" + randomBytes(32).toString("hex"));
  const now = Math.floor(Date.now() / 1000);
  let counter = 0;
  const make = (n: number): RegisterRequest[] => {
    const out: RegisterRequest[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = counter++;
      out[i] = {
        typeCode: TYPE,
        jurisdiction: JURS[c & 1]!,
        contentHash: "0x" + prefix + c.toString(16).padStart(16, "0"),
        holderRef: holders[c & 1023]!,
        issuedAt: now,
        validFrom: now,
      };
    }
    return out;
  };

  process.stdout.write(`bench: ${SECONDS}s, ${CLIENTS} clients x ${CHUNK}/call, batch ${BATCH}/${INTERVAL}ms, fsync ${SYNC}, hash worker ${HASH_WORKER}, rate ${RATE || "max"}\n`);
  const cpu0 = process.cpuUsage();
  const chainCpu0 = procCpu(chain.pid);
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let acked = 0;
  let callMsMax = 0;
  const perSecond: number[] = [];
  const ticker = setInterval(() => {
    const s = core.service.stats();
    perSecond.push(acked);
    process.stdout.write(`  t=${((performance.now() - t0) / 1000).toFixed(0)}s acked=${acked} anchored=${s.anchored} pending=${s.pending} anchoring=${s.anchoring}\n`);
  }, 1000);
  const client = async () => {
    while (performance.now() < end) {
      if (RATE) {
        const due = ((performance.now() - t0) / 1000) * RATE;
        if (acked >= due) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
      }
      const reqs = make(CHUNK);
      const c0 = performance.now();
      await core.service.register(reqs);
      callMsMax = Math.max(callMsMax, performance.now() - c0);
      acked += reqs.length;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const tAck = performance.now();
  await drained(core);
  const tAll = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const chainCpu = procCpu(chain.pid) - chainCpu0;
  clearInterval(ticker);
  const s = core.service.stats();
  const quant = (p: number) => ackToAnchored(core, p);
  const batches = await core.metrics.batchSize.get();
  const nBatches = batches.values.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
  const ingest = acked / ((tAck - t0) / 1000);
  const sustained = s.anchored / ((tAll - t0) / 1000);
  process.stdout.write(
    [
      `materials acknowledged: ${acked} in ${((tAck - t0) / 1000).toFixed(2)} s  -> ingest ${ingest.toFixed(0)}/s (max register call ${callMsMax.toFixed(0)} ms)`,
      `materials anchored+confirmed: ${s.anchored} (failed ${s.failed}) in ${((tAll - t0) / 1000).toFixed(2)} s -> sustained ${sustained.toFixed(0)}/s`,
      `anchor transactions: ${nBatches} (avg ${(s.anchored / Math.max(1, nBatches)).toFixed(0)} leaves per root)`,
      `node process CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)}) = ${((cpu.user + cpu.system) / s.anchored).toFixed(1)} us per material incl. load generation`,
      `hardhat node CPU: ${chainCpu.toFixed(2)} s (${((chainCpu * 1e6) / s.anchored).toFixed(2)} us per material)`,
      `CPU-bound ceiling of the node process (materials per CPU-second, main thread + LevelDB threads): ~${Math.round(s.anchored / ((cpu.user + cpu.system) / 1e6)).toLocaleString("en")}/s`,
      `machine load average (1 min) at end: ${(await import("node:os")).loadavg()[0]!.toFixed(1)} on ${(await import("node:os")).cpus().length} cores`,
      `ack->anchored latency: p50 ${((await quant(0.5)) * 1000).toFixed(0)} ms, p90 ${((await quant(0.9)) * 1000).toFixed(0)} ms, p99 ${((await quant(0.99)) * 1000).toFixed(0)} ms`,
    ].join("\n") + "\n",
  );
  if (s.anchored !== acked) {
    process.stdout.write(`ERROR: ${acked - s.anchored} acknowledged materials not anchored\n`);
    code = 1;
  }
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await bench.stop();
}
process.exit(code);
