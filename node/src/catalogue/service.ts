/**
 * CatalogueService: this member's window on the data catalogue (数据目录).
 *
 *  - Publishes and updates this member's entries: the full texts (title, description, field list, standard)
 *    go to LevelDB, their canonical hashes (SDK `encodeEntryInput`) go on chain.
 *  - Registers duties and information systems, scenarios, approvals/denials (thin, typed wrappers).
 *  - Follows the DataCatalogue contract's events, `confirmations` blocks behind the head, into a LevelDB index
 *    (one batch per step, cursor included, so a crash leaves the index at a step boundary) and answers search
 *    by provider, grade, sharing type, open type, duty, system, status and text of the titles/descriptions the
 *    node holds (its own, and any imported with `importTexts`, which checks them against the chain hashes).
 *  - Checks a data use on chain (`canUse`) and hands the record to the use log (decision 5).
 *
 * Reorgs: the index follows `confirmations` blocks behind the head and keeps, for the last `reorgDepth` indexed
 * blocks (default 64), the block hash of every step's last block and of every block that had catalogue events,
 * and per block with events an undo record (the values its events overwrote). Before each step the hash of the
 * last indexed block is compared with the chain's; on a mismatch the index walks back to the newest kept block
 * the chain still has (the fork point), restores the undo records of the abandoned blocks newest first, and
 * re-indexes from there, in one LevelDB batch. A step whose last block changed hash while its logs were fetched
 * is discarded and retried. A reorg deeper than the kept window rebuilds the index from `startBlock` (entries,
 * scenarios, systems, duties; the texts and published docs this node holds are kept).
 *
 * LevelDB layout (utf8 keys, JSON values; codes are lower-case 0x bytes32):
 *   k:cursor                         -> next block to index
 *   e:<code>                         -> IndexedEntry
 *   x:<dim>:<value>:<code>           -> ""   dims: provider, grade, sharing, open, duty (provider/duty), system, status
 *   t:<hash>                         -> {kind, text}  texts the node holds (title, description, fields JSON, standard)
 *   d:<code>:<version 10 digits>     -> the CatalogueEntryDoc this node published
 *   s:<scenarioId>                   -> IndexedScenario
 *   r:<provider>:<scenarioId>:<code> -> ""   draws on a provider's resources (its approval inbox)
 *   y:<systemCode>                   -> {owner, descriptionHash, active}
 *   u:<memberId>:<dutyCode>          -> {descriptionHash, active}
 *   h:<block 10 digits>              -> block hash (last `reorgDepth` blocks: step ends and blocks with events)
 *   j:<block 10 digits>              -> undo record: [[key, previous value or null], ...] of that block's events
 */
import { ClassicLevel } from "classic-level";
import { mkdirSync } from "node:fs";
import { ZeroHash, concat, hexlify, keccak256, randomBytes, toUtf8Bytes, type Log, type Provider, type Signer } from "ethers";
import {
  CatalogueClient, CatalogueInputError, CatalogueRevertError, UseReason, canonicalFields, canonicalText, catalogueCode,
  catalogueCodeText, catalogueInterface, codeName, dataUseToUseRecord, encodeEntryInput, hashCatalogueText, hashFields,
  DataGrade, OpenType, SharingType, UpdateCycle, DrawStatus,
  type CatalogueEntryDoc, type CatalogueField, type CatalogueSearchQuery, type DataGradeName, type DataUse, type DrawStatusName, type OpenTypeName,
  type SharingTypeName, type UpdateCycleName, type UseReasonName, type UseRecord,
} from "@tongban/sdk";
import type { Startable } from "../core/service.js";
import type { Logger } from "../core/log.js";
import { ErrorCode, NodeError, NotFoundError, NotRunningError, ValidationError } from "../core/errors.js";

export type CatalogueDB = ClassicLevel<string, string>;

/** Opens (creating) the catalogue's LevelDB. */
export async function openCatalogueDb(path: string): Promise<CatalogueDB> {
  mkdirSync(path, { recursive: true });
  const db = new ClassicLevel<string, string>(path, { keyEncoding: "utf8", valueEncoding: "utf8" });
  await db.open();
  return db;
}

/** Where data uses are logged: the node's use log (audit/use-log.ts `UseLog.appendDataUse`, see docs/catalogue.md). */
export interface DataUseLog {
  /** with `unique`, refuses (DuplicateKeyError) a key consumed before, atomically with the append */
  appendDataUse(record: UseRecord, unique?: { key: string; expiry: number }): Promise<{ seq: number; leafHash?: string }>;
}

/** How long a data use's request id is remembered against retries (ms). */
export const DATA_USE_REQUEST_TTL_MS = 90 * 24 * 3600_000;

