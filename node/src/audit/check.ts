/**
 * The audit check of a custodian's use log against the heads it anchored on chain, and the reconciliation
 * of its SERVED records with the requesters' RECEIVED records. Everything found is reported as data
 * ({@link Finding}), never thrown: an auditor wants the whole list.
 *
 *  (a) INCLUSION: every record position below the latest anchored head must hold a record whose leaf hash
 *      is included in that head (the log's own audit path, verified with the SDK) — a missing position is
 *      RECORD_MISSING, a record whose hash is not included is RECORD_ALTERED; and the root recomputed from
 *      the records themselves (not from stored nodes) must equal each anchored root (HEAD_MISMATCH), which
 *      also catches a log rewritten with its tree.
 *  (b) CONSISTENCY: each anchored head must be a prefix of the next (RFC 6962 consistency proof from the
 *      log, verified against the two roots on chain): INCONSISTENT_HEADS otherwise; a log shorter than its
 *      latest head is LOG_TRUNCATED.
 *  (d) USE COUNTS: the SERVED uses per grant each anchor declared on chain (UseLogAnchored) must equal the
 *      SERVED records in its range of the log (USE_COUNT_MISMATCH: uses under-reported to the chain).
 *  (c) RECONCILIATION: by request id, each SERVED record of the custodian for a requester must have a
 *      RECEIVED record in that requester's log with the same fields (UNMATCHED_SERVED / RECORD_MISMATCH),
 *      and each RECEIVED record naming the custodian must have its SERVED record (UNMATCHED_RECEIVED: a use
 *      the custodian hid).
 */
import { verifyInclusion, verifyConsistency } from "@tongban/sdk";
import type { UseLog } from "./use-log.js";
import { decodeUseRecord, type UseRecord } from "./record.js";
import { leafHash, nodeHash, EMPTY_ROOT } from "./tree.js";

export type FindingKind =
  | "RECORD_MISSING"
  | "RECORD_MALFORMED"
  | "RECORD_ALTERED"
  | "HEAD_MISMATCH"
  | "INCONSISTENT_HEADS"
  | "LOG_TRUNCATED"
  | "PROOF_UNAVAILABLE"
  | "UNMATCHED_SERVED"
  | "UNMATCHED_RECEIVED"
  | "RECORD_MISMATCH"
  | "USE_COUNT_MISMATCH";

export interface Finding {
  kind: FindingKind;
  /** the custodian log position concerned, if any */
  seq?: number;
  requestId?: string;
  message: string;
  details?: Record<string, unknown>;
}

/** An anchored head as read from the chain (IAuthorisations.useLogHead). */
export interface ChainHead {
  treeSize: number;
  rootHash: string;
}

export interface LogAuditReport {
  /** records examined */
  records: number;
  /** heads checked */
  heads: number;
  findings: Finding[];
  ok: boolean;
}

const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");

