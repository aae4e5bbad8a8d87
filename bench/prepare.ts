/**
 * Time to prepare a batch: from the documents to a root and every material's proof.
 *  - ours (SDK): content bytes -> SHA-256 content hash, keyed holder reference, header -> leaf
 *    (computeLeaf), buildMerkleTree, getAllProofs;
 *  - OpenZeppelin StandardMerkleTree: the same content hashing and headers, StandardMerkleTree.of(header
 *    values, HEADER_ABI_TYPES), getProof for every leaf;
 *  - OpenAttestation wrapDocuments (v2): salting, per-field hashing, target hashes, tree, every proof.
 * Every cell (peer x size) runs in its own child process (prepare-cell.ts) with a deadline: runs finished before
 * the deadline are measured figures; when not even one run finishes, the cell is recorded as deadline-limited
 * ("> deadline", with the CPU the unfinished run had used) and, next to it and labelled as such, a linear
 * extrapolation from the previous size. Wall time and CPU time (user+system of the cell's process: the work is
 * single-threaded, so CPU time is the work itself while wall time also counts the time other processes hold the
 * cores).
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CellJob, CellMessage, Peer } from "./prepare-cell.js";
import { spread, type Spread } from "./lib/stats.js";

export interface PrepCell {
  /** median (min-max) and raw values of the finished runs; absent when no run finished before the deadline */
  wallMs?: Spread;
  cpuMs?: Spread;
  /**
   * measured: every figure from finished runs; proofs-sampled: measured, OZ getProof timed on a sample and scaled;
   * deadline: no run finished within `deadlineMs` (the figure is a lower bound); extrapolated: older results.json only
   */
  method: "measured" | "proofs-sampled" | "deadline" | "extrapolated";
  /** runs planned and finished */
  repeats?: number;
  finished?: number;
  deadlineMs?: number;
  /** deadline cells: what the unfinished run had used when it was stopped (wall = the deadline) */
  lowerBound?: { wallMs: number; cpuMs: number };
  /** deadline cells: linear extrapolation from the previous size's medians (not measured) */
  extrapolated?: { fromN: number; wallMs: number; cpuMs: number };
  /** setup of the cell's process (building the documents, warm-up), not part of the figures */
  setupMs?: number;
  note?: string;
}

export interface PrepRow {
  n: number;
  ours: PrepCell;
  oz: PrepCell;
  oa: PrepCell;
}

const log = (s: string) => process.stdout.write(`  [prepare] ${s}\n`);
const HERE = dirname(fileURLToPath(import.meta.url));
const SETUP_TIMEOUT_MS = 180_000;

/** user+system CPU ms of a process (Linux /proc; NaN elsewhere) */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch { return NaN; }
}

interface CellOutcome { runs: { wall: number; cpu: number }[]; setupMs: number; deadlineHit: boolean; inProgressCpuMs: number }

/** Runs one cell in a child process; kills it (SIGKILL, by pid) `deadlineMs` after it is ready. */
function runCell(job: CellJob, deadlineMs: number): Promise<CellOutcome> {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, "prepare-cell.ts"), [], {
      execArgv: ["--import", "tsx", "--expose-gc", "--max-old-space-size=8192"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    // if the bench process exits (Ctrl-C, SIGTERM handler, crash), the cell's process goes with it
    const killOnExit = () => { try { child.kill("SIGKILL"); } catch { /* gone */ } };
    process.once("exit", killOnExit);
    const runs: { wall: number; cpu: number }[] = [];
    let setupMs = NaN, readyCpu = NaN, deadlineHit = false, inProgressCpuMs = 0, settled = false, error: string | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.removeListener("exit", killOnExit);
      if (error) reject(new Error(`prepare cell ${job.peer} n=${job.n}: ${error}`));
      else resolve({ runs, setupMs, deadlineHit, inProgressCpuMs });
    };
    let timer = setTimeout(() => { error = `setup took more than ${SETUP_TIMEOUT_MS / 1000} s`; child.kill("SIGKILL"); }, SETUP_TIMEOUT_MS);
    child.on("message", (m: CellMessage) => {
      if (m.kind === "ready") {
        setupMs = m.setupMs;
        readyCpu = procCpuMs(child.pid!);
        clearTimeout(timer);
        timer = setTimeout(() => {
          deadlineHit = true;
          const used = procCpuMs(child.pid!) - readyCpu - runs.reduce((a, r) => a + r.cpu, 0);
          inProgressCpuMs = Math.max(0, used);
          child.kill("SIGKILL");
        }, deadlineMs);
      } else if (m.kind === "run") runs.push({ wall: m.wall, cpu: m.cpu });
      else if (m.kind === "error") error = m.message;
    });
    child.on("error", (e) => { error = String(e); finish(); });
    child.on("exit", finish);
    child.send(job);
  });
}

/** how many evenly spaced leaves OZ's getProof is timed on at size n (then scaled to n) */
export function ozSample(n: number, at10k: number): number {
  return Math.min(n, Math.max(200, Math.round((at10k * 10_000) / Math.max(n, 10_000))));
}

