/**
 * Micro-benchmark of one `verify(...)` call's CPU, this tree's SDK side by side with a baseline commit's, in one
 * run (rounds interleaved, so machine load hits both alike). Prints figures, asserts nothing but that every
 * verification is ok and every proof reaches its root.
 *
 *   npx tsx sdk/bench/verify.ts [--baseline <commit>] [--rounds 7] [--calls 2000] [--depth 9,16]
 *
 * The bundle: a 10 KiB SHA-256 material in a batch of 2^depth (a depth-element proof), online mode against an
 * in-process ChainReader answering a fixed, pre-encoded `materialState` (no transport: the CPU of `verify`
 * only), `ledger` pinned, like the node's requester (node/src/p2p/verify.ts). Rows: default options (the
 * SDK's portable JS keccak); `keccak256` = the node's native keccak (node/src/core/header.ts keccakBuf, as the
 * p2p requester passes it); the node requester's options of each version; `loadBundle`; `processProof` with
 * each hasher; then the raw keccak of 64 bytes (JS, WebAssembly, native add-on) and the first `loadBundle` of
 * the process. The baseline's sdk/src and sdk/schema are taken from git (`git archive`) into
 * node_modules/.cache/tongban-verify-bench/<commit>/ (the generated typechain types are copied from this tree),
 * so both import the same node_modules.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { loadavg, cpus } from "node:os";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import * as current from "../src/index.js";
import { headerFor } from "../../test/sdk/helpers/fixture.js";
import { keccakBuf } from "../../node/src/core/header.js";
import { keccak64 } from "../src/merkle/keccak64.js";
import { keccak64Wasm } from "../src/merkle/keccak-wasm.js";

type Sdk = typeof current;

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BASELINE = opt("baseline", "00479cc");
const ROUNDS = Number(opt("rounds", "7"));
const CALLS = Number(opt("calls", "2000"));
const DEPTHS = opt("depth", "9,16").split(",").map(Number);
const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

async function loadBaseline(commit: string): Promise<Sdk> {
  const full = execFileSync("git", ["rev-parse", commit], { cwd: ROOT, encoding: "utf8" }).trim();
  const dir = join(ROOT, "node_modules", ".cache", "tongban-verify-bench", full);
  if (!existsSync(join(dir, "sdk", "src", "index.ts"))) {
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", full, "sdk/src", "sdk/schema"], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    cpSync(join(ROOT, "sdk", "src", "contracts", "types"), join(dir, "sdk", "src", "contracts", "types"), { recursive: true });
  }
  return (await import(pathToFileURL(join(dir, "sdk", "src", "index.ts")).href)) as Sdk;
}

/** the native keccak exactly as node/src/p2p/verify.ts hands it to the SDK */
const nativeKeccak = (d: Uint8Array): Uint8Array => keccakBuf(Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length));

function fixture(depth: number) {
  const content = new Uint8Array(randomBytes(10 * 1024));
  const n = 2 ** depth;
  const headers = [headerFor(content), ...Array.from({ length: n - 1 }, (_, i) => headerFor(`filler ${i}`))];
  const tree = current.buildMerkleTree(headers.map(current.computeLeaf)); // full tree: every proof has `depth` elements
  // assembled by hand, as buildBundle would (no loadBundle call here: the first one is timed below)
  const bundle: current.ProofBundle = JSON.parse(JSON.stringify({
    version: current.PROOF_BUNDLE_VERSION, header: current.headerToJson(headers[0]!), leaf: current.computeLeaf(headers[0]!),
    proof: tree.getProof(0), root: tree.root, anchor: { chainId: "31337", contract: LEDGER, blockNumber: "7" },
  }));
  if (bundle.proof.length !== depth || tree.depth !== depth + 1) throw new Error(`proof has ${bundle.proof.length} elements, wanted ${depth}`);
  const Z = "0x" + "0".repeat(64);
  const answer = current.ledgerInterface().encodeFunctionResult("materialState", [{
    anchored: true, anchoredBlock: 7n, anchoredAt: 1767225700n, issuer: bundle.header.issuer, typeCode: bundle.header.typeCode,
    jurisdiction: 310115, count: n, issuerActiveNow: true, status: 0, reason: 0, statusBy: Z, statusBlock: 0n, statusAt: 0n,
    supersededBy: Z, supersedes: Z, hashAlgStatus: 1, hashAlgRetiredAt: 0n,
  }]);
  const reader: current.ChainReader = { call: async () => answer, getNetwork: async () => ({ chainId: 31337n }) };
  return { content, bundle, reader, at: Number(bundle.header.validFrom) + 60 };
}

type Row = { name: string; run: () => Promise<void> | void };

/** CPU µs per call of `row.run`, `CALLS` calls */
async function cpuPerCall(row: Row): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await row.run();
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / CALLS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const base = await loadBaseline(BASELINE);
console.log(`# verify micro-bench — node ${process.version}, ${new Date().toISOString()}, load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} cores`);
console.log(`baseline ${BASELINE} vs this tree; ${ROUNDS} interleaved rounds x ${CALLS} calls per row; CPU µs per call (user+system), median of rounds [min-max]\n`);

