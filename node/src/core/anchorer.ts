/**
 * The batch anchorer: turns persisted leaves into anchored Merkle roots, and persisted status operations
 * into ledger transactions, surviving crashes and chain outages.
 *
 * Per (type, jurisdiction) group, leaves wait in an in-memory queue mirrored by the group's durable intake
 * log ('p' keys). A batch is planned when the oldest waiting leaf is `batchIntervalMs` old or `batchSize`
 * leaves wait: the plan (root, seq range) is written BEFORE anything is sent. Sending signs locally with
 * our own nonce, records the signed tx, then broadcasts. Confirming writes one record that marks every
 * leaf of the batch anchored. On restart, every planned-but-unconfirmed batch is re-checked against the
 * chain (`materialState(root)`): anchored -> finalised from the Anchored log; not anchored -> the recorded
 * tx is rebroadcast or a fresh one sent. The ledger refuses a root twice (RootAlreadyAnchored) and a leaf is
 * accepted into exactly one group log position, so nothing is anchored twice.
 *
 * Reorganisations. A chain without instant finality (Clique, a PoW test chain) can drop the block that held
 * an anchor after the batch was confirmed. Confirmed batches stay watched (in memory) while their block is
 * within `reorgWatchBlocks` of the head: on every new head the anchorer reads the hash of the newest watched
 * block (one RPC; if it is unchanged so are all older ones) and, if it changed, finds which watched blocks
 * left the chain. Their batches go back to "sent" (counters and queue depth undone, the unfinished marker
 * written again) with the signed tx restored, and the normal path takes over: the tx re-mined in another block
 * (same hash) is confirmed again with its new block; a tx the new chain no longer accepts (its nonce taken)
 * fails with a nonce error and the batch is re-signed and re-sent. The ledger refuses a root twice, so a
 * batch is never anchored twice, and its materials read "anchoring" until it is confirmed again.
 *
 * The watch list is durable: an entry `'k' "reorg-watch/" root32` -> JSON {block, hash, raw} is put in the SAME
 * LevelDB batch that marks the batch confirmed (so a confirmed batch is never unwatched by a crash, and no entry
 * exists for a batch that is not confirmed), deleted in the same batch that sends it back to "sent", and
 * deleted once its block is `reorgWatchBlocks` deep. `load()` rebuilds the list, so a batch confirmed just
 * before a stop is still re-anchored if its block leaves the chain while the node is down or after it restarts.
 */
import { MerkleTree } from "@tongban/sdk";
import type { DB } from "./db.js";
import { K, PFX, json, parse, readU64, decodeMaterial, logChunkSize } from "./db.js";
import {
  ChainUnavailableError,
  LedgerRevertError,
  isNonceError,
  type LedgerClient,
} from "./chain.js";
import type { CoreMetrics } from "./metrics.js";
import { errInfo, type Logger } from "./log.js";
import type { ChangeEvent, OpState, StatusOp, StatusOpKind } from "./types.js";
import { hex } from "./header.js";
import { decodeBytes32String } from "ethers";

export interface AnchorerConfig {
  batchIntervalMs: number;
  batchSize: number;
  maxInFlight: number;
  confirmations: number;
  pollMs: number;
  retry: { minMs: number; maxMs: number };
  /** rebroadcast a sent tx without receipt after this long */
  rebroadcastMs?: number;
  /**
   * how many blocks a confirmed batch stays watched for a chain reorganisation (default 64): while its block is
   * this close to the head, a changed block hash sends the batch back to anchoring (see {@link Anchorer})
   */
  reorgWatchBlocks?: number;
}

export type BatchState = "planned" | "sent" | "confirmed" | "failed";

export interface BatchRecord {
  v: 1;
  root: string;
  typeCode: string;
  jurisdiction: number;
  from: number;
  to: number;
  count: number;
  state: BatchState;
  plannedAt: number;
  attempts: number;
  tx?: { hash: string; raw: string; nonce: number; sentAt: number };
  blockNumber?: number;
  /** hash of the block the anchor was confirmed in (absent in records written before reorg tracking) */
  blockHash?: string;
  txHash?: string;
  confirmedAt?: number;
  error?: { code: string; message: string };
}

export interface Group {
  key: Buffer;
  hex: string;
  typeCode: Buffer;
  type: string;
  jurisdiction: number;
  /** next intake seq */
  nextSeq: number;
  /** waiting leaves (not yet in a batch), starting at seq `pendFirst` */
  pendLeaves: Buffer[];
  pendAt: number[];
  pendFirst: number;
  /** whether its meta record ('g' key) is on disk */
  persisted: boolean;
}

interface LiveBatch {
  rec: BatchRecord;
  key: Buffer;
  rootBuf: Buffer;
  group: Group;
  acceptedAt: number[];
  packed?: Buffer;
  /** recovered after a restart or an outage: ask the chain before rebroadcasting */
  needsCheck: boolean;
  lastBroadcast: number;
}

export interface OpRecord extends StatusOp {
  seq: number;
  attempts: number;
  tx?: { hash: string; raw: string; nonce: number; sentAt: number };
}

/** A confirmed batch still close enough to the head to be undone by a reorganisation. */
interface Watched {
  b: LiveBatch;
  blockNumber: number;
  blockHash: string;
  /** the signed tx that anchored it, if it was ours (kept with the entry, to rebroadcast after a reorg) */
  raw: string;
}

