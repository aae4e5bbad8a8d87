/**
 * Chain-event indexer: follows the TongbanLedger's events from a start block, `confirmations` blocks behind
 * the head, into LevelDB, and answers queries about materials, roots and members.
 *
 * Reorgs. The indexer keeps the hash of each of the last `reorgDepth` indexed blocks and, per block that had
 * events, an undo record (the previous value of every key the block changed). Each step first checks that
 * the cursor block's hash is still the chain's; if not, it walks back through the kept hashes to the fork
 * point, applies the undo records of the abandoned blocks in reverse and resumes from there. A new range is
 * only written if its first block's parent is the cursor block and every log's block hash matches the block
 * fetched for it, so a reorg racing the fetch is caught on the next step. Each step commits in ONE LevelDB
 * batch (events, undo, hashes, cursor): a crash leaves the index at a step boundary.
 *
 * Headers. Chain events carry batch roots and leaves, not headers. What holder/issuer/type/time queries need
 * is the header, which only the issuing node (and nodes it sent the material to) knows: `addHeader` records
 * it (with its root once anchored). Header knowledge is not chain state and is never rolled back; queries
 * join it with the chain state at read time, so a rolled-back anchor shows as not anchored.
 */
import { ClassicLevel } from "classic-level";
import { toQuantity } from "ethers";
import { Counter, Gauge, Registry } from "prom-client";
import type { Logger } from "pino";
import type { HeaderJson } from "../core/types.js";
import { WRITE_BUFFER_BYTES } from "../core/db.js";
import { ValidationError } from "../core/errors.js";
import { ledgerEvents, argsOf, MEMBER_EVENT_NAMES } from "./events.js";
import type {
  ChainMaterialState,
  IndexedEvent,
  IndexerProgress,
  IndexerView,
  LeafStatus,
  MaterialQuery,
  QueryItem,
  QueryPage,
  RootInfo,
} from "./types.js";

/** The one JSON-RPC method the indexer needs (an ethers JsonRpcProvider, or {@link FailoverRpc}). */
export interface RpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

export interface IndexerOptions {
  provider: RpcSender;
  /** TongbanLedger address */
  address: string;
  /** LevelDB directory of the index */
  dbPath: string;
  /** first block to index (the ledger's deployment block); default 0 */
  startBlock?: number;
  /** index only blocks at least this deep (head - confirmations); default 1 */
  confirmations?: number;
  /** how many recent block hashes / undo records to keep; a deeper reorg stops the indexer. Default 128 */
  reorgDepth?: number;
  /** max blocks per eth_getLogs; default 2000 */
  maxRange?: number;
  /** poll interval, ms; default 500 */
  pollMs?: number;
  /**
   * this node's member id (bytes32): Anchored events of its own roots are remembered (`o!<root>`, rolled back
   * with the chain) until their headers are indexed, so a crash between anchoring and header indexing is
   * repaired at the next start (see HeaderFeed)
   */
  ownMemberId?: string;
  registry?: Registry;
  logger?: Logger;
  /**
   * LevelDB open options of the index store (benchmarks; default {@link INDEX_STORE_OPTIONS}). Open options
   * only: any store opens with any of them.
   */
  storeOptions?: { compression?: boolean; writeBufferSize?: number };
  /**
   * {@link Indexer.addBatchHeaderBytes} yields to the event loop after every `feedSlice` materials (default
   * {@link FEED_SLICE}; `Infinity`: never, as before 2026-11-25 — benchmarks compare both)
   */
  feedSlice?: number;
}

const pad = (n: number, w = 12) => String(n).padStart(w, "0");
const ZERO32 = "0x" + "00".repeat(32);

// ------------------------------------------------------------------------------------ binary query keys

/**
 * Version of the index store's layout, kept under the key `v`. 1 (no `v` key; nodes before 2026-11-24 22:00 UTC):
 * string query keys `qh!<holderRef>!<issuedAt, 20 digits>!<leaf>` (and `qi!`, `qt!`, `qa!`), ~150 characters
 * each. 2: binary query keys ({@link queryKeys}). {@link Indexer.open} converts a format-1 store in place (in
 * batches; a crash in between leaves keys of both forms, the next open finishes) and refuses any other version.
 */
export const STORE_FORMAT = 2;
const FORMAT_KEY = "v";
/** First byte of a binary query key (below every printable string key of the store: no collision). */
export const Q_HOLDER = 0x01;
export const Q_ISSUER = 0x02;
export const Q_TYPE = 0x03;
export const Q_ALL = 0x04;
/** tag | 32-byte ref | 8-byte big-endian issuedAt | 32-byte leaf */
export const REF_KEY_BYTES = 73;
/** tag | 8-byte big-endian issuedAt | 32-byte leaf */
export const ALL_KEY_BYTES = 41;
/** form of the `next` page token: `q2.` + base64url of the last binary key read (format 1: the string key itself) */
export const PAGE_TOKEN_PREFIX = "q2.";
const U64_MAX = 2n ** 64n - 1n;
const BUFFER_KEY = { keyEncoding: "buffer" } as const;
/**
 * The ONE options object of every binary put (keys and values as buffers; an empty value is {@link EMPTY}):
 * abstract-level copies each put's options into a new op object (`{ ...options }`); mixing option objects of
 * several shapes in the hot loop made that copy megamorphic — measured +10 us process CPU per material
 * (node/bench/indexer-headers.ts) before the feed's puts shared this object.
 */
const BINARY = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;
const EMPTY_BUF = Buffer.alloc(0);
const EMPTY = EMPTY_BUF as unknown as string;
const FF32 = Buffer.alloc(32, 0xff);

