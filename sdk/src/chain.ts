/**
 * Reading a material's on-chain state: exactly one `eth_call` to `materialState(root, leaf, hashAlg)`
 * (IMaterialRegistry.sol), decoded with the ledger's typechain interface and sanity-checked (fail closed).
 */
import { getAddress } from "ethers";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { TongbanError } from "./errors.js";
import { ledgerInterface, decodeLedgerError } from "./contract-errors.js";

/**
 * What verification needs from a chain: an eth_call and the chain id. An ethers v6 `JsonRpcProvider`
 * (ESM or CommonJS build) fits, as does any object with these two methods.
 */
export interface ChainReader {
  call(tx: { to: string; data: string }): Promise<string>;
  getNetwork(): Promise<{ chainId: bigint }>;
}

/**
 * A {@link ChainReader} that can also read the latest block's hash and make an eth_call at exactly one block
 * (EIP-1898 `{ blockHash }`): what {@link coalescingChainReader}'s `reuseWithinBlock` needs.
 */
export interface BlockPinnedReader extends ChainReader {
  /** the latest block's hash: a header read, no EVM execution */
  latestBlockHash(): Promise<string>;
  /** eth_call at the block with that hash (not "latest": a block arriving meanwhile does not change the answer) */
  callAtBlock(tx: { to: string; data: string }, blockHash: string): Promise<string>;
}

/** MaterialStatus enum (IMaterialRegistry.sol). */
export const MaterialStatus = { Active: 0, Suspended: 1, Revoked: 2 } as const;
/** HashAlgStatus enum (IMaterialRegistry.sol). */
export const HashAlgStatus = { Unknown: 0, Active: 1, Retired: 2 } as const;

/** The `MaterialState` struct, decoded. */
export interface MaterialState {
  anchored: boolean;
  anchoredBlock: bigint;
  anchoredAt: bigint;
  issuer: string;
  typeCode: string;
  jurisdiction: number;
  count: number;
  issuerActiveNow: boolean;
  status: 0 | 1 | 2;
  reason: number;
  statusBy: string;
  statusBlock: bigint;
  statusAt: bigint;
  supersededBy: string;
  supersedes: string;
  hashAlgStatus: 0 | 1 | 2;
  hashAlgRetiredAt: bigint;
}

/** Reading the chain failed: `reason` UNREACHABLE (transport), BAD_RESPONSE (undecodable or inconsistent), REVERTED. */
export class ChainReadError extends TongbanError<{ reason: "UNREACHABLE" | "BAD_RESPONSE" | "REVERTED"; ledger: string; root?: string; leaf?: string }> {
  override name = "ChainReadError" as const;
}

const ZERO32 = "0x" + "0".repeat(64);

/** The struct's fields and ABI types, in order (IMaterialRegistry.MaterialState). Checked against the typechain ABI. */
const STATE_LAYOUT = [
  ["anchored", "bool"], ["anchoredBlock", "uint64"], ["anchoredAt", "uint64"], ["issuer", "bytes32"], ["typeCode", "bytes32"],
  ["jurisdiction", "uint32"], ["count", "uint32"], ["issuerActiveNow", "bool"], ["status", "uint8"], ["reason", "uint16"],
  ["statusBy", "bytes32"], ["statusBlock", "uint64"], ["statusAt", "uint64"], ["supersededBy", "bytes32"],
  ["supersedes", "bytes32"], ["hashAlgStatus", "uint8"], ["hashAlgRetiredAt", "uint64"],
] as const;

interface StateCodec {
  encode(q: { root: string; leaf: string; hashAlg: number }): string;
  decode(raw: string): MaterialState;
  /** 8 hex digits, no 0x: materialState(bytes32,bytes32,uint8) */
  selector: string;
  /** 8 hex digits, no 0x: materialStates((bytes32,bytes32,uint8)[]) */
  batchSelector: string;
}

let codec: StateCodec | undefined;

/**
 * A hand-rolled codec for materialState (a fixed 4 + 96 byte call and a 544-byte static answer): much cheaper
 * than generic ABI coding per verification, and strict: every word must fit its type (bool 0/1, uintN < 2^N),
 * the answer must be exactly 17 words. Its layout is checked once against the ledger's typechain ABI.
 */
