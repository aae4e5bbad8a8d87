/**
 * The custodian's grant gate: one `checkGrant` eth_call per request (IAuthorisations), mapped to an exchange
 * status, plus the uses the chain cannot know yet. It runs BEFORE the custodian says anything about what it
 * holds (see {@link GrantGate.admit}): a member without a valid grant covering a material cannot tell held
 * from not-held materials.
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
   * Judge a request for `leaf` under a grant, BEFORE anything about this node's holdings is revealed. `held`
   * is the material's type and holder if this node holds it (its bundle), undefined if not: the answer to a
   * requester whose grant does not cover the material is the same either way.
   *
   * Order: the grant itself (one checkGrant: unknown, not yet valid, expired, revoked, ancestor revoked,
   * exhausted on chain, grantee inactive, wrong grantee, wrong matter: none of these depend on the material)
   * -> uses left after this node's unanchored and in-flight uses (GRANT_EXHAUSTED; the grant's own state)
   * -> coverage: the material is held, the chain allows its (type, leaf) and the grant's holder is the
   * material's. Not covered: NOT_FOUND if the grant lists `leaf` itself (the grantee may learn that this
   * node does not serve that leaf to it: not held here, or not that holder's), else OUT_OF_SCOPE, with the
   * same message whether the material is held or not. A type-scoped grant covers the holder's own materials
   * only, and only the custodian knows a material's holder, so that check is here, not on chain.
   * On OK a use is reserved until `release()`.
   */
  async admit(grantId: string, requester: string, matter: string, leaf: string, held: { typeCode: string; holderRef: string } | undefined): Promise<GateResult> {
    leaf = leaf.toLowerCase();
    const check = await this.#check(grantId, requester, matter, held ? held.typeCode : ZERO, leaf);
    const verdict = VERDICT_STATUS[check.verdict] ?? "INTERNAL";
    if (verdict !== "OK" && verdict !== "OUT_OF_SCOPE") return { status: verdict, check, message: `checkGrant verdict ${check.verdict}` };
    const g = check.grant;
    const chain = [...new Set([grantId.toLowerCase(), g.parentId, g.rootId].filter((x) => x && x !== ZERO))];
    let pending = 0;
    for (const id of chain) pending += this.components.useLog.unanchoredUses(id) + (this.#inflight.get(id) ?? 0);
    if (g.usesLeft - pending <= 0) {
      return { status: "GRANT_EXHAUSTED", check, message: `uses left ${g.usesLeft} on chain, ${pending} served or in flight here since the last anchor` };
    }
    const covered = held !== undefined && verdict === "OK" && g.holderRef === held.holderRef.toLowerCase();
    if (!covered) {
      return g.leaves.includes(leaf)
        ? { status: "NOT_FOUND", check, message: `material ${leaf} is not available from this node under grant ${grantId}` }
        : { status: "OUT_OF_SCOPE", check, message: `material ${leaf} is not within the scope of grant ${grantId} at this node` };
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
