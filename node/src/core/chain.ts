/**
 * The node's view of, and writes to, the TongbanLedger over JSON-RPC.
 *
 *  - {@link RpcClient}: a minimal JSON-RPC client over several URLs with failover (a URL that fails at the
 *    network level is skipped until the others fail too); JSON-RPC error answers are not failed over.
 *  - {@link FailoverProvider}: an ethers provider over the same {@link RpcClient}, for the ethers-based senders
 *    (the ops account's SerialSigner, ops-signer.ts): the same failover as the anchorer, not a copy of it.
 *  - {@link LedgerClient}: typed views (entitlement, material state, anchor logs) and a transaction sender
 *    with its OWN nonce management and fee settings: the anchorer signs locally, records the signed
 *    transaction durably, then broadcasts it (so a crash between the two is recoverable). About 3 round trips
 *    per transaction (estimate, fee, send) plus receipt polling, instead of ethers' ~8.
 */
import {
  JsonRpcApiProvider,
  Transaction,
  Wallet,
  type FunctionFragment,
  type Interface,
  type JsonRpcError,
  type JsonRpcPayload,
  type JsonRpcResult,
  type Networkish,
  type TransactionLike,
} from "ethers";
import { contracts } from "@tongban/sdk";
import { UnavailableError, NodeError, ErrorCode } from "./errors.js";
import type { CoreMetrics } from "./metrics.js";
import { errInfo, type Logger } from "./log.js";
import { StickyFailover } from "./failover.js";

/**
 * The ledger's interface from the SDK's typechain factory (generated from the compiled contract: every
 * function, event and custom error, so any revert decodes by name). Typed as a plain `Interface`: the node
 * calls functions by name. Fragments are looked up once ({@link fnFragment}): by-name lookup scans all of them.
 */
export const ledgerInterface: Interface = contracts.TongbanLedger__factory.createInterface();
/** The ledger's full ABI (the typechain factory's), for `new Contract(address, LEDGER_ABI, runner)`. */
export const LEDGER_ABI = contracts.TongbanLedger__factory.abi;

const fragments = new Map<string, FunctionFragment>();
/** The function fragment of `fn`, cached. */
export function fnFragment(fn: string): FunctionFragment {
  let f = fragments.get(fn);
  if (!f) {
    f = ledgerInterface.getFunction(fn) ?? undefined;
    if (!f) throw new Error(`TongbanLedger has no function ${fn}`);
    fragments.set(fn, f);
  }
  return f;
}
const ANCHORED_TOPIC = ledgerInterface.getEvent("Anchored")!.topicHash;

/** The chain could not be reached on any RPC URL. */
export class ChainUnavailableError extends UnavailableError {
  override name = "ChainUnavailableError";
}

/** A JSON-RPC error answer (the endpoint is up). */
export class RpcError extends NodeError {
  override name = "RpcError";
  constructor(
    readonly method: string,
    readonly rpcCode: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(ErrorCode.INTERNAL, `${method}: ${message}`.slice(0, 500), { method, rpcCode });
    this.rpcMessage = message;
  }
  /** the endpoint's own error message (without the method prefix) */
  readonly rpcMessage: string;
}

/** A call or transaction reverted with a decoded ledger error (e.g. NotEntitled, RootAlreadyAnchored). */
export class LedgerRevertError extends NodeError {
  override name = "LedgerRevertError";
  constructor(
    readonly revert: string,
    readonly args: unknown[],
    message: string,
  ) {
    super(ErrorCode.CONFLICT, message, { revert, args: args.map(String) });
  }
}

export interface RpcOptions {
  timeoutMs?: number;
  metrics?: CoreMetrics;
  log?: Logger;
}

export class RpcClient {
  readonly urls: string[];
  readonly #failover: StickyFailover;
  #id = 0;
  #timeoutMs: number;
  #metrics?: CoreMetrics;
  #log?: Logger;
  /** whether the last call reached an endpoint */
  up = true;

  constructor(urls: string[], opts: RpcOptions = {}) {
    if (urls.length === 0) throw new UnavailableError("no RPC URL configured");
    this.urls = [...urls];
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#metrics = opts.metrics;
    this.#log = opts.log;
    this.#failover = new StickyFailover(this.urls.length, (from, to) => this.#log?.warn({ from: this.urls[from], to: this.urls[to] }, "rpc failover"));
  }