/** The durable watch entry of a confirmed batch (see the file comment). */
interface WatchRecord {
  v: 1;
  block: number;
  hash: string;
  raw: string;
}

const WATCH_PREFIX = K.meta("reorg-watch/");
/** Key of the reorg watch entry of `root` ('k' "reorg-watch/" root32: inside the 'k' meta range of db.ts). */
export function watchKey(root: Buffer): Buffer {
  return Buffer.concat([WATCH_PREFIX, root]);
}

export interface Counters {
  anchored: number;
  failed: number;
  batches: number;
}

const OP_DONE_ON: Record<StatusOpKind, string[]> = {
  revoke: ["MaterialAlreadyRevoked"],
  suspend: ["MaterialAlreadySuspended"],
  reinstate: ["MaterialNotSuspended"],
  supersede: ["MaterialAlreadySuperseded"],
};

export class Anchorer {
  readonly groups = new Map<string, Group>();
  readonly batches = new Map<string, LiveBatch>(); // unfinished, by root hex
  readonly ops: OpRecord[] = []; // not done, in order
  counters: Counters = { anchored: 0, failed: 0, batches: 0 };
  pendingCount = 0;
  anchoringCount = 0;
  lastAnchorBlock: number | undefined;
  #opSeq = 0;
  #trees = new Map<string, MerkleTree>(); // small LRU of confirmed batch trees, by root hex
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #busy: Promise<void> | undefined;
  #planning = false;
  #backoff = 0;
  #nextChainTry = 0;
  #kick = false;
  /** confirmed batches near the head, by root hex */
  #watched = new Map<string, Watched>();
  #watchedHead = -1;
  /** head read by this round's receipt check, reused by the reorg check (one eth_blockNumber a round) */
  #roundHead: number | undefined;
  /** batches undone by reorganisations since start */
  reorged = 0;

  constructor(
    private readonly db: DB,
    private readonly ledger: LedgerClient,
    private readonly cfg: AnchorerConfig,
    private readonly metrics: CoreMetrics,
    private readonly log: Logger,
    private readonly emit: (e: ChangeEvent) => void,
    private readonly wantsLeafEvents: () => boolean,
  ) {}

  // ------------------------------------------------------------------------------------------ recovery

  /** Rebuild in-memory queues from LevelDB (groups, waiting leaves, unfinished batches, pending ops). */
  async load(): Promise<void> {
    const c = await this.db.get(K.meta("counters"));
    if (c) this.counters = parse<Counters>(c);
    for await (const [k, v] of this.db.iterator(K.range(Buffer.from([PFX.g])))) {
      const g = k.subarray(1);
      const meta = parse<{ type: string; jurisdiction: number }>(v);
      const group: Group = {
        key: Buffer.from(g),
        hex: g.toString("hex"),
        typeCode: Buffer.from(g.subarray(0, 32)),
        type: meta.type,
        jurisdiction: meta.jurisdiction,
        nextSeq: 0,
        pendLeaves: [],
        pendAt: [],
        pendFirst: 0,
        persisted: true,
      };
      const logRange = K.range(Buffer.concat([Buffer.from([PFX.p]), g]));
      for await (const [lk, lv] of this.db.iterator({ ...logRange, reverse: true, limit: 1 })) group.nextSeq = readU64(lk, 37) + logChunkSize(lv);
      let planned = 0;
      const bRange = K.range(Buffer.concat([Buffer.from([PFX.b]), g]));
      for await (const bk of this.db.keys({ ...bRange, reverse: true, limit: 1 })) planned = readU64(bk, 37) + 1;
      group.pendFirst = planned;
      for await (const e of this.logRange(g, planned, Number.MAX_SAFE_INTEGER)) {
        group.pendLeaves.push(e.leaf);
        group.pendAt.push(e.acceptedAt);
      }
      this.pendingCount += group.pendLeaves.length;
      this.groups.set(group.hex, group);
    }
    for await (const uk of this.db.keys(K.range(Buffer.from([PFX.u])))) {
      const bkey = await this.db.get(K.root(uk.subarray(1)));
      if (!bkey) continue;
      const raw = await this.db.get(bkey);
      if (!raw) continue;
      const rec = parse<BatchRecord>(raw);
      const group = this.groups.get(bkey.subarray(1, 37).toString("hex"))!;
      const acceptedAt: number[] = [];
      for await (const e of this.logRange(group.key, rec.from, rec.to)) acceptedAt.push(e.acceptedAt);
      this.batches.set(rec.root, { rec, key: Buffer.from(bkey), rootBuf: Buffer.from(rec.root.slice(2), "hex"), group, acceptedAt, needsCheck: true, lastBroadcast: 0 });
      this.anchoringCount += rec.count;
    }
    await this.#loadWatched();
    for await (const [, v] of this.db.iterator(K.range(Buffer.from([PFX.q])))) {
      const raw = await this.db.get(K.op(v.toString("utf8")));
      if (raw) this.ops.push(parse<OpRecord>(raw));
    }
    for await (const k of this.db.keys({ ...K.range(Buffer.from([PFX.q])), reverse: true, limit: 1 })) this.#opSeq = readU64(k, 1) + 1;
    this.metrics.queueDepth.set(this.pendingCount + this.anchoringCount);
    this.metrics.opsQueueDepth.set(this.ops.length);
    if (this.batches.size || this.pendingCount) {
      const sent = [...this.batches.values()].filter((b) => b.rec.state === "sent").length;
      this.log.info({ unfinishedBatches: this.batches.size, sentBatches: sent, waiting: this.pendingCount, ops: this.ops.length }, "recovered queues");
    }
  }