function materialStateCodec(): StateCodec {
  if (codec) return codec;
  const fn = ledgerInterface().getFunction("materialState");
  const outputs = fn?.outputs[0]?.components?.map((c) => [c.name, c.type]) ?? [];
  const inputs = fn?.inputs.map((i) => i.type) ?? [];
  if (JSON.stringify(outputs) !== JSON.stringify(STATE_LAYOUT) || JSON.stringify(inputs) !== JSON.stringify(["bytes32", "bytes32", "uint8"])) {
    throw new ChainReadError("the ledger ABI's materialState differs from the SDK's layout (rebuild the SDK against the contracts)", { reason: "BAD_RESPONSE", ledger: "" });
  }
  const batch = ledgerInterface().getFunction("materialStates");
  const batchOut = batch?.outputs[0]?.baseType === "array" ? batch.outputs[0].arrayChildren?.components?.map((c) => [c.name, c.type]) ?? [] : [];
  const batchIn = batch?.inputs[0]?.baseType === "array" ? batch.inputs[0].arrayChildren?.components?.map((c) => c.type) ?? [] : [];
  if (batch?.inputs.length !== 1 || JSON.stringify(batchOut) !== JSON.stringify(STATE_LAYOUT) || JSON.stringify(batchIn) !== JSON.stringify(["bytes32", "bytes32", "uint8"])) {
    throw new ChainReadError("the ledger ABI's materialStates differs from the SDK's layout (rebuild the SDK against the contracts)", { reason: "BAD_RESPONSE", ledger: "" });
  }
  const selector = fn!.selector.slice(2);
  const word = (hex: string, field: string) => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ChainReadError(`${field} must be 32-byte hex`, { reason: "BAD_RESPONSE", ledger: "" });
    return hex.slice(2).toLowerCase();
  };
  codec = {
    selector,
    batchSelector: batch.selector.slice(2),
    encode(q) {
      if (!Number.isInteger(q.hashAlg) || q.hashAlg < 0 || q.hashAlg > 255) throw new ChainReadError(`hashAlg ${q.hashAlg} is not a uint8`, { reason: "BAD_RESPONSE", ledger: "" });
      return "0x" + selector + word(q.root, "root") + word(q.leaf, "leaf") + q.hashAlg.toString(16).padStart(64, "0");
    },
    decode(raw) {
      if (typeof raw !== "string" || raw.length !== 2 + 64 * STATE_LAYOUT.length || !/^0x[0-9a-fA-F]*$/.test(raw)) {
        throw new Error(`answer is ${typeof raw === "string" ? (raw.length - 2) / 2 : 0} bytes, expected ${32 * STATE_LAYOUT.length}`);
      }
      const out: Record<string, unknown> = {};
      STATE_LAYOUT.forEach(([name, type], i) => {
        const w = raw.slice(2 + 64 * i, 2 + 64 * (i + 1)).toLowerCase();
        if (type === "bytes32") { out[name] = "0x" + w; return; }
        const v = BigInt("0x" + w);
        const bits = type === "bool" ? 1 : Number(type.slice(4));
        if (v >> BigInt(bits) !== 0n) throw new Error(`${name} does not fit ${type}`);
        out[name] = type === "bool" ? v === 1n : bits <= 32 ? Number(v) : v;
      });
      return out as unknown as MaterialState;
    },
  };
  return codec;
}

/**
 * Reads `materialState(root, leaf, hashAlg)` with one eth_call. Throws {@link ChainReadError}.
 * @example const state = await readMaterialState(provider, ledgerAddress, { root, leaf, hashAlg: 1 });
 */
export async function readMaterialState(
  reader: ChainReader, ledger: string, q: { root: string; leaf: string; hashAlg: number },
): Promise<MaterialState> {
  const codec = materialStateCodec();
  const data = codec.encode(q);
  let raw: string;
  try {
    raw = await reader.call({ to: ledgerAddress(ledger), data });
  } catch (e) {
    // a coalescing reader's batch answer that did not decode (see coalescingChainReader): BAD_RESPONSE
    if (e instanceof ChainReadError) throw new ChainReadError(`${e.message} (leaf ${q.leaf})`, { ...e.details, ledger, root: q.root, leaf: q.leaf }, { cause: e });
    const revert = decodeLedgerError(e);
    if (revert) throw new ChainReadError(`materialState reverted for leaf ${q.leaf}: ${revert.message}`, { reason: "REVERTED", ledger, root: q.root, leaf: q.leaf }, { cause: revert });
    throw new ChainReadError(`chain unreachable reading leaf ${q.leaf}: ${String((e as Error)?.message ?? e).slice(0, 200)}`, { reason: "UNREACHABLE", ledger, root: q.root, leaf: q.leaf }, { cause: e });
  }
  return checkedState(codec, raw, ledger, q);
}

