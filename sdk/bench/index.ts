/**
 * SDK benchmark: prints figures, asserts nothing. Run: `npm run bench -w sdk` (from the repo root).
 *  1. Merkle tree + every proof for 1k / 10k / 100k leaves: ours (WebAssembly and JS hashers) vs
 *     @openzeppelin/merkle-tree StandardMerkleTree, side by side with ratios.
 *  2. Offline verify p50/p95 for 1 KiB and 1 MiB content, SHA-256 and SM3 (and raw SM3: OpenSSL vs sm-crypto).
 *  3. Online verify p50/p95/p99 (one eth_call per verification) against a local `hardhat node` and `geth --dev`,
 *     next to the raw keep-alive eth_call floor and ethers JsonRpcProvider (online.ts).
 * Options: --quick (fewer repetitions), --no-online, --no-geth, --no-oz.
 */
import { randomBytes, createHash } from "node:crypto";
import { createRequire } from "node:module";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  buildMerkleTree, computeLeaf, verify, HashAlg, hashContent, buildBundle, type ProofBundle,
} from "../src/index.js";
import { headerFor } from "../../test/sdk/helpers/fixture.js";

const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3));
function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}
/** Wall-clock and process CPU time (user + system, ms) of fn. On a shared machine CPU time is the fairer figure. */
function measure(fn: () => void): { wall: number; cpu: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1000 };
}

function merkleBench(): void {
  console.log("\n## Merkle tree + every proof (ms, median of runs, wall / CPU; single-threaded)\n");
  console.log("| leaves | ours (wasm) wall / cpu | ours (js keccak) wall / cpu | OZ StandardMerkleTree wall | OZ / ours (wall) |");
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (const n of [1_000, 10_000, 100_000]) {
    const leaves = Array.from({ length: n }, () => "0x" + randomBytes(32).toString("hex"));
    const runs = QUICK ? 3 : n >= 100_000 ? 5 : 9;
    const ours = (hasher: "auto" | "js") => {
      buildMerkleTree(leaves.slice(0, 64), { hasher }).getAllProofs(); // warm up
      const ws: number[] = [], cs: number[] = [];
      for (let r = 0; r < runs; r++) {
        const m = measure(() => { buildMerkleTree(leaves, { hasher }).getAllProofs(); });
        ws.push(m.wall); cs.push(m.cpu);
      }
      return { wall: pct(ws, 50), cpu: pct(cs, 50) };
    };
    const wasm = ours("auto");
    const js = ours("js");
    let oz = NaN;
    let ozNote = "";
    if (!args.has("--no-oz")) {
      // OZ's getProof re-hashes the leaf and re-verifies the path (~1 ms per call here, the same for every leaf); for 100k leaves all proofs take minutes, so above 10k the proof
      // time is measured on 2,000 evenly spaced leaves and scaled to n (labelled "extrapolated").
      const sample = n > 10_000 ? 2_000 : n;
      let build = 0, proofs = 0;
      build = time(() => {
        const t = StandardMerkleTree.of(leaves.map((l) => [l]), ["bytes32"]);
        proofs = time(() => { for (let k = 0; k < sample; k++) t.getProof(Math.floor((k * n) / sample)); });
      });
      build -= proofs;
      oz = build + proofs * (n / sample);
      if (sample < n) ozNote = " (extrapolated)";
    }
    console.log(`| ${n.toLocaleString("en")} | ${ms(wasm.wall)} / ${ms(wasm.cpu)} | ${ms(js.wall)} / ${ms(js.cpu)} | ${Number.isNaN(oz) ? "-" : ms(oz) + ozNote} | ${Number.isNaN(oz) ? "-" : (oz / wasm.wall).toFixed(0) + "x"} |`);
  }
}

function offlineBundle(content: Uint8Array, hashAlg: number): ProofBundle {
  const headers = [headerFor(content, { hashAlg }), ...Array.from({ length: 1023 }, (_, i) => headerFor(`filler ${i}`))];
  const tree = buildMerkleTree(headers.map(computeLeaf));
  return buildBundle({ header: headers[0]!, proof: tree.getProof(0), root: tree.root, chainId: 31337n, contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3", blockNumber: 1n });
}

async function offlineBench(): Promise<void> {
  console.log("\n## Offline verify (content given, batch of 1,024 -> 10-element proof; ms)\n");
  console.log("| content | algorithm | p50 | p95 | mean CPU | runs |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  const runs = QUICK ? 100 : 400;
  for (const size of [1024, 1 << 20]) {
    for (const alg of [HashAlg.SHA256, HashAlg.SM3]) {
      const content = new Uint8Array(randomBytes(size));
      const bundle = offlineBundle(content, alg);
      for (let i = 0; i < 20; i++) await verify({ content }, bundle, { offline: true });
      const ts: number[] = [];
      const c0 = process.cpuUsage();
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const r = await verify({ content }, bundle, { offline: true });
        ts.push(performance.now() - t);
        if (!r.ok) throw new Error("bench bundle did not verify");
      }
      const cd = process.cpuUsage(c0);
      const cpu = (cd.user + cd.system) / 1000 / runs;
      console.log(`| ${size === 1024 ? "1 KiB" : "1 MiB"} | ${alg === HashAlg.SHA256 ? "SHA-256" : "SM3"} | ${ms(pct(ts, 50))} | ${ms(pct(ts, 95))} | ${ms(cpu)} | ${runs} |`);
    }
  }
  console.log("\nRaw 1 MiB hashing (ms, median of 20): ");
  const mib = new Uint8Array(randomBytes(1 << 20));
  const smCrypto = createRequire(import.meta.url)("sm-crypto") as { sm3: (a: number[] | Uint8Array) => string };
  const med = (fn: () => void, n = 20) => { fn(); const ts = Array.from({ length: n }, () => time(fn)); return pct(ts, 50); };
  const sha = med(() => createHash("sha256").update(mib).digest());
  const sm3ossl = med(() => hashContent(mib, HashAlg.SM3));
  const sm3js = med(() => smCrypto.sm3(Array.from(mib)), 3);
  console.log(`  SHA-256 (OpenSSL) ${ms(sha)} | SM3 (OpenSSL, used) ${ms(sm3ossl)} | SM3 (sm-crypto, fallback) ${ms(sm3js)}`);
}

async function onlineBench(): Promise<void> {
  // one verification = one eth_call: against a hardhat node (logging on / off) and geth --dev, with the raw
  // keep-alive eth_call as the floor and ethers JsonRpcProvider (default / tuned) for comparison (online.ts)
  const { onlineTail } = await import("./online.js");
  await onlineTail({ runs: QUICK ? 300 : 1000, geth: !args.has("--no-geth") });
}

console.log(`# @tongban/sdk bench — node ${process.version}, ${new Date().toISOString()}, load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")} on ${(await import("node:os")).cpus().length} cores`);
merkleBench();
await offlineBench();
if (!args.has("--no-online")) await onlineBench();
