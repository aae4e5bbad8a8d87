/**
 * Where the online-verify tail comes from: one verification = one `eth_call` (materialState) + local checks.
 * Prints figures, asserts nothing. Run: `npx tsx sdk/bench/online.ts [--runs 2000] [--no-geth] [--no-hardhat]`
 * (from the repo root; `npm run bench -w sdk` runs a short version of it as its online section).
 *
 * Against two chains side by side, each started here on 127.0.0.1 and killed by pid at the end:
 *   - `hardhat node` (the JS chain the tests and `npm run bench` use), with and without its per-request console
 *     logging (hardhat_setLoggingEnabled);
 *   - a single `geth --dev` process (v1.13.15: the engine family a deployment runs; $GETH,
 *     ~/.cache/tongban/bin/geth or /work/tools/bin/geth), a block every second (--dev.period 1: with instant
 *     sealing ethers' tx.wait() can miss the only block and wait forever; a real chain makes blocks anyway).
 * Per chain, sequential calls (one in flight), p50/p95/p99/max, client CPU per call, GC pauses in the client:
 *   raw    - a pre-encoded eth_call over node:http with a keep-alive agent (the floor: transport + chain);
 *   read   - SDK readMaterialState through chainReaderFromUrl (encode, one eth_call, strict decode);
 *   verify - SDK verify(content, bundle, { provider: chainReaderFromUrl(url) }) (what a verifier runs);
 *   verify/ethers default - the same with an ethers v6 JsonRpcProvider(url) (batchStallTime 10 ms, network checks);
 *   verify/ethers tuned   - JsonRpcProvider(url, chainId, { staticNetwork, batchMaxCount: 1, batchStallTime: 0, cacheTimeout: -1 }).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { homedir, loadavg, tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { JsonRpcProvider, Network, NonceManager, Wallet } from "ethers";
import { chainReaderFromUrl, readMaterialState, verify, type ChainReader, type ProofBundle } from "../src/index.js";
import { headerFor } from "../../test/sdk/helpers/fixture.js";
import { deployLedger, anchorBatch } from "../../test/sdk/helpers/ledger.js";
import { devKey, type LocalChain } from "../../test/sdk/helpers/hardhat-node.js";
import { startChain, freePort } from "../../test/node/helpers/chain.js";

let RUNS = 2000;

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
const f = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(3));

// GC pauses of this (client) process, summed per series
let gcMs = 0, gcCount = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcMs += e.duration; gcCount++; } }).observe({ entryTypes: ["gc"] });

function procCpuMs(pid: number): number {
  try {
    // utime + stime in clock ticks (100 Hz on Linux)
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch { return NaN; }
}

export interface Row { chain: string; path: string; p50: number; p95: number; p99: number; max: number; over5: number; cpu: number; serverCpu: number; gcMs: number; gcCount: number; load: number }
const rows: Row[] = [];

async function series(chain: string, path: string, serverPid: number | undefined, fn: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up (JIT, sockets)
  gcMs = 0; gcCount = 0;
  const ts: number[] = new Array(RUNS);
  const c0 = process.cpuUsage();
  const s0 = serverPid ? procCpuMs(serverPid) : NaN;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ts[i] = performance.now() - t;
  }
  const c = process.cpuUsage(c0);
  const s1 = serverPid ? procCpuMs(serverPid) : NaN;
  await new Promise((r) => setImmediate(r)); // let the GC observer deliver
  const s = [...ts].sort((a, b) => a - b);
  const row = {
    chain, path, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1]!, over5: ts.filter((x) => x > 5).length,
    cpu: (c.user + c.system) / 1000 / RUNS, serverCpu: (s1 - s0) / RUNS, gcMs, gcCount, load: loadavg()[0]!,
  };
  rows.push(row);
  process.stdout.write(`  ${chain} | ${path}: p50 ${f(row.p50)} p95 ${f(row.p95)} p99 ${f(row.p99)} max ${f(row.max)} ms, >5ms ${row.over5}/${RUNS}, client CPU ${f(row.cpu)} ms, chain CPU ${Number.isNaN(row.serverCpu) ? "-" : f(row.serverCpu)} ms, client GC ${gcCount} pauses ${f(gcMs)} ms, load ${row.load.toFixed(2)}\n`);
}

/** A pre-encoded eth_call over a keep-alive agent: the transport + chain floor. */
export function rawCaller(url: string, data: string, to: string): () => Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] });
  const len = Buffer.byteLength(body);
  return () => new Promise<void>((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: "/", method: "POST", agent, headers: { "content-type": "application/json", "content-length": len } }, (res) => {
      let n = 0;
      res.on("data", (c: Buffer) => { n += c.length; });
      res.on("end", () => (n > 1000 ? resolve() : reject(new Error("short answer"))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Deploys and sets up a ledger on `chain`, anchors a batch of 100 (1 KiB random content first): what a verification needs. */
export async function anchoredTarget(chain: LocalChain): Promise<{ content: Uint8Array; bundle: ProofBundle; contract: string; data: string }> {
  const { ledger } = await deployLedger(chain);
  const content = new Uint8Array(randomBytes(1024));
  const others = Array.from({ length: 99 }, (_, i) => headerFor(`m${i}`));
  const [bundle] = await anchorBatch(chain, ledger, 1, [headerFor(content), ...others]) as [ProofBundle];
  const data = ledger.interface.encodeFunctionData("materialState", [bundle.root, bundle.leaf, bundle.header.hashAlg]);
  return { content, bundle, contract: bundle.anchor.contract, data };
}

async function measureChain(name: string, chain: LocalChain, pid: number | undefined, extra?: () => Promise<void>): Promise<void> {
  const { content, bundle, contract, data } = await anchoredTarget(chain);
  const reader = chainReaderFromUrl(chain.url);
  const check = async (rd: ChainReader) => {
    const r = await verify({ content }, bundle, { provider: rd, ledger: contract });
    if (!r.ok) throw new Error(`${name}: did not verify: ${JSON.stringify(r.checks.filter((c) => c.status !== "VALID"))}`);
  };
  const chainId = BigInt(bundle.anchor.chainId);
  const ethersDefault = new JsonRpcProvider(chain.url);
  const ethersTuned = new JsonRpcProvider(chain.url, Network.from(chainId), { staticNetwork: true, batchMaxCount: 1, batchStallTime: 0, cacheTimeout: -1 });
  const run = async (label: string) => {
    await series(label, "raw eth_call (keep-alive http)", pid, rawCaller(chain.url, data, contract));
    await series(label, "SDK readMaterialState", pid, async () => { await readMaterialState(reader, contract, { root: bundle.root, leaf: bundle.leaf, hashAlg: bundle.header.hashAlg }); });
    await series(label, "SDK verify (chainReaderFromUrl)", pid, () => check(reader));
    await series(label, "SDK verify (ethers JsonRpcProvider default)", pid, () => check(ethersDefault));
    await series(label, "SDK verify (ethers tuned: staticNetwork, batchMaxCount 1, stall 0)", pid, () => check(ethersTuned));
  };
  await run(name);
  if (extra) {
    await extra();
    await run(`${name}, logging off`);
  }
  ethersDefault.destroy();
  ethersTuned.destroy();
}

export function findGeth(): string | undefined {
  const c = [process.env.GETH, join(homedir(), ".cache/tongban/bin/geth"), "/work/tools/bin/geth"].filter(Boolean) as string[];
  return c.find((p) => existsSync(p));
}

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const j = (await r.json()) as { result?: T; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result as T;
}

/** A single `geth --dev` process (one block per second), dev accounts 0..2 funded from the dev coinbase. */
export async function startGethDev(bin: string): Promise<LocalChain & { pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tongban-geth-dev-"));
  const [http, auth] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(bin, [
    "--dev", "--dev.period", "1", "--dev.gaslimit", "100000000", "--datadir", dir, "--http", "--http.addr", "127.0.0.1", "--http.port", String(http),
    "--http.api", "eth,net,web3", "--authrpc.addr", "127.0.0.1", "--authrpc.port", String(auth), "--port", "0", "--nodiscover", "--maxpeers", "0",
    "--ipcdisable", "--verbosity", "1",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => { if (err.length < 5000) err += d; });
  // never leave geth behind: killed by pid when this process exits, whatever the reason
  const killOnExit = () => { try { child.kill("SIGKILL"); } catch { /* gone */ } rmSync(dir, { recursive: true, force: true }); };
  process.once("exit", killOnExit);
  const url = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    try { await rpc(url, "eth_chainId"); break; } catch {
      if (i > 150 || child.exitCode !== null) { child.kill("SIGKILL"); throw new Error(`geth --dev did not start: ${err}`); }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const [coinbase] = await rpc<string[]>(url, "eth_accounts");
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, polling: true, pollingInterval: 50 });
  for (let i = 0; i < 3; i++) {
    const to = new Wallet(devKey(i)).address;
    const h = await rpc<string>(url, "eth_sendTransaction", [{ from: coinbase, to, value: "0x" + (10n ** 22n).toString(16) }]);
    for (let k = 0; !(await rpc<unknown>(url, "eth_getTransactionReceipt", [h])); k++) {
      if (k > 600) throw new Error(`geth --dev: funding transaction ${h} not mined`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const signers = new Map<number, NonceManager>();
  return {
    url, provider, pid: child.pid!,
    signer(i) { let s = signers.get(i); if (!s) { s = new NonceManager(new Wallet(devKey(i), provider)); signers.set(i, s); } return s; },
    async stop() {
      provider.destroy();
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await gone; clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
      process.removeListener("exit", killOnExit);
    },
  };
}

/** Runs the rows above against a hardhat node and (if a geth binary is found) geth --dev; prints a Markdown table. */
export async function onlineTail(opts: { runs: number; hardhat?: boolean; geth?: boolean }): Promise<Row[]> {
  RUNS = opts.runs;
  rows.length = 0;
  console.log(`\n## Online verify: where the time goes (${RUNS} sequential calls per row, load ${loadavg().map((x) => x.toFixed(2)).join(" ")})\n`);
  if (opts.hardhat !== false) {
    const c = await startChain();
    const signers = new Map<number, NonceManager>();
    const chain: LocalChain = { url: c.url, provider: c.provider, stop: () => c.stop(), signer(i) { let s = signers.get(i); if (!s) { s = new NonceManager(new Wallet(devKey(i), c.provider)); signers.set(i, s); } return s; } };
    try {
      await measureChain("hardhat node", chain, c.pid, () => rpc(c.url, "hardhat_setLoggingEnabled", [false]));
    } finally { await c.stop(); }
  }
  if (opts.geth !== false) {
    const bin = findGeth();
    if (!bin) console.log("no geth binary found ($GETH, ~/.cache/tongban/bin/geth, /work/tools/bin/geth): geth rows skipped");
    else {
      const g = await startGethDev(bin);
      try { await measureChain("geth --dev 1.13.15", g, g.pid); } finally { await g.stop(); }
    }
  }
  console.log("\n| chain | path | p50 ms | p95 ms | p99 ms | max ms | > 5 ms | client CPU ms/call | chain CPU ms/call | client GC pauses (ms) | load |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) console.log(`| ${r.chain} | ${r.path} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${f(r.max)} | ${r.over5} | ${f(r.cpu)} | ${Number.isNaN(r.serverCpu) ? "-" : f(r.serverCpu)} | ${r.gcCount} (${f(r.gcMs)}) | ${r.load.toFixed(2)} |`);
  console.log(`\nload at end ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  return [...rows];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: args } = parseArgs({
    options: { runs: { type: "string", default: "2000" }, "no-geth": { type: "boolean", default: false }, "no-hardhat": { type: "boolean", default: false } },
  });
  console.log(`# online verify tail — node ${process.version}, ${new Date().toISOString()}, ${cpus().length} cores`);
  await onlineTail({ runs: Number(args.runs), hardhat: !args["no-hardhat"], geth: !args["no-geth"] });
  process.exit(0);
}
