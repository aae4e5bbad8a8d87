/**
 * The per-node use log: an append-only RFC 6962 Merkle log of use records in LevelDB, with signed tree
 * heads, periodic head anchoring on chain, indexed audit queries with inclusion proofs, and CSV/JSON export.
 *
 * LevelDB layout (its own database, one-byte prefixes):
 *
 *   'R' seq64                      -> canonical record (record.ts, 235 bytes)
 *   'N' level8 index64             -> SHA-256 of the perfect subtree (level, index) (level 0 = leaf hashes)
 *   'K' "size"                     -> u64 number of records (written in the same batch as the records)
 *   'S' size64                     -> signed tree head JSON (every head this node signed)
 *   'A' size64                     -> anchored head JSON {size, root, blockNumber, txHash, at}
 *   'I' kind8 key32 at64 seq64     -> ''  audit indexes: h holder, l material, m member (requester and
 *                                         custodian), x matter, g grant; the holder index holds a copy of
 *                                         the record, so a holder's history is one range scan.
 *                                         Data uses under a scenario (basis SCENARIO) are indexed by m member,
 *                                         x matter, s scenario (their grantId field) and c resource (their
 *                                         typeCode field); not by holder, material or grant
 *   'U' key32                      -> expiry u64: unique keys (request nonces) consumed with an append
 *
 * Appends are group-committed: every append waiting while a batch is written goes into the next one
 * (one LevelDB write for all of them). The right edge of the tree (one node per set bit of the size) is kept
 * in memory, so an append reads nothing; upper-level nodes are cached, so a proof is one `getMany` of its
 * lower nodes.
 *
 * Both bases share one log, one tree and the same heads: GRANT records (material uses) and SCENARIO records
 * (data uses under an application scenario, appended with {@link UseLog.appendDataUse}). The per-grant counts
 * sent with an anchored head cover SERVED GRANT records only.
 */
import type { ClassicLevel } from "classic-level";
import { AbiCoder, keccak256 } from "ethers";
import type { Startable } from "../core/service.js";
import type { Logger } from "../core/log.js";
import type { UseRecord as SdkUseRecord } from "@tongban/sdk";
import { encodeUseRecord, decodeUseRecord, FIELD_OFFSET, BASIS_OFFSET, BASIS_CODE, type UseRecord, type UseRecordInput } from "./record.js";
import {
  leafHash,
  nodeHash,
  foldSpan,
  inclusionSpans,
  consistencySpans,
  spanOf,
  EMPTY_ROOT,
  type Span,
  type NodeAddr,
} from "./tree.js";

export type LogDB = ClassicLevel<Buffer, Buffer>;

const P = (c: string) => c.charCodeAt(0);
const PFX = { R: P("R"), N: P("N"), K: P("K"), S: P("S"), A: P("A"), I: P("I"), U: P("U") };
export const INDEX_KIND = { holder: P("h"), material: P("l"), member: P("m"), matter: P("x"), grant: P("g"), scenario: P("s"), resource: P("c") } as const;
export type IndexKind = keyof typeof INDEX_KIND;

function u64(b: Buffer, off: number, v: number): void {
  b.writeUInt32BE(Math.floor(v / 2 ** 32), off);
  b.writeUInt32BE(v >>> 0, off + 4);
}
function r64(b: Buffer, off: number): number {
  return b.readUInt32BE(off) * 2 ** 32 + b.readUInt32BE(off + 4);
}

