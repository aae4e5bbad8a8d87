/**
 * An append-only use log as an RFC 6962 / RFC 9162 (Certificate Transparency) Merkle tree, with SHA-256:
 *
 *   leaf hash  = SHA-256(0x00 || entry)             entry = the canonical bytes of one use record
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")                        the empty log
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))     k = the largest power of two < n
 *
 * Why SHA-256 and not keccak256: the log lives off chain (the chain stores only its head), nothing verifies
 * it inside the EVM, so the standard CT construction wins — interoperable with transparency-dev/merkle and
 * other CT tooling, pinned by the CT reference vectors, and hashed natively by node:crypto.
 *
 * STORAGE. Node (level, index) is the hash of the perfect subtree over leaves [index·2^level, (index+1)·2^level).
 * Such a node never changes once its last leaf is appended, so a log stores exactly the perfect subtrees
 * (about 2n hashes for n records) and derives everything else from them:
 *   - `CompactRange` keeps the at most log2(n)+1 perfect subtrees covering [0, n) in memory; `append` costs
 *     O(log n) hashing (amortised 2) and returns the nodes to persist (write them in the same batch as the
 *     record itself).
 *   - `logRootAt`, `inclusionProof`, `consistencyProof` read O(log n) stored nodes through a
 *     {@link LogNodeReader} — for ANY earlier size, so the auditor can ask for proofs between any two heads.
 * The node service can keep nodes in LevelDB under {@link logNodeKey}.
 */
import { createHash, hash as oneShotHash } from "node:crypto";
import { TongbanError } from "../errors.js";
import { bytesToHex, hexToBytes } from "../bytes.js";

/** A log or proof request is malformed (bad size or index, missing stored node, bad hash length). */
export class AuditLogError extends TongbanError<{ reason: string; index?: number; size?: number; level?: number }> {
  override name = "AuditLogError" as const;
}

/** A hash given as bytes or 0x-hex. */
export type HashLike = Uint8Array | string;

/** One stored perfect-subtree hash. */
export interface LogNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/** Reads stored perfect-subtree hashes (sync or async); `undefined` if not stored. */
export interface LogNodeReader {
  getNode(level: number, index: number): Promise<Uint8Array | undefined> | Uint8Array | undefined;
}

/** A reader that also persists nodes (all nodes of one append or batch at once). */
export interface LogNodeStore extends LogNodeReader {
  putNodes(nodes: readonly LogNode[]): Promise<void> | void;
}

/** SHA-256 of the empty string: the root of the empty log. */
export const EMPTY_LOG_ROOT: Uint8Array = Uint8Array.from(createHash("sha256").digest());

/**
 * RFC 6962 leaf hash: SHA-256(0x00 || entry).
 * @example bytesToHex(logLeafHash(new Uint8Array())) // => "0x6e340b9c...a01d"
 */
export function logLeafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf.set(entry, 1); // buf[0] = 0x00
  return oneShotHash("sha256", buf, "buffer");
}

/**
 * RFC 6962 interior node hash: SHA-256(0x01 || left || right).
 * @example logNodeHash(logLeafHash(a), logLeafHash(b)) // the root of the log [a, b]
 */
export function logNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return oneShotHash("sha256", buf, "buffer");
}

/**
 * The largest power of two strictly below n (n >= 2): RFC 6962's split point k.
 * @example splitPoint(5) // => 4
 */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The Merkle tree hash of `entries` (raw record bytes), computed directly (no store).
 * @example bytesToHex(logRoot([])) // => "0xe3b0c442...b855"
 */
export function logRoot(entries: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(entries.map(logLeafHash));
}

/**
 * The Merkle tree hash over already-hashed leaves (iterative, O(n)).
 * @example rootFromLeafHashes(records.map((r) => logLeafHash(r)))
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_LOG_ROOT;
  const range = new CompactRange();
  for (const h of leafHashes) range.append(h);
  return range.root();
}

/**
 * A LevelDB-friendly key for node (level, index) that sorts by level then index:
 * `"n" + level (2 hex digits) + index (14 hex digits)`.
 * @example logNodeKey(0, 5) // => "n0000000000000005"
 */
export function logNodeKey(level: number, index: number): string {
  return "n" + level.toString(16).padStart(2, "0") + index.toString(16).padStart(14, "0");
}

function checkSize(size: number, field: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new AuditLogError(`${field} must be a non-negative safe integer, got ${size}`, { reason: "SIZE", size });
  }
}

/**
 * The perfect subtrees covering [0, size) — the "compact range" / frontier of a log. Appending a leaf
 * hash merges equal-sized subtrees and returns every node that became complete, for the caller to store.
 */