/** (a) + (b): check one custodian's log against its anchored heads (oldest first). */
export async function auditLog(log: UseLog, heads: ChainHead[]): Promise<LogAuditReport> {
  const findings: Finding[] = [];
  const sorted = [...heads].sort((a, b) => a.treeSize - b.treeSize);
  const latest = sorted[sorted.length - 1];
  const limit = latest?.treeSize ?? 0;
  if (limit > log.size) {
    findings.push({ kind: "LOG_TRUNCATED", message: `the log holds ${log.size} records, its anchored head ${limit}`, details: { logSize: log.size, headSize: limit } });
  }
  // walk the records once: recompute roots at every head size from the records themselves (a right edge),
  // and collect the positions to prove against the latest head
  const frontier: (Buffer | undefined)[] = [];
  let count = 0;
  let expect = 0;
  let headIdx = 0;
  const present: { seq: number; leaf: Buffer }[] = [];
  const rootOfEdge = (): Buffer => {
    let r: Buffer | undefined;
    for (const f of frontier) if (f) r = r ? nodeHash(f, r) : f;
    return r ?? EMPTY_ROOT;
  };
  const checkHeadsUpTo = (n: number) => {
    while (headIdx < sorted.length && sorted[headIdx]!.treeSize <= n) {
      const h = sorted[headIdx]!;
      if (h.treeSize === n) {
        const r = hex(rootOfEdge());
        if (r !== h.rootHash.toLowerCase()) {
          findings.push({ kind: "HEAD_MISMATCH", message: `the records do not hash to the anchored root of size ${h.treeSize}`, details: { treeSize: h.treeSize, anchored: h.rootHash, recomputed: r } });
        }
      }
      headIdx++;
    }
  };
  const absorb = (lh: Buffer) => {
    let h = lh;
    let l = 0;
    while (frontier[l]) {
      h = nodeHash(frontier[l]!, h);
      frontier[l] = undefined;
      l++;
    }
    frontier[l] = h;
    count++;
    checkHeadsUpTo(count);
  };
  for await (const { seq, raw } of log.scan(0, Math.max(limit, log.size))) {
    for (; expect < seq; expect++) {
      if (expect < limit) findings.push({ kind: "RECORD_MISSING", seq: expect, message: `record ${expect} is missing from the log` });
    }
    expect = seq + 1;
    const lh = leafHash(raw);
    try {
      decodeUseRecord(raw, seq);
    } catch (e) {
      findings.push({ kind: "RECORD_MALFORMED", seq, message: `record ${seq} does not decode: ${(e as Error).message}` });
    }
    if (seq < limit) present.push({ seq, leaf: lh });
    absorb(lh);
  }
  for (; expect < limit; expect++) findings.push({ kind: "RECORD_MISSING", seq: expect, message: `record ${expect} is missing from the log` });
  // heads beyond what the records reach were not met: their root could not be recomputed
  for (; headIdx < sorted.length; headIdx++) {
    const h = sorted[headIdx]!;
    findings.push({ kind: "HEAD_MISMATCH", message: `the records do not reach the anchored size ${h.treeSize}`, details: { treeSize: h.treeSize, records: count } });
  }
  // (a) each record's inclusion in the latest head, with the log's audit paths
  if (latest && limit <= log.size) {
    const CHUNK = 4096;
    for (let i = 0; i < present.length; i += CHUNK) {
      const part = present.slice(i, i + CHUNK);
      let proofs: string[][];
      try {
        proofs = await log.inclusionProofs(part.map((p) => p.seq), limit);
      } catch (e) {
        findings.push({ kind: "PROOF_UNAVAILABLE", message: `the log cannot produce proofs: ${(e as Error).message}` });
        break;
      }
      part.forEach((p, j) => {
        const v = verifyInclusion(p.leaf, p.seq, limit, proofs[j]!, latest.rootHash);
        if (v.status !== "VALID") {
          findings.push({ kind: "RECORD_ALTERED", seq: p.seq, message: `record ${p.seq} is not the one included in the anchored head of size ${limit} (${v.name})`, details: { leafHash: hex(p.leaf), check: v.name } });
        }
      });
    }
  }
  // (b) consecutive heads are consistent
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.treeSize > log.size) break;
    let proof: string[];
    try {
      proof = await log.consistencyProof(a.treeSize, b.treeSize);
    } catch (e) {
      findings.push({ kind: "PROOF_UNAVAILABLE", message: `no consistency proof ${a.treeSize} -> ${b.treeSize}: ${(e as Error).message}` });
      continue;
    }
    const v = verifyConsistency(a.treeSize, b.treeSize, a.rootHash, b.rootHash, proof);
    if (v.status !== "VALID") {
      findings.push({ kind: "INCONSISTENT_HEADS", message: `anchored head ${a.treeSize} is not a prefix of head ${b.treeSize} per the log (${v.name})`, details: { from: a.treeSize, to: b.treeSize, check: v.name } });
    }
  }
  return { records: count, heads: sorted.length, findings, ok: findings.length === 0 };
}

