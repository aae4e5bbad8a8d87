/**
 * The material service: the node's core, as the HTTP API, the CLI and the libp2p exchange see it.
 *
 * A request enters through {@link MaterialService.register}, is validated (IDs, type, entitlement of this
 * member for the type in the jurisdiction, judged against a briefly cached chain view), persisted in
 * LevelDB with its leaf (content encrypted), and only then acknowledged. The anchorer batches persisted
 * leaves by (type, jurisdiction), plans each batch durably, anchors its Merkle root, waits for
 * confirmations and marks the leaves anchored with their proofs. Status changes go through the same
 * durable queue.
 */
import type {
  BatchInfo,
  ChangeEvent,
  MaterialRecord,
  RegisterAck,
  RegisterRequest,
  ServiceStats,
  StatusOp,
} from "./types.js";
import { EventEmitter } from "node:events";
import { decodeBytes32String } from "ethers";
import type { DB } from "./db.js";
import { K, FLAG_CONTENT, fillMaterial, logChunk, json, parse, decodeMaterial } from "./db.js";
import type { Anchorer, BatchRecord, OpRecord } from "./anchorer.js";
import type { Entitlements, Prepared, Precomputed } from "./intake.js";
import { prepareRequest, fingerprint, holderCanonical, ZERO32 } from "./intake.js";
import type { ContentStore } from "./store.js";
import type { LedgerClient } from "./chain.js";
import type { CoreMetrics } from "./metrics.js";
import type { Logger } from "./log.js";
import { decodeHeader, hex, parseHex, keccakBuf, HEADER_BYTES } from "./header.js";
import type { LeafHasher, IntakeCrypto } from "./hasher.js";
import { errInfo } from "./log.js";
import {
  ConflictError,
  NoContentError,
  NodeError,
  NotFoundError,
  NotRunningError,
  UnavailableError,
  ValidationError,
} from "./errors.js";
import type { HeaderJson, MaterialState, MaterialStatus, StatusOpKind } from "./types.js";

export interface RegisterOptions {
  /**
   * Client-chosen key (e.g. the HTTP `Idempotency-Key` header). A retry with the same key and the same
   * requests returns the first answer; the same key with different requests is a CONFLICT.
   */
  idempotencyKey?: string;
}

export interface StatusOptions {
  idempotencyKey?: string;
}

/** js-libp2p style Startable. */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface MaterialService extends Startable {
  /**
   * Validate, persist and acknowledge materials. All requests are validated first: if any fails, none is
   * persisted and the error names the request index (`details.index`). Resolves after the leaves are on
   * disk; anchoring follows asynchronously.
   * @throws ValidationError | InvalidIdError | UnknownTypeError | NotEntitledError | ConflictError | UnavailableError
   */
  register(requests: RegisterRequest[], opts?: RegisterOptions): Promise<RegisterAck[]>;

  /**
   * The record of a material this node registered. Once anchored it carries `anchor` (root, proof, block, tx)
   * and `bundle` (SDK proof bundle, sealed by the node: ~1 ms to sign the first time, then cached). Pass
   * `{ bundle: false }` when only the header/state is needed (indexer feeds, bulk reads).
   * @throws NotFoundError | ValidationError
   */
  getMaterial(leaf: string, opts?: { bundle?: boolean }): Promise<MaterialRecord>;

  /** Decrypted content of a material registered with content. @throws NotFoundError | NoContentError */
  getContent(leaf: string): Promise<Uint8Array>;

  /**
   * Queue a revocation (final) of a material this node issued. `reason` is a uint16 reason code.
   * Revoking a leaf whose anchor is still pending is allowed: the op is sent after the anchor confirms.
   * @throws NotFoundError | ConflictError (already revoked by another op)
   */
  revoke(leaf: string, reason: number, opts?: StatusOptions): Promise<StatusOp>;
  /** Queue a (reversible) suspension. @throws NotFoundError | ConflictError (revoked) */
  suspend(leaf: string, reason: number, opts?: StatusOptions): Promise<StatusOp>;
  /** Queue a reinstatement of a suspended material. @throws NotFoundError | ConflictError (revoked) */
  reinstate(leaf: string, opts?: StatusOptions): Promise<StatusOp>;
  /**
   * Register `next` as the successor of `oldLeaf` (version = old version + 1, supersedes = oldLeaf) and
   * queue the on-chain supersession once both are anchored. Returns the new material's ack and the op.
   */
  supersede(oldLeaf: string, next: RegisterRequest, opts?: StatusOptions): Promise<{ ack: RegisterAck; op: StatusOp }>;

  /**
   * A batch by its root (the `batchId` of batch change events): its state, block, tx and leaves, with the
   * leaves' headers if `headers` is set (one range read: the cheap way to follow 20,000 anchors/s).
   * Optional in the interface only so that test doubles written before it keep compiling; the core has it.
   * @throws NotFoundError | ValidationError
   */
  getBatch?(root: string, opts?: { headers?: boolean; headerBytes?: boolean }): Promise<BatchInfo>;

  /** A status operation by id. @throws NotFoundError */
  getOp(opId: string): Promise<StatusOp>;

  /** Counters for /metrics and dashboards (O(1), from memory). */
  stats(): ServiceStats;

  /**
   * State changes as they happen (for server-sent events). Ends when `signal` aborts or the service stops.
   * Slow consumers get the latest events; at most `highWaterMark` (default 10,000) are buffered.
   */
  changes(opts?: { signal?: AbortSignal; highWaterMark?: number }): AsyncIterable<ChangeEvent>;

  /**
   * Same events as a callback; returns an unsubscribe function. `{ materials: false }` subscribes to batch
   * and op events only: per-material events (three per material) are then not produced for this listener,
   * which matters at 20,000 materials/s (follow batches with `getBatch(root, { headers: true })`).
   */
  onChange(listener: (e: ChangeEvent) => void, opts?: { materials?: boolean }): () => void;
}

