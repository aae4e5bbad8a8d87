/**
 * A {@link ChainRpc} over every `chain.rpcUrls` URL with the same failover as the core's RpcClient /
 * FailoverProvider (core/failover.ts StickyFailover): calls go to the current URL; a URL that fails at the network level
 * (unreachable, deadline, an answer that is not JSON-RPC) is skipped for the next one, which becomes current
 * ("sticky") until it fails in turn; a JSON-RPC error answer (a revert, a refused batch) is the chain's answer
 * and is returned as it is, never retried elsewhere. When every URL fails, the last ChainCallError
 * (UNREACHABLE / BAD_RESPONSE) is raised, so the exchange answers UNAVAILABLE as before.
 *
 * Each URL keeps its own ChainRpc (its own event-loop-turn batching): the calls of a batch that failed on one
 * URL are retried together on the next one.
 */
import { StickyFailover } from "../core/failover.js";
import { ChainCallError, ChainRpc } from "./chain.js";

export interface FailoverChainRpcOptions {
  timeoutMs?: number;
  maxBatch?: number;
  /** told once per switch of URL */
  log?: { warn(obj: Record<string, unknown>, msg: string): void };
  /** counts calls that failed on one URL (label `url`), like the core's rpcErrors */
  onUrlError?: (url: string) => void;
}

export class FailoverChainRpc extends ChainRpc {
  readonly urls: readonly string[];
  readonly #rpcs: ChainRpc[];
  readonly #failover: StickyFailover;
  readonly #opts: FailoverChainRpcOptions;

  constructor(urls: readonly string[], opts: FailoverChainRpcOptions = {}) {
    if (urls.length === 0) throw new ChainCallError("no RPC URL configured", "UNREACHABLE");
    super(urls[0]!, opts.timeoutMs ?? 5000, { maxBatch: opts.maxBatch });
    this.urls = [...urls];
    this.#rpcs = this.urls.map((u) => new ChainRpc(u, opts.timeoutMs ?? 5000, { maxBatch: opts.maxBatch }));
    this.#opts = opts;
    this.#failover = new StickyFailover(this.urls.length, (from, to, method) =>
      this.#opts.log?.warn({ from: this.urls[from], to: this.urls[to], method }, "p2p chain rpc failover"),
    );
  }

  /** the URL calls go to now */
  get currentUrl(): string {
    return this.urls[this.#failover.current]!;
  }

  #each<T>(what: string, fn: (rpc: ChainRpc) => Promise<T>): Promise<T> {
    return this.#failover.run(
      (i) => fn(this.#rpcs[i]!),
      (e, i) => {
        // the chain's own answer (RPC_ERROR) is final; anything else is this URL failing
        if (!(e instanceof ChainCallError) || e.reason === "RPC_ERROR") return false;
        this.#opts.onUrlError?.(this.urls[i]!);
        return true;
      },
      (last) => new ChainCallError(`${what}: chain unreachable on ${this.urls.length} RPC URL(s)`, last instanceof ChainCallError ? last.reason : "UNREACHABLE", { cause: last }),
      what,
    );
  }

  override request<T>(method: string, params: unknown[]): Promise<T> {
    return this.#each(method, (r) => r.request<T>(method, params));
  }

  override call(to: string, data: string): Promise<string> {
    return this.#each("eth_call", (r) => r.call(to, data));
  }

  override callAtBlock(to: string, data: string, blockHash: string): Promise<string> {
    return this.#each("eth_call", (r) => r.callAtBlock(to, data, blockHash));
  }

  override latestBlockHash(): Promise<string> {
    return this.#each("eth_getBlockByNumber", (r) => r.latestBlockHash());
  }

  override chainId(): Promise<number> {
    return this.#each("eth_chainId", (r) => r.chainId());
  }
}