const show = (xs: { wall: number; cpu: number }[]) => xs.map((x) => `${x.wall.toFixed(0)}ms wall/${x.cpu.toFixed(0)}ms cpu`).join(", ") || "no run finished";

export async function prepareBench(opts: {
  sizes: number[];
  repeats: number;
  documentStore: string;
  /** OZ getProof is timed on this many evenly spaced leaves (fewer above 10,000 leaves: see ozSample) and scaled to n */
  ozProofSample: number;
  /** wall-clock deadline of each cell (all its runs), from the moment its documents are built */
  cellDeadlineMs: number;
}): Promise<PrepRow[]> {
  const rows: PrepRow[] = [];
  const prev: Partial<Record<Peer, { n: number; cell: PrepCell }>> = {};
  const D = opts.cellDeadlineMs;
  for (const n of opts.sizes) {
    const row: Partial<PrepRow> = { n };
    for (const peer of ["ours", "oz", "oa"] as const) {
      const p = prev[peer];
      if (p?.cell.method === "deadline") {
        // it did not finish one run at a smaller size within the deadline: it will not at this size either
        row[peer] = {
          method: "deadline", repeats: opts.repeats, finished: 0, deadlineMs: D, lowerBound: p.cell.lowerBound!,
          ...(p.cell.extrapolated ? { extrapolated: { fromN: p.cell.extrapolated.fromN, wallMs: (p.cell.extrapolated.wallMs * n) / p.cell.extrapolated.fromN, cpuMs: (p.cell.extrapolated.cpuMs * n) / p.cell.extrapolated.fromN } } : {}),
          note: `not run: at ${p.n.toLocaleString("en")} no run finished within the ${D / 1000} s deadline, so none would here (lower bound carried over)`,
        };
        log(`n=${n} ${peer}: skipped (deadline at ${p.n})`);
        continue;
      }
      // OZ's getProof re-hashes the leaf (ABI encoding + keccak), walks and re-verifies the path: ~1 ms per call here,
      // the same for every leaf. All 100,000 would take minutes, so the sample shrinks as n grows (ozProofSample
      // proofs at 10,000 leaves, 10x fewer at 100,000; at least 200), the timed proofs are those of the n-leaf tree,
      // and the run finishes and is measured (§)
      const sample = ozSample(n, opts.ozProofSample);
      // ours gets three times the deadline: it is an order of magnitude faster, and must stay a measured figure
      const deadline = peer === "ours" ? 3 * D : D;
      const out = await runCell({ peer, n, repeats: opts.repeats, seed: 7, documentStore: opts.documentStore, ozProofSample: sample }, deadline);
      log(`n=${n} ${peer}: ${show(out.runs)}${out.deadlineHit ? ` (deadline ${deadline / 1000} s hit${out.runs.length ? "" : `; unfinished run had used ${(out.inProgressCpuMs / 1000).toFixed(1)} s CPU`})` : ""}; setup ${(out.setupMs / 1000).toFixed(1)} s`);
      const sampled = peer === "oz" && sample < n;
      const notes: string[] = [];
      if (sampled) notes.push(`getProof timed on ${sample.toLocaleString("en")} evenly spaced leaves, scaled x${n / sample}`);
      let cell: PrepCell;
      if (out.runs.length > 0) {
        if (out.runs.length < opts.repeats) notes.push(`${out.runs.length} of ${opts.repeats} runs finished within the ${deadline / 1000} s deadline`);
        cell = {
          wallMs: spread(out.runs.map((r) => r.wall)), cpuMs: spread(out.runs.map((r) => r.cpu)),
          method: sampled ? "proofs-sampled" : "measured", repeats: opts.repeats, finished: out.runs.length, deadlineMs: deadline, setupMs: Math.round(out.setupMs),
        };
      } else {
        const base = p?.cell.wallMs && p.cell.cpuMs ? p : undefined;
        cell = {
          method: "deadline", repeats: opts.repeats, finished: 0, deadlineMs: deadline, setupMs: Math.round(out.setupMs),
          lowerBound: { wallMs: deadline, cpuMs: Math.round(out.inProgressCpuMs) },
          ...(base ? { extrapolated: { fromN: base.n, wallMs: (base.cell.wallMs!.median * n) / base.n, cpuMs: (base.cell.cpuMs!.median * n) / base.n } } : {}),
        };
        notes.push(`no run finished within the ${deadline / 1000} s deadline (stopped; the unfinished run had used ${(out.inProgressCpuMs / 1000).toFixed(1)} s CPU)`);
        if (cell.extrapolated) notes.push(`a linear extrapolation from ${base!.n.toLocaleString("en")} would be ${(cell.extrapolated.wallMs / 1000).toFixed(0)} s wall / ${(cell.extrapolated.cpuMs / 1000).toFixed(0)} s CPU (not measured${cell.extrapolated.wallMs < deadline ? "; below the deadline actually hit, so the cost grows faster than linearly" : ""})`);
      }
      if (notes.length) cell.note = notes.join("; ");
      row[peer] = cell;
      prev[peer] = { n, cell };
    }
    rows.push(row as PrepRow);
  }
  return rows;
}
