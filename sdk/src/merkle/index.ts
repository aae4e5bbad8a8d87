/**
 * The material Merkle tree (THE TREE in contracts/interfaces/IMaterialRegistry.sol): leaves in the order given;
 * each level hashes adjacent pairs (2i, 2i+1) with the commutative keccak256 of the sorted pair (OpenZeppelin
 * MerkleProof); an odd last node is carried up unchanged; a batch of one has root == leaf and an empty proof;
 * leaves are not hashed again.
 *
 * Built for speed: every level is one preallocated buffer, pairs are hashed by a keccak256-of-64-bytes assembled
 * as WebAssembly at load (`keccak-wasm.ts`, native i64 lanes; its memory keeps the largest tree's size), with an
 * unrolled allocation-free JS fallback (`keccak64.ts`), and a proof is an index walk over the levels. Hex strings are made
 * once per level, only when proofs are asked for as hex.
 */
import { keccak_256 } from "@noble/hashes/sha3";
import { MerkleError } from "../errors.js";
import { bytesToHex, hexToBytes } from "../bytes.js";
import { keccak64 } from "./keccak64.js";
import { keccak64Wasm } from "./keccak-wasm.js";

/** A 32-byte value: 0x-hex string or 32 bytes. */
export type Bytes32Like = string | Uint8Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Whether node at byte offset `pa` sorts before (or equals) node at `pb` (unsigned big-endian byte order). */
function sortsFirst(u8: Uint8Array, pa: number, pb: number): boolean {
  for (let k = 0; k < 32; k++) {
    const x = u8[pa + k]!, y = u8[pb + k]!;
    if (x !== y) return x < y;
  }
  return true;
}

/** Hashes one level into the next: `src` has `len` nodes; returns the parent level. */
function hashLevel(src: Uint8Array, len: number): Uint8Array {
  const parentLen = (len + 1) >> 1;
  const dst = new Uint8Array(parentLen * 32);
  if (LITTLE_ENDIAN) {
    const sw = new Int32Array(src.buffer, src.byteOffset, len * 8);
    const dw = new Int32Array(dst.buffer, dst.byteOffset, parentLen * 8);
    const pairs = len >> 1;
    for (let p = 0; p < pairs; p++) {
      const a = p << 4, b = a + 8;
      if (sortsFirst(src, a << 2, b << 2)) keccak64(sw, a, b, dw, p << 3);
      else keccak64(sw, b, a, dw, p << 3);
    }
  } else {
    const pairs = len >> 1;
    for (let p = 0; p < pairs; p++) {
      const a = p * 64, b = a + 32;
      const first = sortsFirst(src, a, b);
      const buf = new Uint8Array(64);
      buf.set(src.subarray(first ? a : b, (first ? a : b) + 32), 0);
      buf.set(src.subarray(first ? b : a, (first ? b : a) + 32), 32);
      dst.set(keccak_256(buf), p * 32);
    }
  }
  if (len & 1) dst.set(src.subarray((len - 1) * 32, len * 32), (parentLen - 1) * 32);
  return dst;
}

/**
 * Builds every level above `leaves` inside the WebAssembly hasher's memory (levels laid out one after another),
 * then copies them out. Returns null when WebAssembly is unavailable.
 */
function buildLevelsWasm(leaves: Uint8Array, n: number): Uint8Array[] | null {
  const w = keccak64Wasm();
  if (w === null) return null;
  let total = 0;
  for (let len = n; ; len = (len + 1) >> 1) { total += len; if (len === 1) break; }
  const need = total * 32;
  const have = w.memory.buffer.byteLength;
  if (have < need) w.memory.grow(Math.ceil((need - have) / 65536));
  const mem = new Uint8Array(w.memory.buffer);
  mem.set(leaves, 0);
  const levels: Uint8Array[] = [leaves];
  const k = w.k;
  let src = 0, len = n;
  while (len > 1) {
    const dst = src + len * 32;
    const pairs = len >> 1;
    for (let p = 0; p < pairs; p++) {
      const a = src + p * 64, b = a + 32;
      if (sortsFirst(mem, a, b)) k(a, b, dst + p * 32);
      else k(b, a, dst + p * 32);
    }
    const parentLen = (len + 1) >> 1;
    if (len & 1) mem.copyWithin(dst + (parentLen - 1) * 32, src + (len - 1) * 32, src + len * 32);
    levels.push(mem.slice(dst, dst + parentLen * 32));
    src = dst;
    len = parentLen;
  }
  return levels;
}

