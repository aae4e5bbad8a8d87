/**
 * End-to-end registrations/s through one member node's bulk API, as `scripts/start-local.mjs` runs it: the
 * built node (`node/dist/main.js`) in its own process with an encrypted keystore, a hashed API token, the
 * indexer and the HTTP API; the load comes from this process through the SDK's node client
 * (`registerMaterials` -> POST /v1/materials/bulk), content and holder ID in every material (the node hashes,
 * computes the holder reference, encrypts and fsyncs before acknowledging).
 *
 * One run = a fresh node (fresh data dir, so its metrics cover that run only) with `batchSize` = B, N
 * materials sent by 2 concurrent clients in bulk requests, then wait until the node reports all N anchored
 * (1 confirmation). Registrations/s = N / (last anchored - first request). Ack -> anchored p50/p99 are the
 * node's own `tongban_ack_to_anchored_quantile_seconds`; leaves per anchor from `tongban_batch_size`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeClient, registerMaterials, memberIdFromUscc, type NodeMaterialInput } from "../sdk/src/index.js";
import { createKeystore, LIGHT_SCRYPT } from "../node/src/core/keystore.js";
import { newToken } from "../node/src/api/auth.js";
import { freePort, fund, REPO_ROOT } from "../test/node/helpers/chain.js";
import { contentOf, licenceRecords, CONSORTIUM_KEY, ISSUER_USCC, JURISDICTION, TYPE, T0 } from "./lib/documents.js";
import type { Deployed } from "./lib/contracts.js";
import { spread, type Spread } from "./lib/stats.js";

export interface E2ERun {
  n: number;
  seconds: number;
  perSecond: number;
  ackPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  anchorTxs: number;
  leavesPerAnchor: number;
  nodeCpuUsPerMaterial: number;
  chainCpuUsPerMaterial: number;
  /** CPU of this (client) process: the SDK client serialising and sending the bodies, polling /metrics */
  clientCpuUsPerMaterial: number;
  load1: number;
}
/**
 * What each material carries: `content` = the file (base64) and the holder ID in clear (the node hashes, computes
 * the holder reference, encrypts and stores the content); `hash` = the content's SHA-256 and the holder ID in
 * clear (a department that keeps its files in its own system; the node still validates the ID and computes the
 * keyed holder reference).
 */
export type E2EMode = "content" | "hash";
export interface E2EPlanRow {
  batchSize: number;
  n: number;
  bulk: number;
  mode?: E2EMode;
}
export interface E2ERow {
  mode: E2EMode;
  batchSize: number;
  n: number;
  bulk: number;
  perSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  leavesPerAnchor: Spread;
  nodeCpuUsPerMaterial: Spread;
  /** materials per CPU-second of the node process (its ceiling with a free core) */
  cpuCeilingPerSecond: Spread;
  runs: E2ERun[];
}

const log = (s: string) => process.stdout.write(`  [e2e] ${s}\n`);

/** CPU seconds (user + system) of each thread of process `pid` (Linux /proc; empty elsewhere). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
      const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
      out.set(t, (Number(parts[11]) + Number(parts[12])) / 100);
    }
  } catch { /* gone */ }
  return out;
}

/** CPU seconds (user + system) used so far by process `pid` (Linux /proc; 0 elsewhere). */
function procCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(parts[11]) + Number(parts[12])) / 100;
  } catch {
    return 0;
  }
}

async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

interface NodeProc { url: string; child: ChildProcess; token: string; dir: string; stop(): Promise<void> }