/** A data use to record (codes as text or bytes32). */
export interface DataUseInput {
  scenarioId: string;
  resourceCode: string;
  /** matter (事项) code the data is used for */
  matter: string;
  /** bytes32 digest of the query / served result */
  queryHash: string;
  /** bytes32; default random. Given, a retry with the same id is refused (409 CONFLICT), not logged twice */
  requestId?: string;
  /** optional cross-check: must be the scenario's consumer */
  consumer?: string;
  /** unix seconds; default now */
  time?: bigint;
}

export interface CatalogueComponents {
  /**
   * chain access for views (when there is no `signer`) and event following. The node hands it a
   * core/chain.ts `FailoverProvider` over every `chain.rpcUrls` URL (the anchorer's and the ops sender's
   * failover; see node/src/main.ts); any ethers provider works.
   */
  provider: Provider;
  /** this member's signing account; without it the service is read-only */
  signer?: Signer;
  /** DataCatalogue address */
  address: string;
  db: CatalogueDB;
  /** this member's id (bytes32); needed to publish and record uses */
  memberId?: string;
  useLog?: DataUseLog;
  logger?: Logger;
}

export interface CatalogueInit {
  /** first block to index (the catalogue's deployment block); default 0 */
  startBlock?: number;
  /** index only blocks at least this deep; default 0 */
  confirmations?: number;
  /** poll interval, ms; default 1,000; 0 = no timer (call `sync()`) */
  pollMs?: number;
  /** max blocks per eth_getLogs; default 2,000 */
  maxRange?: number;
  /** how many recent blocks' hashes and undo records to keep for reorgs; default 64 */
  reorgDepth?: number;
}

/** An entry as the index holds it. */
export interface IndexedEntry {
  resourceCode: string;
  /** the code as text when it is a padded string */
  code: string;
  provider: string;
  version: number;
  publishedVersion: number;
  publishedSharing?: SharingTypeName;
  status: "ACTIVE" | "WITHDRAWN";
  pending: boolean;
  titleHash: string;
  descriptionHash: string;
  fieldsHash: string;
  standardHash: string;
  standardVersion: number;
  grade: DataGradeName;
  level: number;
  sharing: SharingTypeName;
  open: OpenTypeName;
  updateCycle: UpdateCycleName;
  dutyCode: string;
  systemCode: string;
  uri: string;
  dataItems: string[];
  versionHash: string;
  prevVersionHash: string;
  /** block of the last change */
  blockNumber: number;
}

/** An entry with the texts this node holds for it. */
export interface EntryView extends IndexedEntry {
  title?: string;
  description?: string;
  fields?: CatalogueField[];
}

export interface IndexedScenario {
  scenarioId: string;
  consumer: string;
  purposeHash: string;
  legalBasisHash: string;
  closed: boolean;
  draws: Record<string, { provider: string; needsApproval: boolean; status: DrawStatusName; expiresAt: number }>;
}

/** Search filters: the SDK's CatalogueSearchQuery (one definition for the node and its HTTP client). */
export type CatalogueSearch = CatalogueSearchQuery;

/** A data use refused on chain: `reason` is the canUse code name. */
export class DataUseRefusedError extends NodeError {
  override name = "DataUseRefusedError";
  constructor(scenarioId: string, resourceCode: string, reason: UseReasonName) {
    super(ErrorCode.NOT_ENTITLED, `use of ${resourceCode} in scenario ${scenarioId} refused: ${reason}`, { scenarioId, resourceCode, reason, code: UseReason[reason] });
  }
}

const KIND_CODE = { FORBIDDEN: ErrorCode.NOT_ENTITLED, NOT_FOUND: ErrorCode.NOT_FOUND, CONFLICT: ErrorCode.CONFLICT, INVALID: ErrorCode.VALIDATION, INTERNAL: ErrorCode.INTERNAL } as const;

/** SDK errors -> node errors the API maps to statuses (revert name and args kept in details). */
function toNodeError(e: unknown): unknown {
  if (e instanceof CatalogueRevertError) {
    return new NodeError(KIND_CODE[e.details.kind], e.message, { error: e.details.error, args: plainArgs(e.details.args) }, { cause: e });
  }
  if (e instanceof CatalogueInputError) return new ValidationError(e.message, { field: e.details.field, value: e.details.value }, { cause: e });
  return e;
}
function plainArgs(a: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]));
}

const lc = (s: string) => s.toLowerCase();
const pad10 = (n: number) => String(n).padStart(10, "0");
const range = (prefix: string) => ({ gte: prefix, lt: prefix + "\xff" });

export class CatalogueService implements Startable {
  readonly #c: CatalogueComponents;
  readonly #client: CatalogueClient;
  readonly #startBlock: number;
  readonly #confirmations: number;
  readonly #pollMs: number;
  readonly #maxRange: number;
  readonly #reorgDepth: number;
  #reorgs = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<number> | undefined;

