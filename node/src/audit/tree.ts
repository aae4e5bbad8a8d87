/**
 * Storage-side RFC 6962 / RFC 9162 Merkle tree arithmetic for the use log.
 *
 * The log stores the hash of every PERFECT subtree: node (level l, index i) covers leaves
 * [i * 2^l, (i + 1) * 2^l). Appending leaf n writes node (0, n) and, while the index is odd, the parent of
 * it and its left sibling: amortised 2 writes, worst log2(n). The root of any size and every inclusion or
 * consistency proof are folds of O(log n) perfect-subtree hashes, so a proof is one batched read.
 *
 * The proofs produced here are the RFC 9162 (section 2.1.3 / 2.1.4) audit paths and consistency proofs;
 * verifiers (the SDK's, or `verify*` below used by the audit check) need nothing of this storage.
 */
import { createHash } from "node:crypto";

export const HASH_BYTES = 32;

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([0])).update(data).digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([1])).update(left).update(right).digest();
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

// ------------------------------------------------------------------------------------------------ verifiers

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** RFC 9162 2.1.3.2: verify an inclusion proof of `leaf` (a leaf HASH) at `index` in a tree of `size`. */
export function verifyInclusionProof(leaf: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && eq(r, root);
}

/** RFC 9162 2.1.4.2: verify a consistency proof between (size1, root1) and (size2, root2). */
export function verifyConsistencyProof(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  if (size1 === size2) return proof.length === 0 && eq(root1, root2);
  if (!(size1 > 0 && size1 < size2)) return size1 === 0 && proof.length === 0;
  const path = [...proof];
  if (isPow2(size1)) path.unshift(root1);
  if (path.length === 0) return false;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return eq(fr, root1) && eq(sr, root2) && sn === 0;
}