/**
 * The four query keys of one material — by holder, by issuer, by type, by time — as views of ONE buffer:
 * `tag | ref (32) | issuedAt (8, big-endian) | leaf (32)` (73 bytes) and `Q_ALL | issuedAt | leaf` (41 bytes).
 * Bytewise order = the order of the format-1 string keys (fixed-width lowercase hex, zero-padded decimal time):
 * by ref, then time, then leaf. `src` holds typeCode at 0, issuer at 32, holderRef at 64 and the 8 time bytes at
 * `timeAt` (a 320-byte ABI header: 184); `leaf` is 0x-prefixed 32-byte hex. Frozen vectors:
 * test/node/indexer/query-keys.test.ts.
 */
export function queryKeys(src: Buffer, timeAt: number, leaf: string): [Buffer, Buffer, Buffer, Buffer] {
  const b = Buffer.allocUnsafe(3 * REF_KEY_BYTES + ALL_KEY_BYTES);
  if (leaf.length !== 66 || b.write(leaf.slice(2), 41, 32, "hex") !== 32 || leaf[0] !== "0" || (leaf[1] !== "x" && leaf[1] !== "X")) {
    throw new Error(`leaf must be 0x-prefixed 32-byte hex: ${leaf.slice(0, 80)}`);
  }
  b[0] = Q_HOLDER;
  src.copy(b, 1, 64, 96);
  src.copy(b, 33, timeAt, timeAt + 8);
  b[73] = Q_ISSUER;
  src.copy(b, 74, 32, 64);
  b.copy(b, 106, 33, 73); // time + leaf
  b[146] = Q_TYPE;
  src.copy(b, 147, 0, 32);
  b.copy(b, 179, 33, 73);
  b[219] = Q_ALL;
  b.copy(b, 220, 33, 73);
  return [b.subarray(0, 73), b.subarray(73, 146), b.subarray(146, 219), b.subarray(219, 260)];
}

/** {@link queryKeys} of a JSON header (hex fields, decimal `issuedAt`). */
export function queryKeysOfJson(h: Pick<HeaderJson, "typeCode" | "issuer" | "holderRef" | "issuedAt">, leaf: string): [Buffer, Buffer, Buffer, Buffer] {
  const src = Buffer.allocUnsafe(104);
  const put = (name: string, v: string, at: number) => {
    // hex decoding stops at the first character that is not hex: fewer than 32 bytes written
    if (typeof v !== "string" || v.length !== 66 || v[0] !== "0" || (v[1] !== "x" && v[1] !== "X") || src.write(v.slice(2), at, 32, "hex") !== 32) {
      throw new Error(`header ${name} must be 0x-prefixed 32-byte hex: ${String(v).slice(0, 80)} (leaf ${leaf})`);
    }
  };
  put("typeCode", h.typeCode, 0);
  put("issuer", h.issuer, 32);
  put("holderRef", h.holderRef, 64);
  const t = BigInt(h.issuedAt);
  if (t < 0n || t > U64_MAX) throw new Error(`header issuedAt out of uint64 range: ${h.issuedAt} (leaf ${leaf})`);
  src.writeBigUInt64BE(t, 96);
  return queryKeys(src, 96, leaf);
}

/** The format-1 string query key `k` as its binary form (store upgrade); throws naming a malformed key. */
function keyOfFormat1(k: string): Buffer {
  const m = /^q([hita])!(?:(0x[0-9a-f]{64})!)?(\d{20})!(0x[0-9a-f]{64})$/.exec(k);
  if (!m || (m[1] === "a") !== (m[2] === undefined)) throw new IndexerError("STORE_FORMAT", `index store: malformed format-1 query key ${JSON.stringify(k.slice(0, 200))}`, { key: k.slice(0, 200) });
  const src = Buffer.alloc(104);
  const tag = { h: 64, i: 32, t: 0, a: -1 }[m[1] as "h" | "i" | "t" | "a"];
  if (tag >= 0) src.write(m[2]!.slice(2), tag, 32, "hex");
  src.writeBigUInt64BE(BigInt(m[3]!), 96);
  const keys = queryKeys(src, 96, m[4]!);
  return keys[{ h: 0, i: 1, t: 2, a: 3 }[m[1] as "h" | "i" | "t" | "a"]];
}

/** 8-byte big-endian of a unix time bound, clamped to uint64. */
function time8(t: number, round: "up" | "down"): Buffer {
  const r = round === "up" ? Math.ceil(t) : Math.floor(t);
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(r < 0 ? 0n : BigInt(r) > U64_MAX ? U64_MAX : BigInt(r));
  return b;
}
/** LevelDB open options of the index store */
export const INDEX_STORE_OPTIONS: { compression: boolean; writeBufferSize: number } = { compression: true, writeBufferSize: WRITE_BUFFER_BYTES };
/** The five puts of materials `from` to `to` of a batch (see {@link Indexer.addBatchHeaderBytes}). */
function putHeaderSlice(
  put: (key: Buffer, value: Buffer) => void,
  root: string,
  leaves: readonly string[],
  headers: readonly Uint8Array[],
  from: number,
  to: number,
): void {
  for (let i = from; i < to; i++) {
    const leaf = leaves[i]!.toLowerCase();
    const enc = headers[i]!;
    if (enc.length !== 320) throw new Error(`header must be 320 bytes, got ${enc.length} (leaf ${leaf})`);
    const [kh, ki, kt, ka] = queryKeys(Buffer.isBuffer(enc) ? enc : Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength), 184, leaf);
    put(Buffer.from(`H!${leaf}`, "latin1"), encodeHeaderValue(enc, root));
    put(kh, EMPTY_BUF);
    put(ki, EMPTY_BUF);
    put(kt, EMPTY_BUF);
    put(ka, EMPTY_BUF);
  }
}

/** materials per slice of {@link Indexer.addBatchHeaderBytes} between yields to the event loop */
export const FEED_SLICE = 500;
/** per-operation encoding of binary `H!` values in this utf8 store */
const BUFFER_VALUE = { valueEncoding: "buffer" } as const;


