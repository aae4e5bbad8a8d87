/**
 * The benchmark proper, loaded by run.ts. `npm run bench` — Tongban side by side with the Ethereum Attestation Service and OpenAttestation, in one run
 * on one local chain (a `hardhat node` child process on 127.0.0.1, free port, london, killed at the end):
 *   1. gas per anchored material at batch sizes 1, 100, 1,000, 10,000 (ours / EAS attest / EAS multiAttest /
 *      OpenAttestation DocumentStore.issue);
 *   2. time to prepare a batch (hash, leaf, tree, every proof) for 10k and 100k materials (ours / OpenZeppelin
 *      StandardMerkleTree / OpenAttestation wrapDocuments);
 *   3. verification latency offline and with the chain (ours / OpenAttestation), p50/p95;
 *   4. end-to-end registrations/s through one member node's bulk API, ack -> anchored p50/p99, per batch size.
 * Prints Markdown tables, writes docs/bench/results.json, docs/bench/*.svg and regenerates docs/BENCHMARKS.md.
 *
 * Options: --quick (smaller sizes, fewer samples: a few minutes), --only gas,prepare,verify,e2e (a subset; the
 * document is then written from this run's sections only), --no-write (print only), --render (rewrite
 * docs/BENCHMARKS.md and the plots from docs/bench/results.json without measuring).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { REPO_ROOT, rpc } from "../test/node/helpers/chain.js";
import { deployAll, PEER_VERSIONS, EAS_SCHEMA } from "./lib/contracts.js";
import { machine, git, loadSampler } from "./lib/machine.js";
import { gasBench, type GasResult } from "./gas.js";
import { prepareBench, type PrepRow } from "./prepare.js";
import { verifyBench, type VerifyResult } from "./verify.js";
import { e2eBench, stopCurrentNode, type E2ERow } from "./e2e.js";
import { renderTables, writeDocs, type Results } from "./lib/report.js";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" }, "no-write": { type: "boolean", default: false }, render: { type: "boolean", default: false } },
});
if (args.render) {
  // regenerate docs/BENCHMARKS.md and the plots from docs/bench/results.json, without measuring
  const r = JSON.parse(readFileSync(join(REPO_ROOT, "docs/bench/results.json"), "utf8")) as Results;
  writeDocs(r);
  process.stdout.write(renderTables(r) + "\n[bench] re-rendered docs/BENCHMARKS.md and docs/bench/*.svg from docs/bench/results.json\n");
  process.exit(0);
}
const QUICK = args.quick!;
const only = new Set((args.only ?? "gas,prepare,verify,e2e").split(",").map((s) => s.trim()));

export const PLAN = QUICK
  ? {
      gas: { sizes: [1, 100, 1000, 10_000], repeats: 3, attestSample: 10 },
      prepare: { sizes: [1_000, 10_000], repeats: 3, ozProofSample: 1_000, cellDeadlineMs: 45_000 },
      verify: { rounds: 3, perRound: 100, perRoundOnline: 100, perRoundOnlineOa: 30 },
      e2e: { repeats: 3, plan: [{ batchSize: 1, n: 30, bulk: 10 }, { batchSize: 100, n: 1_000, bulk: 250 }, { batchSize: 1000, n: 4_000, bulk: 1_000 }, { batchSize: 10_000, n: 8_000, bulk: 1_000 }, { batchSize: 10_000, n: 16_000, bulk: 2_000, mode: "hash" as const }] },
    }
  : {
      gas: { sizes: [1, 100, 1000, 10_000], repeats: 3, attestSample: 20 },
      prepare: { sizes: [10_000, 100_000], repeats: 3, ozProofSample: 2_000, cellDeadlineMs: 90_000 },
      verify: { rounds: 3, perRound: 300, perRoundOnline: 300, perRoundOnlineOa: 60 },
      e2e: { repeats: 3, plan: [{ batchSize: 1, n: 60, bulk: 10 }, { batchSize: 100, n: 3_000, bulk: 500 }, { batchSize: 1000, n: 12_000, bulk: 1_000 }, { batchSize: 10_000, n: 24_000, bulk: 2_000 }, { batchSize: 10_000, n: 60_000, bulk: 2_000, mode: "hash" as const }] },
    };

const say = (s: string) => process.stdout.write(`[bench] ${s}\n`);

/**
 * Expected seconds per section on a quiet 2-core machine (estimated from the CPU times of runs on the loaded
 * machine, 2026-11-24: a full run took 849 s at load 12-21; see bench/README.md), and the prepare
 * section's hard bound: every peer cell is stopped at its deadline (ours at 3x), so the section cannot run away.
 */
const EXPECT = QUICK
  ? { setup: 15, gas: 35, verify: 10, e2e: 80, prepare: 60 }
  : { setup: 15, gas: 45, verify: 20, e2e: 190, prepare: 300 };
const prepareBound = Math.round((PLAN.prepare.sizes.length * 2 * PLAN.prepare.cellDeadlineMs) / 1000);