/** Decode one 17-word materialState answer and check it is self-consistent (fail closed). */
function checkedState(codec: StateCodec, raw: string, ledger: string, q: { root: string; leaf: string }): MaterialState {
  let state: MaterialState;
  try {
    state = codec.decode(raw);
  } catch (e) {
    throw new ChainReadError(`undecodable materialState answer for leaf ${q.leaf} (is ${ledger} a TongbanLedger?)`, { reason: "BAD_RESPONSE", ledger, root: q.root, leaf: q.leaf }, { cause: e });
  }
  const odd: string[] = [];
  if (state.status > 2) odd.push(`status ${state.status}`);
  if (state.hashAlgStatus > 2) odd.push(`hashAlgStatus ${state.hashAlgStatus}`);
  if (state.anchored && (state.anchoredBlock === 0n || state.issuer === ZERO32 || state.count === 0)) odd.push("anchored without block/issuer/count");
  if (!state.anchored && (state.anchoredBlock !== 0n || state.issuer !== ZERO32 || state.status !== 0 || state.supersededBy !== ZERO32)) odd.push("not anchored but fields set");
  if (state.hashAlgStatus === HashAlgStatus.Retired && state.hashAlgRetiredAt === 0n) odd.push("retired without time");
  if (odd.length) {
    throw new ChainReadError(`inconsistent materialState answer for leaf ${q.leaf}: ${odd.join(", ")}`, { reason: "BAD_RESPONSE", ledger, root: q.root, leaf: q.leaf });
  }
  return state;
}

const WORD_HEX = 64;
const STATE_HEX = WORD_HEX * STATE_LAYOUT.length;
/** hex digits of a materialState call: selector + root, leaf, hashAlg */
const CALL_HEX = 8 + 3 * WORD_HEX;

/** calldata of materialStates(queries) from the calldata of materialState for each query (the same words). */
function batchCalldata(codec: StateCodec, calls: string[]): string {
  let out = "0x" + codec.batchSelector + (32).toString(16).padStart(WORD_HEX, "0") + calls.length.toString(16).padStart(WORD_HEX, "0");
  for (const c of calls) out += c.slice(10);
  return out;
}

/** Split a materialStates answer into `n` materialState answers; throws unless it is exactly (offset 32, n, n × 17 words). */
function splitBatchAnswer(raw: string, n: number): string[] {
  if (typeof raw !== "string" || raw.length !== 2 + WORD_HEX * 2 + n * STATE_HEX || !/^0x[0-9a-fA-F]*$/.test(raw)) {
    throw new Error(`materialStates answer is ${typeof raw === "string" ? (raw.length - 2) / 2 : 0} bytes, expected ${32 * 2 + n * 32 * STATE_LAYOUT.length} for ${n} states`);
  }
  if (BigInt("0x" + raw.slice(2, 2 + WORD_HEX)) !== 32n || BigInt("0x" + raw.slice(2 + WORD_HEX, 2 + 2 * WORD_HEX)) !== BigInt(n)) {
    throw new Error(`materialStates answer does not hold an array of ${n} states`);
  }
  const out = new Array<string>(n);
  const base = 2 + 2 * WORD_HEX;
  for (let i = 0; i < n; i++) out[i] = "0x" + raw.slice(base + i * STATE_HEX, base + (i + 1) * STATE_HEX);
  return out;
}

/**
 * Reads `materialStates(queries)`: the state of many materials with ONE eth_call (one EVM execution). Each
 * state is decoded and checked as {@link readMaterialState} does; throws {@link ChainReadError} (the whole
 * call failed, or its answer is not `queries.length` well-formed states: then no state is returned).
 * @example const [a, b] = await readMaterialStates(provider, ledgerAddress, [{ root, leaf, hashAlg: 1 }, { root: r2, leaf: l2, hashAlg: 1 }]);
 */
