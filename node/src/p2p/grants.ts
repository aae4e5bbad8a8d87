/**
 * The custodian's grant gate: one `checkGrant` eth_call per request (IAuthorisations), mapped to an exchange
 * status, plus the uses the chain cannot know yet.
 *
 * USES LEFT. The chain counts uses only as of each custodian's last anchored head, so the gate subtracts
 * this node's SERVED records not yet anchored (from the use log) and the requests it is serving right now
 * (reserved before the record is written, released after) from `usesLeft`. It counts them for the grant and
 * for its parent and root (a child's use is also theirs); uses other custodians served since their last
 * anchor are invisible until they anchor (bounded by the anchoring interval; see IAuthorisations).
 *
 * CACHE. With `cacheMs` > 0 the verdict of an identical check (grant, requester, matter, type, leaf) is
 * reused for that long: a revocation, expiry or suspension then takes effect on this custodian up to
 * `cacheMs` late. Use counting stays exact locally (it is not cached). Default 0: every request asks the chain.
 */
import type { UseLog } from "../audit/use-log.js";
import type { AuthorisationsView, GrantCheck } from "./chain.js";
import { VERDICT_STATUS, type ExchangeStatusName } from "./messages.js";

const ZERO = "0x" + "0".repeat(64);

export interface GateResult {
  status: ExchangeStatusName;
  message?: string;
  check?: GrantCheck;
  /** release the reservation (call once the SERVED record is written, or on failure) */
  release?: () => void;
}

export class GrantGate {
  readonly #cache = new Map<string, { at: number; check: Promise<GrantCheck> }>();
  readonly #inflight = new Map<string, number>();
  readonly #cacheMs: number;
  /** eth_calls made (for benchmarks and metrics) */
  calls = 0;

  constructor(
    readonly components: { view: AuthorisationsView; useLog: UseLog },
    init: { cacheMs?: number } = {},
  ) {
    this.#cacheMs = init.cacheMs ?? 0;
  }

  async #check(grantId: string, requester: string, matter: string, typeCode: string, leaf: string): Promise<GrantCheck> {
    if (this.#cacheMs <= 0) {
      this.calls++;
      return this.components.view.checkGrant(grantId, requester, matter, typeCode, leaf, 0);
    }
    const key = `${grantId}|${requester}|${matter}|${typeCode}|${leaf}`.toLowerCase();
    const hit = this.#cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < this.#cacheMs) return hit.check;
    // cache the promise: concurrent misses share one eth_call
    this.calls++;
    const check = this.components.view.checkGrant(grantId, requester, matter, typeCode, leaf, 0);
    if (this.#cache.size > 100_000) this.#cache.clear();
    this.#cache.set(key, { at: now, check });
    check.catch(() => this.#cache.delete(key));
    return check;
  }

  /**
   * Judge a request for a material of `holderRef`; on OK a use is reserved until `release()`. The chain
   * judges type/leaf scope, matter, grantee, window, revocation and uses; the holder is checked here: a grant
   * scoped by TYPE covers that holder's materials only, and only the custodian knows the material's holder.
   */
  async admit(grantId: string, requester: string, matter: string, typeCode: string, leaf: string, holderRef: string): Promise<GateResult> {
    const check = await this.#check(grantId, requester, matter, typeCode, leaf);
    const status = VERDICT_STATUS[check.verdict] ?? "INTERNAL";
    if (status !== "OK") return { status, check, message: `checkGrant verdict ${check.verdict}` };
    const g = check.grant;
    if (g.holderRef !== holderRef.toLowerCase()) {
      return { status: "HOLDER_MISMATCH", check, message: "the grant is another holder's than the material's" };
    }
    const chain = [...new Set([grantId.toLowerCase(), g.parentId, g.rootId].filter((x) => x && x !== ZERO))];
    let pending = 0;
    for (const id of chain) pending += this.components.useLog.unanchoredUses(id) + (this.#inflight.get(id) ?? 0);
    if (g.usesLeft - pending <= 0) {
      return { status: "GRANT_EXHAUSTED", check, message: `uses left ${g.usesLeft} on chain, ${pending} served or in flight here since the last anchor` };
    }
    for (const id of chain) this.#inflight.set(id, (this.#inflight.get(id) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const id of chain) {
        const n = (this.#inflight.get(id) ?? 1) - 1;
        if (n > 0) this.#inflight.set(id, n);
        else this.#inflight.delete(id);
      }
    };
    return { status: "OK", check, release };
  }
}