const started = new Date();
const t0 = performance.now();
const m0 = machine();
const g = git();
const sampler = loadSampler();
say(`${QUICK ? "quick" : "full"} run, ${started.toISOString()}, commit ${g.commit.slice(0, 10)}${g.dirty ? " (uncommitted changes)" : ""}`);
say(`${m0.cpuModel}, nproc ${m0.nproc}, ${m0.memoryGiB} GiB, node ${m0.node}, load ${m0.load.join(" / ")}`);
{
  const sections = [...only].filter((k) => k in EXPECT) as (keyof typeof EXPECT)[];
  const total = EXPECT.setup + sections.reduce((a, k) => a + EXPECT[k], 0);
  say(`expected duration on a quiet 2-core machine: ~${total < 120 ? `${total} s` : `${Math.round(total / 60)} min`} (${["setup", ...sections].map((k) => `${k} ~${EXPECT[k as keyof typeof EXPECT]} s`).join(", ")})${sections.includes("prepare") ? `; prepare is bounded by its cell deadlines (${PLAN.prepare.cellDeadlineMs / 1000} s per peer cell): the peers' cells take at most ${prepareBound} s in all, plus ours (about a tenth of a peer's time) and the documents' setup` : ""}; a loaded machine takes longer`);
}

let gas: GasResult | undefined;
let prepare: PrepRow[] | undefined;
let verification: VerifyResult | undefined;
let e2e: E2ERow[] | undefined;
const sectionSeconds: Record<string, number> = {};
/** 1-minute load average at the start and the end of each section */
const sectionLoad: Record<string, { start: number; end: number }> = {};
const load1 = () => Math.round(loadavg()[0]! * 100) / 100;
const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  const l0 = load1();
  say(`section ${name} (load ${l0})...`);
  try {
    return await fn();
  } finally {
    sectionSeconds[name] = Math.round((performance.now() - t) / 100) / 10;
    sectionLoad[name] = { start: l0, end: load1() };
    say(`section ${name} done in ${sectionSeconds[name]} s (expected ~${EXPECT[name as keyof typeof EXPECT]} s on a quiet machine; load ${l0} -> ${sectionLoad[name].end})`);
  }
};

let code = 0;
say("starting hardhat node, deploying TongbanLedger, EAS (SchemaRegistry + EAS + schema), OpenAttestation DocumentStore");
const tSetup = performance.now();
const d = await deployAll();
// hardhat node writes every JSON-RPC request to its stdout by default (a console line per eth_call, with the
// call's details): that costs the chain ~0.4 ms of CPU per call and fattens the latency tail (sdk/bench/online.ts);
// a deployed chain (geth/besu) does not do that, so the chain runs with it off.
await rpc(d.chain.url, "hardhat_setLoggingEnabled", [false]);
sectionSeconds.setup = Math.round((performance.now() - tSetup) / 100) / 10;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    say(`${sig}: stopping the member node and the chain`);
    void stopCurrentNode().finally(() => d.chain.stop().finally(() => process.exit(130)));
  });
}
try {
  say(`chain ${d.chain.url} (id ${d.chainId}); ledger ${d.ledgerAddress}, EAS ${d.easAddress} schema ${d.schemaUid.slice(0, 12)}…, DocumentStore ${d.documentStoreAddress}`);
  if (only.has("gas")) gas = await timed("gas", () => gasBench(d, PLAN.gas));
  if (only.has("verify")) verification = await timed("verify", () => verifyBench(d, PLAN.verify));
  if (only.has("e2e")) e2e = await timed("e2e", () => e2eBench(d, PLAN.e2e));
  if (only.has("prepare")) prepare = await timed("prepare", () => prepareBench({ ...PLAN.prepare, documentStore: d.documentStoreAddress }));
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await d.chain.stop();
}

const load = sampler.stop();
const results = {
  kind: "tongban-comparative-benchmark@1",
  timestamp: started.toISOString(),
  finished: new Date().toISOString(),
  totalSeconds: Math.round((performance.now() - t0) / 1000),
  sectionSeconds,
  sectionLoad,
  expectedSecondsQuiet: EXPECT,
  mode: QUICK ? "quick" : "full",
  command: `npm run bench${QUICK ? " -- --quick" : ""}${args.only ? ` -- --only ${args.only}` : ""}`,
  git: g,
  machine: { ...m0, loadDuringRun: load, loadAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
  chain: { engine: "hardhat node (Hardhat 2.29, in-memory, automine, request logging off)", hardfork: "london", chainId: String(d.chainId) },
  peers: PEER_VERSIONS,
  easSchema: EAS_SCHEMA,
  plan: PLAN,
  gas, prepare, verification, e2e,
};
if (!args["no-write"] && code === 0) {
  mkdirSync(join(REPO_ROOT, "docs/bench"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "docs/bench/results.json"), JSON.stringify(results, null, 2) + "\n");
  writeDocs(results as Results);
  say("wrote docs/bench/results.json, docs/bench/*.svg, docs/BENCHMARKS.md");
}
process.stdout.write("\n" + renderTables(results as Results) + "\n");
say(`total ${results.totalSeconds} s`);
process.exit(code);