export async function readMaterialStates(
  reader: ChainReader, ledger: string, queries: readonly { root: string; leaf: string; hashAlg: number }[],
): Promise<MaterialState[]> {
  if (queries.length === 0) return [];
  const codec = materialStateCodec();
  const data = batchCalldata(codec, queries.map((q) => codec.encode(q)));
  let raw: string;
  try {
    raw = await reader.call({ to: ledgerAddress(ledger), data });
  } catch (e) {
    const revert = decodeLedgerError(e);
    if (revert) throw new ChainReadError(`materialStates reverted: ${revert.message}`, { reason: "REVERTED", ledger }, { cause: revert });
    throw new ChainReadError(`chain unreachable reading ${queries.length} material states: ${String((e as Error)?.message ?? e).slice(0, 200)}`, { reason: "UNREACHABLE", ledger }, { cause: e });
  }
  let parts: string[];
  try {
    parts = splitBatchAnswer(raw, queries.length);
  } catch (e) {
    throw new ChainReadError(`undecodable materialStates answer (is ${ledger} a TongbanLedger with materialStates?)`, { reason: "BAD_RESPONSE", ledger }, { cause: e });
  }
  return parts.map((p, i) => checkedState(codec, p, ledger, queries[i]!));
}

/** Options of {@link Coalescer}. */
export interface CoalescerOptions {
  /** most queries in one batch (default 256) */
  maxBatch?: number;
  /** batches in flight at once (default 1: while one is out, the next queries queue up) */
  maxInFlight?: number;
}

/** Options of a {@link Coalescer} over queries that may repeat. */
export interface CoalescerInit<Q> extends CoalescerOptions {
  /**
   * Identical queries (same key) within ONE batch are asked once and all get that answer (DataLoader's per-batch
   * de-duplication): they are answered by the same read, made after each of them was asked. Nothing is kept
   * across batches.
   */
  key?: (q: Q) => string;
}

/** A per-query failure in the results of a {@link Coalescer}'s `run`: that query is rejected with `cause`. */
export class BatchItemFailure {
  constructor(readonly cause: unknown) {}
}

/** How {@link batchOrSingly} sends one query, a batch of them, and reads a batch's answer. */
export interface BatchOrSinglyInit<Q, R, Raw> {
  /** one query on its own (the plain call) */
  one: (q: Q) => Promise<R>;
  /** the batch as one call (e.g. a batch view's eth_call) */
  sendMany: (qs: Q[]) => Promise<Raw>;
  /** the batch's answer, one result per query in order; throws when it does not decode (fails the whole batch) */
  decodeMany: (raw: Raw, count: number) => readonly (R | BatchItemFailure)[];
  /** whether a failure of `sendMany` is the chain refusing the batch (then each query is asked alone); default: every failure */
  refused?: (e: unknown) => boolean;
  /** after a refused batch whose queries all succeeded alone, send queries alone for this long (ms, default 60,000) */
  singlyMs?: number;
}

/**
 * A {@link Coalescer} `run` for a chain whose batch call may be missing (e.g. contracts deployed without the batch
 * views): one query goes as the plain call; a batch goes as one call, and when the chain refuses it (`refused`),
 * each query is asked alone with its own outcome (if they all succeed, queries go alone for `singlyMs`). Any other
 * failure, or an answer that does not decode, fails the whole batch, never a partial VALID.
 * @example new Coalescer(batchOrSingly({ one, sendMany, decodeMany }))
 */
export function batchOrSingly<Q, R, Raw>(init: BatchOrSinglyInit<Q, R, Raw>): (qs: Q[]) => Promise<readonly (R | BatchItemFailure)[]> {
  const { one, sendMany, decodeMany, refused = () => true, singlyMs = 60_000 } = init;
  let singlyUntil = 0;
  const singly = (qs: Q[]) => Promise.all(qs.map((q) => one(q).catch((e: unknown) => new BatchItemFailure(e))));
  return async (qs) => {
    if (qs.length === 1) return [await one(qs[0]!)];
    if (Date.now() < singlyUntil) return singly(qs);
    let raw: Raw;
    try {
      raw = await sendMany(qs);
    } catch (e) {
      if (!refused(e)) throw e;
      const each = await singly(qs);
      if (each.every((r) => !(r instanceof BatchItemFailure))) singlyUntil = Date.now() + singlyMs;
      return each;
    }
    return decodeMany(raw, qs.length);
  };
}

