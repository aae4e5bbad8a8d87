/** Markdown tables (printed and in docs/BENCHMARKS.md) from one run's results. */
import type { GasResult } from "../gas.js";
import type { PrepRow, PrepCell } from "../prepare.js";
import type { VerifyResult, LatencyCell } from "../verify.js";
import type { E2ERow } from "../e2e.js";
import type { Machine } from "./machine.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../test/node/helpers/chain.js";
import { gasSvg, throughputSvg } from "./svg.js";
import { fmt, fmtSpread, ratio } from "./stats.js";

export interface Results {
  timestamp: string;
  finished: string;
  totalSeconds: number;
  sectionSeconds: Record<string, number>;
  sectionLoad?: Record<string, { start: number; end: number }>;
  expectedSecondsQuiet?: Record<string, number>;
  mode: string;
  command: string;
  git: { commit: string; dirty: boolean };
  machine: Machine & { loadDuringRun: { min: number; median: number; max: number; samples: number }; loadAtEnd?: number[] };
  chain: { engine: string; hardfork: string; chainId: string };
  peers: Record<string, string>;
  easSchema: string;
  gas?: GasResult;
  prepare?: PrepRow[];
  verification?: VerifyResult;
  e2e?: E2ERow[];
}

const n = (x: number) => x.toLocaleString("en");

export function gasTable(g: GasResult): string {
  const out = [
    "| batch size | ours `anchor` (gas/tx) | ours per material | EAS `attest` per material | EAS `multiAttest` per material (txs) | OA `issue` per material | EAS attest / ours | EAS multiAttest / ours | OA issue / ours |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of g.rows) {
    out.push(
      `| ${n(r.batch)} | ${n(r.ours.gasPerTx.median)} | ${fmt(r.ours.perMaterial, r.ours.perMaterial < 100 ? 1 : 0)} | ${n(Math.round(r.easAttest.perMaterial))}${r.easAttest.extrapolated ? "†" : ""} | ${n(Math.round(r.easMultiAttest.perMaterial))} (${r.easMultiAttest.txs}) | ${fmt(r.oaIssue.perMaterial, r.oaIssue.perMaterial < 100 ? 1 : 0)} | ${ratio(r.easAttest.perMaterial, r.ours.perMaterial)} | ${ratio(r.easMultiAttest.perMaterial, r.ours.perMaterial)} | ${ratio(r.oaIssue.perMaterial, r.ours.perMaterial)} |`,
    );
  }
  return out.join("\n");
}

/** the cell's figure for sorting out ratios: the median of finished runs, or the deadline's lower bound */
const cellValue = (c: PrepCell, k: "wallMs" | "cpuMs"): number => (c.method === "deadline" ? c.lowerBound?.[k] ?? NaN : c[k]?.median ?? NaN);
const cellMs = (c: PrepCell, k: "wallMs" | "cpuMs") => {
  if (c.method === "deadline") return c.lowerBound ? `> ${fmt(c.lowerBound[k], 0)} ⏱` : "⏱";
  const mark = c.method === "extrapolated" ? " ‡" : c.method === "proofs-sampled" ? " §" : "";
  const part = c.finished !== undefined && c.repeats !== undefined && c.finished < c.repeats ? ` [${c.finished}/${c.repeats}]` : "";
  return `${fmtSpread(c[k]!, 0)}${mark}${part}`;
};
const cellRatio = (c: PrepCell, ours: PrepCell) => `${c.method === "deadline" ? "> " : ""}${ratio(cellValue(c, "cpuMs"), cellValue(ours, "cpuMs"))}`;

export function prepareTable(rows: PrepRow[]): string {
  const out = [
    "| materials | ours (SDK) wall ms | OZ StandardMerkleTree wall ms | OA wrapDocuments wall ms | ours CPU ms | OZ CPU ms | OA CPU ms | OZ / ours (CPU) | OA / ours (CPU) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    out.push(
      `| ${n(r.n)} | ${cellMs(r.ours, "wallMs")} | ${cellMs(r.oz, "wallMs")} | ${cellMs(r.oa, "wallMs")} | ${cellMs(r.ours, "cpuMs")} | ${cellMs(r.oz, "cpuMs")} | ${cellMs(r.oa, "cpuMs")} | ${cellRatio(r.oz, r.ours)} | ${cellRatio(r.oa, r.ours)} |`,
    );
  }
  return out.join("\n");
}