/**
 * The stored `H!` record of a header given as its 320-byte ABI encoding (slots: typeCode, issuer, holderRef,
 * contentHash, hashAlg, issuedAt, validFrom, validUntil, version, supersedes): exactly
 * `JSON.stringify({ header: <HeaderJson>, root })` (the core's `headerJson` field order, lowercase hex, times as
 * decimal strings), plus the fields the query keys need. One hex conversion of the whole header.
 */
export function headerRecord(enc: Uint8Array, root: string | null): { json: string; typeCode: string; issuer: string; holderRef: string; issuedAt: string } {
  if (enc.length !== 320) throw new Error(`header must be 320 bytes, got ${enc.length}`);
  const b = Buffer.isBuffer(enc) ? enc : Buffer.from(enc.buffer, enc.byteOffset, enc.byteLength);
  const x = b.toString("hex");
  const u64 = (slot: number) => String(b.readUInt32BE(slot * 32 + 24) * 2 ** 32 + b.readUInt32BE(slot * 32 + 28));
  const typeCode = "0x" + x.slice(0, 64);
  const issuer = "0x" + x.slice(64, 128);
  const holderRef = "0x" + x.slice(128, 192);
  const issuedAt = u64(5);
  const json =
    `{"header":{"typeCode":"${typeCode}","issuer":"${issuer}","holderRef":"${holderRef}","contentHash":"0x${x.slice(192, 256)}",` +
    `"hashAlg":${b[159]},"issuedAt":"${issuedAt}","validFrom":"${u64(6)}","validUntil":"${u64(7)}","version":${b.readUInt32BE(284)},` +
    `"supersedes":"0x${x.slice(576, 640)}"},"root":${root === null ? "null" : `"${root}"`}}`;
  return { json, typeCode, issuer, holderRef, issuedAt };
}

/**
 * The `H!` value written by {@link Indexer.addBatchHeaderBytes} (the header feed of own batches): binary, one
 * version byte 0x01, the 320-byte ABI header, then the 32-byte root (absent: no root). 353 bytes instead of
 * ~760 characters of JSON: the header store is most of the bytes the node writes per material (WAL, memtable,
 * compaction). Values written as JSON `{header, root}` (by `addHeaders`/`addBatchHeaders`, and by every node
 * before 2026-11-24) start with `{` (0x7b) and are read as before: both forms live in one store, no migration.
 */
export const HEADER_VALUE_V1 = 0x01;
export function encodeHeaderValue(enc: Uint8Array, root: string | null): Buffer {
  if (enc.length !== 320) throw new Error(`header must be 320 bytes, got ${enc.length}`);
  const v = Buffer.allocUnsafe(root === null ? 321 : 353);
  v[0] = HEADER_VALUE_V1;
  v.set(enc, 1);
  if (root !== null && v.write(root.slice(2), 321, 32, "hex") !== 32) throw new Error(`root must be 0x-prefixed 32-byte hex: ${root.slice(0, 80)}`);
  return v;
}

/** A stored `H!` value (binary v1 or JSON) as `{ header, root }`. Throws on an unknown form (never guesses). */
export function decodeHeaderValue(v: Buffer): { header: HeaderJson; root: string | null } {
  if (v[0] === 0x7b) return JSON.parse(v.toString("utf8")) as { header: HeaderJson; root: string | null };
  if (v[0] === HEADER_VALUE_V1 && (v.length === 321 || v.length === 353)) {
    const root = v.length === 353 ? "0x" + v.toString("hex", 321, 353) : null;
    return JSON.parse(headerRecord(v.subarray(1, 321), root).json) as { header: HeaderJson; root: string | null };
  }
  throw new Error(`unknown header record form (first byte 0x${(v[0] ?? 0).toString(16)}, ${v.length} bytes): a newer store version?`);
}

interface Cursor {
  block: number;
  hash: string | null;
}

interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