/** How {@link reuseWithinBlock} reads the latest block and asks queries at one block. */
export interface ReuseWithinBlockInit<Q, R> {
  /** the latest block's hash (read once per batch, after every query in it was asked) */
  latestBlock: () => Promise<string>;
  /** ask `qs` at exactly that block (one result per query, in order) */
  runAt: (qs: Q[], block: string) => Promise<readonly (R | BatchItemFailure)[]>;
  /** identity of a query (same key at the same block = the same answer) */
  key: (q: Q) => string;
  /** most answers kept (default 10,000; all dropped when full) */
  entries?: number;
  /** counters to update: header reads, queries answered from memory */
  stats?: { blocks: number; reused: number };
}

/**
 * A {@link Coalescer} `run` that reuses answers read AT THE LATEST BLOCK: per batch it reads the latest block's
 * hash, answers the queries already answered at that block from memory and asks the others with `runAt` pinned
 * to that block. A block's state never changes, so a reused answer is what a read at "latest" gives at that
 * moment; a new block (or another block at the same height) empties the memory; failures are never kept.
 * @example new Coalescer(reuseWithinBlock({ latestBlock, runAt, key: (q) => q }), { key: (q) => q })
 */
export function reuseWithinBlock<Q, R>(init: ReuseWithinBlockInit<Q, R>): (qs: Q[]) => Promise<readonly (R | BatchItemFailure)[]> {
  const { latestBlock, runAt, key, stats } = init;
  const max = Math.max(1, init.entries ?? 10_000);
  let block: string | undefined;
  const answers = new Map<string, R>();
  return async (qs) => {
    // read after every query of this batch was asked: this block is the latest at that moment
    const latest = String(await latestBlock()).toLowerCase();
    if (stats) stats.blocks++;
    if (latest !== block) {
      answers.clear();
      block = latest;
    }
    const out = new Array<R | BatchItemFailure>(qs.length);
    const missing: number[] = [];
    for (let i = 0; i < qs.length; i++) {
      const hit = answers.get(key(qs[i]!));
      if (hit !== undefined) out[i] = hit;
      else missing.push(i);
    }
    if (stats) stats.reused += qs.length - missing.length;
    if (missing.length === 0) return out;
    const rs = await runAt(missing.map((i) => qs[i]!), latest);
    if (!Array.isArray(rs) || rs.length !== missing.length) return rs; // the Coalescer fails the batch
    for (let j = 0; j < missing.length; j++) {
      const r = rs[j]!;
      out[missing[j]!] = r;
      // only an answer of this very block is kept (never a failure)
      if (!(r instanceof BatchItemFailure) && block === latest) {
        if (answers.size >= max) answers.clear();
        answers.set(key(qs[missing[j]!]!), r as R);
      }
    }
    return out;
  };
}

/**
 * Coalesces concurrent queries into batches, DataLoader-style/**
 * Coalesces concurrent queries into batches, DataLoader-style, without a timer: a query sent while fewer than
 * `maxInFlight` batches are out leaves at the end of the current event-loop turn (with the others of that
 * turn); otherwise it waits for a batch to return and leaves with every query queued meanwhile. At low load
 * each query goes alone and at once; under load one round trip carries many. `run(qs)` must answer one result
 * per query, in order (a {@link BatchItemFailure} rejects its query alone): a batch that rejects, or answers
 * another number of results, rejects every query in it (with that error, or a `ChainReadError` BAD_RESPONSE)
 * and never resolves any of them.
 * @example const loader = new Coalescer((keys: string[]) => fetchMany(keys)); const v = await loader.load("k");
 */
export class Coalescer<Q, R> {
  readonly #queue: { q: Q; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #key: ((q: Q) => string) | undefined;
  #inFlight = 0;
  #scheduled = false;
  /** batches sent, queries carried, distinct queries asked (= queries without `key`), largest batch (metrics, benchmarks) */
  readonly stats = { batches: 0, queries: 0, asked: 0, largest: 0 };

