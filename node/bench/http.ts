/**
 * HTTP bulk-ingest benchmark: the same core as `ingest.ts` (setup.ts: fsync, 1 s batches of up to 10,000, a
 * spawned `hardhat node`), but registrations go through the Fastify API (`POST /v1/materials/bulk` over a real
 * 127.0.0.1 socket) with bench/e2e.ts's materials (bench/lib/documents.ts: a ~430-byte licence record each, the
 * holder ID in clear): BENCH_MODE=content sends the record (base64; the node hashes, computes the holder
 * reference, encrypts and stores it), BENCH_MODE=hash its SHA-256 only. Request bodies are serialised before
 * the clock starts, so the process's CPU is (nearly) all server side; no indexer runs here (e2e.ts has it).
 *
 *   node --import tsx node/bench/http.ts
 *   BENCH_MODE=hash BENCH_SECONDS=20 BENCH_CLIENTS=2 BENCH_BULK=2000 node --import tsx node/bench/http.ts
 *   node --cpu-prof --import tsx node/bench/http.ts        # profile the server side
 */
import { loadavg, cpus } from "node:os";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { env, startBenchCore, drained, ackToAnchored } from "./setup.js";
import { buildApi } from "../src/api/server.js";
import { newToken } from "../src/api/auth.js";
import { contentOf, licenceRecords, CONSORTIUM_KEY, ISSUER_USCC, JURISDICTION, TYPE, T0 } from "../../bench/lib/documents.js";

const SECONDS = env("BENCH_SECONDS", 15);
const CLIENTS = env("BENCH_CLIENTS", 2);
const BULK = env("BENCH_BULK", 2000);
const MODE = process.env.BENCH_MODE === "hash" ? "hash" : "content";

const bench = await startBenchCore({
  uscc: ISSUER_USCC, type: TYPE, jurisdictions: [JURISDICTION], holderKey: Buffer.from(CONSORTIUM_KEY.slice(2), "hex"),
  batchSize: 10_000, batchIntervalMs: 1000,
});
const { core, logger } = bench;
let code = 0;
try {
  const { token, hash } = newToken();
  const app = await buildApi({ service: core.service, tokens: [hash], registry: core.metrics.registry, logger, holderRef: (t, n) => core.holderRef(t, n) });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };

  // bodies as bench/e2e.ts sends them (the SDK client's JSON: content base64, or the SHA-256 as 0x-hex)
  let seed = 100;
  const body = (n: number): Buffer => {
    const materials = licenceRecords(n, seed++).map((r) => {
      const c = contentOf(r);
      return {
        typeCode: TYPE, jurisdiction: JURISDICTION,
        ...(MODE === "content" ? { content: Buffer.from(c).toString("base64") } : { contentHash: "0x" + createHash("sha256").update(c).digest("hex"), hashAlg: 1 }),
        holder: { idType: "BIZ_REG_NO", idNumber: r.registrationNo },
        issuedAt: T0, validFrom: T0, validUntil: T0 + 5 * 365 * 86400,
      };
    });
    return Buffer.from(JSON.stringify({ materials }));
  };
  const post = (b: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const r = request(
        { host: "127.0.0.1", port, method: "POST", path: "/v1/materials/bulk", agent: false,
          headers: { "content-type": "application/json", "content-length": b.length, authorization: `Bearer ${token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode !== 202) return reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 500)}`));
            resolve(res.statusCode);
          });
        },
      );
      r.on("error", reject);
      r.end(b);
    });
  // enough pre-built bodies for the run at ~40k/s, generated before the clock starts
  const nBodies = Math.ceil((SECONDS * 40_000) / BULK);
  const bodies = Array.from({ length: nBodies }, () => body(BULK));
  await post(body(10)); // warm-up (entitlement cache, JIT of the route), anchored before the clock starts
  await drained(core);
  const anchored0 = core.service.stats().anchored;
  process.stdout.write(`bench:http ${MODE}, ${SECONDS}s, ${CLIENTS} clients x ${BULK} materials/request (${(bodies[0]!.length / BULK).toFixed(0)} bytes each), holder ID, fsync, batch 10,000/1 s, load ${loadavg()[0]!.toFixed(2)}\n`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let acked = 0;
  let next = 0;
  const client = async () => {
    while (performance.now() < end && next < bodies.length) {
      await post(bodies[next++]!);
      acked += BULK;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const tAck = performance.now();
  const cpuAck = process.cpuUsage(cpu0);
  await drained(core);
  const tAll = performance.now();
  const cpuAll = process.cpuUsage(cpu0);
  const anchored = core.service.stats().anchored - anchored0;
  const us = (c: NodeJS.CpuUsage, n: number) => ((c.user + c.system) / n).toFixed(1);
  const ms = async (p: number) => ((await ackToAnchored(core, p)) * 1000).toFixed(0);
  process.stdout.write(
    [
      `acknowledged: ${acked} in ${((tAck - t0) / 1000).toFixed(2)} s -> ${(acked / ((tAck - t0) / 1000)).toFixed(0)}/s`,
      `anchored+confirmed: ${anchored} in ${((tAll - t0) / 1000).toFixed(2)} s -> ${(anchored / ((tAll - t0) / 1000)).toFixed(0)}/s`,
      `process CPU per material: ${us(cpuAck, acked)} us while acknowledging, ${us(cpuAll, anchored)} us until all anchored (main thread + workers + LevelDB threads; the client's share is small)`,
      `ack->anchored: p50 ${await ms(0.5)} ms, p90 ${await ms(0.9)} ms, p99 ${await ms(0.99)} ms`,
      `load average (1 min) at end: ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores`,
    ].join("\n") + "\n",
  );
  if (anchored !== acked) {
    process.stdout.write(`ERROR: ${acked - anchored} acknowledged materials not anchored\n`);
    code = 1;
  }
  await app.close();
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await bench.stop();
}
process.exit(code);