  constructor(components: CatalogueComponents, init: CatalogueInit = {}) {
    this.#c = components;
    this.#client = new CatalogueClient(components.address, components.signer ?? components.provider);
    this.#startBlock = init.startBlock ?? 0;
    this.#confirmations = init.confirmations ?? 0;
    this.#pollMs = init.pollMs ?? 1000;
    this.#maxRange = init.maxRange ?? 2000;
    this.#reorgDepth = Math.max(1, init.reorgDepth ?? 64);
  }

  /** Reorganisations rolled back since start. */
  get reorgs(): number {
    return this.#reorgs;
  }

  get running(): boolean {
    return this.#running;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#pollMs > 0) {
      const tick = () => {
        if (!this.#running) return;
        this.sync().catch((e) => this.#c.logger?.warn({ err: String(e) }, "catalogue sync failed")).finally(() => {
          if (this.#running) this.#timer = setTimeout(tick, this.#pollMs);
        });
      };
      this.#timer = setTimeout(tick, 0);
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#syncing?.catch(() => undefined);
  }

  #need(): { signer: Signer; memberId: string } {
    if (!this.#running) throw new NotRunningError("catalogue");
    if (!this.#c.signer || !this.#c.memberId) throw new ValidationError("this node has no signing account / member id for the catalogue", { component: "catalogue" });
    return { signer: this.#c.signer, memberId: lc(this.#c.memberId) };
  }

  async #do<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toNodeError(e);
    }
  }

  async #putText(kind: string, hash: string, text: string, batch: ReturnType<CatalogueDB["batch"]>): Promise<void> {
    batch.put(`t:${lc(hash)}`, JSON.stringify({ kind, text }));
  }

  // -------------------------------------------------------------------------------------------- writes