  constructor(readonly run: (qs: Q[]) => Promise<readonly (R | BatchItemFailure)[]>, options: CoalescerInit<Q> = {}) {
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 1);
    this.#key = options.key;
  }

  load(q: Q): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ q, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return;
    this.#scheduled = true;
    // at the end of this turn: every query of the turn joins the batch
    setImmediate(() => {
      this.#scheduled = false;
      while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) this.#send(this.#queue.splice(0, this.#maxBatch));
    });
  }

  #send(batch: { q: Q; resolve: (r: R) => void; reject: (e: unknown) => void }[]): void {
    this.#inFlight++;
    this.stats.batches++;
    this.stats.queries += batch.length;
    if (batch.length > this.stats.largest) this.stats.largest = batch.length;
    // slot[i]: the position of batch[i]'s query among the distinct queries asked
    let asked: Q[];
    let slot: number[] | undefined;
    if (this.#key) {
      const seen = new Map<string, number>();
      asked = [];
      slot = batch.map((b) => {
        const k = this.#key!(b.q);
        let j = seen.get(k);
        if (j === undefined) {
          j = asked.length;
          seen.set(k, j);
          asked.push(b.q);
        }
        return j;
      });
    } else asked = batch.map((b) => b.q);
    this.stats.asked += asked.length;
    let p: Promise<readonly (R | BatchItemFailure)[]>;
    try {
      p = this.run(asked);
    } catch (e) {
      p = Promise.reject(e);
    }
    // the slot is freed before the queries are settled, so a query sent by their continuations is not held back
    p.then(
      (rs) => {
        this.#inFlight--;
        if (!Array.isArray(rs) || rs.length !== asked.length) {
          const e = new ChainReadError(`a batch of ${asked.length} queries was answered with ${Array.isArray(rs) ? rs.length : "no"} results`, { reason: "BAD_RESPONSE", ledger: "" });
          for (const b of batch) b.reject(e);
        } else {
          for (let i = 0; i < batch.length; i++) {
            const r = rs[slot ? slot[i]! : i]!;
            if (r instanceof BatchItemFailure) batch[i]!.reject(r.cause);
            else batch[i]!.resolve(r);
          }
        }
        this.#pump();
      },
      (e: unknown) => {
        this.#inFlight--;
        for (const b of batch) b.reject(e);
        this.#pump();
      },
    );
  }
}

/** Options of {@link coalescingChainReader}. */
export interface CoalescingReaderOptions extends CoalescerOptions {
  /**
   * Reuse an answer for the same read at the same block (default off). Each batch first reads the latest
   * block's hash (after every read in it was asked), answers the reads already answered AT THAT BLOCK from
   * memory, and asks the others with an eth_call pinned to that block (EIP-1898). A state at one block never
   * changes, so a reused answer is the one an eth_call at "latest" would give at that moment: no staleness,
   * nothing kept past the next block (a new block, or another block at the same height after a reorg, empties
   * the memory). Needs a {@link BlockPinnedReader}. Costs a header read per batch (no EVM execution): one
   * more round trip, so a read alone makes two. `{ entries }`: most answers kept per ledger (10,000, ~1.3 kB each; all dropped when full).
   */
  reuseWithinBlock?: boolean | { entries?: number };
}

/**
 * What a {@link coalescingChainReader} did: batches sent, reads carried, distinct reads asked, largest batch;
 * with `reuseWithinBlock`, latest-block reads and reads answered from the same block's earlier answer.
 */
export interface CoalescingReaderStats {
  batches: number;
  queries: number;
  asked: number;
  largest: number;
  blocks: number;
  reused: number;
}

/**
 * A {@link ChainReader} that coalesces concurrent `materialState` reads of the same ledger into ONE
 * `materialStates` eth_call (one round trip, one EVM execution; {@link Coalescer}): for a node verifying many
 * materials at once. A read that finds no other in flight is sent alone, as the plain `materialState` call
 * (so `verify` with this reader still makes one round trip per verification, and a ledger without
 * `materialStates` works at low load). A batch call that fails is retried as single reads, each with its own
 * outcome (with a ledger deployed without `materialStates` the reader keeps working: reads then go singly for
 * 60 s at a time). The same read twice in one batch is asked once (both answered by that
 * read, made after both were asked). Any other call and `getNetwork` pass through. Never VALID without its
 * own state: a read whose single retry fails too fails its verification (CHAIN_UNREACHABLE), and an answer that
 * is not exactly one well-formed state per read fails every verification in the batch (BAD_CHAIN_RESPONSE).
 * `inner` must be a reader of one chain.
 * @example
 * const reader = coalescingChainReader(chainReaderFromUrl(rpcUrl));
 * await Promise.all(bundles.map((b, i) => verify({ content: contents[i] }, b, { provider: reader, ledger })));
 */
