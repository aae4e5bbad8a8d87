/**
 * The endpoint failover policy of every JSON-RPC client of the node (the core's RpcClient, the indexer's
 * FailoverRpc, the p2p FailoverChainRpc): a call goes to the current endpoint first, then to the others in
 * order. An endpoint that fails at the network level (unreachable, deadline, an answer that is not JSON-RPC) is
 * skipped; the first endpoint that answers becomes current ("sticky") until it fails in turn, also when its
 * answer is a JSON-RPC error (a reachable node; the error is the chain's answer and is thrown as it is, never
 * retried elsewhere). When every endpoint failed, `exhausted(lastError)` is thrown.
 */
export class StickyFailover {
  #current = 0;

  constructor(
    readonly size: number,
    private readonly onSwitch?: (from: number, to: number, label: string | undefined) => void,
  ) {
    if (size < 1) throw new Error("failover needs at least one endpoint");
  }

  /** the endpoint calls go to first */
  get current(): number {
    return this.#current;
  }

  /**
   * `attempt(i)` calls endpoint i; `failed(e, i)` says whether its error means endpoint i failed (true: try the
   * next one) or is the endpoint's answer (false: thrown as it is). `label` (e.g. the method) is handed to
   * `onSwitch`.
   */
  async run<T>(
    attempt: (i: number) => Promise<T>,
    failed: (e: unknown, i: number) => boolean,
    exhausted: (last: unknown) => Error,
    label?: string,
  ): Promise<T> {
    const start = this.#current;
    let last: unknown;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.size;
      try {
        const v = await attempt(i);
        this.#answered(i, label);
        return v;
      } catch (e) {
        if (!failed(e, i)) {
          this.#answered(i, label);
          throw e;
        }
        last = e;
      }
    }
    throw exhausted(last);
  }

  #answered(i: number, label: string | undefined): void {
    if (i === this.#current) return;
    this.onSwitch?.(this.#current, i, label);
    this.#current = i;
  }
}