  /** Registers a duty of this member; its description text is kept. */
  async registerDuty(dutyCode: string, description: string) {
    this.#need();
    return this.#do(async () => {
      const h = hashCatalogueText("duty", description);
      const r = await this.#client.registerDuty(dutyCode, { hash: h });
      await this.#c.db.put(`t:${h}`, JSON.stringify({ kind: "duty", text: canonicalText(description) }));
      return r;
    });
  }

  /** Registers an information system of this member; its description text is kept. */
  async registerSystem(systemCode: string, description: string) {
    this.#need();
    return this.#do(async () => {
      const h = hashCatalogueText("system", description);
      const r = await this.#client.registerSystem(systemCode, { hash: h });
      await this.#c.db.put(`t:${h}`, JSON.stringify({ kind: "system", text: canonicalText(description) }));
      return r;
    });
  }

  async deregisterSystem(systemCode: string) {
    this.#need();
    return this.#do(() => this.#client.deregisterSystem(systemCode));
  }

  /**
   * Publishes an entry of this member: registers it (version 1) or, if it exists and is this member's, adds a
   * version. Texts are stored first (content-addressed by hash), so a failed transaction leaves only
   * harmless texts behind. Resolves with the version and version hash on chain.
   */
  async publish(doc: CatalogueEntryDoc): Promise<{ resourceCode: string; version: number; versionHash: string; txHash: string; blockNumber: number }> {
    const { memberId } = this.#need();
    return this.#do(async () => {
      const input = encodeEntryInput(doc);
      const batch = this.#c.db.batch();
      await this.#putText("title", input.titleHash, canonicalText(doc.title, "title"), batch);
      await this.#putText("description", input.descriptionHash, canonicalText(doc.description, "description"), batch);
      await this.#putText("fields", input.fieldsHash, canonicalFields(doc.fields), batch);
      if (doc.standard.text !== undefined) await this.#putText("standard", input.standardHash, canonicalText(doc.standard.text, "standard"), batch);
      await batch.write();
      const existing = await this.#client.getEntry(input.resourceCode);
      if (existing && lc(existing.provider) !== memberId) {
        throw new NodeError(ErrorCode.CONFLICT, `resource ${doc.resourceCode} belongs to another provider`, { resourceCode: input.resourceCode, provider: existing.provider });
      }
      const r = existing ? await this.#client.updateEntry(doc) : await this.#client.registerEntry(doc);
      await this.#c.db.put(`d:${input.resourceCode}:${pad10(r.version)}`, JSON.stringify(doc));
      return { resourceCode: input.resourceCode, version: r.version, versionHash: r.versionHash, txHash: r.txHash, blockNumber: r.blockNumber };
    });
  }

  async withdraw(resourceCode: string, reason: string) {
    this.#need();
    return this.#do(() => this.#client.withdrawEntry(resourceCode, reason));
  }

  /** Cataloguer: publishes the latest version. */
  async approveEntry(resourceCode: string, version: number) {
    this.#need();
    return this.#do(() => this.#client.publishEntry(resourceCode, version));
  }

  /** Cataloguer: corrects the classification (a new version, published at once); the reason text is kept. */
  async correctClassification(resourceCode: string, c: { grade: DataGradeName; level: number; sharing: SharingTypeName; open: OpenTypeName }, reason: string) {
    this.#need();
    return this.#do(async () => {
      const h = hashCatalogueText("reason", reason);
      const r = await this.#client.correctClassification(resourceCode, c, { hash: h });
      await this.#c.db.put(`t:${h}`, JSON.stringify({ kind: "reason", text: canonicalText(reason) }));
      return r;
    });
  }

  /** Consumer: registers a scenario; purpose and legal-basis texts are kept. */
  async registerScenario(scenarioId: string, purpose: string, legalBasis: string, resources: string[]) {
    this.#need();
    return this.#do(async () => {
      const ph = hashCatalogueText("purpose", purpose);
      const lh = hashCatalogueText("legal-basis", legalBasis);
      const r = await this.#client.registerScenario(scenarioId, { hash: ph }, { hash: lh }, resources);
      const b = this.#c.db.batch();
      b.put(`t:${ph}`, JSON.stringify({ kind: "purpose", text: canonicalText(purpose) }));
      b.put(`t:${lh}`, JSON.stringify({ kind: "legal-basis", text: canonicalText(legalBasis) }));
      await b.write();
      return r;
    });
  }

  async approveUse(scenarioId: string, resourceCode: string, expiresAt: number) {
    this.#need();
    return this.#do(() => this.#client.approveUse(scenarioId, resourceCode, expiresAt));
  }

  async denyUse(scenarioId: string, resourceCode: string, reason: string) {
    this.#need();
    return this.#do(() => this.#client.denyUse(scenarioId, resourceCode, reason));
  }

  /** May the scenario's consumer use the resource now (read on chain, not from the index)? */
  async canUse(scenarioId: string, resourceCode: string) {
    return this.#do(() => this.#client.canUse(scenarioId, resourceCode));
  }

  /**
   * Records a data use under an application scenario in this member's use log (basis SCENARIO): checks
   * `canUse` on chain at this moment, then appends the record — RECEIVED when this member is the scenario's
   * consumer (the consumer node logs what it used), SERVED when it is the resource's provider. Throws
   * {@link DataUseRefusedError} naming the canUse reason if the chain refuses, NOT_ENTITLED if this member is
   * neither, VALIDATION for malformed codes or a `consumer` that is not the scenario's.
   * @example await svc.recordDataUse({ scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001", matter: "M-42", queryHash })
   */
  async recordDataUse(u: DataUseInput): Promise<{ seq: number; leafHash?: string; record: UseRecord }> {
    const { memberId } = this.#need();
    if (!this.#c.useLog) throw new ValidationError("no use log is configured for data uses", { component: "catalogue" });
    const scenarioId = this.#code(u.scenarioId, "scenarioId");
    const resourceCode = this.#code(u.resourceCode, "resourceCode");
    this.#code(u.matter, "matter");
    if (!/^0x[0-9a-fA-F]{64}$/.test(u.queryHash)) throw new ValidationError("queryHash must be 32 bytes of 0x-hex", { field: "queryHash", value: u.queryHash });
    if (u.requestId !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(u.requestId)) throw new ValidationError("requestId must be 32 bytes of 0x-hex", { field: "requestId", value: u.requestId });
    const { ok, reason } = await this.canUse(scenarioId, resourceCode);
    if (!ok) throw new DataUseRefusedError(u.scenarioId, u.resourceCode, reason);
    const [scenario, entry] = await this.#do(() => Promise.all([this.#client.getScenario(scenarioId), this.#client.getEntry(resourceCode)]));
    if (!scenario || !entry) throw new NotFoundError(!scenario ? "scenario" : "resource", !scenario ? u.scenarioId : u.resourceCode);
    const consumer = lc(scenario.consumer);
    const provider = lc(entry.provider);
    if (u.consumer !== undefined && this.#memberHex(u.consumer) !== consumer) {
      throw new ValidationError("consumer is not the scenario's consumer", { field: "consumer", value: u.consumer, expected: consumer });
    }
    const direction = memberId === consumer ? "RECEIVED" : memberId === provider ? "SERVED" : undefined;
    if (!direction) throw new NodeError(ErrorCode.NOT_ENTITLED, "only the scenario's consumer or the resource's provider records its uses", { scenarioId, resourceCode });
    const record = await this.#do(async () => dataUseToUseRecord({
      direction, scenarioId, resourceCode, consumer, provider, matter: u.matter, queryHash: u.queryHash,
      requestId: u.requestId ?? hexlify(randomBytes(32)), time: u.time ?? BigInt(Math.floor(Date.now() / 1000)),
    }));
    // the request id is consumed with the append (per log; domain-separated from exchange nonces)
    const unique = { key: keccak256(concat([toUtf8Bytes("tongban/data-use/"), record.requestId])), expiry: Date.now() + DATA_USE_REQUEST_TTL_MS };
    let r: { seq: number; leafHash?: string };
    try {
      r = await this.#c.useLog.appendDataUse(record, unique);
    } catch (e) {
      if ((e as Error)?.name === "DuplicateKeyError") {
        throw new NodeError(ErrorCode.CONFLICT, `data use ${record.requestId} was already recorded`, { requestId: record.requestId, scenarioId, resourceCode }, { cause: e });
      }
      throw e;
    }
    return { ...r, record };
  }

  /**
   * Stores texts of an entry this node did not publish (received from its provider), after checking each
   * against the hashes on chain. Throws CONFLICT naming the field that does not match.
   */
  async importTexts(resourceCode: string, texts: { title?: string; description?: string; fields?: CatalogueField[] }): Promise<void> {
    const e = await this.#do(() => this.#client.getEntry(resourceCode));
    if (!e) throw new NotFoundError("resource", resourceCode);
    const b = this.#c.db.batch();
    const check = (field: string, got: string, want: string) => {
      if (got !== want) throw new NodeError(ErrorCode.CONFLICT, `${field} does not match the hash on chain`, { resourceCode, field, expected: want, got });
    };
    await this.#do(async () => {
      if (texts.title !== undefined) { check("title", hashCatalogueText("title", texts.title), e.titleHash); b.put(`t:${e.titleHash}`, JSON.stringify({ kind: "title", text: canonicalText(texts.title) })); }
      if (texts.description !== undefined) { check("description", hashCatalogueText("description", texts.description), e.descriptionHash); b.put(`t:${e.descriptionHash}`, JSON.stringify({ kind: "description", text: canonicalText(texts.description) })); }
      if (texts.fields !== undefined) { check("fields", hashFields(texts.fields), e.fieldsHash); b.put(`t:${e.fieldsHash}`, JSON.stringify({ kind: "fields", text: canonicalFields(texts.fields) })); }
    });
    await b.write();
  }

  // ------------------------------------------------------------------------------------------- follower

  /** Indexes every confirmed block not yet indexed; resolves with the next block to index. */
  sync(): Promise<number> {
    this.#syncing ??= this.#syncOnce().finally(() => { this.#syncing = undefined; });
    return this.#syncing;
  }

  async #syncOnce(): Promise<number> {
    const { provider, db, address } = this.#c;
    let next = Number((await db.get("k:cursor")) ?? this.#startBlock);
    const head = (await provider.getBlockNumber()) - this.#confirmations;
    if (next > this.#startBlock) next = await this.#checkReorg(next);
    while (next <= head) {
      const to = Math.min(head, next + this.#maxRange - 1);
      const toHash = (await provider.getBlock(to))?.hash;
      const logs = await provider.getLogs({ address, fromBlock: next, toBlock: to });
      // a reorg racing the fetch: the step's last block changed; retry the step on the next sync
      if (!toHash || (await provider.getBlock(to))?.hash !== toHash || logs.some((l) => l.removed)) break;
      const cache = new Map<string, string | undefined>();
      const get = async (k: string) => (cache.has(k) ? cache.get(k) : await db.get(k));
      const put = (k: string, v: string) => cache.set(k, v);
      const del = (k: string) => cache.set(k, undefined);
      // per block: the values its events overwrite (undo record) and its hash
      // (the pre-image of a key first touched in a block: the step's cached value, or the database's, which the
      // step does not change until its batch)
      const FROM_DB = Symbol("db");
      const undo = new Map<number, Map<string, string | null | typeof FROM_DB>>();
      const hashes = new Map<number, string>([[to, toHash]]);
      for (const log of logs) {
        const pre = undo.get(log.blockNumber) ?? new Map<string, string | null | typeof FROM_DB>();
        undo.set(log.blockNumber, pre);
        hashes.set(log.blockNumber, log.blockHash);
        const touch = (k: string) => { if (!pre.has(k)) pre.set(k, cache.has(k) ? (cache.get(k) ?? null) : FROM_DB); };
        await this.#apply(log, get, (k, v) => { touch(k); put(k, v); }, (k) => { touch(k); del(k); });
      }
      for (const pre of undo.values()) {
        const fromDb = [...pre].filter(([, v]) => v === FROM_DB).map(([k]) => k);
        const vals = fromDb.length ? await db.getMany(fromDb) : [];
        fromDb.forEach((k, i) => pre.set(k, vals[i] ?? null));
      }
      const batch = db.batch();
      for (const [k, v] of cache) (v === undefined ? batch.del(k) : batch.put(k, v));
      const keepFrom = to - this.#reorgDepth + 1;
      for (const [b, pre] of undo) if (b >= keepFrom) batch.put(`j:${pad10(b)}`, JSON.stringify([...pre]));
      for (const [b, h] of hashes) if (b >= keepFrom) batch.put(`h:${pad10(b)}`, h);
      for await (const k of db.keys({ gte: "h:", lt: `h:${pad10(Math.max(0, keepFrom))}` })) batch.del(k);
      for await (const k of db.keys({ gte: "j:", lt: `j:${pad10(Math.max(0, keepFrom))}` })) batch.del(k);
      batch.put("k:cursor", String(to + 1));
      await batch.write();
      next = to + 1;
    }
    return next;
  }

  /**
   * Compares the newest kept block hash with the chain's; on a mismatch rolls the index back to the fork
   * point (or rebuilds it if the fork is older than the kept window). Returns the block to index next.
   */
  async #checkReorg(next: number): Promise<number> {
    const { provider, db } = this.#c;
    const kept: [number, string][] = [];
    for await (const [k, v] of db.iterator({ gte: "h:", lt: "h:\xff", reverse: true })) kept.push([Number(k.slice(2)), v]);
    if (!kept.length) return next;
    const chainHash = async (b: number) => (await provider.getBlock(b))?.hash ?? undefined;
    if (kept[0]![0] === next - 1 && (await chainHash(kept[0]![0])) === kept[0]![1]) return next;
    // walk back to the newest kept block the chain still has
    let fork: number | undefined;
    for (const [b, h] of kept) {
      if (b >= next) continue;
      if ((await chainHash(b)) === h) { fork = b; break; }
    }
    const batch = db.batch();
    let resume: number;
    if (fork === undefined) {
      // deeper than the kept window: rebuild from the start block (texts and published docs stay)
      for (const p of ["e:", "x:", "s:", "r:", "y:", "u:", "h:", "j:"]) for await (const k of db.keys(range(p))) batch.del(k);
      resume = this.#startBlock;
      this.#c.logger?.warn({ cursor: next, kept: kept.length }, "catalogue index: reorg deeper than the kept blocks, rebuilding");
    } else {
      // undo the abandoned blocks newest first
      const journals: [number, [string, string | null][]][] = [];
      for await (const [k, v] of db.iterator({ gt: `j:${pad10(fork)}`, lt: "j:\xff", reverse: true })) journals.push([Number(k.slice(2)), JSON.parse(v)]);
      const state = new Map<string, string | null>();
      for (const [, pre] of journals) for (const [k, v] of pre) state.set(k, v); // older blocks win: applied last
      for (const [k, v] of state) (v === null ? batch.del(k) : batch.put(k, v));
      for (const [b] of journals) batch.del(`j:${pad10(b)}`);
      for (const [b] of kept) if (b > fork) batch.del(`h:${pad10(b)}`);
      resume = fork + 1;
      this.#c.logger?.warn({ fork, abandoned: next - 1 - fork, undone: journals.length }, "catalogue index: chain reorganisation rolled back");
    }
    batch.put("k:cursor", String(resume));
    await batch.write();
    this.#reorgs++;
    return resume;
  }

  async #apply(
    log: Log, get: (k: string) => Promise<string | undefined>, put: (k: string, v: string) => void, del: (k: string) => void,
  ): Promise<void> {
    const ev = catalogueInterface().parseLog({ topics: [...log.topics], data: log.data });
    if (!ev) return;
    const a = ev.args;
    const block = log.blockNumber;
    const loadEntry = async (code: string) => {
      const raw = await get(`e:${lc(code)}`);
      return raw ? (JSON.parse(raw) as IndexedEntry) : undefined;
    };
    const save = (before: IndexedEntry | undefined, after: IndexedEntry) => {
      if (before) for (const k of dimKeys(before)) del(k);
      for (const k of dimKeys(after)) put(k, "");
      put(`e:${after.resourceCode}`, JSON.stringify(after));
    };
    switch (ev.name) {
      case "EntryRegistered":
      case "EntryUpdated": {
        const i = a.input;
        const code = lc(a.resourceCode);
        const before = await loadEntry(code);
        const after: IndexedEntry = {
          resourceCode: code, code: catalogueCodeText(code), provider: lc(a.provider),
          version: ev.name === "EntryRegistered" ? 1 : Number(a.version),
          publishedVersion: before?.publishedVersion ?? 0, ...(before?.publishedSharing ? { publishedSharing: before.publishedSharing } : {}),
          status: "ACTIVE", pending: true,
          titleHash: lc(i.titleHash), descriptionHash: lc(i.descriptionHash), fieldsHash: lc(i.fieldsHash), standardHash: lc(i.standardHash),
          standardVersion: Number(i.standardVersion), grade: codeName(DataGrade, i.grade), level: Number(i.level),
          sharing: codeName(SharingType, i.sharing), open: codeName(OpenType, i.open), updateCycle: codeName(UpdateCycle, i.updateCycle),
          dutyCode: lc(i.dutyCode), systemCode: lc(i.systemCode), uri: String(i.uri), dataItems: Array.from(i.dataItems as string[], lc),
          versionHash: lc(a.versionHash), prevVersionHash: ev.name === "EntryRegistered" ? ZeroHash : lc(a.prevVersionHash), blockNumber: block,
        };
        save(before, after);
        break;
      }
      case "EntryCorrected": {
        const before = await loadEntry(a.resourceCode);
        if (!before) break;
        const c = a.classification;
        save(before, {
          ...before, version: Number(a.version), versionHash: lc(a.versionHash), prevVersionHash: lc(a.prevVersionHash),
          grade: codeName(DataGrade, c.grade), level: Number(c.level), sharing: codeName(SharingType, c.sharing), open: codeName(OpenType, c.open), blockNumber: block,
        });
        break;
      }
      case "EntryPublished": {
        const before = await loadEntry(a.resourceCode);
        if (!before) break;
        const pv = Number(a.version);
        save(before, { ...before, publishedVersion: pv, publishedSharing: codeName(SharingType, a.sharing), pending: pv < before.version, blockNumber: block });
        break;
      }
      case "EntryWithdrawn": {
        const before = await loadEntry(a.resourceCode);
        if (!before) break;
        save(before, { ...before, status: "WITHDRAWN", pending: false, blockNumber: block });
        break;
      }
      case "SystemRegistered":
        put(`y:${lc(a.systemCode)}`, JSON.stringify({ owner: lc(a.owner), descriptionHash: lc(a.descriptionHash), active: true }));
        break;
      case "SystemDeregistered": {
        const raw = await get(`y:${lc(a.systemCode)}`);
        if (raw) put(`y:${lc(a.systemCode)}`, JSON.stringify({ ...JSON.parse(raw), active: false }));
        break;
      }
      case "DutyRegistered":
        put(`u:${lc(a.memberId)}:${lc(a.dutyCode)}`, JSON.stringify({ descriptionHash: lc(a.descriptionHash), active: true }));
        break;
      case "DutyRetired": {
        const k = `u:${lc(a.memberId)}:${lc(a.dutyCode)}`;
        const raw = await get(k);
        if (raw) put(k, JSON.stringify({ ...JSON.parse(raw), active: false }));
        break;
      }
      case "ScenarioRegistered": {
        const s: IndexedScenario = { scenarioId: lc(a.scenarioId), consumer: lc(a.consumer), purposeHash: lc(a.purposeHash), legalBasisHash: lc(a.legalBasisHash), closed: false, draws: {} };
        put(`s:${s.scenarioId}`, JSON.stringify(s));
        break;
      }
      case "ResourceDrawn":
      case "UseApproved":
      case "UseDenied":
      case "ScenarioClosed": {
        const sid = lc(a.scenarioId);
        const raw = await get(`s:${sid}`);
        if (!raw) break;
        const s = JSON.parse(raw) as IndexedScenario;
        if (ev.name === "ScenarioClosed") s.closed = true;
        else {
          const code = lc(a.resourceCode);
          const provider = lc(a.provider);
          if (ev.name === "ResourceDrawn") {
            s.draws[code] = { provider, needsApproval: Boolean(a.needsApproval), status: "DRAWN", expiresAt: 0 };
            put(`r:${provider}:${sid}:${code}`, "");
          } else if (s.draws[code]) {
            s.draws[code] = ev.name === "UseApproved"
              ? { ...s.draws[code]!, status: "APPROVED", expiresAt: Number(a.expiresAt) }
              : { ...s.draws[code]!, status: "DENIED", expiresAt: 0 };
          }
        }
        put(`s:${sid}`, JSON.stringify(s));
        break;
      }
      default:
        break;
    }
  }

  // ---------------------------------------------------------------------------------------------- reads

  async #text(hash: string): Promise<string | undefined> {
    const raw = await this.#c.db.get(`t:${lc(hash)}`);
    return raw ? (JSON.parse(raw) as { text: string }).text : undefined;
  }

  async #view(e: IndexedEntry): Promise<EntryView> {
    const [title, description, fields] = await Promise.all([this.#text(e.titleHash), this.#text(e.descriptionHash), this.#text(e.fieldsHash)]);
    return { ...e, ...(title !== undefined ? { title } : {}), ...(description !== undefined ? { description } : {}), ...(fields !== undefined ? { fields: JSON.parse(fields) as CatalogueField[] } : {}) };
  }

  /** The indexed entry with the texts this node holds; undefined if the index does not know the code. */
  async getEntry(resourceCode: string): Promise<EntryView | undefined> {
    const code = this.#code(resourceCode, "resourceCode");
    const raw = await this.#c.db.get(`e:${code}`);
    return raw ? this.#view(JSON.parse(raw) as IndexedEntry) : undefined;
  }

  async getScenario(scenarioId: string): Promise<IndexedScenario | undefined> {
    const raw = await this.#c.db.get(`s:${this.#code(scenarioId, "scenarioId")}`);
    return raw ? (JSON.parse(raw) as IndexedScenario) : undefined;
  }

  /** Draws on a provider's resources (default this member's): its approval inbox. */
  async requests(opts: { provider?: string; status?: DrawStatusName } = {}): Promise<{ scenarioId: string; resourceCode: string; consumer: string; needsApproval: boolean; status: DrawStatusName; expiresAt: number }[]> {
    const provider = lc(opts.provider ?? this.#c.memberId ?? "");
    if (!provider) throw new ValidationError("provider is required", { field: "provider" });
    if (opts.status !== undefined && !(opts.status in DrawStatus)) throw new ValidationError("unknown draw status", { field: "status", value: opts.status });
    const out = [];
    for await (const k of this.#c.db.keys(range(`r:${provider}:`))) {
      const [, , sid, code] = k.split(":");
      const s = await this.getScenario(sid!);
      const d = s?.draws[code!];
      if (!s || !d || (opts.status && d.status !== opts.status)) continue;
      out.push({ scenarioId: sid!, resourceCode: code!, consumer: s.consumer, needsApproval: d.needsApproval, status: d.status, expiresAt: d.expiresAt });
    }
    return out;
  }

  #code(v: string, field: string): string {
    try {
      return lc(catalogueCode(v, field));
    } catch (e) {
      throw toNodeError(e);
    }
  }

  /**
   * Searches the index. Filters combine (AND). The most selective given filter is scanned by key; the rest
   * and the text match are applied to each candidate.
   * @example await svc.search({ sharing: "CONDITIONAL", grade: "GENERAL", text: "营业执照" })
   */
  async search(q: CatalogueSearch = {}): Promise<EntryView[]> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const status = q.status ?? "ACTIVE";
    const want: Partial<Record<Dim, string>> = {};
    if (q.provider !== undefined) want.provider = this.#memberHex(q.provider);
    if (q.grade !== undefined) { if (!(q.grade in DataGrade)) throw new ValidationError("unknown grade", { field: "grade", value: q.grade }); want.grade = q.grade; }
    if (q.sharing !== undefined) { if (!(q.sharing in SharingType)) throw new ValidationError("unknown sharing type", { field: "sharing", value: q.sharing }); want.sharing = q.sharing; }
    if (q.open !== undefined) { if (!(q.open in OpenType)) throw new ValidationError("unknown open type", { field: "open", value: q.open }); want.open = q.open; }
    if (q.duty !== undefined) want.duty = this.#code(q.duty, "duty");
    if (q.system !== undefined) want.system = this.#code(q.system, "system");
    if (status !== "ANY") want.status = status;
    const needle = q.text === undefined ? undefined : q.text.normalize("NFC").trim().toLowerCase();
    if (needle === "") throw new ValidationError("text must not be empty", { field: "text" });

    // scan order: the dimension likely to be the most selective first
    const order: Dim[] = ["system", "duty", "provider", "grade", "open", "sharing", "status"];
    const scanDim = order.find((d) => want[d] !== undefined);
    const keys = scanDim ? this.#c.db.keys(range(`x:${scanDim}:${want[scanDim]}:`)) : this.#c.db.keys(range("e:"));
    const out: EntryView[] = [];
    for await (const k of keys) {
      const code = k.slice(k.lastIndexOf(":") + 1);
      const raw = await this.#c.db.get(`e:${code}`);
      if (!raw) continue;
      const e = JSON.parse(raw) as IndexedEntry;
      const dims = dimValues(e);
      if ((Object.keys(want) as Dim[]).some((d) => dims[d] !== want[d])) continue;
      const v = await this.#view(e);
      if (needle !== undefined) {
        const hay = `${v.title ?? ""}\n${v.description ?? ""}`.normalize("NFC").toLowerCase();
        if (!hay.includes(needle)) continue;
      }
      out.push(v);
      if (out.length >= limit) break;
    }
    return out;
  }

  #memberHex(v: string): string {
    if (/^0x[0-9a-fA-F]{64}$/.test(v)) return lc(v);
    if (/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(v)) return lc(catalogueCode(v, "provider"));
    throw new ValidationError("provider must be a member id (bytes32) or an 18-character USCC", { field: "provider", value: v });
  }

  /** The doc this node published for a version (latest if omitted). */
  async publishedDoc(resourceCode: string, version?: number): Promise<CatalogueEntryDoc | undefined> {
    const code = this.#code(resourceCode, "resourceCode");
    if (version !== undefined) {
      const raw = await this.#c.db.get(`d:${code}:${pad10(version)}`);
      return raw ? (JSON.parse(raw) as CatalogueEntryDoc) : undefined;
    }
    for await (const v of this.#c.db.values({ ...range(`d:${code}:`), reverse: true, limit: 1 })) return JSON.parse(v) as CatalogueEntryDoc;
    return undefined;
  }
}

type Dim = "provider" | "grade" | "sharing" | "open" | "duty" | "system" | "status";

function dimValues(e: IndexedEntry): Record<Dim, string> {
  return { provider: e.provider, grade: e.grade, sharing: e.publishedSharing ?? e.sharing, open: e.open, duty: e.dutyCode, system: e.systemCode, status: e.status };
}

function dimKeys(e: IndexedEntry): string[] {
  return Object.entries(dimValues(e)).map(([d, v]) => `x:${d}:${v}:${e.resourceCode}`);
}