export function coalescingChainReader(
  inner: ChainReader | BlockPinnedReader,
  options: CoalescingReaderOptions = {},
): ChainReader & { readonly stats: CoalescingReaderStats } {
  const codec = materialStateCodec();
  const loaders = new Map<string, Coalescer<string, string>>();
  const stats: CoalescingReaderStats = { batches: 0, queries: 0, asked: 0, largest: 0, blocks: 0, reused: 0 };
  const { reuseWithinBlock: reuse, ...coalescing } = options;
  let pinned: BlockPinnedReader | undefined;
  if (reuse) {
    const p = inner as Partial<BlockPinnedReader>;
    if (typeof p.latestBlockHash !== "function" || typeof p.callAtBlock !== "function") {
      throw new TypeError("coalescingChainReader: reuseWithinBlock needs a reader with latestBlockHash() and callAtBlock() (BlockPinnedReader)");
    }
    pinned = inner as BlockPinnedReader;
  }
  const maxReused = typeof reuse === "object" ? Math.max(1, reuse.entries ?? 10_000) : 10_000;
  const undecodable = (to: string, e: unknown) => new ChainReadError(`undecodable materialStates answer from ${to}`, { reason: "BAD_RESPONSE", ledger: to }, { cause: e });
  const loaderFor = (to: string): Coalescer<string, string> => {
    const key = to.toLowerCase();
    let l = loaders.get(key);
    if (!l) {
      let run: (calls: string[]) => Promise<readonly (string | BatchItemFailure)[]>;
      if (!pinned) {
        // a ledger deployed without materialStates reverts the batch but answers the reads one by one; during an
        // outage they fail as the batch did
        run = batchOrSingly<string, string, string>({
          one: (data) => inner.call({ to, data }),
          sendMany: (calls) => inner.call({ to, data: batchCalldata(codec, calls) }),
          decodeMany: (raw, count) => {
            try {
              return splitBatchAnswer(raw, count);
            } catch (e) {
              throw undecodable(to, e);
            }
          },
        });
      } else {
        // the same, at one block: every query of a call carries that block's hash
        const p = pinned;
        const atBlock = batchOrSingly<{ data: string; block: string }, string, string>({
          one: (q) => p.callAtBlock({ to, data: q.data }, q.block),
          sendMany: (qs) => p.callAtBlock({ to, data: batchCalldata(codec, qs.map((q) => q.data)) }, qs[0]!.block),
          decodeMany: (raw, count) => {
            try {
              return splitBatchAnswer(raw, count);
            } catch (e) {
              throw undecodable(to, e);
            }
          },
        });
        run = reuseWithinBlock<string, string>({
          latestBlock: () => p.latestBlockHash(),
          runAt: (calls, block) => atBlock(calls.map((data) => ({ data, block }))),
          key: (data) => data.toLowerCase(),
          entries: maxReused,
          stats,
        });
      }
      l = new Coalescer<string, string>((calls) => {
        stats.batches++;
        stats.asked += calls.length;
        if (calls.length > stats.largest) stats.largest = calls.length;
        return run(calls);
      }, { ...coalescing, key: (data) => data.toLowerCase() }); // the same read twice in one batch: asked once
      loaders.set(key, l);
    }
    return l;
  };
  const prefix = "0x" + codec.selector;
  return {
    stats,
    call(tx) {
      const data = tx.data;
      if (typeof data === "string" && data.length === 2 + CALL_HEX && data.slice(0, 10).toLowerCase() === prefix) {
        stats.queries++;
        return loaderFor(tx.to).load(data);
      }
      return inner.call(tx);
    },
    getNetwork: () => inner.getNetwork(),
  };
}

const checksummed = new Map<string, string>();
/** getAddress (a keccak per call) once per ledger address: verifiers ask the same ledger over and over. */
function ledgerAddress(ledger: string): string {
  const key = String(ledger).toLowerCase();
  let a = checksummed.get(key);
  if (a === undefined) {
    a = getAddress(key); // throws for a malformed address; nothing is cached then
    if (checksummed.size > 1024) checksummed.clear();
    checksummed.set(key, a);
  }
  return a;
}

const chainIds = new WeakMap<object, Promise<bigint>>();

/**
 * The reader's chain id, asked once per reader object and cached (a failed ask is not cached).
 * @example await chainIdOf(provider) // 31337n
 */