export const LK = {
  record(seq: number): Buffer {
    const k = Buffer.allocUnsafe(9);
    k[0] = PFX.R;
    u64(k, 1, seq);
    return k;
  },
  node(level: number, index: number): Buffer {
    const k = Buffer.allocUnsafe(10);
    k[0] = PFX.N;
    k[1] = level;
    u64(k, 2, index);
    return k;
  },
  size: Buffer.from([PFX.K, ...Buffer.from("size")]),
  signed(size: number): Buffer {
    const k = Buffer.allocUnsafe(9);
    k[0] = PFX.S;
    u64(k, 1, size);
    return k;
  },
  anchored(size: number): Buffer {
    const k = Buffer.allocUnsafe(9);
    k[0] = PFX.A;
    u64(k, 1, size);
    return k;
  },
  index(kind: number, key: Buffer, at: number, seq: number): Buffer {
    const k = Buffer.allocUnsafe(50);
    k[0] = PFX.I;
    k[1] = kind;
    key.copy(k, 2, 0, 32);
    u64(k, 34, at);
    u64(k, 42, seq);
    return k;
  },
  unique(key: Buffer): Buffer {
    const k = Buffer.allocUnsafe(33);
    k[0] = PFX.U;
    key.copy(k, 1, 0, 32);
    return k;
  },
  prefix(...bytes: number[]): { gte: Buffer; lt: Buffer } {
    const gte = Buffer.from(bytes);
    const lt = Buffer.from(bytes);
    lt[lt.length - 1]! += 1;
    return { gte, lt };
  },
};

const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
const unhex = (s: string) => Buffer.from(s.startsWith("0x") ? s.slice(2) : s, "hex");

/** A tree head signed by the node's signing account. */
export interface SignedTreeHead {
  /** bytes32 member id of the log's owner */
  logId: string;
  size: number;
  /** 0x SHA-256 root (RFC 6962) */
  root: string;
  /** unix ms */
  timestamp: number;
  /** EIP-191 signature over {@link headDigest} by `signer` */
  signer: string;
  signature: string;
}

/** A head the node anchored on chain. */
export interface AnchoredHead {
  size: number;
  root: string;
  blockNumber: number;
  txHash: string;
  /** unix ms when the anchor was confirmed */
  at: number;
}

/** The digest a signed tree head signs (EIP-191 personal message of these 32 bytes). */
export function headDigest(logId: string, size: number, root: string, timestamp: number): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["string", "bytes32", "uint64", "bytes32", "uint64"], ["tongban/use-log-head/1", logId, size, root, timestamp]),
  );
}

/** SERVED uses of one grant in the records an anchor adds (IAuthorisations.GrantUses). */
export interface GrantUses {
  grantId: string;
  count: number;
}

/** Where heads are anchored: IAuthorisations.anchorUseLog through the node's signing account. */
export interface HeadAnchorSink {
  /** tree size of this custodian's latest head on chain (0 if none) */
  latestAnchoredSize(): Promise<number>;
  /** anchor (size, root) with the uses per grant of the added records; resolves when confirmed */
  anchorHead(size: number, root: string, uses: GrantUses[]): Promise<{ blockNumber: number; txHash: string }>;
}

export interface UseLogComponents {
  db: LogDB;
  /** bytes32 member id of this node */
  logId: string;
  /** signs a 32-byte digest as an EIP-191 message with the node's signing account */
  signer?: { address: string; signDigest(digest: string): Promise<string> | string };
  /** where heads are anchored (the authorisations contract); absent = no anchoring */
  anchor?: HeadAnchorSink;
  logger?: Logger;
}

export interface UseLogInit {
  /** fsync each append batch (default true) */
  syncWrites?: boolean;
  /** anchor the head at least this often when it grew, ms (default 5,000; 0 = only on anchorNow / anchorEvery) */
  anchorIntervalMs?: number;
  /** anchor as soon as this many records are unanchored (default 10,000) */
  anchorEvery?: number;
  /** nodes at this level and above are cached in memory (default 4: 1/8 of the nodes, ~12 MB per million records) */
  cacheLevel?: number;
}

/** An append refused because its unique key (request nonce) was already consumed. */
export class DuplicateKeyError extends Error {
  override name = "DuplicateKeyError";
  constructor(readonly key: string) {
    super(`unique key ${key} was already used`);
  }
}

interface Pending {
  input: UseRecordInput;
  enc: Buffer;
  unique?: { key: Buffer; expiry: number };
  resolve: (v: { seq: number; leafHash: string }) => void;
  reject: (e: unknown) => void;
}

/** One record with its inclusion proof against `head`. */
export interface ProvenRecord {
  record: UseRecord;
  /** 0x RFC 6962 leaf hash of the canonical encoding */
  leafHash: string;
  /** 0x canonical encoding (what the leaf hash commits to) */
  encoded: string;
  /** audit path (RFC 9162) against the head of size `treeSize` */
  proof: string[];
  treeSize: number;
  /** whether `treeSize` is an anchored head (false: the latest signed head, anchoring pending) */
  anchored: boolean;
}