export class CompactRange {
  /** Number of leaves covered. */
  size = 0;
  /** Hashes of the covering perfect subtrees, largest (leftmost) first. */
  readonly frontier: Uint8Array[] = [];

  /**
   * Rebuilds the range of a stored log of `size` leaves from its stored nodes.
   * @example const range = await CompactRange.load(store, savedSize);
   */
  static async load(reader: LogNodeReader, size: number): Promise<CompactRange> {
    checkSize(size, "size");
    const range = new CompactRange();
    let pos = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - pos >= width) {
        range.frontier.push(await readNode(reader, level, pos / width));
        pos += width;
      }
    }
    range.size = size;
    return range;
  }

  /** Appends one leaf hash; returns the new stored nodes (the leaf, then each completed parent). */
  append(leafHash: Uint8Array): LogNode[] {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== 32) {
      throw new AuditLogError("a leaf hash must be 32 bytes", { reason: "HASH_LENGTH", index: this.size });
    }
    const index = this.size;
    const nodes: LogNode[] = [{ level: 0, index, hash: leafHash }];
    let h = leafHash;
    let i = index;
    let level = 0;
    while (i % 2 === 1) {
      const left = this.frontier.pop()!;
      h = logNodeHash(left, h);
      i = (i - 1) / 2;
      level++;
      nodes.push({ level, index: i, hash: h });
    }
    this.frontier.push(h);
    this.size = index + 1;
    return nodes;
  }

  /** The Merkle tree hash of the covered leaves (folding the frontier right to left). */
  root(): Uint8Array {
    if (this.frontier.length === 0) return EMPTY_LOG_ROOT;
    let h = this.frontier[this.frontier.length - 1]!;
    for (let k = this.frontier.length - 2; k >= 0; k--) h = logNodeHash(this.frontier[k]!, h);
    return h;
  }
}

async function readNode(reader: LogNodeReader, level: number, index: number): Promise<Uint8Array> {
  const h = await reader.getNode(level, index);
  if (!(h instanceof Uint8Array) || h.length !== 32) {
    throw new AuditLogError(`stored node (${level}, ${index}) is missing`, { reason: "MISSING_NODE", level, index });
  }
  return h;
}

/** MTH(D[a:b]) for a subtree range of the RFC recursion (a aligned): fold its perfect subtrees. */
async function rangeHash(reader: LogNodeReader, a: number, b: number): Promise<Uint8Array> {
  const reads: Promise<Uint8Array>[] = [];
  let pos = a;
  for (let level = 52; level >= 0 && pos < b; level--) {
    const width = 2 ** level;
    if (b - pos >= width) {
      reads.push(readNode(reader, level, pos / width));
      pos += width;
    }
  }
  const parts = await Promise.all(reads);
  let h = parts[parts.length - 1]!;
  for (let k = parts.length - 2; k >= 0; k--) h = logNodeHash(parts[k]!, h);
  return h;
}

/**
 * The root of the first `size` records of a stored log (any size up to the current one).
 * @example bytesToHex(await logRootAt(store, head.treeSize)) === head.rootHash
 */
export async function logRootAt(reader: LogNodeReader, size: number): Promise<Uint8Array> {
  checkSize(size, "size");
  return size === 0 ? EMPTY_LOG_ROOT : rangeHash(reader, 0, size);
}

/**
 * RFC 6962 audit path of leaf `index` in the tree of the first `size` records, bottom-up
 * (the same as transparency-dev/merkle and RFC 9162 `inclusion_path`). Reads O(log size) stored nodes.
 * @example const proof = await inclusionProof(store, 5, 8); // 3 hashes
 */
export async function inclusionProof(reader: LogNodeReader, index: number, size: number): Promise<Uint8Array[]> {
  checkSize(size, "size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new AuditLogError(`leaf index ${index} is outside a log of size ${size}`, { reason: "INDEX", index, size });
  }
  const out: Uint8Array[] = [];
  const path = async (m: number, a: number, n: number): Promise<void> => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      await path(m, a, k);
      out.push(await rangeHash(reader, a + k, a + n));
    } else {
      await path(m - k, a + k, n - k);
      out.push(await rangeHash(reader, a, a + k));
    }
  };
  await path(index, 0, size);
  return out;
}

/**
 * RFC 6962 consistency proof that the log of size `first` is a prefix of the log of size `second`
 * (empty when first == 0 or first == second). Reads O(log second) stored nodes.
 * @example const proof = await consistencyProof(store, previousHead.treeSize, head.treeSize);
 */
