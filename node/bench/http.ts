/**
 * HTTP bulk-ingest benchmark: the same core as `ingest.ts` (fsync, 1 s batches, a spawned `hardhat node`), but
 * registrations go through the Fastify API (`POST /v1/materials/bulk` over a real 127.0.0.1 socket) with
 * content (~430-byte JSON document, base64) and a holder ID in every material, as bench/e2e.ts sends them.
 * Request bodies are serialised before the clock starts, so the process's CPU is (nearly) all server side:
 * profile with `node --cpu-prof --import tsx bench/http.ts`.
 *
 *   npm run bench:http -w node
 *   BENCH_SECONDS=20 BENCH_CLIENTS=2 BENCH_BULK=1000 npm run bench:http -w node
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, loadavg, cpus } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { startChain, deployLedger, bootstrap, fund } from "../../test/node/helpers/chain.js";
import { createNodeCore } from "../src/core/node.js";
import { createKeystore, LIGHT_SCRYPT } from "../src/core/keystore.js";
import { DEFAULTS, validateConfig, type NodeConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/log.js";
import { buildApi } from "../src/api/server.js";
import { newToken } from "../src/api/auth.js";

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const SECONDS = env("BENCH_SECONDS", 15);
const CLIENTS = env("BENCH_CLIENTS", 2);
const BULK = env("BENCH_BULK", 1000);
const USCC = "11310115002418321F";
const TYPE = "BIZ_LICENCE";
const JUR = 310115;

const dir = mkdtempSync(join(tmpdir(), "tongban-bench-http-"));
const chain = await startChain();
let code = 0;
try {
  const { ledger, address } = await deployLedger(chain);
  const keys = await createKeystore(join(dir, "ks.json"), "bench", { scrypt: LIGHT_SCRYPT });
  await fund(chain, keys.wallet.address);
  await bootstrap(ledger, {
    jurisdictions: [[310000, 0], [JUR, 310000]],
    types: [TYPE],
    members: [{ uscc: USCC, jurisdiction: JUR, accounts: [keys.wallet.address], entitlements: [[TYPE, JUR]] }],
  });
  const cfg: NodeConfig = validateConfig({
    ...DEFAULTS,
    dataDir: join(dir, "data"),
    rpcUrls: [chain.url],
    ledgerAddress: address,
    memberId: USCC,
    keystorePath: join(dir, "ks.json"),
    batchIntervalMs: 1000,
    batchSize: 10_000,
    pollMs: 100,
    syncWrites: true,
    logLevel: "warn",
  } as NodeConfig);
  const logger = createLogger({ level: "warn" });
  const core = await createNodeCore(cfg, { keys, logger });
  await core.start();
  const { token, hash } = newToken();
  const app = await buildApi({ service: core.service, tokens: [hash], registry: core.metrics.registry, logger, holderRef: (t, n) => core.holderRef(t, n) });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };

  // bodies: a ~430-byte licence document per material (base64) and a holder ID, as bench/e2e.ts sends
  const prefix = randomBytes(8).toString("hex");
  const now = Math.floor(Date.now() / 1000);
  let counter = 0;
  const body = (n: number): Buffer => {
    const materials = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = counter++;
      const doc = {
        id: `BL-${prefix}-${k}`,
        companyName: `Shanghai Pudong Example Trading Co., Ltd. No. ${k}`,
        registrationNo: `REG${String(k).padStart(12, "0")}`,
        legalRepresentative: `Zhang San ${k % 9973}`,
        address: `${(k % 2000) + 1} Century Avenue, Pudong New Area, Shanghai`,
        businessScope: "Wholesale and retail of food; import and export of goods and technology",
        registeredCapital: `${(k % 500) + 1}0000 CNY`,
        issuedOn: "2026-01-01",
        validUntil: "2031-01-01",
      };
      materials[i] = {
        typeCode: TYPE, jurisdiction: JUR, content: Buffer.from(JSON.stringify(doc)).toString("base64"),
        holder: { idType: "BIZ_REG_NO", idNumber: doc.registrationNo }, issuedAt: now, validFrom: now, validUntil: now + 5 * 365 * 86400,
      };
    }
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
  while (core.service.stats().pending + core.service.stats().anchoring > 0) await new Promise((r) => setTimeout(r, 20));
  const anchored0 = core.service.stats().anchored;
  process.stdout.write(`bench:http ${SECONDS}s, ${CLIENTS} clients x ${BULK} materials/request (${(bodies[0]!.length / BULK).toFixed(0)} bytes each), content + holder ID, fsync, batch 10,000/1 s\n`);
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
  for (;;) {
    const s = core.service.stats();
    if (s.pending === 0 && s.anchoring === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const tAll = performance.now();
  const s = core.service.stats();
  const q = await core.metrics.ackToAnchoredQuantiles.get();
  const quant = (p: number) => q.values.find((v) => v.labels.quantile === p)?.value ?? NaN;
  const anchored = s.anchored - anchored0;
  const us = (cpuAck.user + cpuAck.system) / acked;
  process.stdout.write(
    [
      `acknowledged: ${acked} in ${((tAck - t0) / 1000).toFixed(2)} s -> ${(acked / ((tAck - t0) / 1000)).toFixed(0)}/s`,
      `anchored+confirmed: ${anchored} in ${((tAll - t0) / 1000).toFixed(2)} s -> ${(anchored / ((tAll - t0) / 1000)).toFixed(0)}/s`,
      `process CPU while acknowledging: ${us.toFixed(1)} us per material (main thread + workers + LevelDB threads; client cost included but small)`,
      `ack->anchored: p50 ${(quant(0.5) * 1000).toFixed(0)} ms, p90 ${(quant(0.9) * 1000).toFixed(0)} ms, p99 ${(quant(0.99) * 1000).toFixed(0)} ms`,
      `load average (1 min) at end: ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores`,
    ].join("\n") + "\n",
  );
  if (anchored !== acked) {
    process.stdout.write(`ERROR: ${acked - anchored} acknowledged materials not anchored\n`);
    code = 1;
  }
  await app.close();
  await core.stop();
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await chain.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