  get url(): string {
    return this.urls[this.#failover.current]!;
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const body = await this.#failover
      .run(
        (i) => this.#post<T>(this.urls[i]!, method, params),
        (e, i) => {
          this.#metrics?.rpcErrors.inc({ url: this.urls[i]! });
          this.#log?.debug({ url: this.urls[i], method, err: errInfo(e) }, "rpc endpoint failed");
          return true;
        },
        (last) => {
          this.up = false;
          return new ChainUnavailableError(`chain unreachable on ${this.urls.length} RPC URL(s) (${method})`, { method }, { cause: last });
        },
      );
    this.up = true;
    if (body.error) throw new RpcError(method, body.error.code, body.error.message, body.error.data);
    return body.result as T;
  }

  /** one JSON-RPC request to `url`; throws when the endpoint fails (network, HTTP 5xx/429, not JSON) */
  async #post<T>(url: string, method: string, params: unknown[]): Promise<{ result?: T; error?: { code: number; message: string; data?: unknown } }> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++this.#id, method, params }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } };
  }
}

const KNOWN_TX = /already known|known transaction|already imported/i;

/**
 * An ethers provider whose every JSON-RPC request goes through an {@link RpcClient}: the URLs of
 * `chain.rpcUrls` with the anchorer's failover (a URL failing at the network level is skipped until the others
 * fail too; JSON-RPC error answers are returned to ethers as they are, so reverts decode as usual). One request
 * per call (no JSON-RPC batches: an endpoint is chosen per request). A raw transaction that the endpoint answers
 * "already known" (sent before a failover, or a retry) resolves to its hash, as a first send would.
 * Build with {@link connectFailoverProvider} (reads the chain id once; the network is then static).
 */
export class FailoverProvider extends JsonRpcApiProvider {
  constructor(
    readonly rpc: RpcClient,
    network?: Networkish,
    opts: { pollingIntervalMs?: number } = {},
  ) {
    super(network, { staticNetwork: network !== undefined, batchMaxCount: 1, cacheTimeout: -1, polling: true, pollingInterval: opts.pollingIntervalMs ?? 100 });
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[]> {
    const list = Array.isArray(payload) ? payload : [payload];
    return Promise.all(
      list.map(async (p): Promise<JsonRpcResult | JsonRpcError> => {
        const params = (Array.isArray(p.params) ? p.params : p.params === undefined ? [] : [p.params]) as unknown[];
        try {
          return { id: p.id, result: await this.rpc.call(p.method, params) };
        } catch (e) {
          if (!(e instanceof RpcError)) throw e; // ChainUnavailableError: no endpoint answered
          if (p.method === "eth_sendRawTransaction" && KNOWN_TX.test(e.rpcMessage) && typeof params[0] === "string") {
            return { id: p.id, result: Transaction.from(params[0]).hash };
          }
          return { id: p.id, error: { code: e.rpcCode, message: e.rpcMessage, ...(e.data !== undefined ? { data: e.data } : {}) } };
        }
      }),
    );
  }
}

/** A {@link FailoverProvider} with its network fixed from one `eth_chainId` (through the failover). */
export async function connectFailoverProvider(rpc: RpcClient, opts: { pollingIntervalMs?: number } = {}): Promise<FailoverProvider> {
  let chainId: bigint;
  try {
    chainId = BigInt(await rpc.call<string>("eth_chainId"));
  } catch (e) {
    if (!(e instanceof ChainUnavailableError)) throw e;
    return new FailoverProvider(rpc, undefined, opts); // chain down at start: ethers detects the network per request
  }
  return new FailoverProvider(rpc, chainId, opts);
}

export interface MaterialStateView {
  anchored: boolean;
  anchoredBlock: number;
  anchoredAt: number;
  issuer: string;
  typeCode: string;
  jurisdiction: number;
  count: number;
  status: number;
  reason: number;
  supersededBy: string;
  supersedes: string;
}

export interface Receipt {
  status: number;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
}

export interface SignedTx {
  raw: string;
  hash: string;
  nonce: number;
}

/** Extract revert data from a JSON-RPC error's `data` (hardhat, geth and besu put it differently). */
function revertData(e: unknown): string | undefined {
  if (!(e instanceof RpcError)) return undefined;
  const d = e.data as unknown;
  if (typeof d === "string" && d.startsWith("0x")) return d;
  if (d && typeof d === "object") {
    const o = d as { data?: unknown; result?: unknown };
    if (typeof o.data === "string" && o.data.startsWith("0x")) return o.data;
    if (typeof o.result === "string" && o.result.startsWith("0x")) return o.result;
  }
  return undefined;
}

/** Decode a ledger revert from an RPC error, or undefined when it is not one. */
export function decodeRevert(e: unknown): LedgerRevertError | undefined {
  const data = revertData(e);
  if (!data || data === "0x") return undefined;
  try {
    const parsed = ledgerInterface.parseError(data);
    if (!parsed) return undefined;
    return new LedgerRevertError(parsed.name, [...parsed.args], `ledger reverted ${parsed.name}(${[...parsed.args].join(", ")})`);
  } catch {
    return undefined;
  }
}

export interface GasSettings {
  maxFeePerGasGwei?: number;
  maxPriorityFeePerGasGwei?: number;
  gasPriceGwei?: number;
}

const GWEI = 1_000_000_000n;

export class LedgerClient {
  readonly address: string;
  readonly wallet: Wallet;
  chainId = 0;
  #nonce: number | undefined;
  #fees: { at: number; maxFee: bigint; prio: bigint } | undefined;
  #gas: GasSettings;

