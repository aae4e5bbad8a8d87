/**
 * Time to prepare a batch: from the documents to a root and every material's proof.
 *  - ours (SDK): content bytes -> SHA-256 content hash, keyed holder reference, header -> leaf
 *    (computeLeaf), buildMerkleTree, getAllProofs;
 *  - OpenZeppelin StandardMerkleTree: the same content hashing and headers, StandardMerkleTree.of(header
 *    values, HEADER_ABI_TYPES), getProof for every leaf;
 *  - OpenAttestation wrapDocuments (v2): salting, per-field hashing, target hashes, tree, every proof.
 * Wall time and CPU time (user+system of this process; the work is single-threaded, so CPU time is the work
 * itself while wall time also counts the time other processes hold the cores).
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { wrapDocuments } from "@govtechsg/open-attestation";
import { buildMerkleTree, computeLeaf, HEADER_ABI_TYPES, type MaterialHeader } from "../sdk/src/index.js";
import { contentOf, headerOf, licenceRecords, oaDocumentOf, type LicenceRecord } from "./lib/documents.js";
import { spread, type Spread } from "./lib/stats.js";

export interface PrepCell {
  wallMs: Spread;
  cpuMs: Spread;
  /** how the figure was obtained when not a full measurement at this size */
  method: "measured" | "proofs-sampled" | "extrapolated";
  note?: string;
}

export interface PrepRow {
  n: number;
  ours: PrepCell;
  oz: PrepCell;
  oa: PrepCell;
}

const log = (s: string) => process.stdout.write(`  [prepare] ${s}\n`);

function measure(fn: () => void): { wall: number; cpu: number } {
  global.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function ours(records: LicenceRecord[]): number {
  const headers = records.map((r) => headerOf(r, contentOf(r)));
  const tree = buildMerkleTree(headers.map(computeLeaf));
  return tree.getAllProofs().length;
}

const headerValues = (h: MaterialHeader) => [h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg, h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes];

type Sample = { wall: number; cpu: number };

/**
 * Runs `fn` `repeats` times at size n, unless the projection from the previous measured size (linear in n) says
 * one run would exceed the budget: then extrapolates linearly (labelled). At a size after the first, repeats stop
 * when the next run would take the cell past the budget (at least one run); the first size gets every repeat.
 */
function budgeted(n: number, repeats: number, budgetMs: number, prev: { n: number; wall: number; cpu: number } | undefined, fn: () => Sample): { xs: Sample[]; method: "measured" | "extrapolated"; note?: string } {
  const projected = prev ? (prev.wall * n) / prev.n : 0;
  if (prev && projected > budgetMs) {
    const f = n / prev.n;
    return {
      xs: [{ wall: prev.wall * f, cpu: prev.cpu * f }],
      method: "extrapolated",
      note: `not run: projected ${(projected / 1000).toFixed(0)} s wall per run > budget ${(budgetMs / 1000).toFixed(0)} s; linear extrapolation x${f} of the ${prev.n.toLocaleString("en")} medians`,
    };
  }
  // repeat while the next run is expected to keep this cell's total within the budget (at least one run)
  const xs: Sample[] = [];
  let spent = 0;
  for (let r = 0; r < repeats; r++) {
    if (prev && r > 0 && spent + xs[xs.length - 1]!.wall > budgetMs) break; // the first size always gets every repeat
    xs.push(fn());
    spent += xs[xs.length - 1]!.wall;
  }
  return { xs, method: "measured", ...(xs.length < repeats ? { note: `${xs.length} run${xs.length > 1 ? "s" : ""} only (time budget ${(budgetMs / 1000).toFixed(0)} s per cell)` } : {}) };
}

export async function prepareBench(opts: {
  sizes: number[];
  repeats: number;
  documentStore: string;
  /** OZ proofs above this many leaves are timed on this many evenly spaced leaves and scaled to n */
  ozProofSample: number;
  /** run OZ / wrapDocuments at a size only if its projected wall time per run (from the previous size) is under this */
  budgetMs: number;
}): Promise<PrepRow[]> {
  const rows: PrepRow[] = [];
  let ozPrev: { n: number; wall: number; cpu: number } | undefined;
  let oaPrev: { n: number; wall: number; cpu: number } | undefined;
  const show = (xs: Sample[]) => xs.map((x) => `${x.wall.toFixed(0)}ms wall/${x.cpu.toFixed(0)}ms cpu`).join(", ");
  const cell = (xs: Sample[], method: PrepCell["method"], note?: string): PrepCell => ({
    wallMs: spread(xs.map((x) => x.wall)), cpuMs: spread(xs.map((x) => x.cpu)), method, ...(note ? { note } : {}),
  });
  for (const n of opts.sizes) {
    const records = licenceRecords(n, 7);
    ours(records.slice(0, 256)); // warm-up (WebAssembly keccak, JIT)

    const o: Sample[] = [];
    for (let r = 0; r < opts.repeats; r++) o.push(measure(() => { if (ours(records) !== n) throw new Error("proof count"); }));
    log(`n=${n} ours: ${show(o)}`);

    const sample = Math.min(n, opts.ozProofSample);
    const z = budgeted(n, opts.repeats, opts.budgetMs, ozPrev, () => {
      let proofs: Sample = { wall: 0, cpu: 0 };
      const all = measure(() => {
        const headers = records.map((rec) => headerOf(rec, contentOf(rec)));
        const tree = StandardMerkleTree.of(headers.map(headerValues), [...HEADER_ABI_TYPES]);
        proofs = measure(() => { for (let k = 0; k < sample; k++) tree.getProof(Math.floor((k * n) / sample)); });
      });
      const scale = n / sample;
      return { wall: all.wall - proofs.wall + proofs.wall * scale, cpu: all.cpu - proofs.cpu + proofs.cpu * scale };
    });
    log(`n=${n} OZ: ${show(z.xs)}${sample < n && z.method === "measured" ? ` (proofs sampled ${sample}, scaled)` : ""} ${z.note ?? ""}`);

    const docs = records.map((rec) => oaDocumentOf(rec, opts.documentStore));
    wrapDocuments(docs.slice(0, 64) as never);
    const a = budgeted(n, opts.repeats, opts.budgetMs, oaPrev, () => measure(() => { if (wrapDocuments(docs as never).length !== n) throw new Error("wrap count"); }));
    log(`n=${n} OA wrapDocuments: ${show(a.xs)} ${a.note ?? ""}`);

    const ozNote = [z.method === "measured" && sample < n ? `getProof timed on ${sample.toLocaleString("en")} evenly spaced leaves, scaled x${n / sample}` : "", z.note ?? ""].filter(Boolean).join("; ");
    const ozCell = cell(z.xs, z.method === "extrapolated" ? "extrapolated" : sample < n ? "proofs-sampled" : "measured", ozNote || undefined);
    const oaCell = cell(a.xs, a.method, a.note);
    if (z.method === "measured") ozPrev = { n, wall: ozCell.wallMs.median, cpu: ozCell.cpuMs.median };
    if (a.method === "measured") oaPrev = { n, wall: oaCell.wallMs.median, cpu: oaCell.cpuMs.median };
    rows.push({ n, ours: cell(o, "measured"), oz: ozCell, oa: oaCell });
  }
  return rows;
}
