import { StickyFailover } from "../core/failover.js";

/**
 * A minimal JSON-RPC sender over fetch with failover (core/failover.ts: the URLs in order, starting with the
 * last one that answered). The indexer needs only `send`, and this keeps it independent of ethers' provider caching.
 */
export class FailoverRpc {
  readonly #failover: StickyFailover;
  private id = 0;
  constructor(
    readonly urls: readonly string[],
    private readonly timeoutMs = 10_000,
  ) {
    if (urls.length === 0) throw new Error("FailoverRpc needs at least one URL");
    this.#failover = new StickyFailover(urls.length);
  }

  send(method: string, params: unknown[]): Promise<unknown> {
    return this.#failover.run(
      async (k) => {
        const res = await fetch(this.urls[k]!, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const j = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
        if (j.error) throw Object.assign(new Error(`${method}: ${j.error.message}`), { rpcCode: j.error.code, answered: true });
        return j.result;
      },
      // a node that answered with a JSON-RPC error is reachable: do not fail over for it
      (e) => !(e as { answered?: boolean }).answered,
      (last) => new Error(`${method}: no RPC endpoint reachable (${String((last as Error)?.message ?? last)})`),
    );
  }
}