const rpc = (c: LatencyCell) => {
  const e = Object.entries(c.rpcPerVerification).filter(([, v]) => v > 0);
  return e.length ? e.map(([k, v]) => `${fmt(v, v % 1 ? 1 : 0)} ${k}`).join(", ") : "none";
};

export function verifyTable(v: VerifyResult): string {
  const row = (what: string, c: LatencyCell, base?: LatencyCell) =>
    `| ${what} | ${fmtSpread(c.p50, 3)} | ${fmtSpread(c.p95, 3)} | ${rpc(c)} | ${base ? ratio(c.p50.median, base.p50.median) : "1x"} |`;
  return [
    "| verification | p50 ms | p95 ms | JSON-RPC calls per verification | p50 vs ours |",
    "| --- | ---: | ---: | --- | ---: |",
    row("ours, offline (SDK `verify`, content given)", v.ours.offline),
    row("OpenAttestation, offline (`verifySignature`)", v.oa.offline, v.ours.offline),
    row("ours, with the chain (SDK `verify` + provider)", v.ours.online),
    row("OpenAttestation, with the chain (oa-verify hash + DocumentStore status)", v.oa.online, v.ours.online),
    ...(v.floor ? [row("floor: the raw `materialState` eth_call alone (keep-alive HTTP, not decoded)", v.floor, v.ours.online)] : []),
    ...(v.geth && "ours" in v.geth ? [
      row(`ours, with the chain, against ${v.geth.engine.replace(/ \(.*$/, "")}`, v.geth.ours, v.ours.online),
      row(`floor against ${v.geth.engine.replace(/ \(.*$/, "")}`, v.geth.floor, v.ours.online),
    ] : []),
  ].join("\n");
}

export function e2eTable(rows: E2ERow[]): string {
  const out = [
    "| each material carries | node `batchSize` | materials per run (bulk request) | registrations/s (anchored) | ack→anchored p50 ms | p99 ms | leaves per anchor tx | node CPU µs / material | node CPU-bound ceiling /s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    out.push(
      `| ${(r.mode ?? "content") === "hash" ? "SHA-256 + holder ID" : "content + holder ID"} | ${n(r.batchSize)} | ${n(r.n)} (${n(r.bulk)}) | ${fmtSpread(r.perSecond, 0)} | ${fmtSpread(r.p50Ms, 0)} | ${fmtSpread(r.p99Ms, 0)} | ${fmtSpread(r.leavesPerAnchor, 0)} | ${fmtSpread(r.nodeCpuUsPerMaterial, 0)} | ${fmtSpread(r.cpuCeilingPerSecond, 0)} |`,
    );
  }
  return out.join("\n");
}