/**
 * Everything a member node's core is, as node-api wires it: build with `createNodeCore(config)` from
 * `./node.js`, `await core.start()`, serve `core.service` over HTTP and `core.metrics.registry` at /metrics,
 * `await core.stop()` on shutdown.
 */
export interface NodeCore extends Startable {
  readonly config: import("./config.js").NodeConfig;
  readonly service: MaterialService;
  readonly metrics: import("./metrics.js").CoreMetrics;
  readonly logger: import("./log.js").Logger;
  /** this node's signing account */
  readonly account: string;
  /** this member's id as bytes32 (encodeBytes32String of the USCC) */
  readonly memberId: string;
  /** the consortium holder-ref key (32 bytes): node-api needs it only to compute holderRefs for queries */
  holderRef(idType: string, idNumber: string): string;
}

// ============================================================================================ implementation


export interface MaterialServiceComponents {
  db: DB;
  anchorer: Anchorer;
  entitlements: Entitlements;
  store: ContentStore;
  ledger: LedgerClient;
  metrics: CoreMetrics;
  logger: Logger;
  /** this member's id, bytes32 */
  issuer: Buffer;
  /** consortium holder-ref key, 32 bytes */
  holderKey: Uint8Array;
  /** hashes leaves of large register calls off the main thread (optional) */
  hasher?: LeafHasher;
  /** build the proof bundle of an anchored material (SDK format) */
  bundle?: (rec: MaterialRecord) => Promise<unknown>;
}

export interface MaterialServiceInit {
  syncWrites?: boolean;
  /** refuse registrations (UNAVAILABLE) while this many materials wait for anchoring */
  maxQueue?: number;
  /** at most this many requests per register call */
  maxRequests?: number;
}

type Put = { type: "put"; key: Buffer; value: Buffer };

/** register calls with at least this many requests hash their leaves in the worker */
const HASH_IN_WORKER_FROM = 256;

interface CommitJob {
  prepared: Prepared[];
  idemKey: string | undefined;
  fp: string | undefined;
  extra: Put[];
  ops: OpRecord[];
  resolve: (acks: RegisterAck[]) => void;
  reject: (e: unknown) => void;
}

function typeName(typeCode: Uint8Array): string {
  try {
    return decodeBytes32String(hex(typeCode));
  } catch {
    return hex(typeCode);
  }
}

/** A 320-byte ABI header as the API and the indexer show it (hex fields, times as decimal strings). */
export function headerJson(enc: Buffer): HeaderJson {
  const h = decodeHeader(enc);
  return {
    typeCode: hex(h.typeCode),
    issuer: hex(h.issuer),
    holderRef: hex(h.holderRef),
    contentHash: hex(h.contentHash),
    hashAlg: h.hashAlg,
    issuedAt: String(h.issuedAt),
    validFrom: String(h.validFrom),
    validUntil: String(h.validUntil),
    version: h.version,
    supersedes: hex(h.supersedes),
  };
}

function stateOf(batch: BatchRecord | undefined): MaterialState {
  if (!batch) return "pending";
  if (batch.state === "confirmed") return "anchored";
  if (batch.state === "failed") return "failed";
  return "anchoring";
}

/** The material service over LevelDB, the anchorer and the ledger. Build with {@link createMaterialService}. */
export class CoreMaterialService implements MaterialService {
  readonly #c: MaterialServiceComponents;
  readonly #syncWrites: boolean;
  readonly #maxRequests: number;
  readonly #maxQueue: number;
  readonly #events = new EventEmitter();
  #lock: Promise<unknown> = Promise.resolve();
  #queue: CommitJob[] = [];
  #committing = false;
  #drained: Promise<void> = Promise.resolve();
  /** sealed bundles of anchored materials (immutable once anchored), bounded */
  #bundles = new Map<string, unknown>();
  #running = false;