export async function consistencyProof(reader: LogNodeReader, first: number, second: number): Promise<Uint8Array[]> {
  checkSize(first, "first");
  checkSize(second, "second");
  if (first > second) {
    throw new AuditLogError(`first size ${first} exceeds second size ${second}`, { reason: "SIZE_ORDER", size: second });
  }
  if (first === 0 || first === second) return [];
  const out: Uint8Array[] = [];
  const sub = async (m: number, a: number, n: number, whole: boolean): Promise<void> => {
    if (m === n) {
      if (!whole) out.push(await rangeHash(reader, a, a + n));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      await sub(m, a, k, whole);
      out.push(await rangeHash(reader, a + k, a + n));
    } else {
      await sub(m - k, a + k, n - k, false);
      out.push(await rangeHash(reader, a, a + k));
    }
  };
  await sub(first, 0, second, true);
  return out;
}

// ------------------------------------------------------------------------------------------- verification

/** Stable codes of a log proof check (append only; never change a value). */
export const LogCheckCode = {
  VALID: 0,
  ROOT_MISMATCH: 1, // the proof leads to another root (or first root, for consistency)
  PROOF_LENGTH: 2, // too few or too many proof hashes for the sizes given
  INDEX_OUT_OF_RANGE: 3, // leaf index >= size
  SIZE_ORDER: 4, // consistency from a larger to a smaller size
  MALFORMED: 5, // a hash that is not 32 bytes, a size that is not a safe integer
} as const;
export type LogCheckCodeName = keyof typeof LogCheckCode;

/** The result of verifying a log proof: data, never a bare boolean. */
export interface LogCheck {
  status: "VALID" | "INVALID";
  code: (typeof LogCheckCode)[LogCheckCodeName];
  name: LogCheckCodeName;
  reason: string;
}

const result = (name: LogCheckCodeName, reason: string): LogCheck => ({
  status: name === "VALID" ? "VALID" : "INVALID", code: LogCheckCode[name], name, reason,
});

function asHash(h: HashLike): Uint8Array | undefined {
  try {
    const b = typeof h === "string" ? hexToBytes(h, "hash", 32) : h;
    return b instanceof Uint8Array && b.length === 32 ? b : undefined;
  } catch {
    return undefined;
  }
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2): `leafHash` is leaf `index` of the log of `size` with `root`.
 * @example verifyInclusion(logLeafHash(entry), 5, 8, proof, root8).status // => "VALID"
 */
export function verifyInclusion(
  leafHash: HashLike, index: number, size: number, proof: readonly HashLike[], root: HashLike,
): LogCheck {
  const leaf = asHash(leafHash), want = asHash(root);
  const path = Array.isArray(proof) ? proof.map(asHash) : [undefined];
  if (!leaf || !want || path.some((p) => !p) || !isSize(index) || !isSize(size)) {
    return result("MALFORMED", "hashes must be 32 bytes and sizes non-negative integers");
  }
  if (index >= size) return result("INDEX_OUT_OF_RANGE", `leaf index ${index} >= size ${size}`);
  let fn = index, sn = size - 1;
  let r = leaf;
  for (const p of path as Uint8Array[]) {
    if (sn === 0) return result("PROOF_LENGTH", `proof has more than the needed hashes for index ${index} of ${size}`);
    if (fn % 2 === 1 || fn === sn) {
      r = logNodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn /= 2; sn = Math.floor(sn / 2); }
    } else {
      r = logNodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return result("PROOF_LENGTH", `proof has fewer than the needed hashes for index ${index} of ${size}`);
  if (!equal(r, want)) return result("ROOT_MISMATCH", `proof leads to ${bytesToHex(r)}, not the given root`);
  return result("VALID", `leaf ${index} is in the log of size ${size}`);
}

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2): the log of size `first` with `firstRoot` is a prefix of
 * the log of size `second` with `secondRoot`.
 * @example verifyConsistency(6, 8, root6, root8, proof).status // => "VALID"
 */