  /** Rebuild the reorg watch list from its durable entries (entries of batches no longer confirmed are dropped). */
  async #loadWatched(): Promise<void> {
    const stale: Buffer[] = [];
    for await (const [k, v] of this.db.iterator(K.range(WATCH_PREFIX))) {
      const rootBuf = Buffer.from(k.subarray(WATCH_PREFIX.length));
      const w = parse<WatchRecord>(v);
      const bkey = await this.db.get(K.root(rootBuf));
      const raw = bkey ? await this.db.get(bkey) : undefined;
      const rec = raw ? parse<BatchRecord>(raw) : undefined;
      const group = bkey ? this.groups.get(bkey.subarray(1, 37).toString("hex")) : undefined;
      if (!bkey || !rec || !group || rec.state !== "confirmed" || rec.blockNumber !== w.block) {
        stale.push(Buffer.from(k));
        continue;
      }
      const b: LiveBatch = { rec, key: Buffer.from(bkey), rootBuf, group, acceptedAt: [], needsCheck: false, lastBroadcast: 0 };
      this.#watched.set(rec.root, { b, blockNumber: w.block, blockHash: w.hash, raw: w.raw });
    }
    if (stale.length) await this.db.batch(stale.map((key) => ({ type: "del" as const, key })));
    if (this.#watched.size) this.log.info({ watched: this.#watched.size }, "reorg watch list reloaded");
  }