export class IndexerError extends Error {
  override name = "IndexerError";
  constructor(
    readonly code: "REORG_TOO_DEEP" | "RPC" | "STORE_FORMAT",
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Pending writes of one step, with per-block undo capture. */
class Step {
  readonly overlay = new Map<string, string | null>();
  readonly undo = new Map<number, Map<string, string | null>>();
  constructor(private readonly db: ClassicLevel<string, string>) {}
  async get(key: string): Promise<string | undefined> {
    if (this.overlay.has(key)) return this.overlay.get(key) ?? undefined;
    return (await this.db.get(key)) ?? undefined;
  }
  async getJson<T>(key: string): Promise<T | undefined> {
    const v = await this.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  private async remember(block: number, key: string) {
    let u = this.undo.get(block);
    if (!u) this.undo.set(block, (u = new Map()));
    if (!u.has(key)) u.set(key, (await this.get(key)) ?? null);
  }
  async put(block: number, key: string, value: unknown) {
    await this.remember(block, key);
    this.overlay.set(key, JSON.stringify(value));
  }
}

export class Indexer implements IndexerView {
  readonly opts: Required<Omit<IndexerOptions, "registry" | "logger" | "ownMemberId" | "storeOptions" | "feedSlice">> & Pick<IndexerOptions, "logger" | "ownMemberId" | "storeOptions" | "feedSlice">;
  private db: ClassicLevel<string, string>;
  private cursor: Cursor = { block: -1, hash: null };
  private head = 0;
  private reorgCount = 0;
  private lastError: string | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private stepping: Promise<void> | undefined;
  private listeners = new Set<(e: IndexedEvent) => void>();
  private metrics: { block: Gauge; head: Gauge; lag: Gauge; reorgs: Counter; events: Counter<"event"> };

  constructor(opts: IndexerOptions) {
    this.opts = {
      startBlock: 0,
      confirmations: 1,
      reorgDepth: 128,
      maxRange: 2000,
      pollMs: 500,
      // an option given as `undefined` (e.g. an absent config key passed through) keeps its default
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as IndexerOptions),
      address: opts.address.toLowerCase(),
      ownMemberId: opts.ownMemberId?.toLowerCase(),
    };
    this.db = new ClassicLevel<string, string>(opts.dbPath, { keyEncoding: "utf8", valueEncoding: "utf8", ...INDEX_STORE_OPTIONS, ...opts.storeOptions });
    const registry = opts.registry ?? new Registry();
    const once = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
    const registers = [registry];
    this.metrics = {
      block: once("tongban_indexer_block", () => new Gauge({ name: "tongban_indexer_block", help: "last block indexed", registers })),
      head: once("tongban_indexer_head_block", () => new Gauge({ name: "tongban_indexer_head_block", help: "chain head seen by the indexer", registers })),
      lag: once("tongban_indexer_lag_blocks", () => new Gauge({ name: "tongban_indexer_lag_blocks", help: "blocks the indexer is behind head - confirmations", registers })),
      reorgs: once("tongban_indexer_reorgs_total", () => new Counter({ name: "tongban_indexer_reorgs_total", help: "chain reorganisations rolled back", registers })),
      events: once(
        "tongban_indexer_events_total",
        () => new Counter({ name: "tongban_indexer_events_total", help: "ledger events indexed, by event", labelNames: ["event"], registers }),
      ),
    };
  }

  /** Open the index (idempotent), checking (or converting) its store format first. */
  async open(): Promise<void> {
    // not `db.status`: classic-level opens itself on the next tick, before any format check
    if (this.#ready && this.db.status === "open") return;
    this.#opening ??= this.#open().finally(() => (this.#opening = undefined));
    await this.#opening;
  }

  #ready = false;
  #opening: Promise<void> | undefined;

  async #open(): Promise<void> {
    await this.db.open();
    try {
      await this.#checkFormat();
    } catch (e) {
      await this.db.close();
      throw e;
    }
    this.#ready = true;
    const c = await this.db.get("c");
    this.cursor = c ? (JSON.parse(c) as Cursor) : { block: this.opts.startBlock - 1, hash: null };
    this.metrics.block.set(Math.max(this.cursor.block, 0));
  }

  /**
   * The store's layout version ({@link STORE_FORMAT}): format 1 (no `v` key: string query keys) is converted in
   * place, 10,000 keys per LevelDB batch (each old key deleted in the batch that writes its binary form, so a
   * crash in between is finished by the next open); `v` is written last. Any other version is refused.
   */
  async #checkFormat(): Promise<void> {
    const v = await this.db.get(FORMAT_KEY);
    if (v === String(STORE_FORMAT)) return;
    if (v !== undefined) {
      throw new IndexerError("STORE_FORMAT", `index store ${this.opts.dbPath} has format ${JSON.stringify(v.slice(0, 40))}; this node reads format ${STORE_FORMAT} (a newer node's store? rebuild the index or run that node)`, {
        dbPath: this.opts.dbPath,
        format: v.slice(0, 40),
        expected: STORE_FORMAT,
      });
    }
    let converted = 0;
    for (const p of ["qa!", "qh!", "qi!", "qt!"]) {
      let batch = this.db.batch();
      let n = 0;
      for await (const k of this.db.keys({ gt: p, lt: p + "~" })) {
        batch.put(keyOfFormat1(k) as unknown as string, EMPTY, BINARY);
        batch.del(k);
        if (++n === 10_000) {
          await batch.write();
          converted += n;
          batch = this.db.batch();
          n = 0;
        }
      }
      if (n) await batch.write();
      else await batch.close();
      converted += n;
    }
    await this.db.put(FORMAT_KEY, String(STORE_FORMAT));
    if (converted) this.opts.logger?.info({ converted }, `index store converted to format ${STORE_FORMAT} (binary query keys)`);
  }

  /** Open and follow the chain until {@link stop}. */
  async start(): Promise<void> {
    await this.open();
    this.running = true;
    const loop = async () => {
      if (!this.running) return;
      let delay = this.opts.pollMs;
      try {
        const more = await this.step();
        this.lastError = undefined;
        if (more) delay = 0;
      } catch (e) {
        this.lastError = String((e as Error)?.message ?? e).slice(0, 300);
        this.opts.logger?.warn({ err: this.lastError }, "indexer step failed");
        delay = Math.min(this.opts.pollMs * 4, 5000);
        if (e instanceof IndexerError && e.code === "REORG_TOO_DEEP") {
          this.opts.logger?.error({ details: e.details }, "reorg deeper than the kept window: rebuild the index");
          this.running = false;
          return;
        }
      }
      if (this.running) this.timer = setTimeout(loop, delay);
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.stepping?.catch(() => {});
    this.#ready = false;
    if (this.db.status === "open") await this.db.close();
  }

  /** One indexing step (serialised). Resolves true if more confirmed blocks remain to index. */
  step(): Promise<boolean> {
    const p = (this.stepping ?? Promise.resolve()).catch(() => {}).then(() => this.doStep());
    this.stepping = p.then(() => {}, () => {});
    return p;
  }

  /** Index until caught up with head - confirmations (for tests and the CLI). */
  async syncToHead(): Promise<void> {
    await this.open();
    while (await this.step()) {
      /* next range */
    }
  }

  private async rpc<T>(method: string, params: unknown[]): Promise<T> {
    try {
      return (await this.opts.provider.send(method, params)) as T;
    } catch (e) {
      throw new IndexerError("RPC", `${method} failed: ${String((e as Error)?.message ?? e).slice(0, 200)}`, { method });
    }
  }

  private async block(n: number): Promise<RawBlock | null> {
    return this.rpc<RawBlock | null>("eth_getBlockByNumber", [toQuantity(n), false]);
  }

  private async doStep(): Promise<boolean> {
    const head = Number(await this.rpc<string>("eth_blockNumber", []));
    this.head = head;
    this.metrics.head.set(head);
    const target = head - this.opts.confirmations;

    // 1. Is the cursor block still on the chain?
    if (this.cursor.hash !== null) {
      const b = await this.block(this.cursor.block);
      if (!b || b.hash !== this.cursor.hash) {
        await this.rollback();
        return true;
      }
    }
    if (target <= this.cursor.block) {
      this.updateLag();
      return false;
    }

    // 2. Fetch the next range and the blocks we need.
    const from = this.cursor.block + 1;
    const to = Math.min(target, from + this.opts.maxRange - 1);
    const logs = await this.rpc<RawLog[]>("eth_getLogs", [{ address: this.opts.address, fromBlock: toQuantity(from), toBlock: toQuantity(to) }]);
    const want = new Set<number>([from]);
    for (let b = Math.max(from, to - this.opts.reorgDepth + 1); b <= to; b++) want.add(b);
    for (const l of logs) want.add(Number(l.blockNumber));
    const nums = [...want].sort((a, b) => a - b);
    const fetched = await Promise.all(nums.map((n) => this.block(n)));
    const blocks = new Map<number, RawBlock>();
    for (let i = 0; i < nums.length; i++) {
      if (!fetched[i]) return true; // head moved back under us: next step re-checks
      blocks.set(nums[i], fetched[i]!);
    }
    // consistency: the range continues the cursor, the tail is one chain, and every log is from these blocks
    if (this.cursor.hash !== null && blocks.get(from)!.parentHash !== this.cursor.hash) return true;
    for (let b = Math.max(from, to - this.opts.reorgDepth + 1) + 1; b <= to; b++) {
      if (blocks.get(b)!.parentHash !== blocks.get(b - 1)!.hash) return true;
    }
    for (const l of logs) if (l.removed || blocks.get(Number(l.blockNumber))!.hash !== l.blockHash) return true;

    // 3. Apply the logs in order, capturing undo per block.
    const step = new Step(this.db);
    const events: IndexedEvent[] = [];
    logs.sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || Number(a.logIndex) - Number(b.logIndex));
    for (const l of logs) {
      let d;
      try {
        d = ledgerEvents.parseLog({ topics: l.topics, data: l.data });
      } catch {
        d = null;
      }
      if (!d) continue; // an event this indexer does not know (e.g. a newer contract): skip
      const bn = Number(l.blockNumber);
      const e: IndexedEvent = {
        event: d.name,
        blockNumber: bn,
        blockHash: l.blockHash,
        logIndex: Number(l.logIndex),
        txHash: l.transactionHash,
        timestamp: Number(blocks.get(bn)!.timestamp),
        args: argsOf(d),
      };
      await this.apply(step, e);
      events.push(e);
    }

    // 4. One atomic batch: changes, undo records, kept hashes, cursor; drop what fell out of the window.
    const batch = this.db.batch();
    for (const [k, v] of step.overlay) {
      if (v === null) batch.del(k);
      else batch.put(k, v);
    }
    for (const [b, u] of step.undo) batch.put(`u!${pad(b)}`, JSON.stringify([...u]));
    for (let b = Math.max(from, to - this.opts.reorgDepth + 1); b <= to; b++) batch.put(`h!${pad(b)}`, blocks.get(b)!.hash);
    for (let b = Math.max(0, from - this.opts.reorgDepth); b <= to - this.opts.reorgDepth; b++) {
      batch.del(`h!${pad(b)}`);
      batch.del(`u!${pad(b)}`);
    }
    const cursor = { block: to, hash: blocks.get(to)!.hash };
    batch.put("c", JSON.stringify(cursor));
    await batch.write();
    this.cursor = cursor;
    this.metrics.block.set(to);
    this.updateLag();
    for (const e of events) {
      this.metrics.events.inc({ event: e.event });
      this.emit(e);
    }
    return to < target;
  }

  private updateLag() {
    this.metrics.lag.set(this.lag());
  }

  private lag(): number {
    return Math.max(0, this.head - this.opts.confirmations - this.cursor.block);
  }

  /** Roll back to the newest kept block still on the chain. */
  private async rollback(): Promise<void> {
    let fork: Cursor | null = null;
    for await (const [k, hash] of this.db.iterator({ gte: "h!", lt: `h!${pad(this.cursor.block)}`, reverse: true })) {
      const n = Number(k.slice(2));
      const b = await this.block(n);
      if (b && b.hash === hash) {
        fork = { block: n, hash };
        break;
      }
    }
    if (!fork) {
      const oldest = this.cursor.block - this.opts.reorgDepth + 1;
      if (oldest <= this.opts.startBlock) fork = { block: this.opts.startBlock - 1, hash: null };
      else
        throw new IndexerError("REORG_TOO_DEEP", `chain reorganised below the ${this.opts.reorgDepth} kept blocks (cursor ${this.cursor.block})`, {
          cursor: this.cursor.block,
          reorgDepth: this.opts.reorgDepth,
        });
    }
    const restore = new Map<string, string | null>();
    const batch = this.db.batch();
    for await (const [k, v] of this.db.iterator({ gt: `u!${pad(fork.block)}`, lte: `u!${pad(this.cursor.block)}`, reverse: true })) {
      for (const [key, prev] of JSON.parse(v) as [string, string | null][]) restore.set(key, prev);
      batch.del(k);
    }
    for (const [k, v] of restore) {
      if (v === null) batch.del(k);
      else batch.put(k, v);
    }
    for (let b = fork.block + 1; b <= this.cursor.block; b++) batch.del(`h!${pad(b)}`);
    batch.put("c", JSON.stringify(fork));
    await batch.write();
    const abandoned = { from: fork.block + 1, to: this.cursor.block };
    this.opts.logger?.warn({ fork: fork.block, abandoned }, "chain reorganisation: rolled back");
    this.cursor = fork;
    this.reorgCount++;
    this.metrics.reorgs.inc();
    this.metrics.block.set(Math.max(fork.block, 0));
    this.emit({
      event: "Rollback",
      blockNumber: fork.block,
      blockHash: fork.hash ?? ZERO32,
      logIndex: 0,
      txHash: ZERO32,
      timestamp: Math.floor(Date.now() / 1000),
      args: { fromBlock: abandoned.from, toBlock: abandoned.to },
    });
  }

  private async apply(s: Step, e: IndexedEvent): Promise<void> {
    const b = e.blockNumber;
    const pos = `${pad(b)}!${pad(e.logIndex, 6)}`;
    const a = e.args as Record<string, string & number>;
    await s.put(b, `e!${pos}`, e);
    const status = async (leaf: string, issuer: string, f: (st: LeafStatus) => void) => {
      const key = `s!${leaf}!${issuer}`;
      const st = (await s.getJson<LeafStatus>(key)) ?? {
        issuer,
        leaf,
        status: "active",
        reason: 0,
        statusBy: null,
        statusBlock: null,
        supersededBy: null,
        supersedes: null,
      };
      f(st);
      await s.put(b, key, st);
      await s.put(b, `l!${leaf}!${pos}`, e);
    };
    switch (e.event) {
      case "Anchored": {
        const r: RootInfo & { event: IndexedEvent } = {
          root: a.root,
          issuer: a.issuer,
          typeCode: a.typeCode,
          jurisdiction: a.jurisdiction,
          count: a.count,
          blockNumber: b,
          timestamp: e.timestamp,
          txHash: e.txHash,
          event: e,
        };
        await s.put(b, `r!${a.root}`, r);
        if (this.opts.ownMemberId && a.issuer === this.opts.ownMemberId) await s.put(b, `o!${a.root}`, b);
        break;
      }
      case "MaterialRevoked":
      case "MaterialSuspended":
      case "MaterialReinstated":
        await status(a.leaf, a.issuer, (st) => {
          st.status = e.event === "MaterialRevoked" ? "revoked" : e.event === "MaterialSuspended" ? "suspended" : "active";
          st.reason = e.event === "MaterialReinstated" ? 0 : Number(a.reason);
          st.statusBy = a.by;
          st.statusBlock = b;
        });
        break;
      case "MaterialSuperseded":
        await status(a.oldLeaf, a.issuer, (st) => void (st.supersededBy = a.newLeaf));
        await status(a.newLeaf, a.issuer, (st) => void (st.supersedes = a.oldLeaf));
        break;
      default:
        if (MEMBER_EVENT_NAMES.has(e.event)) await s.put(b, `m!${a.memberId}!${pos}`, e);
    }
  }

  private emit(e: IndexedEvent) {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  // ------------------------------------------------------------------------------------------ headers

  /**
   * Record a material's header (and its batch root once known) so holder/issuer/type/time queries find it.
   * Idempotent; a later call may add the root. Not chain state: never rolled back.
   */
  async addHeader(leaf: string, header: HeaderJson, root?: string): Promise<void> {
    await this.addHeaders([{ leaf, header, root }]);
  }

  /** {@link addHeader} for many materials in one LevelDB batch. */
  async addHeaders(items: readonly { leaf: string; header: HeaderJson; root?: string | null }[]): Promise<void> {
    await this.#writeHeaders(items);
  }

  /**
   * Index the headers of one of this node's batches and mark the root done, in one batch.
   * `headers` in leaf order; a root whose batch this node cannot read is marked with `missing`.
   */
  async addBatchHeaders(root: string, items: readonly { leaf: string; header: HeaderJson }[], missing = false): Promise<void> {
    const r = root.toLowerCase();
    await this.#writeHeaders(items.map((i) => ({ leaf: i.leaf, header: i.header, root: r })), { key: `hd!${r}`, value: missing ? "missing" : String(items.length) });
  }

  /**
   * {@link addBatchHeaders} from the leaves' 320-byte ABI headers (`BatchInfo.headerBytes`, what the header feed
   * reads from the core): the same query keys and done mark, byte for byte, and the `H!` record in its binary
   * form ({@link encodeHeaderValue}: 353 bytes instead of ~760 of JSON; read back by {@link decodeHeaderValue}
   * as the same `{ header, root }`, test/node/indexer/header-record.test.ts). No hex field, object or
   * `JSON.stringify` per material. `leaves` are lowercase 0x-hex (the core's).
   */
  async addBatchHeaderBytes(root: string, leaves: readonly string[], headers: readonly Uint8Array[]): Promise<void> {
    if (leaves.length !== headers.length) throw new Error(`addBatchHeaderBytes: ${leaves.length} leaves but ${headers.length} headers`);
    await this.open();
    const r = root.toLowerCase();
    const batch = this.db.batch();
    const put = this.#binaryPut(batch);
    const slice = Math.max(1, this.opts.feedSlice ?? FEED_SLICE);
    try {
      // yield to the event loop between slices of FEED_SLICE materials: a batch of 10,000 is ~50-80 ms of
      // main-thread work, which otherwise stalls every API request for that long. The puts go into the same
      // batch: still ONE atomic write at the end. (The loop is a plain function: no await inside the hot loop.)
      for (let i = 0; i < leaves.length; i += slice) {
        if (i > 0) await new Promise<void>((res) => setImmediate(res));
        putHeaderSlice(put, r, leaves, headers, i, Math.min(leaves.length, i + slice));
      }
    } catch (e) {
      await batch.close();
      throw e;
    }
    batch.put(`hd!${r}`, String(leaves.length)); // a public put: the batch is never empty (written, not closed)
    await batch.write();
  }

  /**
   * A put of buffer key and value into `batch`. abstract-level's public `put` costs ~2-3 us per call on the main
   * thread (option and encoding handling, an op object per call: node/bench/indexer-headers.ts, main thread busy);
   * classic-level's `_put` hands the buffers straight to the native batch. Used only while this store has no
   * prewrite hook (none is ever added: no sublevels, no hooks) — otherwise the public put. The batch must get one
   * public put too, or `write()` sees an empty batch.
   */
  #binaryPut(batch: ReturnType<ClassicLevel<string, string>["batch"]>): (key: Buffer, value: Buffer) => void {
    const raw = (batch as unknown as { _put?: (k: Buffer, v: Buffer) => void })._put;
    if (typeof raw === "function" && (this.db.hooks.prewrite as unknown as { noop: boolean }).noop === true) return raw.bind(batch);
    return (key, value) => void batch.put(key as unknown as string, value as unknown as string, BINARY);
  }

  /**
   * Writes header records and their query keys (plus `mark`) in ONE LevelDB batch (atomic). The stored record is read
   * (one `getMany` for all of them) only for items that bring no root, whose earlier root is kept. An item with
   * a root is written without a read: a leaf is the hash of its header, so a rewrite puts the same query keys
   * again and the record ends with that root, as the read-compare-write did (a batch of 10,000 own materials
   * cost 10,000 point reads, ~25 us each, on the node's main thread).
   */
  async #writeHeaders(
    items: readonly { leaf: string; header: HeaderJson; root?: string | null }[],
    mark?: { key: string; value: string },
  ): Promise<void> {
    await this.open();
    const noRoot: string[] = [];
    for (const it of items) if (!it.root) noRoot.push(`H!${it.leaf.toLowerCase()}`);
    const prevs = noRoot.length ? ((await this.db.getMany(noRoot, BUFFER_VALUE)) as unknown as (Buffer | undefined)[]) : [];
    // a chained batch: cheaper on the main thread than an array of op objects (abstract-level re-validates and
    // copies each op; measured 9-16 vs 16-19 us per material of five puts)
    const batch = this.db.batch();
    let puts = 0;
    let j = 0;
    for (const it of items) {
      const leaf = it.leaf.toLowerCase();
      let root: string | null;
      if (it.root) root = it.root.toLowerCase();
      else {
        const prev = prevs[j++];
        const old = prev ? decodeHeaderValue(prev) : null;
        root = old?.root ?? null;
        if (old) continue; // known, and no new root to record
      }
      const h = it.header;
      const [kh, ki, kt, ka] = queryKeysOfJson(h, leaf);
      batch.put(`H!${leaf}`, JSON.stringify({ header: h, root }));
      batch.put(kh as unknown as string, EMPTY, BINARY);
      batch.put(ki as unknown as string, EMPTY, BINARY);
      batch.put(kt as unknown as string, EMPTY, BINARY);
      batch.put(ka as unknown as string, EMPTY, BINARY);
      puts++;
    }
    if (mark) {
      batch.put(mark.key, mark.value);
      puts++;
    }
    if (puts) await batch.write();
    else await batch.close();
  }