export interface HistoryQuery {
  by: IndexKind;
  /** bytes32 hex: holderRef, material leaf, member id, matter code, grant id, scenario id or resource code */
  key: string;
  /** unix seconds, inclusive (default 0) */
  from?: number;
  /** unix seconds, inclusive (default: no end) */
  to?: number;
  /** at most this many records, oldest first (default 1,000) */
  limit?: number;
}

export interface HistoryResult {
  query: HistoryQuery;
  /** the anchored head the proofs refer to (if any) */
  anchoredHead?: AnchoredHead;
  /** the latest signed head (proofs of records newer than the anchored head refer to it) */
  signedHead?: SignedTreeHead;
  records: ProvenRecord[];
  /** true if `limit` cut the result */
  truncated: boolean;
}

export class UseLog implements Startable {
  readonly #c: UseLogComponents;
  readonly #sync: boolean;
  readonly #anchorIntervalMs: number;
  readonly #anchorEvery: number;
  readonly #cacheLevel: number;
  /** right edge: frontier[level] = hash of the complete node at that level whose parent is incomplete */
  #frontier: (Buffer | undefined)[] = [];
  #size = 0;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #cache = new Map<number, Buffer>();
  /** folded hashes of multi-node spans (start, size): a prefix of the log never changes, so neither do they */
  #spans = new Map<string, Buffer>();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #anchoring: Promise<AnchoredHead | undefined> | undefined;
  #lastAnchored: AnchoredHead | undefined;
  #lastSigned: SignedTreeHead | undefined;
  /** SERVED records per grant not yet covered by an anchored head (the chain's `used` does not count them yet) */
  #unanchored = new Map<string, number>();

  constructor(components: UseLogComponents, init: UseLogInit = {}) {
    this.#c = components;
    this.#sync = init.syncWrites ?? true;
    this.#anchorIntervalMs = init.anchorIntervalMs ?? 5000;
    this.#anchorEvery = init.anchorEvery ?? 10_000;
    this.#cacheLevel = init.cacheLevel ?? 4;
  }

  get size(): number {
    return this.#size;
  }
  get db(): LogDB {
    return this.#c.db;
  }