  constructor(
    readonly rpc: RpcClient,
    address: string,
    wallet: Wallet,
    opts: { gas?: GasSettings } = {},
  ) {
    this.address = address.toLowerCase();
    this.wallet = wallet;
    this.#gas = opts.gas ?? {};
  }

  async init(): Promise<void> {
    this.chainId = Number(await this.rpc.call<string>("eth_chainId"));
  }

  async #view(fn: string, args: unknown[]): Promise<import("ethers").Result> {
    const f = fnFragment(fn);
    const data = ledgerInterface.encodeFunctionData(f, args);
    try {
      const out = await this.rpc.call<string>("eth_call", [{ to: this.address, data }, "latest"]);
      return ledgerInterface.decodeFunctionResult(f, out);
    } catch (e) {
      throw decodeRevert(e) ?? e;
    }
  }

  async isEntitled(memberId: string, typeCode: string, jurisdiction: number): Promise<boolean> {
    return Boolean((await this.#view("isEntitled", [memberId, typeCode, jurisdiction]))[0]);
  }
  async isMaterialType(typeCode: string): Promise<boolean> {
    return Boolean((await this.#view("isMaterialType", [typeCode]))[0]);
  }
  async memberOf(account: string): Promise<{ memberId: string; active: boolean }> {
    const r = await this.#view("memberOf", [account]);
    return { memberId: String(r[0]), active: Boolean(r[1]) };
  }
  async materialState(root: string, leaf: string, hashAlg: number): Promise<MaterialStateView> {
    const s = (await this.#view("materialState", [root, leaf, hashAlg]))[0];
    return {
      anchored: Boolean(s.anchored),
      anchoredBlock: Number(s.anchoredBlock),
      anchoredAt: Number(s.anchoredAt),
      issuer: String(s.issuer),
      typeCode: String(s.typeCode),
      jurisdiction: Number(s.jurisdiction),
      count: Number(s.count),
      status: Number(s.status),
      reason: Number(s.reason),
      supersededBy: String(s.supersededBy),
      supersedes: String(s.supersedes),
    };
  }

  /** The Anchored log of `root` (block and tx), searching from `fromBlock`. */
  async findAnchorLog(root: string, fromBlock = 0): Promise<{ blockNumber: number; blockHash: string; txHash: string } | undefined> {
    const topic = ANCHORED_TOPIC;
    const logs = await this.rpc.call<{ blockNumber: string; blockHash: string; transactionHash: string }[]>("eth_getLogs", [
      { address: this.address, topics: [topic, root], fromBlock: "0x" + fromBlock.toString(16), toBlock: "latest" },
    ]);
    if (!logs.length) return undefined;
    return { blockNumber: Number(logs[0]!.blockNumber), blockHash: logs[0]!.blockHash, txHash: logs[0]!.transactionHash };
  }

  async blockNumber(): Promise<number> {
    return Number(await this.rpc.call<string>("eth_blockNumber"));
  }

  /** Hash of block `n` on the endpoint's current chain, or undefined if it has no such block. */
  async blockHash(n: number): Promise<string | undefined> {
    const b = await this.rpc.call<{ hash: string } | null>("eth_getBlockByNumber", ["0x" + n.toString(16), false]);
    return b?.hash ?? undefined;
  }

  async receipt(txHash: string): Promise<Receipt | undefined> {
    const r = await this.rpc.call<{ status: string; blockNumber: string; blockHash: string; transactionHash: string } | null>("eth_getTransactionReceipt", [txHash]);
    if (!r) return undefined;
    return { status: Number(r.status), blockNumber: Number(r.blockNumber), blockHash: r.blockHash, transactionHash: r.transactionHash };
  }

  async #feeFields(): Promise<Partial<TransactionLike>> {
    const g = this.#gas;
    if (g.gasPriceGwei !== undefined) return { type: 0, gasPrice: BigInt(Math.round(g.gasPriceGwei * 1e9)) };
    if (g.maxFeePerGasGwei !== undefined) {
      return {
        type: 2,
        maxFeePerGas: BigInt(Math.round(g.maxFeePerGasGwei * 1e9)),
        maxPriorityFeePerGas: BigInt(Math.round((g.maxPriorityFeePerGasGwei ?? 0) * 1e9)),
      };
    }
    if (!this.#fees || Date.now() - this.#fees.at > 5000) {
      const block = await this.rpc.call<{ baseFeePerGas?: string }>("eth_getBlockByNumber", ["latest", false]);
      const base = block.baseFeePerGas ? BigInt(block.baseFeePerGas) : 0n;
      let prio = g.maxPriorityFeePerGasGwei !== undefined ? BigInt(Math.round(g.maxPriorityFeePerGasGwei * 1e9)) : GWEI;
      if (g.maxPriorityFeePerGasGwei === undefined) {
        try {
          prio = BigInt(await this.rpc.call<string>("eth_maxPriorityFeePerGas"));
        } catch (e) {
          if (e instanceof ChainUnavailableError) throw e;
        }
      }
      this.#fees = { at: Date.now(), maxFee: base * 2n + prio, prio };
    }
    return { type: 2, maxFeePerGas: this.#fees.maxFee, maxPriorityFeePerGas: this.#fees.prio };
  }

  /** Forget the local nonce; the next transaction reads it from the chain (pending). */
  resyncNonce(): void {
    this.#nonce = undefined;
  }

  /**
   * Estimate (reverts are decoded into {@link LedgerRevertError}), price and sign a ledger call with the next
   * local nonce. Nothing is broadcast: the caller persists the signed tx first, then calls {@link broadcast}.
   */
  async prepare(fn: string, args: unknown[]): Promise<SignedTx> {
    const data = ledgerInterface.encodeFunctionData(fnFragment(fn), args);
    let gas: bigint;
    try {
      gas = BigInt(await this.rpc.call<string>("eth_estimateGas", [{ from: this.wallet.address, to: this.address, data }]));
    } catch (e) {
      throw decodeRevert(e) ?? e;
    }
    if (this.#nonce === undefined) {
      this.#nonce = Number(await this.rpc.call<string>("eth_getTransactionCount", [this.wallet.address, "pending"]));
    }
    const fees = await this.#feeFields();
    const nonce = this.#nonce;
    const tx: TransactionLike = { ...fees, chainId: this.chainId, nonce, to: this.address, data, gasLimit: (gas * 13n) / 10n + 10_000n };
    const raw = await this.wallet.signTransaction(tx);
    this.#nonce = nonce + 1;
    return { raw, hash: Transaction.from(raw).hash!, nonce };
  }

  /**
   * Broadcast a signed tx. Returns "sent", or "known" if the node already has it; throws a decoded revert,
   * {@link ChainUnavailableError}, or an RpcError (nonce too low, underpriced...).
   */
  async broadcast(raw: string): Promise<"sent" | "known"> {
    try {
      await this.rpc.call<string>("eth_sendRawTransaction", [raw]);
      return "sent";
    } catch (e) {
      if (e instanceof RpcError && /already known|known transaction|already imported/i.test(e.message)) return "known";
      throw decodeRevert(e) ?? e;
    }
  }
}

/**
 * Whether an RPC error says the tx's nonce does not fit the account (already used, or a gap the node will not
 * queue, e.g. hardhat's automine "Nonce too high"): the sender resyncs its nonce and signs again.
 */
export function isNonceError(e: unknown): boolean {
  return e instanceof RpcError && /nonce too (low|high)|nonce has already been used|replacement transaction underpriced|nonce.*(lower|too small)|invalid nonce/i.test(e.message);
}