  /** Whether the headers of `root` were indexed (or found missing). */
  async batchHeadersDone(root: string): Promise<boolean> {
    await this.open();
    return (await this.db.get(`hd!${root.toLowerCase()}`)) !== undefined;
  }

  /** This member's anchored roots (on the indexed chain) whose headers are not indexed yet. */
  async ownRootsWithoutHeaders(limit = 1000): Promise<string[]> {
    await this.open();
    const out: string[] = [];
    for await (const k of this.db.keys({ gt: "o!", lt: "o!~" })) {
      const root = k.slice(2);
      if ((await this.db.get(`hd!${root}`)) === undefined) out.push(root);
      if (out.length >= limit) break;
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ queries

  async root(root: string): Promise<RootInfo | null> {
    const v = await this.db.get(`r!${root.toLowerCase()}`);
    if (!v) return null;
    const { event: _e, ...info } = JSON.parse(v) as RootInfo & { event: IndexedEvent };
    return info;
  }

  private async statuses(leaf: string): Promise<LeafStatus[]> {
    const out: LeafStatus[] = [];
    for await (const v of this.db.values({ gt: `s!${leaf}!`, lt: `s!${leaf}!~` })) out.push(JSON.parse(v) as LeafStatus);
    return out;
  }

  /** The stored header and root of a (lowercase) leaf, either form (see {@link decodeHeaderValue}). */
  async #headerOf(leaf: string): Promise<{ header: HeaderJson; root: string | null } | null> {
    const v = (await this.db.get(`H!${leaf}`, BUFFER_VALUE)) as unknown as Buffer | undefined;
    return v ? decodeHeaderValue(v) : null;
  }

  async materialState(leaf: string): Promise<ChainMaterialState | null> {
    await this.open();
    leaf = leaf.toLowerCase();
    const known = await this.#headerOf(leaf);
    const sts = await this.statuses(leaf);
    const issuer = known?.header.issuer.toLowerCase() ?? sts[0]?.issuer ?? null;
    const st = sts.find((x) => x.issuer === issuer) ?? null;
    const r = known?.root ? await this.root(known.root) : null;
    if (!known && !st) return null;
    // an anchor by someone else than the header's issuer does not anchor this material
    const anchored = !!r && (!known || r.issuer === known.header.issuer.toLowerCase());
    return {
      leaf,
      anchored,
      root: known?.root ?? null,
      anchoredBlock: anchored ? r!.blockNumber : null,
      anchoredAt: anchored ? r!.timestamp : null,
      issuer,
      typeCode: known?.header.typeCode.toLowerCase() ?? (anchored ? r!.typeCode : null),
      jurisdiction: anchored ? r!.jurisdiction : null,
      status: st?.status ?? "active",
      reason: st?.reason ?? 0,
      statusBy: st?.statusBy ?? null,
      statusBlock: st?.statusBlock ?? null,
      supersededBy: st?.supersededBy ?? null,
      supersedes: st?.supersedes ?? null,
      headerKnown: !!known,
    };
  }

  async history(leaf: string): Promise<IndexedEvent[]> {
    await this.open();
    leaf = leaf.toLowerCase();
    const out: IndexedEvent[] = [];
    const root = (await this.#headerOf(leaf))?.root ?? null;
    if (root) {
      const r = await this.db.get(`r!${root}`);
      if (r) out.push((JSON.parse(r) as { event: IndexedEvent }).event);
    }
    for await (const v of this.db.values({ gt: `l!${leaf}!`, lt: `l!${leaf}!~` })) out.push(JSON.parse(v) as IndexedEvent);
    return out.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
  }

  async memberHistory(memberId: string): Promise<IndexedEvent[]> {
    await this.open();
    const out: IndexedEvent[] = [];
    const id = memberId.toLowerCase();
    for await (const v of this.db.values({ gt: `m!${id}!`, lt: `m!${id}!~` })) out.push(JSON.parse(v) as IndexedEvent);
    return out;
  }

  /** All indexed events in a block range, oldest first (audit, catch-up). */
  async events(fromBlock: number, toBlock: number, limit = 10_000): Promise<IndexedEvent[]> {
    await this.open();
    const out: IndexedEvent[] = [];
    for await (const v of this.db.values({ gte: `e!${pad(fromBlock)}`, lt: `e!${pad(toBlock + 1)}`, limit })) out.push(JSON.parse(v) as IndexedEvent);
    return out;
  }

  async queryMaterials(q: MaterialQuery): Promise<QueryPage> {
    await this.open();
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    // most selective index first; the others filter
    const [tag, ref] = q.holderRef ? [Q_HOLDER, q.holderRef] : q.issuer ? [Q_ISSUER, q.issuer] : q.typeCode ? [Q_TYPE, q.typeCode] : [Q_ALL, undefined];
    let prefix = Buffer.of(tag);
    if (ref !== undefined) {
      const r = Buffer.from(ref.slice(2), "hex");
      // a ref that is not 32-byte hex matches no stored key (format 1 answered it with no items)
      if (r.length !== 32 || !/^0[xX][0-9a-fA-F]{64}$/.test(ref)) return { items: [] };
      prefix = Buffer.concat([prefix, r]);
    }
    const lo = Buffer.concat([prefix, time8(q.from ?? 0, "up")]);
    const hi = Buffer.concat([prefix, q.to !== undefined ? time8(q.to, "down") : FF32.subarray(0, 8), FF32]);
    if (q.to !== undefined && q.to < 0) return { items: [] };
    let range: { gt?: Buffer; gte?: Buffer; lte: Buffer };
    if (q.after !== undefined) {
      const after = this.#pageKey(q.after, ref === undefined ? ALL_KEY_BYTES : REF_KEY_BYTES);
      if (!after) return { items: [] }; // a page token of another query (format 1: no items)
      if (!after.subarray(0, prefix.length).equals(prefix)) return { items: [] };
      range = { gt: after, lte: hi };
    } else range = { gte: lo, lte: hi };
    const items: QueryItem[] = [];
    let last: Buffer | undefined;
    let more = false;
    for await (const k of this.db.keys({ ...range, ...BUFFER_KEY }) as unknown as AsyncIterable<Buffer>) {
      if (items.length === limit) {
        more = true;
        break;
      }
      last = k;
      const leaf = "0x" + k.toString("hex", k.length - 32);
      const known = await this.#headerOf(leaf);
      if (!known) continue;
      const header = known.header;
      if (q.issuer && header.issuer.toLowerCase() !== q.issuer.toLowerCase()) continue;
      if (q.typeCode && header.typeCode.toLowerCase() !== q.typeCode.toLowerCase()) continue;
      if (q.holderRef && header.holderRef.toLowerCase() !== q.holderRef.toLowerCase()) continue;
      items.push({ id: leaf, header, chain: (await this.materialState(leaf))! });
    }
    return more && last ? { items, next: PAGE_TOKEN_PREFIX + last.toString("base64url") } : { items };
  }

  /**
   * The binary key a `next` page token stands for; null for a well-formed token of another query's kind.
   * A token of another form (format 1's string keys `qh!...`, anything else) is refused with a ValidationError
   * (HTTP 400) naming it: it cannot be continued, never silently answered from the wrong place.
   */
  #pageKey(token: string, len: number): Buffer | null {
    const bad = (why: string) =>
      new ValidationError(`page token ${JSON.stringify(token.slice(0, 200))} ${why}: run the query again without \`after\``, { path: "after", after: token.slice(0, 200) });
    if (!token.startsWith(PAGE_TOKEN_PREFIX)) {
      throw bad(/^q[hita]!/.test(token) ? "is of an older form (an index store before format 2): it cannot be continued" : `is not a page token of this node (they start with ${PAGE_TOKEN_PREFIX})`);
    }
    const body = token.slice(PAGE_TOKEN_PREFIX.length);
    const k = Buffer.from(body, "base64url");
    if (k.toString("base64url") !== body || (k.length !== REF_KEY_BYTES && k.length !== ALL_KEY_BYTES) || k[0]! < Q_HOLDER || k[0]! > Q_ALL || (k.length === ALL_KEY_BYTES) !== (k[0] === Q_ALL)) {
      throw bad("is malformed");
    }
    return k.length === len ? k : null;
  }

  progress(): IndexerProgress {
    const lag = this.lag();
    return {
      running: this.running,
      cursor: this.cursor.block,
      head: this.head,
      lag,
      caughtUp: lag === 0,
      reorgs: this.reorgCount,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  onEvent(listener: (e: IndexedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}
