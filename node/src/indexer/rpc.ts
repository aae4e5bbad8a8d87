/**
 * A minimal JSON-RPC sender over fetch with failover: tries the configured URLs in order, starting with the
 * last one that worked. The indexer needs only `send`, and this keeps it independent of ethers' provider caching.
 */
export class FailoverRpc {
  private preferred = 0;
  private id = 0;
  constructor(
    readonly urls: readonly string[],
    private readonly timeoutMs = 10_000,
  ) {
    if (urls.length === 0) throw new Error("FailoverRpc needs at least one URL");
  }

  async send(method: string, params: unknown[]): Promise<unknown> {
    let last: unknown;
    for (let i = 0; i < this.urls.length; i++) {
      const k = (this.preferred + i) % this.urls.length;
      try {
        const res = await fetch(this.urls[k], {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const j = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
        if (j.error) throw Object.assign(new Error(`${method}: ${j.error.message}`), { rpcCode: j.error.code, answered: true });
        this.preferred = k;
        return j.result;
      } catch (e) {
        // a node that answered with a JSON-RPC error is reachable: do not fail over for it
        if ((e as { answered?: boolean }).answered) throw e;
        last = e;
      }
    }
    throw new Error(`${method}: no RPC endpoint reachable (${String((last as Error)?.message ?? last)})`);
  }
}