export function renderTables(r: Results): string {
  const parts: string[] = [];
  if (r.gas) parts.push("## Gas per anchored material\n\n" + gasTable(r.gas));
  if (r.prepare) parts.push("## Time to prepare a batch (median (min–max) of runs)\n\n" + prepareTable(r.prepare));
  if (r.verification) parts.push("## Verification latency (median (min–max) over rounds)\n\n" + verifyTable(r.verification));
  if (r.e2e) parts.push("## End to end through one member node's bulk API\n\n" + e2eTable(r.e2e));
  return parts.join("\n\n");
}

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const L = m.loadDuringRun;
  const loaded = L.median > m.nproc;
  const s: string[] = [];
  s.push(`# Benchmarks: Tongban, Ethereum Attestation Service and OpenAttestation, side by side

<!-- GENERATED by \`npm run bench\` (bench/run.ts) from docs/bench/results.json — do not edit by hand; re-run. -->

One command measures all three systems in one run, on one local chain: \`${r.command}\`
(\`npm run bench -- --quick\` for a smaller run). It starts a \`hardhat node\` child process on 127.0.0.1 (free
port, ${r.chain.hardfork}, chain id ${r.chain.chainId}), deploys our \`TongbanLedger\` and the peers' contracts **as
published on npm** (EAS \`SchemaRegistry\` + \`EAS\` from \`@ethereum-attestation-service/eas-contracts\`
${r.peers["@ethereum-attestation-service/eas-contracts"]} artifacts, with the schema \`${r.easSchema}\` registered; OpenAttestation
\`DocumentStore\` from \`@govtechsg/document-store\` ${r.peers["@govtechsg/document-store"]}'s typechain factory), measures,
kills the chain, and writes \`docs/bench/results.json\` (every figure below, with the raw runs), the two plots and
this file. Code: \`bench/\` (\`run.ts\` → \`main.ts\`, which drives \`gas.ts\`, \`prepare.ts\`, \`verify.ts\`, \`e2e.ts\`; see
\`bench/README.md\`); it imports the
SDK (\`sdk/src\`), the node (\`node/dist/main.js\` as a process, keystore and token helpers from \`node/src\`) and the
test chain harness (\`test/node/helpers/chain.ts\`), and the peers' own libraries.

## This run

| | |
| --- | --- |
| when | ${r.timestamp} → ${r.finished} (${r.totalSeconds} s; sections: ${Object.entries(r.sectionSeconds).map(([k, v]) => `${k} ${v} s${r.sectionLoad?.[k] ? ` (load ${r.sectionLoad[k].start} → ${r.sectionLoad[k].end})` : ""}`).join(", ")}) |
| git commit | \`${r.git.commit}\`${r.git.dirty ? " (with uncommitted changes in sdk/node/contracts/bench)" : ""} |
| mode | ${r.mode} |
| machine | ${m.cpuModel}, \`nproc\` = ${m.nproc}, ${m.memoryGiB} GiB memory, ${m.os} |
| Node.js | ${m.node} |
| load average (1 min) | at start ${m.load[0]}${m.loadAtEnd ? `, at the end ${m.loadAtEnd[0]}` : ""}; during the run min ${L.min.toFixed(1)} / median ${L.median.toFixed(1)} / max ${L.max.toFixed(1)} (${L.samples} samples, every 5 s) |
| peers | ${Object.entries(r.peers).map(([k, v]) => `\`${k}\` ${v}`).join(", ")} |
`);
  if (loaded) {
    s.push(`> **Shared, loaded machine.** These figures were taken on a ${m.nproc}-core machine shared with other engineers'
