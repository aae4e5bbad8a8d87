/**
 * The consortium as the p2p layer sees it: which peer ids and signing accounts belong to which member, and
 * whether that member is ACTIVE. Refreshed from `getMembers()` (one eth_call) every `refreshMs`, and on
 * demand (rate limited) when an unknown peer or account shows up, so a newly registered peer is admitted
 * within one refresh and a suspended member's peers are refused (and hung up) within one refresh.
 */
import { EventEmitter } from "node:events";
import type { Startable } from "../core/service.js";
import type { Logger } from "../core/log.js";
import { MemberStatus, type ConsortiumView, type MemberInfo } from "./chain.js";

export interface MemberDirectoryInit {
  /** refresh interval, ms (default 2,000) */
  refreshMs?: number;
  /** at most one on-demand refresh per this many ms (default 500) */
  minRefreshGapMs?: number;
}

export class MemberDirectory implements Startable {
  #byPeer = new Map<string, MemberInfo>();
  #byAccount = new Map<string, MemberInfo>();
  #byId = new Map<string, MemberInfo>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #lastRefresh = 0;
  readonly #refreshMs: number;
  readonly #gap: number;
  readonly events = new EventEmitter();

  constructor(
    readonly components: { consortium: ConsortiumView; logger?: Logger },
    init: MemberDirectoryInit = {},
  ) {
    this.#refreshMs = init.refreshMs ?? 2000;
    this.#gap = init.minRefreshGapMs ?? 500;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), this.#refreshMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing?.catch(() => undefined);
  }

  /** Reload every member (coalesced with a refresh in progress). */
  refresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    this.#refreshing = (async () => {
      try {
        const members = await this.components.consortium.getMembers();
        const byPeer = new Map<string, MemberInfo>();
        const byAccount = new Map<string, MemberInfo>();
        const byId = new Map<string, MemberInfo>();
        for (const m of members) {
          byId.set(m.id, m);
          for (const p of m.peerIds) byPeer.set(p, m);
          for (const a of m.accounts) byAccount.set(a, m);
        }
        const revoked = [...this.#byPeer.entries()].filter(([p, m]) => m.status === MemberStatus.Active && byPeer.get(p)?.status !== MemberStatus.Active).map(([p]) => p);
        this.#byPeer = byPeer;
        this.#byAccount = byAccount;
        this.#byId = byId;
        this.#lastRefresh = Date.now();
        if (revoked.length) this.events.emit("peers-revoked", revoked);
      } catch (e) {
        this.components.logger?.warn({ err: String((e as Error)?.message ?? e).slice(0, 200) }, "member refresh failed; keeping the last view");
        throw e;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Refresh if the last one is older than the minimum gap (for unknown peers/accounts). */
  async refreshSoon(): Promise<void> {
    if (Date.now() - this.#lastRefresh < this.#gap) return;
    await this.refresh().catch(() => undefined);
  }

  member(memberId: string): MemberInfo | undefined {
    return this.#byId.get(memberId.toLowerCase());
  }
  byPeer(peerId: string): MemberInfo | undefined {
    return this.#byPeer.get(peerId);
  }
  byAccount(account: string): MemberInfo | undefined {
    return this.#byAccount.get(account.toLowerCase());
  }
  /** The peer is registered on chain for an ACTIVE member. */
  isActivePeer(peerId: string): boolean {
    return this.#byPeer.get(peerId)?.status === MemberStatus.Active;
  }
  get members(): MemberInfo[] {
    return [...this.#byId.values()];
  }
}