function packLeaves(leaves: readonly Bytes32Like[]): Uint8Array {
  const n = leaves.length;
  const packed = new Uint8Array(n * 32);
  const view = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  for (let i = 0; i < n; i++) {
    const leaf = leaves[i]!;
    if (typeof leaf === "string") {
      const ok = leaf.length === 66 && leaf.charCodeAt(0) === 48 && (leaf.charCodeAt(1) | 32) === 120
        && view.write(leaf.slice(2), i * 32, 32, "hex") === 32;
      if (!ok) throw new MerkleError(`leaf ${i} is not 32-byte 0x-hex`, { reason: "BAD_LEAF", index: i, size: n, leaf });
    } else {
      if (!(leaf instanceof Uint8Array) || leaf.length !== 32) {
        throw new MerkleError(`leaf ${i} is not 32 bytes`, { reason: "BAD_LEAF", index: i, size: n });
      }
      packed.set(leaf, i * 32);
    }
  }
  return packed;
}

/**
 * A built Merkle tree over material leaves. Immutable.
 * @example
 * const tree = buildMerkleTree([leafA, leafB, leafC]);
 * tree.root;            // "0x..."
 * tree.getProof(2);     // ["0x..."] (leafC is carried up one level)
 */
export class MerkleTree {
  /** Number of leaves. */
  readonly size: number;
  /** levels[0] = packed leaves, last = root; each a packed buffer of 32-byte nodes. */
  readonly #levels: Uint8Array[];
  readonly #lengths: number[];
  readonly #hex: (string | undefined)[];
  readonly #nodeHex: (string[] | undefined)[];
  #index: Map<string, number> | undefined;

