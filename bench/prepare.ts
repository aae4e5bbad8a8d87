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

export async function prepareBench(opts: {
  sizes: number[];
  repeats: number;
  documentStore: string;
  /** OZ proofs above this many leaves are timed on this many evenly spaced leaves and scaled to n */
  ozProofSample: number;
  /** run wrapDocuments at a size only if its projected wall time (from the previous size) is under this */
  oaBudgetMs: number;
}): Promise<PrepRow[]> {
  const rows: PrepRow[] = [];
  let oaPrev: { n: number; wall: number; cpu: number } | undefined;
  for (const n of opts.sizes) {
    const records = licenceRecords(n, 7);
    ours(records.slice(0, 256)); // warm-up (WebAssembly keccak, JIT)

    const o: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < opts.repeats; r++) o.push(measure(() => { if (ours(records) !== n) throw new Error("proof count"); }));
    log(`n=${n} ours: ${o.map((x) => `${x.wall.toFixed(0)}ms wall/${x.cpu.toFixed(0)}ms cpu`).join(", ")}`);

    const z: { wall: number; cpu: number }[] = [];
    const sample = Math.min(n, opts.ozProofSample);
    for (let r = 0; r < opts.repeats; r++) {
      let proofs = { wall: 0, cpu: 0 };
      const all = measure(() => {
        const headers = records.map((rec) => headerOf(rec, contentOf(rec)));
        const tree = StandardMerkleTree.of(headers.map(headerValues), [...HEADER_ABI_TYPES]);
        proofs = measure(() => { for (let k = 0; k < sample; k++) tree.getProof(Math.floor((k * n) / sample)); });
      });
      const scale = n / sample;
      z.push({ wall: all.wall - proofs.wall + proofs.wall * scale, cpu: all.cpu - proofs.cpu + proofs.cpu * scale });
    }
    log(`n=${n} OZ: ${z.map((x) => `${x.wall.toFixed(0)}ms wall/${x.cpu.toFixed(0)}ms cpu`).join(", ")}${sample < n ? ` (proofs sampled ${sample}, scaled)` : ""}`);

    const a: { wall: number; cpu: number }[] = [];
    let oaMethod: PrepCell["method"] = "measured";
    let oaNote: string | undefined;
    const projected = oaPrev ? (oaPrev.wall * n) / oaPrev.n : 0;
    if (oaPrev && projected > opts.oaBudgetMs) {
      const f = n / oaPrev.n;
      a.push({ wall: oaPrev.wall * f, cpu: oaPrev.cpu * f });
      oaMethod = "extrapolated";
      oaNote = `not run: projected ${(projected / 1000).toFixed(0)} s wall per run > budget ${(opts.oaBudgetMs / 1000).toFixed(0)} s; linear extrapolation x${f} of the ${oaPrev.n.toLocaleString("en")} medians`;
    } else {
      const docs = records.map((rec) => oaDocumentOf(rec, opts.documentStore));
      wrapDocuments(docs.slice(0, 64) as never);
      const reps = oaPrev && projected * opts.repeats > opts.oaBudgetMs ? 1 : opts.repeats;
      for (let r = 0; r < reps; r++) a.push(measure(() => { if (wrapDocuments(docs as never).length !== n) throw new Error("wrap count"); }));
      if (reps < opts.repeats) oaNote = `${reps} run only (time budget)`;
    }
    log(`n=${n} OA wrapDocuments: ${a.map((x) => `${x.wall.toFixed(0)}ms wall/${x.cpu.toFixed(0)}ms cpu`).join(", ")} ${oaNote ?? ""}`);
    const cell = (xs: { wall: number; cpu: number }[], method: PrepCell["method"], note?: string): PrepCell => ({
      wallMs: spread(xs.map((x) => x.wall)), cpuMs: spread(xs.map((x) => x.cpu)), method, ...(note ? { note } : {}),
    });
    const oaCell = cell(a, oaMethod, oaNote);
    if (oaMethod === "measured") oaPrev = { n, wall: oaCell.wallMs.median, cpu: oaCell.cpuMs.median };
    rows.push({
      n,
      ours: cell(o, "measured"),
      oz: cell(z, sample < n ? "proofs-sampled" : "measured", sample < n ? `getProof timed on ${sample.toLocaleString("en")} evenly spaced leaves, scaled x${n / sample}` : undefined),
      oa: oaCell,
    });
  }
  return rows;
}