> builds and tests (load average ${L.min.toFixed(0)}–${L.max.toFixed(0)} on ${m.nproc} cores: each process got a fraction
> of a core). Wall-clock times and rates are therefore pessimistic and noisy; gas is exact, and CPU times (the
> prepare section) and ratios between systems measured side by side are the figures to compare. Each figure is
> the median of repeated runs with (min–max).
`);
  }
  s.push(`Every figure below comes from this run and is in \`docs/bench/results.json\` with its raw runs (\`runs\`:
every repeat's value; median, min and max are computed from them). Figures are **measured** unless marked:
§ measured, with OZ's \`getProof\` timed on a sample of leaves and scaled; ⏱ **deadline-limited**: no run
finished within the cell's deadline, so the figure is a lower bound (the time waited, and the CPU the unfinished run
had used), never a measurement; † the per-material gas of EAS \`attest\` for a batch is the measured mean of
single transactions (the batch itself was not sent); ‡ (older results only) a linear extrapolation. Linear
extrapolations appear only in the notes, labelled.
`);
  s.push(headline(r));
  if (r.gas) {
    s.push(`## 1. Gas per anchored material

![gas per material against batch size](bench/gas-per-material.svg)

${gasTable(r.gas)}

Gas used from the receipts (21,000 base and calldata included), ${r.chain.hardfork} rules. Ours: one
\`anchor(root, type, jurisdiction, count)\` per batch whatever its size, so the cost per material falls as 1/n. EAS
has no batch root: \`attest\` is one transaction per material, \`multiAttest\` stores one attestation record per
material in fewer transactions. OpenAttestation's \`issue(root)\` is, like ours, one root per batch (it records
only the root's block; ours also records the issuer member, type, jurisdiction, count and time, and checks the
issuer's entitlement on chain).

${r.gas.notes.map((x) => `- ${x}`).join("\n")}
- † the per-material figure for this batch is the measured mean of ${Math.max(...r.gas.rows.map((x) => x.easAttest.measuredTxs))} real \`attest\` transactions; the batch itself was not sent as single transactions.
- Sending single \`attest\` transactions from an ethers \`Wallet\` ran at ${fmt(r.gas.easAttestTxPerSec, 1)} tx/s here (one transaction per material: the chain's transaction rate caps that model, not ours).
`);
  }
  if (r.prepare) {
    s.push(`## 2. Time to prepare a batch

${prepareTable(r.prepare)}

From the documents (430-byte JSON business-licence records, the same for all three) to a root and every
material's proof, single-threaded, median (min–max) of ${r.prepare[0]?.ours.repeats ?? r.prepare[0]?.ours.wallMs?.runs.length ?? 0} runs (fewer where marked [finished/planned]). **Ours**: content
bytes → SHA-256 (SDK \`hashContent\`), keyed holder reference (\`computeHolderRef\`), header → leaf (\`computeLeaf\`),
\`buildMerkleTree\` and \`getAllProofs\`. **OZ**: the same content hashing and headers, then
\`StandardMerkleTree.of(header values, HEADER_ABI_TYPES)\` and \`getProof\` for every leaf. **OA**:
\`wrapDocuments\` of OpenAttestation v2 documents carrying the same record (salts and hashes every field, builds its
tree and writes every proof into the wrapped documents). Each cell (system × size) runs in its own process
(\`bench/prepare-cell.ts\`), which builds the documents, warms up, then times its runs; the cell is stopped at its
deadline (${r.prepare[0]?.oz.deadlineMs !== undefined ? `${fmt(r.prepare[0].oz.deadlineMs / 1000, 0)} s wall for the peers, ${fmt((r.prepare[0].ours.deadlineMs ?? 0) / 1000, 0)} s for ours` : "none in this older run"}, counted
from the end of its setup): runs finished by then are measured figures, a run in progress is not counted. CPU ms =
user + system CPU time of the cell's process around the work (the fairest figure on a loaded machine); wall ms
includes the time other processes held the cores.

${r.prepare.flatMap((row) => [row.oz, row.oa].filter((c) => c.note).map((c) => `- ${n(row.n)}, ${c === row.oz ? "OZ" : "OA"}: ${c.note}.`)).join("\n")}
- § OZ's \`getProof\` is timed on a sample of evenly spaced leaves and scaled to all leaves (its per-proof cost does not depend on the leaf).
- ⏱ deadline-limited: no run finished within the deadline; "> x" is what was spent before it was stopped (a lower
  bound, not a measurement), and so is the ratio "> x" next to it.
${r.prepare.some((row) => [row.ours, row.oz, row.oa].some((c) => c.method === "extrapolated")) ? "- ‡ extrapolated linearly from the previous size, not measured (an older run, before cells had deadlines); a lower bound where the cost grows faster than linearly, as OpenAttestation's does.\n" : ""}`);
  }
  if (r.verification) {
    const v = r.verification;
    s.push(`## 3. Verification latency

${verifyTable(v)}

One material of a ${n(v.batch)}-material batch (proof of 10 hashes), anchored/issued on the same local chain.
${v.ours.offline.perRound} verifications per round offline, ${v.ours.online.perRound} online (${v.oa.online.perRound} for OpenAttestation online), ${v.ours.offline.p50.runs.length} rounds, one verification
in flight at a time; each round's p50 and p95, then their median (min–max) over rounds.
${v.geth ? ("ours" in v.geth ? `The geth rows: the same SDK call against ${v.geth.engine} started by the bench on 127.0.0.1, our ledger
deployed there and a batch of ${v.geth.batch} anchored (the OpenAttestation contracts were not deployed on it).` : `geth rows: skipped (${v.geth.skipped}).`) : ""} The JSON-RPC calls were counted through a recording proxy in a separate pass (after
each library's first call, which may fetch the chain id). OpenAttestation online = oa-verify's own
\`verificationBuilder([openAttestationHash, openAttestationEthereumDocumentStoreStatus], { provider })\` with an
ethers ${v.ethers5.replace(/^ethers\//, "")} \`StaticJsonRpcProvider\` pointed at the local chain; its DNS-TXT identity fragment was left out (it
needs the internet), so OA's figure is a lower bound of a full oa-verify run.

${v.notes.map((x) => `- ${x}`).join("\n")}
`);
  }
  if (r.e2e) {
    s.push(`## 4. End to end: registrations/s through our node's bulk API

![registrations per second against the node's batch size](bench/throughput.svg)

${e2eTable(r.e2e)}

One member node started as \`scripts/start-local.mjs\` starts it (\`node/dist/main.js\` in its own process,
encrypted keystore, hashed API token, indexer, HTTP API, \`batchIntervalMs\` 1,000, 1 confirmation), a fresh one for
each run. Two concurrent clients send the run's materials through the SDK's \`registerMaterials\` (POST
\`/v1/materials/bulk\`). In the "content + holder ID" rows each material carries its content (base64) and holder
ID, so the node hashes, computes the holder reference, encrypts, stores and fsyncs before acknowledging; in the
"SHA-256 + holder ID" row it carries only the content's hash (a department that keeps the file in its own system),
and the node still validates the ID, computes the keyed holder reference and fsyncs before acknowledging. Registrations/s = materials / (last anchored − first
request); the clients send as fast as the node acknowledges, so these are figures **at saturation** and the
latency includes the queue that builds up behind the anchorer (latency below capacity, about one batch interval
plus one block in principle, is not measured by this run); ack→anchored p50/p99 are the node's own \`tongban_ack_to_anchored_quantile_seconds\` over the run; leaves
per anchor from \`tongban_batch_size\`. Median (min–max) of ${r.e2e[0]?.runs.length ?? 0} runs per batch size. The node CPU-bound ceiling is
materials per CPU-second of the node process (\`/proc/<pid>/stat\`), what one free core would sustain; at
\`batchSize\` 1 the run is mostly waiting for the chain and the node's background work (polling, indexer) dominates
its CPU, so that row's ceiling says little.

With \`batchSize\` 1 every material is its own \`anchor\` transaction, as with EAS \`attest\`: the rate is the chain's
transaction rate (the red dashed line in the plot is the rate at which section 1 sent single EAS \`attest\`
transactions from an ethers \`Wallet\` on the same chain, ${r.gas ? fmt(r.gas.easAttestTxPerSec, 1) : "-"} tx/s — a reference, not an end-to-end service). From 100 up, one transaction carries many materials and the rate is set by the node's own work
(the chain sees a few transactions per second). A batch is cut when it reaches \`batchSize\` or when the 1 s
batch interval ends, whichever comes first: where "leaves per anchor tx" is below \`batchSize\`, the interval cut it.
`);
  }
  s.push(`## Reproduce

\`\`\`bash
npm ci && npm run build      # the node runs from node/dist
npm run bench                # full run (this one: ${r.totalSeconds} s at the load above; it prints its expected duration first)
npm run bench -- --quick     # smaller sizes and fewer samples
npm run bench -- --only gas,verify --no-write   # a subset, printed only
npm run bench -- --render     # rewrite this file and the plots from docs/bench/results.json
\`\`\`
`);
  return s.join("\n");
}