async function startNode(d: Deployed, ks: { path: string; password: string }, batchSize: number): Promise<NodeProc> {
  const dir = mkdtempSync(join(tmpdir(), "tongban-bench-node-"));
  const { token, hash } = newToken();
  writeFileSync(join(dir, "keystore.password"), ks.password, { mode: 0o600 });
  writeFileSync(join(dir, "keystore.json"), readFileSync(ks.path));
  const port = await freePort();
  const config = {
    dataDir: "./data",
    rpcUrls: [d.chain.url],
    ledgerAddress: d.ledgerAddress,
    memberId: ISSUER_USCC,
    confirmations: 1,
    batchIntervalMs: 1000,
    batchSize,
    pollMs: 100,
    keystorePath: "./keystore.json",
    keystorePasswordFile: "./keystore.password",
    api: { host: "127.0.0.1", port, tokens: [hash] },
    indexer: { startBlock: await d.chain.provider.getBlockNumber() },
    logLevel: "info",
  };
  writeFileSync(join(dir, "node.json"), JSON.stringify(config, null, 2));
  // BENCH_NODE_ARGS: extra node flags for the node process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  // E2E_NODE_MAIN: another build of the node (e.g. an older commit's node/dist/main.js, for before/after runs)
  const main = process.env.E2E_NODE_MAIN || join(REPO_ROOT, "node/dist/main.js");
  const child = spawn(process.execPath, [...nodeArgs, main, "--config", join(dir, "node.json")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
  const logFile = createWriteStream(join(dir, "node.log"));
  let errBuf = "";
  child.stderr!.on("data", (c: Buffer) => { logFile.write(c); if (errBuf.length < 20_000) errBuf += c; });
  let exited = false;
  child.once("exit", () => { exited = true; });
  const url = await new Promise<string>((res, rej) => {
    let buf = "";
    const t = setTimeout(() => rej(new Error(`node did not start within 120 s; log in ${dir}`)), 120_000);
    child.stdout!.on("data", (c: Buffer) => {
      logFile.write(c);
      if (buf.length < 100_000) buf += c;
      const m = buf.match(/"event":"listening","url":"([^"]+)"/);
      if (m) { clearTimeout(t); res(m[1]!); }
    });
    child.once("exit", (code) => { clearTimeout(t); rej(new Error(`node exited (${code}) before listening: ${buf.slice(-1500)} ${errBuf.slice(-1500)}`)); });
  });
  return {
    url, child, token, dir,
    async stop() {
      if (!exited) {
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const t = setTimeout(() => { if (!exited) child.kill("SIGKILL"); }, 15_000);
        await gone;
        clearTimeout(t);
      }
      logFile.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let current: NodeProc | undefined;
/** Stops the node of the run in progress, if any (for an interrupted benchmark). */
export async function stopCurrentNode(): Promise<void> {
  await current?.stop();
}

async function oneRun(d: Deployed, ks: { path: string; password: string }, batchSize: number, n: number, bulk: number, seed: number, mode: E2EMode): Promise<E2ERun> {
  const node = await startNode(d, ks, batchSize);
  current = node;
  try {
    const client = createNodeClient({ url: node.url, token: node.token, timeoutMs: 600_000 });
    const records = licenceRecords(n, seed);
    // prepared before the clock starts: the department's own hashing is not the node's throughput
    const materials: NodeMaterialInput[] = records.map((r) => ({
      typeCode: TYPE, jurisdiction: JURISDICTION,
      ...(mode === "content" ? { content: contentOf(r) } : { contentHash: "0x" + createHash("sha256").update(contentOf(r)).digest("hex"), hashAlg: 1 }),
      holder: { idType: "BIZ_REG_NO", idNumber: r.registrationNo },
      issuedAt: T0, validFrom: T0, validUntil: T0 + 5 * 365 * 86400,
    }));
    const nodeCpu0 = procCpu(node.child.pid!);
    const threads0 = threadCpu(node.child.pid!);
    const chainCpu0 = procCpu(d.chain.pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const clientLoop = async () => {
      while (next < n) {
        const part = materials.slice(next, Math.min(n, next + bulk));
        next += part.length;
        const acks = await registerMaterials(client, { materials: part });
        if (acks.length !== part.length || acks.some((a) => a.duplicate)) throw new Error("unexpected acks");
      }
    };
    await Promise.all([clientLoop(), clientLoop()]);
    const tAck = performance.now();
    let m = await metrics(node.url);
    const deadline = Date.now() + 600_000;
    while ((m.get("tongban_ack_to_anchored_seconds_count") ?? 0) < n) {
      if (Date.now() > deadline) throw new Error(`not all anchored: ${m.get("tongban_ack_to_anchored_seconds_count")} of ${n}`);
      await new Promise((r) => setTimeout(r, 50));
      m = await metrics(node.url);
    }
    const tDone = performance.now();
    const nodeCpu = procCpu(node.child.pid!) - nodeCpu0;
    if (process.env.E2E_THREADS) {
      // E2E_THREADS=1: the node's CPU in the window per thread (us per material; the main thread's id is the pid)
      const t1 = threadCpu(node.child.pid!);
      const rows = [...t1].map(([t, c]) => [t, c - (threads0.get(t) ?? 0)] as const).filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]);
      log(`node threads (us/material): ${rows.map(([t, c]) => `${t === String(node.child.pid) ? "main" : "+" + (Number(t) - node.child.pid!)}=${((c * 1e6) / n).toFixed(1)}`).join(" ")}`);
    }
    const chainCpu = procCpu(d.chain.pid) - chainCpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const q = (p: string) => (m.get(`tongban_ack_to_anchored_quantile_seconds{quantile="${p}"}`) ?? NaN) * 1000;
    const anchorTxs = m.get("tongban_batch_size_count") ?? 0;
    const seconds = (tDone - t0) / 1000;
    const run: E2ERun = {
      n, seconds, perSecond: n / seconds, ackPerSecond: n / ((tAck - t0) / 1000),
      p50Ms: q("0.5"), p90Ms: q("0.9"), p99Ms: q("0.99"),
      anchorTxs, leavesPerAnchor: (m.get("tongban_batch_size_sum") ?? 0) / Math.max(1, anchorTxs),
      nodeCpuUsPerMaterial: (nodeCpu * 1e6) / n, chainCpuUsPerMaterial: (chainCpu * 1e6) / n,
      clientCpuUsPerMaterial: (clientCpu.user + clientCpu.system) / n,
      load1: (await import("node:os")).loadavg()[0]!,
    };
    log(`${mode} B=${batchSize} n=${n}: ${run.perSecond.toFixed(0)}/s anchored (acks ${run.ackPerSecond.toFixed(0)}/s), p50 ${run.p50Ms.toFixed(0)} ms p99 ${run.p99Ms.toFixed(0)} ms, ${anchorTxs} anchors (${run.leavesPerAnchor.toFixed(0)} leaves each), node ${run.nodeCpuUsPerMaterial.toFixed(0)} us CPU/material (client ${run.clientCpuUsPerMaterial.toFixed(0)}, chain ${run.chainCpuUsPerMaterial.toFixed(0)})`);
    return run;
  } finally {
    current = undefined;
    await node.stop();
  }
}

export async function e2eBench(d: Deployed, opts: { plan: E2EPlanRow[]; repeats: number }): Promise<E2ERow[]> {
  if (!existsSync(join(REPO_ROOT, "node/dist/main.js"))) throw new Error("node/dist/main.js is missing: run `npm run build` first");
  // one keystore (fresh signing account, the consortium's holder key) reused by every run's node
  const ksDir = mkdtempSync(join(tmpdir(), "tongban-bench-ks-"));
  try {
    const ks = { path: join(ksDir, "keystore.json"), password: "bench-" + Date.now() };
    const keys = await createKeystore(ks.path, ks.password, { holderKey: Buffer.from(CONSORTIUM_KEY.slice(2), "hex"), scrypt: LIGHT_SCRYPT });
    await fund(d.chain, keys.wallet.address, 1000n, 5);
    await (await d.adminLedger.addAccount(memberIdFromUscc(ISSUER_USCC), keys.wallet.address)).wait();
    const rows: E2ERow[] = [];
    let seed = 5000;
    for (const p of opts.plan) {
      const runs: E2ERun[] = [];
      const mode = p.mode ?? "content";
      for (let r = 0; r < opts.repeats; r++) runs.push(await oneRun(d, ks, p.batchSize, p.n, p.bulk, seed++, mode));
      rows.push({
        mode,
        batchSize: p.batchSize, n: p.n, bulk: p.bulk,
        perSecond: spread(runs.map((x) => x.perSecond)),
        p50Ms: spread(runs.map((x) => x.p50Ms)),
        p99Ms: spread(runs.map((x) => x.p99Ms)),
        leavesPerAnchor: spread(runs.map((x) => x.leavesPerAnchor)),
        nodeCpuUsPerMaterial: spread(runs.map((x) => x.nodeCpuUsPerMaterial)),
        cpuCeilingPerSecond: spread(runs.map((x) => 1e6 / x.nodeCpuUsPerMaterial)),
        runs,
      });
    }
    return rows;
  } finally {
    rmSync(ksDir, { recursive: true, force: true });
  }
}

/**
 * Standalone: `npx tsx bench/e2e.ts` runs only the two B = 10,000 cells of the full plan (content, then hash
 * only) on a fresh hardhat node, 3 runs each, and prints them. Knobs: E2E_MODES (content,hash), E2E_N_CONTENT
 * (24,000), E2E_N_HASH (60,000), E2E_BULK (2,000), E2E_REPEATS (3), BENCH_NODE_ARGS (extra node flags, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof"), E2E_NODE_MAIN (the node's entry, default node/dist/main.js: point it
 * at another commit's build to compare), E2E_THREADS=1 (print the node's CPU per thread in the measured window,
 * us per material; "main" = the main thread, "+k" = thread id pid+k). Needs `npm run build` (the node runs from
 * node/dist).
 */
if (process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href) {
  const { deployAll } = await import("./lib/contracts.js");
  const { rpc } = await import("../test/node/helpers/chain.js");
  const { loadavg } = await import("node:os");
  const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
  const modes = (process.env.E2E_MODES ?? "content,hash").split(",").map((s) => s.trim()) as E2EMode[];
  const bulk = env("E2E_BULK", 2_000);
  const plan: E2EPlanRow[] = modes.map((mode) => ({ batchSize: 10_000, n: mode === "hash" ? env("E2E_N_HASH", 60_000) : env("E2E_N_CONTENT", 24_000), bulk, mode }));
  const d = await deployAll();
  await rpc(d.chain.url, "hardhat_setLoggingEnabled", [false]);
  let code = 0;
  try {
    log(`load ${loadavg().map((x) => x.toFixed(2)).join(" / ")}`);
    const rows = await e2eBench(d, { plan, repeats: env("E2E_REPEATS", 3) });
    for (const r of rows) {
      log(`${r.mode} B=${r.batchSize} n=${r.n} bulk=${r.bulk}: ${r.perSecond.median.toFixed(0)}/s anchored (${r.perSecond.min.toFixed(0)}-${r.perSecond.max.toFixed(0)}), p99 ${r.p99Ms.median.toFixed(0)} ms (${r.p99Ms.min.toFixed(0)}-${r.p99Ms.max.toFixed(0)}), node ${r.nodeCpuUsPerMaterial.median.toFixed(0)} us CPU/material (${r.nodeCpuUsPerMaterial.min.toFixed(0)}-${r.nodeCpuUsPerMaterial.max.toFixed(0)}), load at run ends ${r.runs.map((x) => x.load1.toFixed(1)).join(" ")}`);
    }
  } catch (e) {
    console.error(e);
    code = 1;
  } finally {
    await stopCurrentNode();
    await d.chain.stop();
  }
  process.exit(code);
}