{
  // one-time: the first bundle each SDK loads in this process (the baseline requires and compiles ajv then)
  const f = fixture(4);
  const first = (sdk: Sdk) => { const t = performance.now(); sdk.loadBundle(f.bundle); return performance.now() - t; };
  const a = first(current), b = first(base);
  console.log(`first loadBundle in the process (one-time; includes requiring and compiling ajv where valid bundles need it, as at 00479cc): before ${b.toFixed(1)} ms, after ${a.toFixed(2)} ms\n`);
}

for (const depth of DEPTHS) {
  const f = fixture(depth);
  const check = (r: { ok: boolean; checks: unknown }) => { if (!r.ok) throw new Error(`not ok ${JSON.stringify(r.checks)}`); };
  const on = { provider: f.reader, ledger: LEDGER, at: f.at };
  const proofOk = (root: string) => { if (root !== f.bundle.root) throw new Error("proof"); };
  // [what, before, after]: the same call on both SDKs, except the node requester's options (what each passes)
  const pairs: [string, Row["run"], Row["run"]][] = [
    ["verify, default options", async () => check(await base.verify({ content: f.content }, f.bundle, on)), async () => check(await current.verify({ content: f.content }, f.bundle, on))],
    ["verify, keccak256: native (leaf; after: and pairs)", async () => check(await base.verify({ content: f.content }, f.bundle, { ...on, keccak256: nativeKeccak })), async () => check(await current.verify({ content: f.content }, f.bundle, { ...on, keccak256: nativeKeccak }))],
    ["verify as the node requester (before: keccak256 native; after: + proofHasher auto)", async () => check(await base.verify({ content: f.content }, f.bundle, { ...on, keccak256: nativeKeccak })), async () => check(await current.verify({ content: f.content }, f.bundle, { ...on, keccak256: nativeKeccak, proofHasher: "auto" }))],
    ["loadBundle", () => { base.loadBundle(f.bundle); }, () => { current.loadBundle(f.bundle); }],
    ["processProof, default (portable JS)", () => proofOk(base.processProof(f.bundle.leaf, f.bundle.proof)), () => proofOk(current.processProof(f.bundle.leaf, f.bundle.proof))],
    ["processProof (after: { keccak256: native })", () => proofOk(base.processProof(f.bundle.leaf, f.bundle.proof)), () => proofOk(current.processProof(f.bundle.leaf, f.bundle.proof, { keccak256: nativeKeccak }))],
    ["processProof (after: { hasher: \"auto\" }, WebAssembly)", () => proofOk(base.processProof(f.bundle.leaf, f.bundle.proof)), () => proofOk(current.processProof(f.bundle.leaf, f.bundle.proof, { hasher: "auto" }))],
  ];
  const all: Row[] = pairs.flatMap(([name, b, a]) => [{ name: `before ${name}`, run: b }, { name: `after ${name}`, run: a }]);
  for (const r of all) for (let i = 0; i < 300; i++) await r.run(); // warm up (JIT) both
  const got = new Map<string, number[]>(all.map((r) => [r.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 ? [...all].reverse() : all) got.get(r.name)!.push(await cpuPerCall(r));
  }
  console.log(`## 10 KiB SHA-256 material, ${depth}-element proof (batch of ${2 ** depth}), online (in-process reader), load ${loadavg()[0]!.toFixed(2)}\n`);
  console.log("| what | before µs | after µs | after / before |");
  console.log("| --- | ---: | ---: | ---: |");
  const fmt = (xs: number[]) => `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`;
  for (const [name] of pairs) {
    const b = got.get(`before ${name}`)!, a = got.get(`after ${name}`)!;
    console.log(`| ${name} | ${fmt(b)} | ${fmt(a)} | ${(median(a) / median(b)).toFixed(2)} |`);
  }
  console.log("");
}

{
  // the raw keccak256 of 64 bytes (one Merkle pair), per call
  const N = CALLS * 100;
  const pair = Buffer.from(randomBytes(64));
  const words = new Int32Array(new Uint8Array(pair).buffer);
  const out = new Int32Array(8);
  const w = keccak64Wasm()!;
  const ns = (f: () => void) => {
    for (let i = 0; i < 20_000; i++) f();
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c = process.cpuUsage();
      for (let i = 0; i < N; i++) f();
      const d = process.cpuUsage(c);
      xs.push(((d.user + d.system) * 1000) / N);
    }
    return median(xs).toFixed(0);
  };
  const js = ns(() => keccak64(words, 0, 8, out, 0));
  const wasm = ns(() => { const m = new Uint8Array(w.memory.buffer); m.set(pair, 0); w.k(0, 32, 0); });
  const native = ns(() => { keccakBuf(pair); });
  console.log(`raw keccak256 of 64 bytes, ns per call (median of ${ROUNDS} x ${N}), load ${loadavg()[0]!.toFixed(2)}: portable JS ${js}, WebAssembly ${wasm} (copy in included), native add-on ${native}`);
}