/** Writes docs/BENCHMARKS.md and the plots of `r` (results.json is written by the caller). */
export function writeDocs(r: Results): void {
  if (r.gas) writeFileSync(join(REPO_ROOT, "docs/bench/gas-per-material.svg"), gasSvg(r.gas));
  if (r.e2e) writeFileSync(join(REPO_ROOT, "docs/bench/throughput.svg"), throughputSvg(r.e2e.filter((x) => (x.mode ?? "content") === "content"), r.gas?.easAttestTxPerSec));
  writeFileSync(join(REPO_ROOT, "docs/BENCHMARKS.md"), renderMarkdown(r));
}

/** The few figures that answer "how do we compare", each traceable to a table below. */
export function headline(r: Results): string {
  const h: string[] = ["## Headline (this run)", ""];
  if (r.gas) {
    const row = r.gas.rows.find((x) => x.batch === 1000) ?? r.gas.rows[r.gas.rows.length - 1]!;
    const one = r.gas.rows.find((x) => x.batch === 1);
    h.push(`- **Gas per material, batch of ${n(row.batch)}**: ours ${fmt(row.ours.perMaterial, 1)} · EAS \`attest\` ${n(Math.round(row.easAttest.perMaterial))} (${ratio(row.easAttest.perMaterial, row.ours.perMaterial)}) · EAS \`multiAttest\` ${n(Math.round(row.easMultiAttest.perMaterial))} (${ratio(row.easMultiAttest.perMaterial, row.ours.perMaterial)}) · OpenAttestation \`issue\` ${fmt(row.oaIssue.perMaterial, 1)} (${ratio(row.oaIssue.perMaterial, row.ours.perMaterial)}).${one ? ` A single material: ours ${n(one.ours.perMaterial)}, EAS ${n(Math.round(one.easAttest.perMaterial))}, OA ${n(one.oaIssue.perMaterial)}.` : ""}`);
  }
  if (r.prepare) {
    for (const row of r.prepare) {
      const peer = (c: PrepCell) => c.method === "deadline"
        ? `not finished within the ${fmt((c.deadlineMs ?? 0) / 1000, 0)} s deadline (> ${fmt(cellValue(c, "cpuMs") / 1000, 1)} s CPU, > ${cellRatio(c, row.ours).replace(/^> /, "")})`
        : `${fmt(cellValue(c, "cpuMs") / 1000, 1)} s${c.method === "extrapolated" ? " (extrapolated)" : ""} (${cellRatio(c, row.ours)})`;
      h.push(`- **Preparing ${n(row.n)} materials** (hash, leaf, tree, every proof; CPU time): ours ${fmt(cellValue(row.ours, "cpuMs") / 1000, 2)} s · OZ StandardMerkleTree ${peer(row.oz)} · OA wrapDocuments ${peer(row.oa)}.`);
    }
  }
  if (r.verification) {
    const v = r.verification;
    const calls = (c: LatencyCell) => Object.values(c.rpcPerVerification).reduce((a, b) => a + b, 0);
    h.push(`- **Verification p50**: offline ours ${fmt(v.ours.offline.p50.median, 3)} ms vs OA ${fmt(v.oa.offline.p50.median, 3)} ms (${ratio(v.oa.offline.p50.median, v.ours.offline.p50.median)}); with the chain ours ${fmt(v.ours.online.p50.median, 2)} ms with ${fmt(calls(v.ours.online), 0)} JSON-RPC call vs OA ${fmt(v.oa.online.p50.median, 2)} ms with ${fmt(calls(v.oa.online), 0)} calls (${ratio(v.oa.online.p50.median, v.ours.online.p50.median)}). Ours with the chain, p95: ${fmt(v.ours.online.p95.median, 2)} ms on the hardhat node${v.floor ? ` (whose bare eth_call has a p95 of ${fmt(v.floor.p95.median, 2)} ms)` : ""}${v.geth && "ours" in v.geth ? `, ${fmt(v.geth.ours.p95.median, 2)} ms on geth --dev (bare eth_call ${fmt(v.geth.floor.p95.median, 2)} ms)` : ""}.`);
  }
  if (r.e2e) {
    const content = r.e2e.filter((x) => (x.mode ?? "content") === "content");
    const best = [...content].sort((a, b) => b.perSecond.median - a.perSecond.median)[0]!;
    const single = content.find((x) => x.batchSize === 1);
    const hashRow = r.e2e.find((x) => x.mode === "hash");
    h.push(`- **End to end through one node's bulk API**: ${n(Math.round(best.perSecond.median))} registrations/s anchored (median; ${n(Math.round(best.perSecond.min))}–${n(Math.round(best.perSecond.max))}) at \`batchSize\` ${n(best.batchSize)}, ack→anchored p50 ${n(Math.round(best.p50Ms.median))} ms / p99 ${n(Math.round(best.p99Ms.median))} ms at saturation${single ? `; one transaction per material (\`batchSize\` 1) gives ${fmt(single.perSecond.median, 1)}/s` : ""}. The node process needs ${n(Math.round(best.nodeCpuUsPerMaterial.median))} µs of CPU per material, a ceiling of about ${n(Math.round(best.cpuCeilingPerSecond.median))}/s on one free core.${hashRow ? ` With the content's hash instead of the content: ${n(Math.round(hashRow.perSecond.median))}/s anchored (${n(Math.round(hashRow.perSecond.min))}–${n(Math.round(hashRow.perSecond.max))}), p99 ${n(Math.round(hashRow.p99Ms.median))} ms, ${n(Math.round(hashRow.nodeCpuUsPerMaterial.median))} µs node CPU per material.` : ""}`);
  }
  return h.join("\n") + "\n";
}
