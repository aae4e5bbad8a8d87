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
 * The chain's `usesLeft` counts this node's uses up to ITS LAST ANCHORED HEAD and the use log's unanchored
 * count those after it: an answer is only combined with the unanchored count of the same epoch (the head
 * anchored when the call was made); a head anchored while the call was in flight makes the gate ask again.
 *
 * CACHE. With `cacheMs` > 0 the answer of an identical check (grant, requester, matter, type, leaf) is
 * reused for at most `cacheMs`, never past the grant's notAfter (local clock) and never across an anchor of
 * this node's use log (the epoch above); at most `cacheEntries` answers (oldest dropped). What it means: a
 * revocation (of the grant or an ancestor), a not-yet-valid grant becoming valid, or the grantee's
 * suspension takes effect on this custodian up to `cacheMs` late. It does NOT loosen use counting: this
 * node's own uses are always subtracted exactly (unanchored + in flight, not cached), and uses served by
 * other custodians are invisible until they anchor with or without the cache. Default 0: every request asks
 * the chain.
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
  readonly #cache = new Map<string, { at: number; epoch: unknown; check: Promise<GrantCheck>; until: number }>();
  readonly #cacheMax: number;
  readonly #inflight = new Map<string, number>();
  readonly #cacheMs: number;
  /** eth_calls made (for benchmarks and metrics) */
  calls = 0;

  constructor(
    readonly components: { view: AuthorisationsView; useLog: UseLog },
    init: { cacheMs?: number; cacheEntries?: number } = {},
  ) {
    this.#cacheMs = init.cacheMs ?? 0;
    this.#cacheMax = init.cacheEntries ?? 100_000;
  }

  /**
   * The chain's answer, and the use-log head this node had anchored when it was asked (the epoch): `usesLeft`
   * counts this node's uses up to that head, the use log's unanchored count those after it, so the two may
   * only be combined within one epoch (see {@link admit}).
   */
  #check(grantId: string, requester: string, matter: string, typeCode: string, leaf: string): { epoch: unknown; check: Promise<GrantCheck> } {
    const epoch = this.components.useLog.lastAnchoredHead;
    if (this.#cacheMs <= 0) {
      this.calls++;
      return { epoch, check: this.components.view.checkGrant(grantId, requester, matter, typeCode, leaf, 0) };
    }
    const key = `${grantId}|${requester}|${matter}|${typeCode}|${leaf}`.toLowerCase();
    const hit = this.#cache.get(key);
    const now = Date.now();
    // reused within cacheMs, within the same anchoring epoch, and never past the grant's notAfter
    if (hit && now - hit.at < this.#cacheMs && hit.epoch === epoch && now < hit.until) return { epoch, check: hit.check };
    // cache the promise: concurrent misses share one eth_call
    this.calls++;
    const check = this.components.view.checkGrant(grantId, requester, matter, typeCode, leaf, 0);
    if (this.#cache.size >= this.#cacheMax) this.#cache.delete(this.#cache.keys().next().value!);
    const entry = { at: now, epoch, check, until: Infinity };
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    check.then(
      (c) => (entry.until = c.grant.notAfter > 0 ? (c.grant.notAfter + 1) * 1000 : Infinity),
      () => this.#cache.get(key) === entry && this.#cache.delete(key),
    );
    return { epoch, check };
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
    for (let attempt = 0; ; attempt++) {
      const asked = this.#check(grantId, requester, matter, held ? held.typeCode : ZERO, leaf);
      const check = await asked.check;
      // this node anchored a head while the answer was in flight: its usesLeft may not count the uses that
      // just left the unanchored count; ask again (3 times, then refuse rather than risk over-use)
      if (this.components.useLog.lastAnchoredHead !== asked.epoch) {
        if (attempt < 3) continue;
        return { status: "UNAVAILABLE", message: "the use-log head moved during every grant check; retry" };
      }
      return this.#judge(grantId, leaf, held, check);
    }
  }

  #judge(grantId: string, leaf: string, held: { typeCode: string; holderRef: string } | undefined, check: GrantCheck): GateResult {
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