  /** Roots of the confirmed batches watched for a reorganisation (tests, diagnostics). */
  watchedRoots(): string[] {
    return [...this.#watched.keys()];
  }

  // ------------------------------------------------------------------------------------------ intake side

  /** The group of (typeCode, jurisdiction); `newGroupOps` receives the meta put if it is new. */
  group(typeCode: Buffer, jurisdiction: number, newGroupOps: { type: "put"; key: Buffer; value: Buffer }[]): Group {
    const key = Buffer.allocUnsafe(36);
    typeCode.copy(key, 0);
    key.writeUInt32BE(jurisdiction, 32);
    const h = key.toString("hex");
    let g = this.groups.get(h);
    if (!g) {
      let type: string;
      try {
        type = decodeBytes32String(hex(typeCode));
      } catch {
        type = hex(typeCode);
      }
      g = { key, hex: h, typeCode: Buffer.from(typeCode), type, jurisdiction, nextSeq: 0, pendLeaves: [], pendAt: [], pendFirst: 0, persisted: false };
      this.groups.set(h, g);
    }
    // until a write carrying its meta record succeeds (see appended), every write of the group carries it
    if (!g.persisted && !newGroupOps.some((o) => o.key.equals(K.group(g!.key)))) {
      newGroupOps.push({ type: "put", key: K.group(g.key), value: json({ type: g.type, jurisdiction: g.jurisdiction }) });
    }
    return g;
  }

  /** Called after the intake write: the leaves (seqs `g.nextSeq - n ..`) now wait for a batch. */
  appended(g: Group, leaves: Buffer[], acceptedAt: number): void {
    g.persisted = true;
    for (const l of leaves) {
      g.pendLeaves.push(l);
      g.pendAt.push(acceptedAt);
    }
    this.pendingCount += leaves.length;
    this.metrics.queueDepth.set(this.pendingCount + this.anchoringCount);
    if (g.pendLeaves.length >= this.cfg.batchSize) this.#schedule();
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  start(): void {
    this.#running = true;
    this.#loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  #loop = (): void => {
    this.#timer = undefined;
    if (!this.#running) return;
    this.#busy = this.tick().finally(() => {
      this.#busy = undefined;
      if (!this.#running) return;
      const delay = this.#kick ? 0 : Math.min(this.cfg.pollMs, Math.max(10, this.cfg.batchIntervalMs / 4));
      this.#kick = false;
      this.#timer = setTimeout(this.#loop, delay);
    });
  };

  /** Run a round as soon as possible (a full batch, a new op). */
  #schedule(): void {
    this.#kick = true;
    if (this.#timer && !this.#busy) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(this.#loop, 0);
    }
  }

  /** One round: plan due batches, send planned ones, check sent ones, work the op queue. */
  async tick(): Promise<void> {
    try {
      await this.planDue();
      if (Date.now() < this.#nextChainTry) return;
      this.#roundHead = undefined;
      await this.#sendPlanned();
      await this.#checkSent();
      await this.#checkReorgs();
      await this.#processOps();
      if (this.#backoff) this.log.info("chain reachable again");
      this.#backoff = 0;
    } catch (e) {
      if (e instanceof ChainUnavailableError) {
        this.#backoff = this.#backoff ? Math.min(this.#backoff * 2, this.cfg.retry.maxMs) : this.cfg.retry.minMs;
        this.#nextChainTry = Date.now() + this.#backoff;
        for (const b of this.batches.values()) b.needsCheck = true;
        this.log.warn({ retryInMs: this.#backoff }, "chain unreachable; requests are still accepted");
      } else {
        this.log.error({ err: errInfo(e) }, "anchorer round failed");
      }
    }
  }

  // ------------------------------------------------------------------------------------------ planning

  /** Plan a batch for every group whose oldest waiting leaf is due (or which is full). */
  async planDue(force = false): Promise<void> {
    if (this.#planning) return;
    this.#planning = true;
    try {
      const now = Date.now();
      for (const g of this.groups.values()) {
        while (g.pendLeaves.length > 0 && (force || g.pendLeaves.length >= this.cfg.batchSize || now - g.pendAt[0]! >= this.cfg.batchIntervalMs)) {
          await this.#plan(g, Math.min(g.pendLeaves.length, this.cfg.batchSize));
        }
      }
    } finally {
      this.#planning = false;
    }
  }

  async #plan(g: Group, n: number): Promise<void> {
    const leaves = g.pendLeaves.slice(0, n);
    const acceptedAt = g.pendAt.slice(0, n);
    const packed = Buffer.allocUnsafe(n * 32);
    for (let i = 0; i < n; i++) leaves[i]!.copy(packed, i * 32);
    const tree = new MerkleTree(packed);
    const rootBuf = Buffer.from(tree.rootBytes);
    const root = hex(rootBuf);
    const from = g.pendFirst;
    const to = from + n - 1;
    const rec: BatchRecord = {
      v: 1,
      root,
      typeCode: hex(g.typeCode),
      jurisdiction: g.jurisdiction,
      from,
      to,
      count: n,
      state: "planned",
      plannedAt: Date.now(),
      attempts: 0,
    };
    const key = K.batch(g.key, to);
    await this.db.batch([
      { type: "put", key, value: json(rec) },
      { type: "put", key: K.root(rootBuf), value: key },
      { type: "put", key: K.unfinished(rootBuf), value: Buffer.alloc(0) },
    ]);
    g.pendLeaves.splice(0, n);
    g.pendAt.splice(0, n);
    g.pendFirst = to + 1;
    this.pendingCount -= n;
    this.anchoringCount += n;
    this.#trees.set(root, tree);
    this.#trimTrees();
    this.batches.set(root, { rec, key, rootBuf, group: g, acceptedAt, packed, needsCheck: false, lastBroadcast: 0 });
    this.emit({ kind: "batch", batchId: root, state: "planned", root, count: n, at: Date.now() });
    if (this.wantsLeafEvents()) {
      for (const l of leaves) this.emit({ kind: "material", leaf: hex(l), state: "anchoring", root, at: Date.now() });
    }
    this.log.debug({ root, type: g.type, jurisdiction: g.jurisdiction, count: n }, "batch planned");
  }

  #trimTrees(): void {
    while (this.#trees.size > 16) this.#trees.delete(this.#trees.keys().next().value!);
  }

  // ------------------------------------------------------------------------------------------ sending

  async #persist(b: LiveBatch): Promise<void> {
    await this.db.put(b.key, json(b.rec));
  }

  async #sendPlanned(): Promise<void> {
    let inFlight = 0;
    for (const b of this.batches.values()) if (b.rec.state === "sent") inFlight++;
    for (const b of [...this.batches.values()]) {
      if (inFlight >= this.cfg.maxInFlight) break;
      if (b.rec.state !== "planned") continue;
      if (b.needsCheck && (await this.#finaliseIfAnchored(b))) continue;
      b.needsCheck = false;
      try {
        const stx = await this.ledger.prepare("anchor", [b.rec.root, b.rec.typeCode, b.rec.jurisdiction, b.rec.count]);
        b.rec.state = "sent";
        b.rec.attempts++;
        b.rec.tx = { hash: stx.hash, raw: stx.raw, nonce: stx.nonce, sentAt: Date.now() };
        await this.#persist(b); // the signed tx is on disk before it can reach the chain
        inFlight++;
        b.lastBroadcast = Date.now();
        await this.ledger.broadcast(stx.raw);
        this.emit({ kind: "batch", batchId: b.rec.root, state: "sent", root: b.rec.root, count: b.rec.count, txHash: stx.hash, at: Date.now() });
      } catch (e) {
        await this.#onSendError(b, e);
      }
    }
  }

  async #onSendError(b: LiveBatch, e: unknown): Promise<void> {
    if (e instanceof ChainUnavailableError) throw e;
    if (e instanceof LedgerRevertError) {
      if (e.revert === "RootAlreadyAnchored") {
        if (await this.#finaliseIfAnchored(b)) return;
      }
      await this.#fail(b, e.revert, e.message);
      return;
    }
    if (isNonceError(e)) {
      this.ledger.resyncNonce();
      if (await this.#finaliseIfAnchored(b)) return;
      b.rec.state = "planned";
      await this.#persist(b);
      return;
    }
    this.metrics.anchors.inc({ result: "error" });
    this.log.warn({ root: b.rec.root, err: errInfo(e) }, "anchor send failed; will retry");
    if (b.rec.attempts >= 8) await this.#fail(b, "SEND_FAILED", errInfo(e).message);
  }

  /** If the chain says `root` is anchored, finalise the batch from its Anchored log. */
  async #finaliseIfAnchored(b: LiveBatch): Promise<boolean> {
    const st = await this.ledger.materialState(b.rec.root, b.rec.root, 1);
    if (!st.anchored) return false;
    const log = await this.ledger.findAnchorLog(b.rec.root, Math.max(0, st.anchoredBlock - 1));
    const head = await this.ledger.blockNumber();
    if (head - st.anchoredBlock + 1 < Math.max(1, this.cfg.confirmations)) {
      // anchored, not yet deep enough: wait as a sent batch
      if (b.rec.state !== "sent") {
        b.rec.state = "sent";
        if (log) b.rec.tx = { hash: log.txHash, raw: b.rec.tx?.raw ?? "", nonce: b.rec.tx?.nonce ?? -1, sentAt: Date.now() };
        await this.#persist(b);
      }
      b.needsCheck = false;
      return true;
    }
    await this.#finalise(b, st.anchoredBlock, log?.txHash ?? b.rec.tx?.hash ?? "", log?.blockNumber === st.anchoredBlock ? log.blockHash : undefined);
    this.log.info({ root: b.rec.root, block: st.anchoredBlock }, "batch found anchored on chain; finalised");
    return true;
  }

  async #checkSent(): Promise<void> {
    const sent = [...this.batches.values()].filter((b) => b.rec.state === "sent");
    if (!sent.length) return;
    const head = await this.ledger.blockNumber();
    this.#roundHead = head;
    for (const b of sent) {
      const tx = b.rec.tx!;
      const r = tx.raw ? await this.ledger.receipt(tx.hash) : undefined;
      if (!r) {
        const stale = Date.now() - b.lastBroadcast > (this.cfg.rebroadcastMs ?? 5000);
        if (b.needsCheck || stale || !tx.raw) {
          if (await this.#finaliseIfAnchored(b)) continue;
          b.needsCheck = false;
          if (!tx.raw) {
            b.rec.state = "planned";
            await this.#persist(b);
            continue;
          }
          try {
            b.lastBroadcast = Date.now();
            await this.ledger.broadcast(tx.raw);
            this.metrics.anchors.inc({ result: "resent" });
            this.log.info({ root: b.rec.root, tx: tx.hash, nonce: tx.nonce }, "anchor tx rebroadcast");
          } catch (e) {
            await this.#onSendError(b, e);
          }
        }
        continue;
      }
      if (r.status === 1) {
        if (head - r.blockNumber + 1 >= Math.max(1, this.cfg.confirmations)) await this.#finalise(b, r.blockNumber, r.transactionHash, r.blockHash);
      } else {
        // reverted on chain: anchored by an earlier attempt, or refused (re-estimating decodes why)
        if (await this.#finaliseIfAnchored(b)) continue;
        b.rec.state = "planned";
        await this.#persist(b);
        if (b.rec.attempts >= 8) await this.#fail(b, "REVERTED", `anchor tx ${r.transactionHash} reverted`);
      }
    }
  }

  async #finalise(b: LiveBatch, blockNumber: number, txHash: string, blockHash?: string): Promise<void> {
    const now = Date.now();
    const raw = b.rec.tx && b.rec.tx.hash === txHash ? b.rec.tx.raw : "";
    // readers see "confirmed" only once it is on disk: build the next record, write it, then swap it in
    const next: BatchRecord = {
      ...b.rec,
      state: "confirmed",
      blockNumber,
      ...(blockHash ? { blockHash } : {}),
      txHash,
      confirmedAt: now,
      ...(b.rec.tx ? { tx: { ...b.rec.tx, raw: "" } } : {}),
    };
    const counters = { ...this.counters, anchored: this.counters.anchored + b.rec.count, batches: this.counters.batches + 1 };
    const writes: ({ type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer })[] = [
      { type: "put", key: b.key, value: json(next) },
      { type: "del", key: K.unfinished(b.rootBuf) },
      { type: "put", key: K.meta("counters"), value: json(counters) },
    ];
    // the watch entry goes in the same atomic write as the confirmation (never a confirmed batch unwatched)
    if (blockHash) writes.push({ type: "put", key: watchKey(b.rootBuf), value: json({ v: 1, block: blockNumber, hash: blockHash, raw } satisfies WatchRecord) });
    await this.db.batch(writes);
    b.rec = next;
    this.counters = counters;
    this.batches.delete(b.rec.root);
    this.anchoringCount -= b.rec.count;
    this.lastAnchorBlock = Math.max(this.lastAnchorBlock ?? 0, blockNumber);
    if (blockHash) this.#watched.set(b.rec.root, { b, blockNumber, blockHash, raw });
    this.metrics.queueDepth.set(this.pendingCount + this.anchoringCount);
    this.metrics.batchSize.observe(b.rec.count);
    this.metrics.anchors.inc({ result: "confirmed" });
    const at = b.acceptedAt;
    // every leaf into the histogram, bucketed in one call ((now - acceptedAt) / 1000 s: BatchHistogram); a uniform
    // 1-in-4 sample into the quantile summary (t-digest is ~1 us a value; prom-client's Summary has no bulk form)
    this.metrics.ackToAnchored.observeMany(at, now, -1000);
    const step = at.length > 64 ? 4 : 1;
    for (let i = 0; i < at.length; i += step) this.metrics.ackToAnchoredQuantiles.observe((now - at[i]!) / 1000);
    this.emit({ kind: "batch", batchId: b.rec.root, state: "confirmed", root: b.rec.root, count: b.rec.count, txHash, at: now });
    if (this.wantsLeafEvents()) {
      const leaves = await this.batchLeaves(b.group.key, b.rec);
      for (const l of leaves) this.emit({ kind: "material", leaf: hex(l), state: "anchored", root: b.rec.root, blockNumber, txHash, at: now });
    }
    this.log.info({ root: b.rec.root, type: b.group.type, jurisdiction: b.rec.jurisdiction, count: b.rec.count, block: blockNumber }, "batch anchored");
  }

  /**
   * On a new head, check that the blocks of recently confirmed batches are still on the chain (see the file
   * comment). Batches whose block is `reorgWatchBlocks` deep stop being watched.
   */
  async #checkReorgs(): Promise<void> {
    if (!this.#watched.size) return;
    const head = this.#roundHead ?? (await this.ledger.blockNumber());
    if (head === this.#watchedHead) return;
    const window = this.cfg.reorgWatchBlocks ?? 64;
    const byBlock = new Map<number, Watched[]>();
    const deep: Watched[] = [];
    for (const w of this.#watched.values()) {
      if (head - w.blockNumber >= window) {
        deep.push(w);
        continue;
      }
      let list = byBlock.get(w.blockNumber);
      if (!list) byBlock.set(w.blockNumber, (list = []));
      list.push(w);
    }
    if (deep.length) {
      await this.db.batch(deep.map((w) => ({ type: "del" as const, key: watchKey(w.b.rootBuf) })));
      for (const w of deep) this.#watched.delete(w.b.rec.root);
    }
    // newest first: once a watched block is still on the chain, every older one is too (hash chain)
    for (const n of [...byBlock.keys()].sort((x, y) => y - x)) {
      const list = byBlock.get(n)!;
      const hash = n <= head ? await this.ledger.blockHash(n) : undefined;
      const gone = list.filter((w) => w.blockHash !== hash);
      for (const w of gone) await this.#unconfirm(w, hash);
      if (gone.length < list.length) break;
    }
    this.#watchedHead = head;
  }

  /** A confirmed batch's block left the chain: back to "sent", with its counters undone. */
  async #unconfirm(w: Watched, nowHash: string | undefined): Promise<void> {
    const b = w.b;
    if (b.rec.state !== "confirmed") {
      await this.db.del(watchKey(b.rootBuf));
      this.#watched.delete(b.rec.root);
      return;
    }
    // reloaded after a restart: the acceptance times (for the latency metric) come from the intake log
    if (b.acceptedAt.length === 0) for await (const e of this.logRange(b.group.key, b.rec.from, b.rec.to)) b.acceptedAt.push(e.acceptedAt);
    const prev = b.rec;
    const txHash = prev.txHash || prev.tx?.hash || "";
    const next: BatchRecord = {
      ...prev,
      state: "sent",
      tx: { hash: txHash, raw: w.raw, nonce: prev.tx?.nonce ?? -1, sentAt: Date.now() },
    };
    delete next.blockNumber;
    delete next.blockHash;
    delete next.txHash;
    delete next.confirmedAt;
    const counters = { ...this.counters, anchored: this.counters.anchored - prev.count, batches: this.counters.batches - 1 };
    await this.db.batch([
      { type: "put", key: b.key, value: json(next) },
      { type: "put", key: K.unfinished(b.rootBuf), value: Buffer.alloc(0) },
      { type: "put", key: K.meta("counters"), value: json(counters) },
      { type: "del", key: watchKey(b.rootBuf) },
    ]);
    this.#watched.delete(b.rec.root);
    this.counters = counters;
    this.batches.set(prev.root, { ...b, rec: next, needsCheck: true, lastBroadcast: 0 });
    this.anchoringCount += prev.count;
    this.reorged++;
    this.metrics.queueDepth.set(this.pendingCount + this.anchoringCount);
    this.metrics.anchors.inc({ result: "reorged" });
    this.emit({ kind: "batch", batchId: prev.root, state: "sent", root: prev.root, count: prev.count, txHash, at: Date.now() });
    if (this.wantsLeafEvents()) {
      const leaves = await this.batchLeaves(b.group.key, prev);
      for (const l of leaves) this.emit({ kind: "material", leaf: hex(l), state: "anchoring", root: prev.root, at: Date.now() });
    }
    this.log.warn(
      { root: prev.root, block: w.blockNumber, was: w.blockHash, now: nowHash ?? null, tx: txHash, count: prev.count },
      "anchored batch's block left the chain (reorganisation): anchoring it again",
    );
  }

  async #fail(b: LiveBatch, code: string, message: string): Promise<void> {
    const next: BatchRecord = { ...b.rec, state: "failed", error: { code, message }, ...(b.rec.tx ? { tx: { ...b.rec.tx, raw: "" } } : {}) };
    const counters = { ...this.counters, failed: this.counters.failed + b.rec.count };
    await this.db.batch([
      { type: "put", key: b.key, value: json(next) },
      { type: "del", key: K.unfinished(b.rootBuf) },
      { type: "put", key: K.meta("counters"), value: json(counters) },
    ]);
    b.rec = next;
    this.counters = counters;
    this.batches.delete(b.rec.root);
    this.anchoringCount -= b.rec.count;
    this.metrics.queueDepth.set(this.pendingCount + this.anchoringCount);
    this.metrics.anchors.inc({ result: "failed" });
    this.emit({ kind: "batch", batchId: b.rec.root, state: "failed", root: b.rec.root, count: b.rec.count, at: Date.now() });
    this.log.error({ root: b.rec.root, code, message }, "batch failed for good");
  }

  // ------------------------------------------------------------------------------------------ lookups

  /** The leaves of a batch, from the group's intake log. */
  async batchLeaves(g: Buffer, rec: BatchRecord): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const e of this.logRange(g, rec.from, rec.to)) out.push(e.leaf);
    return out;
  }

  /** Entries seq `from`..`to` (inclusive) of a group's intake log, read from its chunk records. */
  async *logRange(g: Buffer, from: number, to: number): AsyncGenerator<{ seq: number; leaf: Buffer; acceptedAt: number }> {
    const range = K.range(Buffer.concat([Buffer.from([PFX.p]), g]));
    // the chunk holding `from` starts at or before it
    let start: Buffer = K.log(g, from);
    for await (const k of this.db.keys({ gte: range.gte, lte: start, reverse: true, limit: 1 })) start = k;
    for await (const [k, v] of this.db.iterator({ gte: start, lt: range.lt })) {
      const first = readU64(k, 37);
      if (first > to) break;
      const n = logChunkSize(v);
      const acceptedAt = v.readDoubleBE(0);
      for (let i = Math.max(0, from - first); i < n && first + i <= to; i++) {
        yield { seq: first + i, leaf: Buffer.from(v.subarray(8 + i * 32, 40 + i * 32)), acceptedAt };
      }
    }
  }

  /** The batch covering seq `seq` of group `g`, if planned. */
  async batchFor(g: Buffer, seq: number): Promise<{ key: Buffer; rec: BatchRecord } | undefined> {
    const range = K.range(Buffer.concat([Buffer.from([PFX.b]), g]));
    for await (const [k, v] of this.db.iterator({ gte: K.batch(g, seq), lt: range.lt, limit: 1 })) {
      const rec = parse<BatchRecord>(v);
      if (rec.from <= seq) return { key: k, rec };
    }
    return undefined;
  }

  /** The tree of a batch (cached). */
  async tree(g: Buffer, rec: BatchRecord): Promise<MerkleTree> {
    let t = this.#trees.get(rec.root);
    if (t) {
      this.#trees.delete(rec.root);
      this.#trees.set(rec.root, t);
      return t;
    }
    const leaves = await this.batchLeaves(g, rec);
    t = new MerkleTree(Buffer.concat(leaves));
    this.#trees.set(rec.root, t);
    this.#trimTrees();
    return t;
  }

  /** Where a leaf stands: its batch (if any) and the proof once the batch is known. */
  async locate(leaf: Buffer): Promise<
    | { row: ReturnType<typeof decodeMaterial>; batch?: BatchRecord; index?: number; tree?: MerkleTree }
    | undefined
  > {
    const raw = await this.db.get(K.material(leaf));
    if (!raw) return undefined;
    const row = decodeMaterial(raw);
    const g = Buffer.concat([row.header.subarray(0, 32), Buffer.from([0, 0, 0, 0])]);
    g.writeUInt32BE(row.jurisdiction, 32);
    const live = this.groups.get(g.toString("hex"));
    if (live && row.seq >= live.pendFirst) return { row };
    const found = await this.batchFor(g, row.seq);
    if (!found) return { row };
    const index = row.seq - found.rec.from;
    const unfinished = this.batches.get(found.rec.root);
    // a snapshot: the live record may move on while the caller awaits
    const rec = unfinished ? { ...unfinished.rec } : found.rec;
    if (rec.state !== "confirmed") return { row, batch: rec, index };
    return { row, batch: rec, index, tree: await this.tree(g, rec) };
  }

  // ------------------------------------------------------------------------------------------ status ops

  /** A new op and the writes that persist it; call {@link opsWritten} once they are on disk. */
  newOp(kind: StatusOpKind, leaf: string, reason: number, newLeaf?: string): { op: OpRecord; writes: { type: "put"; key: Buffer; value: Buffer }[] } {
    const seq = this.#opSeq++;
    const op: OpRecord = {
      opId: `op-${Date.now().toString(36)}-${seq.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      kind,
      leaf,
      reason,
      newLeaf,
      state: "pending",
      createdAt: Date.now(),
      seq,
      attempts: 0,
    };
    return {
      op,
      writes: [
        { type: "put", key: K.op(op.opId), value: json(op) },
        { type: "put", key: K.opQueue(seq), value: Buffer.from(op.opId, "utf8") },
      ],
    };
  }

  opsWritten(ops: OpRecord[]): void {
    for (const op of ops) {
      this.ops.push(op);
      this.emit({ kind: "op", opId: op.opId, op: op.kind, leaf: op.leaf, state: "pending", at: Date.now() });
    }
    this.metrics.opsQueueDepth.set(this.ops.length);
    if (ops.length) this.#schedule();
  }

  /** Pending (not done) op of `kind` on `leaf`, if any. */
  pendingOp(leaf: string, kind?: StatusOpKind): OpRecord | undefined {
    return this.ops.find((o) => o.leaf === leaf && (kind === undefined || o.kind === kind));
  }

  async #opDone(op: OpRecord, state: OpState, info: { txHash?: string; blockNumber?: number; error?: { code: string; message: string } }): Promise<void> {
    op.state = state;
    op.txHash = info.txHash ?? op.txHash;
    op.blockNumber = info.blockNumber;
    op.error = info.error;
    if (op.tx) op.tx.raw = "";
    const writes: ({ type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer })[] = [
      { type: "put", key: K.op(op.opId), value: json(op) },
      { type: "del", key: K.opQueue(op.seq) },
    ];
    if (state === "done") {
      const leafBuf = Buffer.from(op.leaf.slice(2), "hex");
      const prevRaw = await this.db.get(K.status(leafBuf));
      const prev = prevRaw ? parse<{ status: string; reason?: number; supersededBy?: string }>(prevRaw) : { status: "active" };
      const next = { ...prev };
      if (op.kind === "revoke") Object.assign(next, { status: "revoked", reason: op.reason });
      if (op.kind === "suspend" && prev.status !== "revoked") Object.assign(next, { status: "suspended", reason: op.reason });
      if (op.kind === "reinstate" && prev.status === "suspended") Object.assign(next, { status: "active", reason: 0 });
      if (op.kind === "supersede") next.supersededBy = op.newLeaf;
      writes.push({ type: "put", key: K.status(leafBuf), value: json(next) });
    }
    await this.db.batch(writes);
    this.ops.splice(this.ops.indexOf(op), 1);
    this.metrics.opsQueueDepth.set(this.ops.length);
    this.emit({ kind: "op", opId: op.opId, op: op.kind, leaf: op.leaf, state, txHash: op.txHash, at: Date.now() });
    this.log.info({ opId: op.opId, op: op.kind, leaf: op.leaf, state, error: info.error }, "status operation finished");
  }

  /** Anchored position of a leaf (root, proof), or "pending" / "failed". */
  async #anchoredAt(leaf: string): Promise<{ root: string; proof: string[] } | "pending" | "failed" | "unknown"> {
    const loc = await this.locate(Buffer.from(leaf.slice(2), "hex"));
    if (!loc) return "unknown";
    if (!loc.batch) return "pending";
    if (loc.batch.state === "failed") return "failed";
    if (!loc.tree) return "pending";
    return { root: loc.batch.root, proof: loc.tree.getProof(loc.index!) };
  }

  async #processOps(): Promise<void> {
    const blocked = new Set<string>();
    for (const op of [...this.ops]) {
      if (blocked.has(op.leaf)) continue;
      blocked.add(op.leaf); // later ops on the same leaf wait for this one
      if (op.state === "sent" && op.tx) {
        const r = op.tx.raw ? await this.ledger.receipt(op.tx.hash) : undefined;
        if (!r) {
          if (Date.now() - op.tx.sentAt > (this.cfg.rebroadcastMs ?? 5000)) {
            op.tx.sentAt = Date.now();
            try {
              if (op.tx.raw) await this.ledger.broadcast(op.tx.raw);
            } catch (e) {
              if (e instanceof ChainUnavailableError) throw e;
              if (isNonceError(e)) this.ledger.resyncNonce();
              op.state = "pending"; // re-estimate: decodes "already done" reverts
              await this.db.put(K.op(op.opId), json(op));
            }
          }
          continue;
        }
        if (r.status === 1) await this.#opDone(op, "done", { txHash: r.transactionHash, blockNumber: r.blockNumber });
        else {
          op.state = "pending";
          await this.db.put(K.op(op.opId), json(op));
        }
        continue;
      }
      // pending: the material(s) must be anchored first
      const at = await this.#anchoredAt(op.leaf);
      if (at === "failed" || at === "unknown") {
        await this.#opDone(op, "failed", { error: { code: "NOT_ANCHORED", message: `material ${op.leaf} was never anchored` } });
        continue;
      }
      if (at === "pending") continue;
      let args: unknown[];
      let fn: string;
      if (op.kind === "supersede") {
        const nat = await this.#anchoredAt(op.newLeaf!);
        if (nat === "failed" || nat === "unknown") {
          await this.#opDone(op, "failed", { error: { code: "NOT_ANCHORED", message: `successor ${op.newLeaf} was never anchored` } });
          continue;
        }
        if (nat === "pending") continue;
        fn = "supersedeMaterial";
        args = [op.leaf, nat.root, op.newLeaf, nat.proof];
      } else if (op.kind === "revoke") {
        fn = "revokeMaterial";
        args = [op.leaf, op.reason];
      } else if (op.kind === "suspend") {
        fn = "suspendMaterial";
        args = [op.leaf, op.reason];
      } else {
        fn = "reinstateMaterial";
        args = [op.leaf];
      }
      try {
        const stx = await this.ledger.prepare(fn, args);
        op.state = "sent";
        op.attempts++;
        op.tx = { hash: stx.hash, raw: stx.raw, nonce: stx.nonce, sentAt: Date.now() };
        op.txHash = stx.hash;
        await this.db.put(K.op(op.opId), json(op));
        await this.ledger.broadcast(stx.raw);
        this.emit({ kind: "op", opId: op.opId, op: op.kind, leaf: op.leaf, state: "sent", txHash: stx.hash, at: Date.now() });
      } catch (e) {
        if (e instanceof ChainUnavailableError) throw e;
        if (e instanceof LedgerRevertError) {
          if (OP_DONE_ON[op.kind].includes(e.revert)) await this.#opDone(op, "done", {});
          else await this.#opDone(op, "failed", { error: { code: e.revert, message: e.message } });
        } else if (isNonceError(e)) {
          this.ledger.resyncNonce();
          op.state = "pending";
          await this.db.put(K.op(op.opId), json(op));
        } else {
          this.log.warn({ opId: op.opId, err: errInfo(e) }, "status op send failed; will retry");
          if (++op.attempts >= 8) await this.#opDone(op, "failed", { error: { code: "SEND_FAILED", message: errInfo(e).message } });
        }
      }
    }
  }
}