export function verifyConsistency(
  first: number, second: number, firstRoot: HashLike, secondRoot: HashLike, proof: readonly HashLike[],
): LogCheck {
  const r1 = asHash(firstRoot), r2 = asHash(secondRoot);
  const c = Array.isArray(proof) ? proof.map(asHash) : [undefined];
  if (!r1 || !r2 || c.some((p) => !p) || !isSize(first) || !isSize(second)) {
    return result("MALFORMED", "hashes must be 32 bytes and sizes non-negative integers");
  }
  if (first > second) return result("SIZE_ORDER", `first size ${first} > second size ${second}`);
  if (first === second) {
    if (c.length !== 0) return result("PROOF_LENGTH", "equal sizes need an empty proof");
    return equal(r1, r2) ? result("VALID", "same size, same root") : result("ROOT_MISMATCH", "same size, different roots");
  }
  if (first === 0) {
    if (c.length !== 0) return result("PROOF_LENGTH", "the empty log needs an empty proof");
    return equal(r1, EMPTY_LOG_ROOT) ? result("VALID", "the empty log is a prefix of every log") : result("ROOT_MISMATCH", "size 0 with a non-empty root");
  }
  if (c.length === 0) return result("PROOF_LENGTH", "a non-trivial consistency proof cannot be empty");
  const path = (c as Uint8Array[]).slice();
  if (2 ** Math.round(Math.log2(first)) === first) path.unshift(r1); // first is an exact power of two
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = (fn - 1) / 2; sn = Math.floor(sn / 2); }
  let fr = path[0]!, sr = path[0]!;
  for (const p of path.slice(1)) {
    if (sn === 0) return result("PROOF_LENGTH", `proof has more than the needed hashes for ${first} -> ${second}`);
    if (fn % 2 === 1 || fn === sn) {
      fr = logNodeHash(p, fr);
      sr = logNodeHash(p, sr);
      while (fn % 2 === 0 && fn !== 0) { fn /= 2; sn = Math.floor(sn / 2); }
    } else {
      sr = logNodeHash(sr, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return result("PROOF_LENGTH", `proof has fewer than the needed hashes for ${first} -> ${second}`);
  if (!equal(fr, r1)) return result("ROOT_MISMATCH", `proof does not lead to the first root (size ${first})`);
  if (!equal(sr, r2)) return result("ROOT_MISMATCH", `proof does not lead to the second root (size ${second})`);
  return result("VALID", `the log of size ${first} is a prefix of the log of size ${second}`);
}

// ----------------------------------------------------------------------------------------------- the log

/**
 * An in-memory {@link LogNodeStore} (tests, small logs, caches).
 * @example const log = await MerkleLog.open(new MemoryLogStore());
 */
export class MemoryLogStore implements LogNodeStore {
  private readonly nodes = new Map<string, Uint8Array>();
  getNode(level: number, index: number): Uint8Array | undefined {
    return this.nodes.get(logNodeKey(level, index));
  }
  putNodes(nodes: readonly LogNode[]): void {
    for (const n of nodes) this.nodes.set(logNodeKey(n.level, n.index), n.hash);
  }
  /** Number of stored nodes. */
  get nodeCount(): number {
    return this.nodes.size;
  }
}

/**
 * An append-only Merkle log over a {@link LogNodeStore}. The caller persists the log size itself (e.g. in
 * the same LevelDB batch as the nodes) and reopens with `MerkleLog.open(store, size)`.
 * @example
 * const log = await MerkleLog.open(new MemoryLogStore());
 * await log.append(encodeUseRecord(record));
 * const proof = await log.inclusionProof(0);
 */
export class MerkleLog {
  private constructor(readonly store: LogNodeStore, private readonly range: CompactRange) {}

  /** Opens a stored log of `size` records (0 for a new log). */
  static async open(store: LogNodeStore, size = 0): Promise<MerkleLog> {
    return new MerkleLog(store, await CompactRange.load(store, size));
  }

  /** Number of records. */
  get size(): number {
    return this.range.size;
  }

  /** Current root. */
  root(): Uint8Array {
    return this.range.root();
  }

  /**
   * Computes the nodes for appending `entries` WITHOUT storing them (for a caller that writes nodes and
   * records in one atomic batch), and advances the in-memory range. Returns the first index and the nodes.
   */
  stage(entries: readonly Uint8Array[]): { firstIndex: number; nodes: LogNode[] } {
    const firstIndex = this.range.size;
    const nodes: LogNode[] = [];
    for (const e of entries) nodes.push(...this.range.append(logLeafHash(e)));
    return { firstIndex, nodes };
  }

  /** Appends entries (raw record bytes) and stores their nodes; returns the index of the first. */
  async append(...entries: Uint8Array[]): Promise<number> {
    const { firstIndex, nodes } = this.stage(entries);
    await this.store.putNodes(nodes);
    return firstIndex;
  }

  /** Root of the first `size` records (default: all). */
  async rootAt(size = this.size): Promise<Uint8Array> {
    this.checkUpTo(size);
    return logRootAt(this.store, size);
  }

  /** Inclusion proof of record `index` in the log of `size` records (default: all). */
  async inclusionProof(index: number, size = this.size): Promise<Uint8Array[]> {
    this.checkUpTo(size);
    return inclusionProof(this.store, index, size);
  }

  /** Consistency proof from size `first` to size `second` (default: all). */
  async consistencyProof(first: number, second = this.size): Promise<Uint8Array[]> {
    this.checkUpTo(second);
    return consistencyProof(this.store, first, second);
  }

  private checkUpTo(size: number): void {
    if (size > this.size) {
      throw new AuditLogError(`size ${size} exceeds the log's ${this.size} records`, { reason: "SIZE", size });
    }
  }
}