export function chainIdOf(reader: ChainReader): Promise<bigint> {
  let p = chainIds.get(reader);
  if (!p) {
    p = reader.getNetwork().then((n) => BigInt(n.chainId));
    p.catch(() => chainIds.delete(reader));
    chainIds.set(reader, p);
  }
  return p;
}

/** A JSON-RPC request failed at the transport or returned an error object. */
export class RpcError extends TongbanError<{ url: string; method: string; code?: number; data?: unknown }> {
  override name = "RpcError" as const;
}

/**
 * A minimal JSON-RPC reader over node:http/https with a keep-alive agent: one HTTP request per call, no hidden
 * eth_chainId round trips, and far less CPU per request than fetch.
 */
class HttpChainReader implements BlockPinnedReader {
  #id = 1;
  readonly #target: URL;
  readonly #agent: HttpAgent | HttpsAgent;

  constructor(readonly url: string, readonly timeoutMs: number) {
    this.#target = new URL(url);
    if (this.#target.protocol !== "http:" && this.#target.protocol !== "https:") {
      throw new RpcError(`unsupported RPC URL scheme ${this.#target.protocol}`, { url, method: "" });
    }
    this.#agent = this.#target.protocol === "https:" ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  #post(method: string, payload: string): Promise<{ status: number; text: string }> {
    const send = this.#target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(this.#target, {
        method: "POST", agent: this.#agent, timeout: this.timeoutMs,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on("error", (e) => reject(new RpcError(`${method} to ${this.url} failed: ${e.message}`, { url: this.url, method }, { cause: e })));
      req.end(payload);
    });
  }

  async #request(method: string, params: unknown[]): Promise<unknown> {
    const { status, text } = await this.#post(method, JSON.stringify({ jsonrpc: "2.0", id: this.#id++, method, params }));
    let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (e) {
      throw new RpcError(`${method} to ${this.url}: HTTP ${status}, not JSON`, { url: this.url, method }, { cause: e });
    }
    if (body.error) {
      // shaped like an ethers error so decodeLedgerError can read revert data
      const err = new RpcError(`${method}: ${body.error.message}`, { url: this.url, method, code: body.error.code, data: body.error.data });
      (err as unknown as { data: unknown }).data = body.error.data;
      throw err;
    }
    return body.result;
  }

  async call(tx: { to: string; data: string }): Promise<string> {
    const r = await this.#request("eth_call", [{ to: tx.to, data: tx.data }, "latest"]);
    if (typeof r !== "string") throw new RpcError("eth_call returned a non-string", { url: this.url, method: "eth_call" });
    return r;
  }

  async latestBlockHash(): Promise<string> {
    const b = (await this.#request("eth_getBlockByNumber", ["latest", false])) as { hash?: unknown } | null;
    if (typeof b?.hash !== "string") throw new RpcError("eth_getBlockByNumber returned no block hash", { url: this.url, method: "eth_getBlockByNumber" });
    return b.hash;
  }

  async callAtBlock(tx: { to: string; data: string }, blockHash: string): Promise<string> {
    const r = await this.#request("eth_call", [{ to: tx.to, data: tx.data }, { blockHash }]);
    if (typeof r !== "string") throw new RpcError("eth_call returned a non-string", { url: this.url, method: "eth_call" });
    return r;
  }

  async getNetwork(): Promise<{ chainId: bigint }> {
    const r = await this.#request("eth_chainId", []);
    if (typeof r !== "string") throw new RpcError("eth_chainId returned a non-string", { url: this.url, method: "eth_chainId" });
    return { chainId: BigInt(r) };
  }
}

const readers = new Map<string, BlockPinnedReader>();

/**
 * A ChainReader for an http(s) JSON-RPC URL (one per URL, reused, so its chain id is asked once): node:http with
 * keep-alive, one HTTP request per eth_call, `timeoutMs` per request (default 10 s). It is a
 * {@link BlockPinnedReader} (for `coalescingChainReader`'s `reuseWithinBlock`).
 * @example const reader = chainReaderFromUrl("http://127.0.0.1:8545");
 */
export function chainReaderFromUrl(url: string, options: { timeoutMs?: number } = {}): BlockPinnedReader {
  const key = `${url} ${options.timeoutMs ?? 10_000}`;
  let r = readers.get(key);
  if (!r) {
    r = new HttpChainReader(url, options.timeoutMs ?? 10_000);
    readers.set(key, r);
  }
  return r;
}