  constructor(components: MaterialServiceComponents, init: MaterialServiceInit = {}) {
    this.#c = components;
    this.#syncWrites = init.syncWrites ?? true;
    this.#maxRequests = init.maxRequests ?? 100_000;
    this.#maxQueue = init.maxQueue ?? 2_000_000;
    this.#events.setMaxListeners(0);
  }

  /** Emit a change (used by the anchorer). */
  emit = (e: ChangeEvent): void => {
    this.#events.emit(e.kind === "material" ? "material" : "change", e);
  };
  /** Whether anyone listens to per-material events (they are skipped otherwise: 20,000/s adds up). */
  hasListeners = (): boolean => this.#events.listenerCount("material") > 0;

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#c.anchorer.load();
    this.#c.anchorer.start();
    this.#running = true;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#lock.catch(() => undefined);
    await this.#drained;
    await this.#c.anchorer.stop();
    await this.#c.hasher?.close();
    this.#events.emit("stop");
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lock.then(fn, fn);
    this.#lock = p.catch(() => undefined);
    return p;
  }

  #check(): void {
    if (!this.#running) throw new NotRunningError("material service");
  }

  // ------------------------------------------------------------------------------------------ register

  async register(requests: RegisterRequest[], opts: RegisterOptions = {}): Promise<RegisterAck[]> {
    this.#check();
    const { metrics } = this.#c;
    try {
      return await this.#register(requests, opts, undefined);
    } catch (e) {
      if (e instanceof NodeError) metrics.refused.inc({ code: e.code });
      throw e;
    }
  }

  async #register(requests: RegisterRequest[], opts: RegisterOptions, supersedeOf: string | undefined): Promise<RegisterAck[]> {
    if (!Array.isArray(requests) || requests.length === 0) throw new ValidationError("requests must be a non-empty array", {});
    if (requests.length > this.#maxRequests) {
      throw new ValidationError(`at most ${this.#maxRequests} requests per call`, { count: requests.length });
    }
    const waiting = this.#c.anchorer.pendingCount + this.#c.anchorer.anchoringCount;
    if (waiting + requests.length > this.#maxQueue) {
      throw new UnavailableError(`anchoring queue is full (${waiting} materials waiting): retry later`, { waiting, maxQueue: this.#maxQueue });
    }
    const idemKey = opts.idempotencyKey;
    let fp: string | undefined;
    if (idemKey !== undefined) {
      if (typeof idemKey !== "string" || idemKey.length === 0 || idemKey.length > 200) {
        throw new ValidationError("idempotencyKey must be 1-200 characters", { field: "idempotencyKey" });
      }
      fp = fingerprint(requests);
      const prior = await this.#idem(idemKey, fp);
      if (prior) return prior.acks!;
    }
    // 1. validate everything first (CPU only): all or nothing
    const ctx = { issuer: this.#c.issuer, holderKey: this.#c.holderKey, nowSec: Math.floor(Date.now() / 1000) };
    const prepared: Prepared[] = new Array(requests.length);
    const hasher = this.#c.hasher?.alive && requests.length >= HASH_IN_WORKER_FROM ? this.#c.hasher : undefined;
    // large calls: content hashes, holder HMACs and content sealing in the worker first (one message)
    const pre = hasher ? await this.#intakeCrypto(hasher, requests) : undefined;
    for (let i = 0; i < requests.length; i++) prepared[i] = prepareRequest(requests[i]!, i, ctx, hasher === undefined, pre?.[i]);
    if (hasher) await this.#hashLeaves(hasher, prepared);
    // 2. entitlement per distinct (type, jurisdiction), from the cached chain view
    const seen = new Set<string>();
    for (const p of prepared) {
      const k = p.typeCode.toString("latin1") + p.jurisdiction;
      if (seen.has(k)) continue;
      seen.add(k);
      await this.#c.entitlements.check(p.typeCode, requests[p.index]!.typeCode, p.jurisdiction, p.index);
    }
    // superseded materials must be ours
    for (const p of prepared) {
      if (!p.supersedes.equals(ZERO32) && hex(p.supersedes) !== supersedeOf) {
        if (!(await this.#c.db.get(K.material(p.supersedes)))) {
          throw new NotFoundError("material", hex(p.supersedes));
        }
      }
    }
    // 3. persist, then acknowledge (serialised: seq allocation and dedupe see a consistent store)
    return this.#persist(prepared, idemKey, fp);
  }

  /**
   * The per-item crypto of a large call from the worker: SHA-256 of contents, holder references, sealed
   * contents. Undefined (everything is then computed inline by prepareRequest, which also reports the first
   * bad request in order) when a request is malformed, uses SM3, has a bad holder ID, or the worker fails.
   */
  async #intakeCrypto(hasher: LeafHasher, requests: RegisterRequest[]): Promise<Precomputed[] | undefined> {
    const n = requests.length;
    const contents: (Uint8Array | undefined)[] = new Array(n);
    const holders: (string | undefined)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = requests[i];
      if (!r || typeof r !== "object") return undefined;
      if (r.content !== undefined) {
        if (!(r.content instanceof Uint8Array) || (r.hashAlg !== undefined && r.hashAlg !== 1)) return undefined;
        contents[i] = r.content;
      }
      if (r.holder !== undefined && r.holderRef === undefined) {
        let c: string;
        try {
          c = holderCanonical(r.holder, i);
        } catch {
          return undefined;
        }
        if (c.includes("\n")) return undefined;
        holders[i] = c;
      }
    }
    let work = false;
    for (let i = 0; i < n && !work; i++) work = contents[i] !== undefined || holders[i] !== undefined;
    if (!work) return undefined; // hashes and holder refs given: nothing for the worker
    let out: IntakeCrypto;
    try {
      out = await hasher.intake({ contents, holders, holderKey: this.#c.holderKey, aesKey: this.#c.store.sealingKey?.() });
    } catch (e) {
      this.#c.logger.warn({ err: errInfo(e) }, "intake worker failed; computing inline");
      return undefined;
    }
    const pre: Precomputed[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p: Precomputed = {};
      if (contents[i]) {
        p.contentHash = out.hashes.subarray(i * 32, i * 32 + 32);
        const sealed = out.sealed(i);
        if (sealed) p.sealed = sealed;
      }
      if (holders[i] !== undefined) p.holderRef = out.refs.subarray(i * 32, i * 32 + 32);
      pre[i] = p;
    }
    return pre;
  }

  /** Leaves of a large call from the hashing worker (inline if the worker is gone). */
  async #hashLeaves(hasher: LeafHasher, prepared: Prepared[]): Promise<void> {
    const n = prepared.length;
    const packed = Buffer.allocUnsafeSlow(n * 320);
    for (let i = 0; i < n; i++) prepared[i]!.header.copy(packed, i * 320);
    let leaves: Buffer;
    try {
      leaves = await hasher.hash(packed, n);
    } catch (e) {
      this.#c.logger.warn({ err: errInfo(e) }, "leaf hasher worker failed; hashing inline");
      for (const p of prepared) p.leaf = keccakBuf(p.header);
      return;
    }
    for (let i = 0; i < n; i++) prepared[i]!.leaf = leaves.subarray(i * 32, i * 32 + 32);
  }

  async #idem(key: string, fp: string): Promise<{ fp: string; acks?: RegisterAck[]; opId?: string; ack?: RegisterAck } | undefined> {
    const raw = await this.#c.db.get(K.idem(key));
    if (!raw) return undefined;
    const prior = parse<{ fp: string; acks?: RegisterAck[]; opId?: string; ack?: RegisterAck }>(raw);
    if (prior.fp !== fp) throw new ConflictError(`idempotency key ${key} was used with a different request`, { idempotencyKey: key });
    return prior;
  }

  /**
   * Persist a register job. Jobs arriving while a write is in progress are merged into the next write:
   * one dedupe read and ONE LevelDB batch (one fsync) for all of them (group commit).
   */
  #persist(prepared: Prepared[], idemKey: string | undefined, fp: string | undefined, extra: Put[] = [], ops: OpRecord[] = []): Promise<RegisterAck[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ prepared, idemKey, fp, extra, ops, resolve, reject });
      if (!this.#committing) this.#drained = this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#committing = true;
    try {
      while (this.#queue.length) {
        const jobs = this.#queue.splice(0, this.#queue.length);
        try {
          const results = await this.#persistMany(jobs);
          jobs.forEach((j, i) => {
            const r = results[i]!;
            if (r instanceof Error) j.reject(r);
            else j.resolve(r);
          });
        } catch (e) {
          for (const j of jobs) j.reject(e);
        }
      }
    } finally {
      this.#committing = false;
    }
  }

  async #persistMany(jobs: CommitJob[]): Promise<(RegisterAck[] | Error)[]> {
    this.#check();
    const { db, anchorer, store, metrics } = this.#c;
    const results: (RegisterAck[] | Error | undefined)[] = new Array(jobs.length);
    // idempotency keys: a stored answer wins; the same key twice in one commit: the first job persists it
    const idemFirst = new Map<string, number>();
    const followers: [number, number][] = [];
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j]!;
      if (job.idemKey === undefined) continue;
      try {
        const prior = await this.#idem(job.idemKey, job.fp!);
        if (prior) {
          results[j] = prior.acks!;
          continue;
        }
      } catch (e) {
        results[j] = e as Error;
        continue;
      }
      const first = idemFirst.get(job.idemKey);
      if (first === undefined) idemFirst.set(job.idemKey, j);
      else if (jobs[first]!.fp !== job.fp) results[j] = new ConflictError(`idempotency key ${job.idemKey} was used with a different request`, { idempotencyKey: job.idemKey });
      else followers.push([j, first]);
    }
    const live = jobs.map((_, j) => j).filter((j) => results[j] === undefined && !followers.some(([f]) => f === j));
    const now = Date.now();
    // dedupe within the commit and against the store
    const firstOf = new Map<string, RegisterAck>();
    const unique: Prepared[] = [];
    for (const j of live) {
      for (const p of jobs[j]!.prepared) {
        const k = (p.key ??= p.leaf.toString("latin1"));
        if (!firstOf.has(k)) {
          firstOf.set(k, undefined as unknown as RegisterAck);
          unique.push(p);
        }
      }
    }
    const mkeys = unique.map((p) => K.material(p.leaf));
    const existing = unique.length ? await db.getMany(mkeys) : [];
    const writes: (Put | { type: "del"; key: Buffer })[] = [];
    const byGroup = new Map<string, { g: ReturnType<Anchorer["group"]>; leaves: Buffer[] }>();
    const newGroups: Put[] = [];
    const newOps: OpRecord[] = [];
    const pendingSupersede = new Set<string>();
    for (const j of live) for (const op of jobs[j]!.ops) if (op.newLeaf) pendingSupersede.add(op.newLeaf);
    // the group entry per (typeCode, jurisdiction) of this commit: typeCode buffers are shared per code
    // (intake's typeCodeBytes), so one map lookup per material instead of a group key and its hex each time
    const entryOf = new Map<Buffer, Map<number, { g: ReturnType<Anchorer["group"]>; leaves: Buffer[] }>>();
    let fresh = 0;
    for (let u = 0; u < unique.length; u++) {
      const p = unique[u]!;
      const prior = existing[u];
      const k = p.key!;
      if (prior) {
        firstOf.set(k, await this.#dupAck(p.leaf, decodeMaterial(prior)));
        continue;
      }
      let byJur = entryOf.get(p.typeCode);
      if (!byJur) entryOf.set(p.typeCode, (byJur = new Map()));
      let entry = byJur.get(p.jurisdiction);
      if (!entry) {
        const g = anchorer.group(p.typeCode, p.jurisdiction, newGroups);
        entry = byGroup.get(g.hex);
        if (!entry) byGroup.set(g.hex, (entry = { g, leaves: [] }));
        byJur.set(p.jurisdiction, entry);
      }
      const g = entry.g;
      const seq = g.nextSeq + entry.leaves.length;
      entry.leaves.push(p.leaf);
      let flags = 0;
      if (p.content) {
        flags |= FLAG_CONTENT;
        writes.push(p.sealed && store.putSealedOp ? store.putSealedOp(p.hashAlg, p.contentHash, p.sealed) : store.putOp(p.hashAlg, p.contentHash, p.content));
      }
      writes.push({ type: "put", key: mkeys[u]!, value: fillMaterial(p.record, now, p.jurisdiction, seq, flags) });
      const id = "0x" + p.leaf.toString("hex");
      if (!p.supersedes.equals(ZERO32) && !pendingSupersede.has(id)) {
        const { op, writes: w } = anchorer.newOp("supersede", hex(p.supersedes), 0, id);
        newOps.push(op);
        writes.push(...w);
      }
      firstOf.set(k, { id, state: "pending", duplicate: false, acceptedAt: now });
      fresh++;
    }
    let total = 0;
    const claimed = new Set<string>(); // fresh leaves already answered as new in this commit
    for (const j of live) {
      const job = jobs[j]!;
      const acks = job.prepared.map((p) => {
        const k = p.key!;
        const a = firstOf.get(k)!;
        // the first occurrence of a fresh leaf in the commit is the new one; every other is a duplicate
        if (!a.duplicate && !claimed.has(k)) {
          claimed.add(k);
          return a;
        }
        return { ...a, duplicate: true };
      });
      total += acks.length;
      results[j] = acks;
      writes.push(...job.extra);
      newOps.push(...job.ops);
      if (job.idemKey !== undefined) writes.push({ type: "put", key: K.idem(job.idemKey), value: json({ fp: job.fp, acks }) });
    }
    for (const [f, first] of followers) results[f] = results[first];
    for (const { g, leaves } of byGroup.values()) writes.push({ type: "put", key: K.log(g.key, g.nextSeq), value: logChunk(leaves, now) });
    writes.push(...newGroups);
    if (writes.length) {
      // one chained batch (each op straight into the native batch; an array batch clones and re-validates every
      // op object on the main thread), written atomically and fsynced like before
      const batch = db.batch();
      for (const w of writes) {
        if (w.type === "put") batch.put(w.key, w.value);
        else batch.del(w.key);
      }
      await batch.write({ sync: this.#syncWrites });
    }
    // on disk: now hand the leaves to the anchorer and acknowledge
    for (const { g, leaves } of byGroup.values()) {
      g.nextSeq += leaves.length;
      anchorer.appended(g, leaves, now);
    }
    anchorer.opsWritten(newOps);
    metrics.registered.inc({ result: "new" }, fresh);
    if (total > fresh) metrics.registered.inc({ result: "duplicate" }, total - fresh);
    if (fresh && this.hasListeners()) {
      for (const a of firstOf.values()) if (!a.duplicate && a.acceptedAt === now) this.emit({ kind: "material", leaf: a.id, state: "pending", at: now });
    }
    return results as (RegisterAck[] | Error)[];
  }

  async #dupAck(leaf: Buffer, row: ReturnType<typeof decodeMaterial>): Promise<RegisterAck> {
    const loc = await this.#c.anchorer.locate(leaf);
    return { id: hex(leaf), state: stateOf(loc?.batch), duplicate: true, acceptedAt: row.acceptedAt };
  }

  // ------------------------------------------------------------------------------------------ queries

  #leaf(leaf: string): Buffer {
    const b = parseHex(leaf, 32);
    if (!b) throw new ValidationError(`material id ${String(leaf).slice(0, 80)} is not 0x-prefixed 32-byte hex`, { leaf: String(leaf).slice(0, 80) });
    return b;
  }

  async getMaterial(leaf: string, opts: { bundle?: boolean } = {}): Promise<MaterialRecord> {
    const lb = this.#leaf(leaf);
    const { anchorer, db, ledger } = this.#c;
    const loc = await anchorer.locate(lb);
    if (!loc) throw new NotFoundError("material", hex(lb));
    const { row, batch, index, tree } = loc;
    const statusRaw = await db.get(K.status(lb));
    const st = statusRaw ? parse<{ status: MaterialStatus; reason?: number; supersededBy?: string }>(statusRaw) : undefined;
    const rec: MaterialRecord = {
      id: hex(lb),
      type: typeName(row.header.subarray(0, 32)),
      jurisdiction: row.jurisdiction,
      header: headerJson(row.header),
      state: stateOf(batch),
      status: st?.status ?? "active",
      hasContent: (row.flags & FLAG_CONTENT) !== 0,
      acceptedAt: row.acceptedAt,
    };
    if (st?.reason) rec.statusReason = st.reason;
    if (st?.supersededBy) rec.supersededBy = st.supersededBy;
    if (batch) rec.batchId = batch.root;
    if (batch?.state === "failed" && batch.error) rec.error = batch.error;
    if (batch?.state === "confirmed" && tree) {
      rec.anchor = {
        root: batch.root,
        proof: tree.getProof(index!),
        index: index!,
        count: batch.count,
        blockNumber: batch.blockNumber!,
        txHash: batch.txHash!,
        chainId: ledger.chainId,
        contract: ledger.address,
        confirmedAt: batch.confirmedAt!,
      };
      if (this.#c.bundle && opts.bundle !== false) {
        // keyed by the anchor too: a reorganisation can move the anchor to another block (or tx)
        const bkey = `${rec.id}@${rec.anchor.blockNumber}:${rec.anchor.txHash}`;
        let b = this.#bundles.get(bkey);
        if (b === undefined) {
          b = await this.#c.bundle(rec);
          if (this.#bundles.size >= 10_000) this.#bundles.delete(this.#bundles.keys().next().value!);
          this.#bundles.set(bkey, b);
        }
        rec.bundle = b;
      }
    }
    return rec;
  }

  async getContent(leaf: string): Promise<Uint8Array> {
    const lb = this.#leaf(leaf);
    const raw = await this.#c.db.get(K.material(lb));
    if (!raw) throw new NotFoundError("material", hex(lb));
    const row = decodeMaterial(raw);
    if (!(row.flags & FLAG_CONTENT)) throw new NoContentError(hex(lb));
    const h = decodeHeader(row.header);
    const content = await this.#c.store.get(h.hashAlg, Buffer.from(h.contentHash));
    if (!content) throw new NoContentError(hex(lb));
    return content;
  }

  // ------------------------------------------------------------------------------------------ status ops

  async #statusOf(lb: Buffer): Promise<{ status: MaterialStatus; supersededBy?: string }> {
    const raw = await this.#c.db.get(K.status(lb));
    return raw ? parse(raw) : { status: "active" };
  }

  async #op(kind: Exclude<StatusOpKind, "supersede">, leaf: string, reason: number, opts: StatusOptions): Promise<StatusOp> {
    this.#check();
    const lb = this.#leaf(leaf);
    const id = hex(lb);
    if (kind !== "reinstate" && (!Number.isInteger(reason) || reason < 0 || reason > 0xffff)) {
      throw new ValidationError(`reason must be a uint16 reason code`, { leaf: id, field: "reason" });
    }
    const fp = opts.idempotencyKey !== undefined ? fingerprint([kind, id, reason]) : undefined;
    return this.#serial(async () => {
      const { db, anchorer } = this.#c;
      if (opts.idempotencyKey !== undefined) {
        const prior = await this.#idem(opts.idempotencyKey, fp!);
        if (prior?.opId) return this.getOp(prior.opId);
      }
      if (!(await db.get(K.material(lb)))) throw new NotFoundError("material", id);
      const st = await this.#statusOf(lb);
      const pendingRevoke = anchorer.pendingOp(id, "revoke");
      if (kind === "revoke") {
        if (pendingRevoke) return strip(pendingRevoke);
        if (st.status === "revoked") throw new ConflictError(`material ${id} is already revoked`, { leaf: id });
      } else {
        if (st.status === "revoked" || pendingRevoke) throw new ConflictError(`material ${id} is revoked`, { leaf: id });
        const same = anchorer.ops.filter((o) => o.leaf === id && (o.kind === "suspend" || o.kind === "reinstate"));
        const last = same[same.length - 1];
        if (last?.kind === kind) return strip(last);
        const effective = last ? (last.kind === "suspend" ? "suspended" : "active") : st.status;
        if (kind === "reinstate" && effective !== "suspended") throw new ConflictError(`material ${id} is not suspended`, { leaf: id });
        if (kind === "suspend" && effective === "suspended") throw new ConflictError(`material ${id} is already suspended`, { leaf: id });
      }
      const { op, writes } = anchorer.newOp(kind, id, kind === "reinstate" ? 0 : reason);
      if (opts.idempotencyKey !== undefined) writes.push({ type: "put", key: K.idem(opts.idempotencyKey), value: json({ fp, opId: op.opId }) });
      await db.batch(writes, { sync: this.#syncWrites });
      anchorer.opsWritten([op]);
      return strip(op);
    });
  }

  revoke(leaf: string, reason: number, opts: StatusOptions = {}): Promise<StatusOp> {
    return this.#op("revoke", leaf, reason, opts);
  }
  suspend(leaf: string, reason: number, opts: StatusOptions = {}): Promise<StatusOp> {
    return this.#op("suspend", leaf, reason, opts);
  }
  reinstate(leaf: string, opts: StatusOptions = {}): Promise<StatusOp> {
    return this.#op("reinstate", leaf, 0, opts);
  }

  async supersede(oldLeaf: string, next: RegisterRequest, opts: StatusOptions = {}): Promise<{ ack: RegisterAck; op: StatusOp }> {
    this.#check();
    const ob = this.#leaf(oldLeaf);
    const oid = hex(ob);
    const { db, anchorer } = this.#c;
    const raw = await db.get(K.material(ob));
    if (!raw) throw new NotFoundError("material", oid);
    const old = decodeHeader(decodeMaterial(raw).header);
    if (next.supersedes !== undefined && String(next.supersedes).toLowerCase() !== oid) {
      throw new ValidationError(`supersedes must be ${oid} or absent`, { leaf: oid, field: "supersedes" });
    }
    const req: RegisterRequest = { ...next, supersedes: oid, version: next.version ?? old.version + 1 };
    const fp = opts.idempotencyKey !== undefined ? fingerprint(["supersede", oid, req]) : undefined;
    if (opts.idempotencyKey !== undefined) {
      const prior = await this.#idem(opts.idempotencyKey, fp!);
      if (prior?.opId && prior.ack) return { ack: prior.ack, op: await this.getOp(prior.opId) };
    }
    const ctx = { issuer: this.#c.issuer, holderKey: this.#c.holderKey, nowSec: Math.floor(Date.now() / 1000) };
    const p = prepareRequest(req, 0, ctx);
    await this.#c.entitlements.check(p.typeCode, req.typeCode, p.jurisdiction, 0);
    const nid = hex(p.leaf);
    return this.#serial(async () => {
      const st = await this.#statusOf(ob);
      if (st.status === "revoked" || anchorer.pendingOp(oid, "revoke")) throw new ConflictError(`material ${oid} is revoked`, { leaf: oid });
      const prev = anchorer.pendingOp(oid, "supersede");
      const successor = prev?.newLeaf ?? st.supersededBy;
      if (successor && successor !== nid) {
        throw new ConflictError(`material ${oid} is already superseded by ${successor}`, { leaf: oid, supersededBy: successor });
      }
      if (prev) {
        const [ack] = await this.#persist([p], undefined, undefined, [], [prev]);
        return { ack: ack!, op: strip(prev) };
      }
      const { op, writes } = anchorer.newOp("supersede", oid, 0, nid);
      const idem: Put[] = [];
      // the ack is known before the write: a fresh leaf is "pending" now
      const ackIfNew: RegisterAck = { id: nid, state: "pending", duplicate: false, acceptedAt: Date.now() };
      if (opts.idempotencyKey !== undefined) idem.push({ type: "put", key: K.idem(opts.idempotencyKey), value: json({ fp, opId: op.opId, ack: ackIfNew }) });
      const [ack] = await this.#persist([p], undefined, undefined, [...writes, ...idem], [op]);
      return { ack: ack!, op: strip(op) };
    });
  }

  async getBatch(root: string, opts: { headers?: boolean; headerBytes?: boolean } = {}): Promise<BatchInfo> {
    const rb = this.#leaf(root);
    const { db, anchorer } = this.#c;
    const bkey = await db.get(K.root(rb));
    if (!bkey) throw new NotFoundError("batch", hex(rb));
    const live = anchorer.batches.get(hex(rb));
    const rec = live?.rec ?? parse<BatchRecord>((await db.get(bkey))!);
    const g = bkey.subarray(1, 37);
    const leaves = await anchorer.batchLeaves(g, rec);
    const info: BatchInfo = {
      root: rec.root,
      type: typeName(Buffer.from(rec.typeCode.slice(2), "hex")),
      jurisdiction: rec.jurisdiction,
      count: rec.count,
      state: rec.state,
      plannedAt: rec.plannedAt,
      leaves: leaves.map((l) => hex(l)),
    };
    if (rec.blockNumber !== undefined) info.blockNumber = rec.blockNumber;
    if (rec.txHash) info.txHash = rec.txHash;
    if (rec.confirmedAt !== undefined) info.confirmedAt = rec.confirmedAt;
    if (rec.error) info.error = rec.error;
    if (opts.headers || opts.headerBytes) {
      const rows = await db.getMany(leaves.map((l) => K.material(l)));
      if (opts.headers) info.headers = rows.map((r) => headerJson(decodeMaterial(r!).header));
      // the header is the first HEADER_BYTES of a material record (db.ts fillMaterial)
      if (opts.headerBytes) info.headerBytes = rows.map((r) => r!.subarray(0, HEADER_BYTES));
    }
    return info;
  }

  async getOp(opId: string): Promise<StatusOp> {
    if (typeof opId !== "string" || opId.length > 200) throw new ValidationError("opId must be a string", { opId: String(opId).slice(0, 80) });
    const live = this.#c.anchorer.ops.find((o) => o.opId === opId);
    if (live) return strip(live);
    const raw = await this.#c.db.get(K.op(opId));
    if (!raw) throw new NotFoundError("op", opId);
    return strip(parse<OpRecord>(raw));
  }

  // ------------------------------------------------------------------------------------------ observing

  stats(): ServiceStats {
    const a = this.#c.anchorer;
    return {
      pending: a.pendingCount,
      anchoring: a.anchoringCount,
      anchored: a.counters.anchored,
      failed: a.counters.failed,
      opsPending: a.ops.length,
      batchesSent: a.counters.batches,
      chainUp: this.#c.ledger.rpc.up,
      lastAnchorBlock: a.lastAnchorBlock,
    };
  }

  onChange(listener: (e: ChangeEvent) => void, opts: { materials?: boolean } = {}): () => void {
    const materials = opts.materials !== false;
    this.#events.on("change", listener);
    if (materials) this.#events.on("material", listener);
    return () => {
      this.#events.off("change", listener);
      if (materials) this.#events.off("material", listener);
    };
  }

  changes(opts: { signal?: AbortSignal; highWaterMark?: number } = {}): AsyncIterable<ChangeEvent> {
    const hwm = opts.highWaterMark ?? 10_000;
    const events = this.#events;
    return {
      [Symbol.asyncIterator](): AsyncIterator<ChangeEvent> {
        const buf: ChangeEvent[] = [];
        let wake: (() => void) | undefined;
        let done = false;
        const onChange = (e: ChangeEvent) => {
          buf.push(e);
          if (buf.length > hwm) buf.shift();
          wake?.();
        };
        const end = () => {
          done = true;
          wake?.();
        };
        events.on("change", onChange);
        events.on("material", onChange);
        events.once("stop", end);
        opts.signal?.addEventListener("abort", end, { once: true });
        const cleanup = () => {
          events.off("change", onChange);
          events.off("material", onChange);
          events.off("stop", end);
          opts.signal?.removeEventListener("abort", end);
        };
        return {
          async next(): Promise<IteratorResult<ChangeEvent>> {
            for (;;) {
              if (buf.length) return { value: buf.shift()!, done: false };
              if (done || opts.signal?.aborted) {
                cleanup();
                return { value: undefined, done: true };
              }
              await new Promise<void>((r) => (wake = r));
              wake = undefined;
            }
          },
          async return(): Promise<IteratorResult<ChangeEvent>> {
            done = true;
            cleanup();
            return { value: undefined, done: true };
          },
        };
      },
    };
  }
}

function strip(op: OpRecord): StatusOp {
  const { seq: _s, attempts: _a, tx: _t, ...rest } = op;
  return rest;
}