async function recordsOf(log: UseLog, pick: (r: UseRecord) => boolean): Promise<Map<string, UseRecord>> {
  const m = new Map<string, UseRecord>();
  for await (const { seq, raw } of log.scan()) {
    let r: UseRecord;
    try {
      r = decodeUseRecord(raw, seq);
    } catch {
      continue; // reported by auditLog
    }
    if (pick(r)) m.set(r.requestId, r);
  }
  return m;
}

/**
 * (c) Reconcile a custodian's SERVED records for `requester` with that requester's RECEIVED records from
 * the custodian, by request id; fields must agree except the direction.
 */
export async function reconcileLogs(custodianLog: UseLog, custodian: string, requesterLog: UseLog, requester: string): Promise<Finding[]> {
  const c = custodian.toLowerCase();
  const q = requester.toLowerCase();
  // material exchanges (basis GRANT); a data use under a scenario is logged by the consumer alone
  const served = await recordsOf(custodianLog, (r) => r.basis === "GRANT" && r.direction === "SERVED" && r.custodian === c && r.requester === q);
  const received = await recordsOf(requesterLog, (r) => r.basis === "GRANT" && r.direction === "RECEIVED" && r.custodian === c && r.requester === q);
  const findings: Finding[] = [];
  for (const [id, s] of served) {
    const r = received.get(id);
    if (!r) {
      findings.push({ kind: "UNMATCHED_SERVED", seq: s.seq, requestId: id, message: `custodian record ${s.seq} has no RECEIVED record at the requester` });
      continue;
    }
    const diff = (["time", "grantId", "matter", "typeCode", "leaf"] as const).filter((k) => s[k] !== r[k]);
    if (diff.length) findings.push({ kind: "RECORD_MISMATCH", seq: s.seq, requestId: id, message: `SERVED ${s.seq} and RECEIVED ${r.seq} differ in ${diff.join(", ")}`, details: { fields: diff, receivedSeq: r.seq } });
  }
  for (const [id, r] of received) {
    if (!served.has(id)) findings.push({ kind: "UNMATCHED_RECEIVED", requestId: id, message: `requester record ${r.seq} has no SERVED record in the custodian's log`, details: { receivedSeq: r.seq } });
  }
  return findings;
}

/** An anchor as the chain recorded it (IAuthorisations.UseLogAnchored). */
export interface ChainAnchor {
  treeSize: number;
  uses: { grantId: string; count: number }[];
}

/** (d) The uses per grant declared with each anchor equal the SERVED records of its range. */
export async function auditUseCounts(log: UseLog, anchors: ChainAnchor[]): Promise<Finding[]> {
  const sorted = [...anchors].sort((a, b) => a.treeSize - b.treeSize);
  const findings: Finding[] = [];
  let prev = 0;
  for (const a of sorted) {
    const counted = new Map<string, number>();
    for await (const { seq, raw } of log.scan(prev, Math.min(a.treeSize, log.size))) {
      let r: UseRecord;
      try {
        r = decodeUseRecord(raw, seq);
      } catch {
        continue;
      }
      if (r.direction === "SERVED" && r.basis === "GRANT") counted.set(r.grantId, (counted.get(r.grantId) ?? 0) + 1); // scenario uses are not grant uses
    }
    const declared = new Map(a.uses.map((u) => [u.grantId.toLowerCase(), u.count]));
    for (const g of new Set([...counted.keys(), ...declared.keys()])) {
      const c = counted.get(g) ?? 0;
      const d = declared.get(g) ?? 0;
      if (c !== d) {
        findings.push({ kind: "USE_COUNT_MISMATCH", message: `anchor of size ${a.treeSize} declared ${d} uses of grant ${g}, its records hold ${c}`, details: { treeSize: a.treeSize, grantId: g, declared: d, records: c } });
      }
    }
    prev = a.treeSize;
  }
  return findings;
}
