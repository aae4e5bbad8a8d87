/**
 * One cell of the prepare section, in its own process (forked by prepare.ts): builds the n documents, warms up,
 * then runs the peer's preparation `repeats` times, sending each run's wall and CPU time to the parent as soon
 * as it ends. The parent kills this process at its deadline: runs finished before that are kept as measured, a
 * run in progress is not counted. Own process so that (a) a long synchronous call (OpenAttestation
 * `wrapDocuments` of 100,000 documents) can be cut short, and (b) `process.cpuUsage()` is this work's CPU alone.
 *
 * Messages to the parent: { kind: "ready", setupMs } | { kind: "run", wall, cpu, proofWall?, proofCpu? } |
 * { kind: "done" } | { kind: "error", message }.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { wrapDocuments } from "@govtechsg/open-attestation";
import { buildMerkleTree, computeLeaf, HEADER_ABI_TYPES, type MaterialHeader } from "../sdk/src/index.js";
import { contentOf, headerOf, licenceRecords, oaDocumentOf, type LicenceRecord } from "./lib/documents.js";

export type Peer = "ours" | "oz" | "oa";
export interface CellJob {
  peer: Peer;
  n: number;
  repeats: number;
  seed: number;
  documentStore: string;
  /** OZ: getProof timed on this many evenly spaced leaves and scaled to n when n is larger */
  ozProofSample: number;
}
export type CellMessage =
  | { kind: "ready"; setupMs: number }
  | { kind: "run"; wall: number; cpu: number }
  | { kind: "done" }
  | { kind: "error"; message: string };

const send = (m: CellMessage) => new Promise<void>((resolve) => process.send!(m, undefined, undefined, () => resolve()));

function measure(fn: () => void): { wall: number; cpu: number } {
  (globalThis as { gc?: () => void }).gc?.();
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

/** OZ: content hashing + headers + StandardMerkleTree.of + getProof for every leaf (sampled above ozProofSample, scaled). */
function oz(records: LicenceRecord[], sample: number): { wall: number; cpu: number } {
  const n = records.length;
  let proofs = { wall: 0, cpu: 0 };
  const all = measure(() => {
    const headers = records.map((rec) => headerOf(rec, contentOf(rec)));
    const tree = StandardMerkleTree.of(headers.map(headerValues), [...HEADER_ABI_TYPES]);
    proofs = measure(() => { for (let k = 0; k < sample; k++) tree.getProof(Math.floor((k * n) / sample)); });
  });
  const scale = n / sample;
  return { wall: all.wall - proofs.wall + proofs.wall * scale, cpu: all.cpu - proofs.cpu + proofs.cpu * scale };
}

async function main(job: CellJob): Promise<void> {
  const t0 = performance.now();
  const records = licenceRecords(job.n, job.seed);
  let run: () => { wall: number; cpu: number };
  if (job.peer === "ours") {
    ours(records.slice(0, 256)); // warm-up (WebAssembly keccak, JIT)
    run = () => measure(() => { if (ours(records) !== job.n) throw new Error("proof count"); });
  } else if (job.peer === "oz") {
    oz(records.slice(0, 64), 64);
    const sample = Math.min(job.n, job.ozProofSample);
    run = () => oz(records, sample);
  } else {
    const docs = records.map((rec) => oaDocumentOf(rec, job.documentStore));
    wrapDocuments(docs.slice(0, 64) as never);
    run = () => measure(() => { if (wrapDocuments(docs as never).length !== job.n) throw new Error("wrap count"); });
  }
  await send({ kind: "ready", setupMs: performance.now() - t0 });
  for (let r = 0; r < job.repeats; r++) await send({ kind: "run", ...run() });
  await send({ kind: "done" });
}

process.once("message", (job: CellJob) => {
  main(job).then(
    () => process.exit(0),
    async (e: unknown) => { await send({ kind: "error", message: String((e as Error)?.stack ?? e) }); process.exit(1); },
  );
});