  /** @internal use {@link buildMerkleTree} */
  constructor(packedLeaves: Uint8Array, options: BuildMerkleTreeOptions = {}) {
    const n = packedLeaves.length / 32;
    if (!Number.isInteger(n) || n < 1) {
      throw new MerkleError("a Merkle tree needs at least one leaf", { reason: "EMPTY", size: 0 });
    }
    this.size = n;
    const viaWasm = n > 1 && options.hasher !== "js" ? buildLevelsWasm(packedLeaves, n) : null;
    this.#levels = viaWasm ?? [packedLeaves];
    this.#lengths = [n];
    let len = n, level = packedLeaves;
    while (len > 1) {
      len = (len + 1) >> 1;
      this.#lengths.push(len);
      if (viaWasm === null) {
        level = hashLevel(level, this.#lengths[this.#lengths.length - 2]!);
        this.#levels.push(level);
      }
    }
    this.#hex = new Array(this.#levels.length).fill(undefined);
    this.#nodeHex = new Array(this.#levels.length).fill(undefined);
  }

  /** The root as 0x-hex. */
  get root(): string {
    return bytesToHex(this.#levels[this.#levels.length - 1]!);
  }

  /** The root as 32 bytes (a copy). */
  get rootBytes(): Uint8Array {
    return this.#levels[this.#levels.length - 1]!.slice();
  }

  /** Number of levels including leaves and root (1 for a single leaf). */
  get depth(): number {
    return this.#levels.length;
  }

  #levelHex(l: number): string {
    let h = this.#hex[l];
    if (h === undefined) {
      const b = this.#levels[l]!;
      h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
      this.#hex[l] = h;
    }
    return h;
  }

  /** 0x-hex of every node of level `l`, made once; proofs share these strings. */
  #levelNodes(l: number): string[] {
    let nodes = this.#nodeHex[l];
    if (nodes === undefined) {
      const h = this.#levelHex(l);
      const len = this.#lengths[l]!;
      nodes = new Array<string>(len);
      for (let i = 0; i < len; i++) nodes[i] = "0x" + h.substring(i * 64, i * 64 + 64);
      this.#nodeHex[l] = nodes;
    }
    return nodes;
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new MerkleError(`leaf index ${index} out of range 0..${this.size - 1}`, {
        reason: "INDEX_OUT_OF_RANGE", index, size: this.size,
      });
    }
  }

  /** The leaf at `index` as 0x-hex. */
  leaf(index: number): string {
    this.#checkIndex(index);
    return "0x" + this.#levelHex(0).substring(index * 64, index * 64 + 64);
  }

  /** Index of `leaf` (first occurrence), or -1. Builds a lookup map on first use. */
  indexOf(leaf: string): number {
    if (this.#index === undefined) {
      const m = new Map<string, number>();
      const h = this.#levelHex(0);
      for (let i = this.size - 1; i >= 0; i--) m.set(h.substring(i * 64, i * 64 + 64), i);
      this.#index = m;
    }
    return this.#index.get(leaf.toLowerCase().replace(/^0x/, "")) ?? -1;
  }

  /** Proof for the leaf at `index`: sibling nodes bottom-up, 0x-hex (empty for a single-leaf tree). */
  getProof(index: number): string[] {
    this.#checkIndex(index);
    const proof: string[] = [];
    let i = index;
    for (let l = 0; l < this.#levels.length - 1; l++) {
      const s = i ^ 1;
      if (s < this.#lengths[l]!) proof.push(this.#levelNodes(l)[s]!);
      i >>= 1;
    }
    return proof;
  }

  /** Proof for the leaf at `index` as 32-byte views into the tree (do not mutate). */
  getProofBytes(index: number): Uint8Array[] {
    this.#checkIndex(index);
    const proof: Uint8Array[] = [];
    let i = index;
    for (let l = 0; l < this.#levels.length - 1; l++) {
      const s = i ^ 1;
      if (s < this.#lengths[l]!) proof.push(this.#levels[l]!.subarray(s * 32, s * 32 + 32));
      i >>= 1;
    }
    return proof;
  }

  /** Every leaf's proof, in leaf order (0x-hex). */
  getAllProofs(): string[][] {
    const all: string[][] = new Array(this.size);
    for (let i = 0; i < this.size; i++) all[i] = this.getProof(i);
    return all;
  }
}

/** Options of {@link buildMerkleTree}. */
export interface BuildMerkleTreeOptions {
  /** "auto" (default): WebAssembly when available, else JS; "js" forces the unrolled JS keccak. */
  hasher?: "auto" | "js";
}

/**
 * Builds the Merkle tree of `leaves` (0x-hex or 32-byte arrays), in the order given.
 * Throws {@link MerkleError} for an empty list or a malformed leaf (naming its index).
 * @example
 * const tree = buildMerkleTree(headers.map(computeLeaf));
 * const bundleProof = tree.getProof(0);
 */
export function buildMerkleTree(leaves: readonly Bytes32Like[], options: BuildMerkleTreeOptions = {}): MerkleTree {
  if (leaves.length === 0) throw new MerkleError("a Merkle tree needs at least one leaf", { reason: "EMPTY", size: 0 });
  return new MerkleTree(packLeaves(leaves), options);
}

/**
 * The root of `leaves` (same rule as {@link buildMerkleTree}).
 * @example computeMerkleRoot([leaf]) === leaf // a batch of one
 */
export function computeMerkleRoot(leaves: readonly Bytes32Like[]): string {
  return buildMerkleTree(leaves).root;
}

function toBytes32(v: Bytes32Like, field: string): Uint8Array {
  if (typeof v === "string") return hexToBytes(v, field, 32);
  if (!(v instanceof Uint8Array) || v.length !== 32) {
    throw new MerkleError(`${field} is not 32 bytes`, { reason: "BAD_NODE" });
  }
  return v;
}

const scratch = new Uint8Array(64);
const scratchW = new Int32Array(scratch.buffer);

function hashPairInto(a: Uint8Array, b: Uint8Array): Uint8Array {
  let first = true;
  for (let k = 0; k < 32; k++) {
    if (a[k] !== b[k]) { first = a[k]! < b[k]!; break; }
  }
  scratch.set(first ? a : b, 0);
  scratch.set(first ? b : a, 32);
  if (LITTLE_ENDIAN) {
    keccak64(scratchW, 0, 8, scratchW, 0);
    return scratch.slice(0, 32);
  }
  return keccak_256(scratch);
}

/**
 * Commutative keccak256 of the sorted pair (OpenZeppelin `Hashes.commutativeKeccak256`).
 * @example hashPair(a, b) === hashPair(b, a)
 */
export function hashPair(a: Bytes32Like, b: Bytes32Like): string {
  return bytesToHex(hashPairInto(toBytes32(a, "a"), toBytes32(b, "b")));
}

/** Options of {@link processProof} / {@link verifyProof}. */
export interface ProofOptions {
  /**
   * Hash the pairs with the SDK's own keccak256 of 64 bytes: "auto" = the WebAssembly one when available (~0.8 µs
   * per proof element; the JS one otherwise), "js" = the portable JS one (~2.3 µs; the default when neither this
   * nor `keccak256` is given). Takes precedence over `keccak256`. Same result either way.
   */
  hasher?: "auto" | "js";
  /**
   * A keccak-256 to hash each sorted pair with, e.g. a native one (default: the SDK's portable JS keccak). It is
   * given the pair's 64 bytes in a buffer reused between calls (do not keep it) and must return their 32-byte
   * digest, which is copied at once. A result that is not 32 bytes throws {@link MerkleError} (reason
   * BAD_DIGEST); a wrong digest leads to another root, never to the right one.
   */
  keccak256?: (data: Uint8Array) => Uint8Array;
}

/**
 * Writes node `v` (0x-hex or 32 bytes) into `out` at `at`. Accepts exactly what {@link toBytes32} accepts: the
 * common cases are parsed in place; anything else goes through toBytes32 (its error, or its bytes).
 */
function putBytes32(v: Bytes32Like, field: string, out: Buffer, at: number): void {
  // 66 chars "0x" + 64 hex: Buffer's hex decoding stops at the first pair that is not [0-9a-fA-F], so 32 bytes
  // written means all 64 digits are hex, as hexToBytes's /^0x[0-9a-fA-F]*$/ requires
  if (typeof v === "string" && v.length === 66 && v.charCodeAt(0) === 48 && v.charCodeAt(1) === 120
    && out.write(v.slice(2), at, 32, "hex") === 32) return;
  if (v instanceof Uint8Array && v.length === 32) { out.set(v, at); return; }
  out.set(toBytes32(v, field), at);
}

let wasmView: { memory: ArrayBuffer; bytes: Buffer } | undefined;

/** The proof walked inside the WebAssembly hasher's memory (node at 0, sibling at 32); null without WebAssembly. */
function proofWasm(leaf: Bytes32Like, proof: readonly Bytes32Like[]): string | null {
  const w = keccak64Wasm();
  if (w === null) return null;
  const memory = w.memory.buffer; // a new ArrayBuffer after the memory grew (a big tree was built)
  if (wasmView?.memory !== memory) wasmView = { memory, bytes: Buffer.from(memory, 0, 64) };
  const m = wasmView.bytes;
  putBytes32(leaf, "leaf", m, 0);
  for (let i = 0; i < proof.length; i++) {
    putBytes32(proof[i]!, `proof[${i}]`, m, 32);
    if (sortsFirst(m, 0, 32)) w.k(0, 32, 0);
    else w.k(32, 0, 0);
  }
  return "0x" + m.toString("hex", 0, 32);
}

function proofWith(keccak256: (data: Uint8Array) => Uint8Array, leaf: Bytes32Like, proof: readonly Bytes32Like[]): string {
  // one buffer per call (a caller's hash may itself use processProof): node | sibling | pair
  const w = Buffer.allocUnsafe(128);
  putBytes32(leaf, "leaf", w, 0);
  const pair = w.subarray(64, 128);
  for (let i = 0; i < proof.length; i++) {
    putBytes32(proof[i]!, `proof[${i}]`, w, 32);
    let nodeFirst = true;
    for (let k = 0; k < 32; k++) {
      if (w[k] !== w[32 + k]) { nodeFirst = w[k]! < w[32 + k]!; break; }
    }
    if (nodeFirst) w.copy(w, 64, 0, 64);
    else { w.copy(w, 64, 32, 64); w.copy(w, 96, 0, 32); }
    const d = keccak256(pair);
    if (!(d instanceof Uint8Array) || d.length !== 32) {
      throw new MerkleError(`the supplied keccak256 returned ${d instanceof Uint8Array ? d.length + " bytes" : typeof d}, not a 32-byte digest`, { reason: "BAD_DIGEST", index: i });
    }
    w.set(d, 0);
  }
  return "0x" + w.toString("hex", 0, 32);
}

/**
 * The root reached from `leaf` by `proof` (OpenZeppelin `MerkleProof.processProof`). `options.hasher: "auto"`
 * hashes the pairs with the SDK's WebAssembly keccak, `options.keccak256` with the caller's (same result).
 * @example processProof(tree.leaf(3), tree.getProof(3), { hasher: "auto" }) === tree.root
 */
export function processProof(leaf: Bytes32Like, proof: readonly Bytes32Like[], options: ProofOptions = {}): string {
  if (options.hasher === "auto") {
    const viaWasm = proofWasm(leaf, proof);
    if (viaWasm !== null) return viaWasm;
  } else if (options.hasher === undefined && options.keccak256 !== undefined) {
    return proofWith(options.keccak256, leaf, proof);
  }
  let node: Uint8Array = Buffer.allocUnsafe(32);
  putBytes32(leaf, "leaf", node as Buffer, 0);
  const sibling = Buffer.allocUnsafe(32);
  for (let i = 0; i < proof.length; i++) {
    putBytes32(proof[i]!, `proof[${i}]`, sibling, 0);
    node = hashPairInto(node, sibling);
  }
  return bytesToHex(node);
}

/**
 * Whether `proof` leads from `leaf` to `root`. Returns false (never throws) for a wrong proof;
 * throws {@link InvalidHexError}/{@link MerkleError} only for malformed input (or a supplied keccak256 that
 * does not return 32 bytes).
 * @example verifyProof(leaf, tree.getProof(i), tree.root) // true
 */
export function verifyProof(leaf: Bytes32Like, proof: readonly Bytes32Like[], root: Bytes32Like, options: ProofOptions = {}): boolean {
  const r = typeof root === "string" ? root.toLowerCase() : bytesToHex(toBytes32(root, "root"));
  return processProof(leaf, proof, options) === r;
}