  /** Load the size, the right edge and the last heads. */
  async start(): Promise<void> {
    if (this.#running) return;
    const { db } = this.#c;
    const raw = await db.get(LK.size);
    this.#size = raw ? r64(raw, 0) : 0;
    // the right edge: for each set bit l of size, node (l, (size >> l) - 1)
    this.#frontier = [];
    for (let l = 0; 2 ** l <= this.#size; l++) {
      if (Math.floor(this.#size / 2 ** l) % 2 === 1) {
        const h = await db.get(LK.node(l, Math.floor(this.#size / 2 ** l) - 1));
        if (!h) throw new Error(`use log damaged: missing node (${l}, ${Math.floor(this.#size / 2 ** l) - 1}) of size ${this.#size}`);
        this.#frontier[l] = h;
      }
    }
    this.#lastAnchored = await this.#last(PFX.A);
    this.#lastSigned = await this.#last(PFX.S);
    this.#unanchored = await this.#servedPerGrant(this.#lastAnchored?.size ?? 0, this.#size);
    this.#running = true;
    this.#pruneTimer = setInterval(() => void this.pruneUnique().catch(() => undefined), 10 * 60_000);
    this.#pruneTimer.unref();
    if (this.#c.anchor && this.#anchorIntervalMs > 0) {
      this.#timer = setInterval(() => {
        if (this.#size > (this.#lastAnchored?.size ?? 0)) void this.anchorNow().catch(() => undefined);
      }, this.#anchorIntervalMs);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    while (this.#flushing) await this.#flushing;
    await this.#anchoring?.catch(() => undefined);
  }

  async #last<T>(prefix: number): Promise<T | undefined> {
    for await (const v of this.#c.db.values({ ...LK.prefix(prefix), reverse: true, limit: 1 })) return JSON.parse(v.toString()) as T;
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * Append one record; resolves once it is on disk (group commit). With `unique`, the append is refused
   * with {@link DuplicateKeyError} if the key was consumed before (checked and written atomically).
   */
  append(input: UseRecordInput, unique?: { key: string; expiry: number }): Promise<{ seq: number; leafHash: string }> {
    if (!this.#running) return Promise.reject(new Error("use log is not running"));
    // encode (and so validate) now, so one bad record cannot fail a whole batch
    let enc: Buffer;
    try {
      enc = encodeUseRecord(input);
      if ((input.basis ?? "GRANT") === "GRANT" && !/^0x[0-9a-fA-F]{64}$/.test(input.holderRef ?? "")) throw new TypeError("use record holderRef must be 0x + 32 bytes hex");
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, enc, unique: unique && { key: unhex(unique.key), expiry: unique.expiry }, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flushLoop();
    });
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#queue.length) {
        const batch = this.#queue;
        this.#queue = [];
        await this.#write(batch);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    const { db } = this.#c;
    // unique keys: refuse those already consumed (on disk or earlier in this batch)
    const withKey = batch.filter((p) => p.unique);
    let accepted = batch;
    if (withKey.length) {
      let existing: (Buffer | undefined)[];
      try {
        existing = await db.getMany(withKey.map((p) => LK.unique(p.unique!.key)));
      } catch (e) {
        for (const p of batch) p.reject(e);
        return;
      }
      const seen = new Set<string>();
      const refused = new Set<Pending>();
      withKey.forEach((p, i) => {
        const k = p.unique!.key.toString("hex");
        if (existing[i] || seen.has(k)) refused.add(p);
        seen.add(k);
      });
      for (const p of refused) p.reject(new DuplicateKeyError("0x" + p.unique!.key.toString("hex")));
      accepted = batch.filter((p) => !refused.has(p));
    }
    if (!accepted.length) return;
    // One chained batch (ONE atomic LevelDB write for the whole group): each put goes straight into the native
    // write batch. An array batch() clones, validates and re-reads every operation object (~11 per record:
    // ~6x the CPU of this path, node/src/audit/README.md); keys and values here are Buffers already.
    const b = db.batch();
    const frontier = [...this.#frontier];
    let size = this.#size;
    const results: { seq: number; leafHash: string }[] = [];
    const cached: [number, Buffer][] = [];
    try {
      for (const p of accepted) {
        const enc = p.enc;
        const seq = size;
        const lh = leafHash(enc);
        b.put(LK.record(seq), enc);
        b.put(LK.node(0, seq), lh);
        // carry up: while the node index is odd, combine with the left sibling on the frontier
        let h = lh;
        let idx = seq;
        let level = 0;
        while (idx % 2 === 1) {
          h = nodeHash(frontier[level]!, h);
          frontier[level] = undefined;
          idx = (idx - 1) / 2;
          level++;
          b.put(LK.node(level, idx), h);
          if (level >= this.#cacheLevel) cached.push([cacheKey(level, idx), h]);
        }
        frontier[level] = h;
        size++;
        // indexes (time in unix seconds): one 50-byte key per index, sliced from one buffer per record
        const at = p.input.time;
        const e = enc;
        const grantBasis = e[BASIS_OFFSET] === BASIS_CODE.GRANT;
        const twoMembers = p.input.requester.toLowerCase() !== p.input.custodian.toLowerCase();
        const n = (grantBasis ? 5 : 4) + (twoMembers ? 1 : 0);
        const keys = Buffer.allocUnsafe(50 * n);
        let o = 0;
        const idxKey = (kind: number, key: Uint8Array, value: Buffer = EMPTY) => {
          const k = keys.subarray(o, o + 50);
          o += 50;
          k[0] = PFX.I;
          k[1] = kind;
          k.set(key.subarray(0, 32), 2);
          u64(k, 34, at);
          u64(k, 42, seq);
          b.put(k, value);
        };
        const field = (off: number) => e.subarray(off, off + 32);
        if (grantBasis) {
          idxKey(INDEX_KIND.holder, unhex(p.input.holderRef!), enc);
          idxKey(INDEX_KIND.material, field(FIELD_OFFSET.leaf));
        }
        idxKey(INDEX_KIND.member, field(FIELD_OFFSET.requester));
        if (twoMembers) idxKey(INDEX_KIND.member, field(FIELD_OFFSET.custodian));
        idxKey(INDEX_KIND.matter, field(FIELD_OFFSET.matter));
        if (grantBasis) idxKey(INDEX_KIND.grant, field(FIELD_OFFSET.grantId));
        else {
          idxKey(INDEX_KIND.scenario, field(FIELD_OFFSET.grantId));
          idxKey(INDEX_KIND.resource, field(FIELD_OFFSET.typeCode));
        }
        if (p.unique) {
          const v = Buffer.allocUnsafe(8);
          u64(v, 0, p.unique.expiry);
          b.put(LK.unique(p.unique.key), v);
        }
        results.push({ seq, leafHash: "0x" + lh.toString("hex") });
      }
      const sz = Buffer.allocUnsafe(8);
      u64(sz, 0, size);
      b.put(LK.size, sz);
      await b.write({ sync: this.#sync });
    } catch (e) {
      await b.close().catch(() => undefined); // idempotent: frees the native batch if write() was not reached
      for (const p of accepted) p.reject(e);
      return;
    }
    this.#frontier = frontier;
    this.#size = size;
    for (const [k, v] of cached) this.#cache.set(k, v);
    for (const p of accepted) {
      if (p.input.direction !== "SERVED" || p.enc[BASIS_OFFSET] !== BASIS_CODE.GRANT) continue;
      const g = p.input.grantId.toLowerCase();
      this.#unanchored.set(g, (this.#unanchored.get(g) ?? 0) + 1);
    }
    accepted.forEach((p, i) => p.resolve(results[i]!));
    if (this.#c.anchor && this.#size - (this.#lastAnchored?.size ?? 0) >= this.#anchorEvery && !this.#anchoring) {
      void this.anchorNow().catch(() => undefined);
    }
  }

  /**
   * Appends a data use under an application scenario (an SDK use record with basis SCENARIO, e.g. from
   * `dataUseToUseRecord`): same log, same heads, indexed by member, matter, scenario and resource; not counted
   * in the per-grant counts of anchors. Resolves once it is on disk; `unique` as for {@link append}.
   * @throws TypeError if the basis is not SCENARIO; UseRecordError naming a bad field
   */
  appendDataUse(record: SdkUseRecord, unique?: { key: string; expiry: number }): Promise<{ seq: number; leafHash: string }> {
    if (record?.basis !== "SCENARIO" && record?.basis !== "SHARING_APPROVAL") {
      return Promise.reject(new TypeError(`a data use record has basis SCENARIO (got ${String(record?.basis)})`));
    }
    const t = Number(record.time);
    return this.append({
      direction: record.direction, basis: "SCENARIO", time: t, requestId: record.requestId, grantId: record.grantId, matter: record.matter,
      requester: record.requester, custodian: record.custodian, typeCode: record.typeCode, leaf: record.leaf,
    }, unique);
  }

  /** SERVED records of `grantId` this node appended after its last anchored head (not yet counted on chain). */
  unanchoredUses(grantId: string): number {
    return this.#unanchored.get(grantId.toLowerCase()) ?? 0;
  }

  async #servedPerGrant(from: number, to: number): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for await (const { raw } of this.scan(from, to)) {
      if (raw[1] !== 1 || raw[BASIS_OFFSET] !== BASIS_CODE.GRANT) continue; // SERVED, under a grant
      const g = "0x" + raw.toString("hex", FIELD_OFFSET.grantId, FIELD_OFFSET.grantId + 32);
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    return m;
  }

  /** Wait until every append queued so far is on disk. */
  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  // ---------------------------------------------------------------------------------------------- heads

  /** Root of the current tree (from the right edge, no I/O). */
  root(): string {
    if (this.#size === 0) return hex(EMPTY_ROOT);
    let r: Buffer | undefined;
    for (let l = 0; l < this.#frontier.length; l++) {
      const f = this.#frontier[l];
      if (!f) continue;
      r = r ? nodeHash(f, r) : f;
    }
    return hex(r!);
  }

  /** Root of the tree of the first `size` records (one batched read). */
  async rootAt(size: number): Promise<string> {
    if (size === this.#size) return this.root();
    if (size === 0) return hex(EMPTY_ROOT);
    if (size > this.#size) throw new RangeError(`size ${size} > log size ${this.#size}`);
    const [h] = await this.#resolve([spanOf(0, size)]);
    return hex(h!);
  }

  /** Sign and keep the current head. */
  async signHead(): Promise<SignedTreeHead> {
    await this.flushed();
    const { signer, logId, db } = this.#c;
    const size = this.#size;
    const root = this.root();
    const timestamp = Date.now();
    const sth: SignedTreeHead = {
      logId,
      size,
      root,
      timestamp,
      signer: signer?.address ?? "",
      signature: signer ? await signer.signDigest(headDigest(logId, size, root, timestamp)) : "",
    };
    await db.put(LK.signed(size), Buffer.from(JSON.stringify(sth)));
    this.#lastSigned = sth;
    return sth;
  }

  get lastSignedHead(): SignedTreeHead | undefined {
    return this.#lastSigned;
  }
  get lastAnchoredHead(): AnchoredHead | undefined {
    return this.#lastAnchored;
  }

  /** Every head this node anchored, oldest first. */
  async anchoredHeads(): Promise<AnchoredHead[]> {
    const out: AnchoredHead[] = [];
    for await (const v of this.#c.db.values(LK.prefix(PFX.A))) out.push(JSON.parse(v.toString()) as AnchoredHead);
    return out;
  }

  /** Anchor the current head now (one transaction; concurrent calls share it). Undefined if nothing new. */
  anchorNow(): Promise<AnchoredHead | undefined> {
    if (!this.#c.anchor) return Promise.reject(new Error("use log has no anchor sink"));
    if (this.#anchoring) return this.#anchoring;
    const run = async (): Promise<AnchoredHead | undefined> => {
      await this.flushed();
      const size = this.#size;
      if (size === 0 || size === this.#lastAnchored?.size) return this.#lastAnchored;
      const root = this.root();
      const sth = await this.signHead();
      try {
        // counts since the chain's previous head (not our notes: a crash after the tx must not count twice)
        const prev = await this.#c.anchor!.latestAnchoredSize();
        if (prev > size) throw new Error(`chain head size ${prev} > local log size ${size}: the log lost records`);
        if (prev === size) return this.#lastAnchored;
        const counts = await this.#servedPerGrant(prev, size);
        const uses = [...counts.entries()].map(([grantId, count]) => ({ grantId, count }));
        const r = await this.#c.anchor!.anchorHead(size, root, uses);
        const head: AnchoredHead = { size, root, blockNumber: r.blockNumber, txHash: r.txHash, at: Date.now() };
        await this.#c.db.put(LK.anchored(size), Buffer.from(JSON.stringify(head)));
        this.#lastAnchored = head;
        for (const [g, c] of counts) {
          const left = (this.#unanchored.get(g) ?? 0) - c;
          if (left > 0) this.#unanchored.set(g, left);
          else this.#unanchored.delete(g);
        }
        this.#c.logger?.info({ size, root, block: r.blockNumber, signedAt: sth.timestamp }, "use-log head anchored");
        return head;
      } catch (e) {
        this.#c.logger?.warn({ size, err: String((e as Error)?.message ?? e).slice(0, 300) }, "use-log head anchoring failed");
        throw e;
      }
    };
    this.#anchoring = run().finally(() => (this.#anchoring = undefined));
    return this.#anchoring;
  }

  // ---------------------------------------------------------------------------------------------- proofs

  async #resolve(spans: Span[]): Promise<Buffer[]> {
    const need = new Map<number, NodeAddr>();
    const spanKey = (s: Span) => (s.nodes.length > 1 ? `${s.nodes[0]!.level}:${s.nodes[0]!.index}:${s.nodes.map((n) => n.level).join(",")}` : "");
    for (const s of spans) {
      if (s.nodes.length > 1 && this.#spans.has(spanKey(s))) continue;
      for (const n of s.nodes) {
        const k = cacheKey(n.level, n.index);
        if (!this.#cache.has(k)) need.set(k, n);
      }
    }
    const found = new Map<number, Buffer>();
    if (need.size) {
      const addrs = [...need.entries()];
      const vals = await this.#c.db.getMany(addrs.map(([, a]) => LK.node(a.level, a.index)));
      addrs.forEach(([k, a], i) => {
        const v = vals[i];
        if (!v) throw new Error(`use log damaged: missing node (${a.level}, ${a.index})`);
        found.set(k, v);
        if (a.level >= this.#cacheLevel) this.#cache.set(k, v);
      });
    }
    const get = (n: NodeAddr) => this.#cache.get(cacheKey(n.level, n.index)) ?? found.get(cacheKey(n.level, n.index))!;
    return spans.map((s) => {
      if (s.nodes.length === 1) return get(s.nodes[0]!);
      const k = spanKey(s);
      let h = this.#spans.get(k);
      if (!h) {
        h = foldSpan(s.nodes.map(get));
        if (this.#spans.size > 100_000) this.#spans.clear();
        this.#spans.set(k, h);
      }
      return h;
    });
  }

  /** RFC 9162 inclusion proof of record `seq` in the tree of `size` records. */
  async inclusionProof(seq: number, size = this.#size): Promise<string[]> {
    if (size > this.#size) throw new RangeError(`size ${size} > log size ${this.#size}`);
    return (await this.#resolve(inclusionSpans(seq, size))).map(hex);
  }

  /** Inclusion proofs of several records against one size, in one batched read. */
  async inclusionProofs(seqs: number[], size = this.#size): Promise<string[][]> {
    const all: Span[] = [];
    const lens: number[] = [];
    for (const s of seqs) {
      const sp = inclusionSpans(s, size);
      lens.push(sp.length);
      all.push(...sp);
    }
    const hs = (await this.#resolve(all)).map(hex);
    const out: string[][] = [];
    let o = 0;
    for (const l of lens) {
      out.push(hs.slice(o, o + l));
      o += l;
    }
    return out;
  }

  /** RFC 9162 consistency proof from `from` records to `to` records. */
  async consistencyProof(from: number, to = this.#size): Promise<string[]> {
    if (to > this.#size) throw new RangeError(`size ${to} > log size ${this.#size}`);
    if (from === to || from === 0) return [];
    return (await this.#resolve(consistencySpans(from, to))).map(hex);
  }

  // ---------------------------------------------------------------------------------------------- reads

  /** The raw canonical encoding of record `seq` (undefined if absent). */
  async rawRecord(seq: number): Promise<Buffer | undefined> {
    return this.#c.db.get(LK.record(seq));
  }

  async getRecord(seq: number): Promise<UseRecord | undefined> {
    const raw = await this.rawRecord(seq);
    return raw ? decodeUseRecord(raw, seq) : undefined;
  }

  /** Records in [from, to) with their raw encodings, in order; absent seqs are skipped (the auditor sees the gap). */
  async *scan(from = 0, to = this.#size): AsyncGenerator<{ seq: number; raw: Buffer }> {
    for await (const [k, v] of this.#c.db.iterator({ gte: LK.record(from), lt: LK.record(to) })) {
      yield { seq: r64(k, 1), raw: v };
    }
  }

  /**
   * Data-use history by holder, material, member, matter, grant, scenario or resource over a time range, oldest first, each
   * record with its inclusion proof against the latest anchored head (or the latest signed head for
   * records appended after it).
   */
  async history(q: HistoryQuery): Promise<HistoryResult> {
    const kind = INDEX_KIND[q.by];
    if (kind === undefined) throw new TypeError(`unknown history index ${String(q.by)}`);
    const key = unhex(q.key);
    if (key.length !== 32) throw new TypeError("history key must be 32 bytes hex");
    const from = q.from ?? 0;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(q.limit ?? 1000, 100_000);
    const seqs: number[] = [];
    const inline: (Buffer | undefined)[] = [];
    let truncated = false;
    for await (const [k, v] of this.#c.db.iterator({ gte: LK.index(kind, key, from, 0), lte: LK.index(kind, key, to, Number.MAX_SAFE_INTEGER), limit: limit + 1 })) {
      if (seqs.length === limit) {
        truncated = true;
        break;
      }
      seqs.push(r64(k, 42));
      inline.push(v.length ? v : undefined);
    }
    // records copied into the index (holder) come with the scan; the others are one getMany
    const missing = seqs.filter((_, i) => !inline[i]);
    const fetched = missing.length ? await this.#c.db.getMany(missing.map((s) => LK.record(s))) : [];
    let f = 0;
    const raws = inline.map((v) => v ?? fetched[f++]);
    const anchored = this.#lastAnchored;
    let signed = this.#lastSigned;
    const needsSigned = seqs.some((s) => !anchored || s >= anchored.size);
    if (needsSigned && (!signed || seqs.some((s) => s >= signed!.size))) signed = await this.signHead();
    const aSeqs = anchored ? seqs.filter((s) => s < anchored.size) : [];
    const sSeqs = seqs.filter((s) => !anchored || s >= anchored.size);
    const aProofs = anchored ? await this.inclusionProofs(aSeqs, anchored.size) : [];
    const sProofs = signed ? await this.inclusionProofs(sSeqs, signed.size) : [];
    const proofOf = new Map<number, { proof: string[]; size: number; anchored: boolean }>();
    aSeqs.forEach((s, i) => proofOf.set(s, { proof: aProofs[i]!, size: anchored!.size, anchored: true }));
    sSeqs.forEach((s, i) => proofOf.set(s, { proof: sProofs[i]!, size: signed!.size, anchored: false }));
    const records: ProvenRecord[] = [];
    seqs.forEach((s, i) => {
      const raw = raws[i];
      if (!raw) return; // a dangling index entry: the record is gone (the audit check reports it)
      const p = proofOf.get(s)!;
      records.push({ record: decodeUseRecord(raw, s), leafHash: hex(leafHash(raw)), encoded: hex(raw), proof: p.proof, treeSize: p.size, anchored: p.anchored });
    });
    return { query: q, anchoredHead: anchored, signedHead: signed, records, truncated };
  }

  /** Whether a unique key (request nonce) was consumed (a cheap early check; `append` decides atomically). */
  async hasUnique(key: string): Promise<boolean> {
    return (await this.#c.db.get(LK.unique(unhex(key)))) !== undefined;
  }

  /** Remove consumed unique keys whose expiry (unix ms) has passed. Returns how many were removed. */
  async pruneUnique(now = Date.now()): Promise<number> {
    const dels: { type: "del"; key: Buffer }[] = [];
    for await (const [k, v] of this.#c.db.iterator(LK.prefix(PFX.U))) if (r64(v, 0) < now) dels.push({ type: "del", key: k });
    if (dels.length) await this.#c.db.batch(dels);
    return dels.length;
  }
}

const EMPTY = Buffer.alloc(0);
function cacheKey(level: number, index: number): number {
  return index * 64 + level;
}

// ------------------------------------------------------------------------------------------------ export

const CSV_COLUMNS = ["seq", "direction", "time", "isoTime", "requestId", "grantId", "matter", "requester", "custodian", "typeCode", "leaf", "leafHash", "treeSize", "anchored", "proof", "basis"] as const;

/** CSV (RFC 4180, header row) of a history result; the proof is `;`-separated hashes. */
export function historyToCsv(h: HistoryResult): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of h.records) {
    const x = r.record;
    lines.push(
      [x.seq, x.direction, x.time, new Date(x.time * 1000).toISOString(), x.requestId, x.grantId, x.matter, x.requester, x.custodian, x.typeCode, x.leaf, r.leafHash, r.treeSize, r.anchored, r.proof.join(";"), x.basis].join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

/** JSON export of a history result (what an auditor archives with the anchored head it refers to). */
export function historyToJson(h: HistoryResult): string {
  return JSON.stringify({ format: "tongban/use-history@1", ...h }, null, 2);
}
