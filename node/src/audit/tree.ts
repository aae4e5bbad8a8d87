/**
 * Storage-side RFC 6962 / RFC 9162 Merkle tree arithmetic for the use log.
 *
 * The log stores the hash of every PERFECT subtree: node (level l, index i) covers leaves
 * [i * 2^l, (i + 1) * 2^l). Appending leaf n writes node (0, n) and, while the index is odd, the parent of
 * it and its left sibling: amortised 2 writes, worst log2(n). The root of any size and every inclusion or
 * consistency proof are folds of O(log n) perfect-subtree hashes, so a proof is one batched read.
 *
 * The proofs produced here are the RFC 9162 (section 2.1.3 / 2.1.4) audit paths and consistency proofs,
 * verified with the SDK's `verifyInclusion` / `verifyConsistency`; this file only addresses stored nodes so
 * that all the nodes of many proofs are fetched in ONE batched read (the SDK's reader asks node by node).
 */
import { createHash, hash } from "node:crypto";

export const HASH_BYTES = 32;

// One-shot crypto.hash (Node >= 20.12, the engines field asks for 20.19) over one buffer: ~35 % less CPU per
// hash than a createHash object with three updates, on the append path's 1-2 hashes per record.

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(1 + data.length);
  b[0] = 0;
  b.set(data, 1);
  return hash("sha256", b, "buffer");
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(1 + left.length + right.length);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return hash("sha256", b, "buffer");
}

/** RFC 6962 hash of the empty tree: SHA-256(""). */
export const EMPTY_ROOT = createHash("sha256").digest();

/** Address of a perfect subtree. */
export interface NodeAddr {
  level: number;
  index: number;
}

/** Largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPow2(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

/**
 * A subtree hash expressed as a fold of perfect subtrees, left to right: MTH(D[a:a+size]) =
 * fold-right of node hashes. `nodes` are addresses of perfect subtrees whose concatenation is [a, a+size).
 */
export interface Span {
  nodes: NodeAddr[];
}

/** Perfect subtrees covering [start, start + size) the way RFC 6962's MTH splits it (largest first). */
export function spanOf(start: number, size: number): Span {
  const nodes: NodeAddr[] = [];
  let a = start;
  let s = size;
  while (s > 0) {
    if (isPow2(s) && a % s === 0) {
      nodes.push({ level: Math.log2(s), index: a / s });
      break;
    }
    const k = splitPoint(s);
    // [a, a+k) is aligned: every start reached by MTH/PATH/SUBPROOF from 0 is a multiple of the enclosing split
    nodes.push({ level: Math.log2(k), index: a / k });
    a += k;
    s -= k;
  }
  return { nodes };
}

/** Fold a span's node hashes into the subtree hash: H(n0, H(n1, H(n2, ...))). */
export function foldSpan(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let r = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHash(hashes[i]!, r);
  return r;
}

/** The spans whose hashes make the RFC 9162 inclusion proof of leaf m in a tree of size n, in proof order. */
export function inclusionSpans(m: number, n: number): Span[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} outside tree of size ${n}`);
  const out: Span[] = [];
  // PATH(m, D[a:a+size]): returns leaf-to-root order; recursion appends the sibling after the sub-path
  const path = (mm: number, a: number, size: number): void => {
    if (size <= 1) return;
    const k = splitPoint(size);
    if (mm < k) {
      path(mm, a, k);
      out.push(spanOf(a + k, size - k));
    } else {
      path(mm - k, a + k, size - k);
      out.push(spanOf(a, k));
    }
  };
  path(m, 0, n);
  return out;
}

/** The spans of the RFC 9162 consistency proof from size m to size n (0 < m <= n), in proof order. */
export function consistencySpans(m: number, n: number): Span[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`consistency ${m} -> ${n} is not defined`);
  const out: Span[] = [];
  const sub = (mm: number, a: number, size: number, b: boolean): void => {
    if (mm === size) {
      if (!b) out.push(spanOf(a, size));
      return;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      sub(mm, a, k, b);
      out.push(spanOf(a + k, size - k));
    } else {
      sub(mm - k, a + k, size - k, false);
      out.push(spanOf(a, k));
    }
  };
  sub(m, 0, n, true);
  return out;
}
