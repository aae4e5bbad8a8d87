/**
 * The chain views and writes the p2p layer and the use log need: consortium members (peer ids, multiaddrs,
 * accounts, status), the authorisations contract's `checkGrant` and use-log heads, and the two writes
 * (`setPeers` on the ledger, `anchorUseLog` on the authorisations contract).
 *
 * Views are single `eth_call`s over a minimal JSON-RPC client (fetch, deadline per call). Writes go through
 * an ethers Wallet with a NonceManager: they happen every few seconds at most (a head anchor, a peer update),
 * never per exchange.
 */
import { JsonRpcProvider, NonceManager, Wallet, type Signer, type TransactionReceipt } from "ethers";
import { contracts, Coalescer, batchOrSingly, reuseWithinBlock, type CoalescerOptions } from "@tongban/sdk";
import type { GrantUses, HeadAnchorSink } from "../audit/use-log.js";
import { decodeCheckGrant, decodeCheckGrants, encodeCheckGrant } from "./grant-codec.js";

/**
 * The contracts' ABIs come from the typechain interfaces the SDK builds from the compiled contracts (one
 * source of truth: a changed contract changes these, and a removed function fails to type-check here).
 * The consortium functions (getMembers, memberOf, setPeers) are the ledger's (TongbanLedger is a Consortium).
 */
export const consortiumInterface: ReturnType<typeof contracts.TongbanLedger__factory.createInterface> = contracts.TongbanLedger__factory.createInterface();
export const authorisationsInterface: ReturnType<typeof contracts.Authorisations__factory.createInterface> = contracts.Authorisations__factory.createInterface();

const CHECK_GRANT_SELECTOR = authorisationsInterface.getFunction("checkGrant").selector;
const CHECK_GRANTS_SELECTOR = authorisationsInterface.getFunction("checkGrants").selector;
const WORD = (n: number) => n.toString(16).padStart(64, "0");

export class ChainCallError extends Error {
  override name = "ChainCallError";
  constructor(
    message: string,
    readonly reason: "UNREACHABLE" | "RPC_ERROR" | "BAD_RESPONSE",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A minimal eth_call client. `eth_call`s issued during one event-loop turn go out as ONE JSON-RPC batch
 * (at most `maxBatch` calls; each still executed by the node at "latest", each answered or failed on its
 * own): with many exchanges in flight this removes most of the HTTP cost per call. `maxBatch: 1` = one HTTP
 * request per call.
 */
export class ChainRpc {
  #id = 0;
  #chainId: number | undefined;
  #queue: { id: number; method: string; params: unknown[]; resolve: (v: string) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  readonly maxBatch: number;
  constructor(
    readonly url: string,
    readonly timeoutMs = 5000,
    opts: { maxBatch?: number } = {},
  ) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 100);
  }

  async #post(method: string, body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new ChainCallError(`${method}: chain unreachable`, "UNREACHABLE", { cause: e });
    }
    const out = (await res.json().catch(() => undefined)) as unknown;
    if (out === undefined || out === null) throw new ChainCallError(`${method}: bad response (HTTP ${res.status})`, "BAD_RESPONSE");
    return out;
  }

  async request<T>(method: string, params: unknown[]): Promise<T> {
    const body = (await this.#post(method, { jsonrpc: "2.0", id: ++this.#id, method, params })) as { result?: T; error?: { message: string } };
    if (body.error) throw new ChainCallError(`${method}: ${body.error.message}`.slice(0, 300), "RPC_ERROR");
    return body.result as T;
  }

  call(to: string, data: string): Promise<string> {
    return this.#queued("eth_call", [{ to, data }, "latest"]);
  }

  /** eth_call at exactly the block with that hash (EIP-1898 `{ blockHash }`); batched like {@link call} */
  callAtBlock(to: string, data: string, blockHash: string): Promise<string> {
    return this.#queued("eth_call", [{ to, data }, { blockHash }]);
  }

  /** the latest block's hash (eth_getBlockByNumber: a header read, no EVM execution); batched like {@link call} */
  async latestBlockHash(): Promise<string> {
    const b = (await this.#queued("eth_getBlockByNumber", ["latest", false])) as unknown as { hash?: unknown } | null;
    if (typeof b?.hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(b.hash)) throw new ChainCallError("eth_getBlockByNumber: no block hash in the answer", "BAD_RESPONSE");
    return b.hash.toLowerCase();
  }

  /** the calls of one event-loop turn go out as one JSON-RPC batch (see the class) */
  #queued(method: string, params: unknown[]): Promise<string> {
    if (this.maxBatch <= 1) return this.request<string>(method, params);
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: ++this.#id, method, params, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, this.maxBatch);
      if (batch.length === 1) {
        const c = batch[0]!;
        this.request<string>(c.method, c.params).then(c.resolve, c.reject);
        continue;
      }
      const body = batch.map((c) => ({ jsonrpc: "2.0", id: c.id, method: c.method, params: c.params }));
      this.#post("eth_call", body).then(
        (out) => {
          const byId = new Map<number, { result?: string; error?: { message: string } }>();
          if (Array.isArray(out)) for (const r of out as { id: number; result?: string; error?: { message: string } }[]) byId.set(Number(r?.id), r);
          else if ((out as { error?: { message: string } }).error) {
            // the node refused the batch as a whole (e.g. batches disabled or too large)
            const m = (out as { error: { message: string } }).error.message;
            for (const c of batch) c.reject(new ChainCallError(`${c.method}: ${m}`.slice(0, 300), "RPC_ERROR"));
            return;
          }
          for (const c of batch) {
            const r = byId.get(c.id);
            if (!r) c.reject(new ChainCallError(`${c.method}: no answer in the batch response`, "BAD_RESPONSE"));
            else if (r.error) c.reject(new ChainCallError(`${c.method}: ${r.error.message}`.slice(0, 300), "RPC_ERROR"));
            else c.resolve(r.result as string);
          }
        },
        (e) => {
          for (const c of batch) c.reject(e);
        },
      );
    }
  }

  async chainId(): Promise<number> {
    if (this.#chainId === undefined) this.#chainId = Number(await this.request<string>("eth_chainId", []));
    return this.#chainId;
  }
}

export const MemberStatus = { None: 0, Active: 1, Suspended: 2 } as const;

export interface MemberInfo {
  id: string;
  jurisdiction: number;
  status: number;
  accounts: string[];
  peerIds: string[];
  multiaddrs: string[];
}

export class ConsortiumView {
  constructor(
    readonly rpc: ChainRpc,
    readonly ledger: string,
  ) {}

  async getMembers(): Promise<MemberInfo[]> {
    const out = await this.rpc.call(this.ledger, consortiumInterface.encodeFunctionData("getMembers"));
    const [members] = consortiumInterface.decodeFunctionResult("getMembers", out);
    return (members as unknown as { id: string; jurisdiction: bigint; status: bigint; accounts: string[]; peerIds: string[]; multiaddrs: string[] }[]).map((m) => ({
      id: m.id.toLowerCase(),
      jurisdiction: Number(m.jurisdiction),
      status: Number(m.status),
      accounts: [...m.accounts].map((a) => a.toLowerCase()),
      peerIds: [...m.peerIds],
      multiaddrs: [...m.multiaddrs],
    }));
  }

  async memberOf(account: string): Promise<{ memberId: string; active: boolean }> {
    const out = await this.rpc.call(this.ledger, consortiumInterface.encodeFunctionData("memberOf", [account]));
    const r = consortiumInterface.decodeFunctionResult("memberOf", out);
    return { memberId: String(r[0]).toLowerCase(), active: Boolean(r[1]) };
  }
}

/** What the custodian needs of a grant to serve (IAuthorisations.GrantView, trimmed). */
export interface GrantInfo {
  grantId: string;
  status: number;
  parentId: string;
  rootId: string;
  grantee: string;
  holderRef: string;
  /** the grant's scope: material types (any of the holder's materials of that type) and listed leaves */
  typeCodes: string[];
  leaves: string[];
  /** validity window, unix seconds (inclusive) */
  notBefore: number;
  notAfter: number;
  maxUses: number;
  used: number;
  usesLeft: number;
}

export interface GrantCheck {
  /** IAuthorisations.UseVerdict */
  verdict: number;
  grant: GrantInfo;
}

const ZERO_WORDS_2 = "0".repeat(128);
const VERDICT_ALLOWED = 1;
const VERDICT_OUT_OF_SCOPE = 10;

/**
 * The last step of `Authorisations._checkGrant` applied to a grant-level answer (asked with a zero type code and
 * leaf): a grant that passed every earlier check (the chain answered OutOfScope, or Allowed) is Allowed for
 * (typeCode, leaf) iff the type code is in its typeCodes or the leaf in its leaves; any other verdict stands. A
 * new object per caller: the answer is shared by every check of its batch.
 */
export function scoped(answer: GrantCheck, typeCode: string, leaf: string): GrantCheck {
  if (answer.verdict !== VERDICT_OUT_OF_SCOPE && answer.verdict !== VERDICT_ALLOWED) return { verdict: answer.verdict, grant: answer.grant };
  const t = typeCode.toLowerCase();
  const l = leaf.toLowerCase();
  const inScope = answer.grant.typeCodes.includes(t) || answer.grant.leaves.includes(l);
  return { verdict: inScope ? VERDICT_ALLOWED : VERDICT_OUT_OF_SCOPE, grant: answer.grant };
}

/**
 * Coalesced chain batches a member node keeps out at once per side (run.ts default; main.ts may pass
 * `coalesce: { maxInFlight: CHAIN_BATCHES_IN_FLIGHT }`). With 1, a read arriving while a batch is out waits for
 * that round trip before its own leaves; the exchange's throughput at a fixed number of fetches in flight is
 * then bound by the chain's round trips, not by CPU (node/src/p2p/README.md, "Requester and custodian CPU").
 */
export const CHAIN_BATCHES_IN_FLIGHT = 4;

export class AuthorisationsView {
  readonly #grants: Coalescer<string, GrantCheck> | undefined;
  readonly #block = { blocks: 0, reused: 0 };

  /**
   * `coalesce` (default on): concurrent `checkGrant`s are coalesced (SDK `Coalescer`, no timer): a check that
   * finds none in flight is sent alone as `checkGrant`; while one is out, the next ones queue and leave as ONE
   * `checkGrants` eth_call (one EVM execution) when it returns; identical checks in one batch are asked once.
   * Each is still asked after its request arrived. A batch the chain node refuses (an RPC error, e.g. a contract
   * without checkGrants) is retried check by check, each with its own outcome (checks then go singly for 60 s if
   * they all succeeded); a batch that cannot reach the chain or does not decode fails every check in it
   * (ChainCallError: the custodian answers UNAVAILABLE). `false`: one eth_call per check, at "latest".
   *
   * `reuseWithinBlock` (default on with coalescing, when `rpc` reads blocks: ChainRpc does): each batch reads the
   * latest block's hash first, answers a check already asked AT THAT BLOCK from memory (SDK `reuseWithinBlock`)
   * and asks the others pinned to that block (EIP-1898): what "latest" answers at that moment, since a block's
   * state never changes; a new block empties the memory. The gate's epoch rule (grants.ts) is unaffected: the
   * block is read after the check was asked, so it holds every anchor this node knew of then.
   */
  constructor(
    readonly rpc: ChainRpc,
    readonly address: string,
    opts: { coalesce?: boolean | CoalescerOptions; reuseWithinBlock?: boolean } = {},
  ) {
    const c = opts.coalesce ?? true;
    // identical checks of one batch (same grant, requester, matter, type, leaf, at) are asked once
    if (c !== false) {
      const pinned = typeof rpc.latestBlockHash === "function" && typeof rpc.callAtBlock === "function";
      const atBlock = batchOrSingly<{ args: string; block: string | undefined }, GrantCheck, string>({
        one: (q) => this.#checkOne(q.args, q.block),
        // checkGrants(GrantQuery[]): a GrantQuery is static, its six words are checkGrant's arguments
        sendMany: (qs) => this.#ask(CHECK_GRANTS_SELECTOR + WORD(32) + WORD(qs.length) + qs.map((q) => q.args).join(""), qs[0]!.block),
        decodeMany: (out, count) => {
          try {
            return decodeCheckGrants(out, count);
          } catch (e) {
            throw new ChainCallError(`checkGrants (${count} checks) answered with data that does not decode: ${(e as Error).message}`, "BAD_RESPONSE", { cause: e });
          }
        },
        // the chain node answered with an error (e.g. a contract deployed without checkGrants: a revert);
        // unreachable fails the whole batch
        refused: (e) => e instanceof ChainCallError && e.reason === "RPC_ERROR",
      });
      const run =
        (opts.reuseWithinBlock ?? true) && pinned
          ? reuseWithinBlock<string, GrantCheck>({
              latestBlock: () => this.rpc.latestBlockHash(),
              runAt: (qs, block) => atBlock(qs.map((args) => ({ args, block }))),
              key: (args) => args,
              stats: this.#block,
            })
          : (qs: string[]) => atBlock(qs.map((args) => ({ args, block: undefined })));
      this.#grants = new Coalescer(run, { ...(c === true ? {} : c), key: (args) => args });
    }
  }

  /** checkGrant batches sent, checks carried, distinct checks asked, largest batch; latest-block reads and checks answered from the same block's earlier answer (metrics, benchmarks); undefined without coalescing */
  get coalesced(): { batches: number; queries: number; asked: number; largest: number; blocks: number; reused: number } | undefined {
    return this.#grants ? { ...this.#grants.stats, ...this.#block } : undefined;
  }

  /** an eth_call of the authorisations contract at "latest", or at the block with that hash */
  #ask(data: string, block: string | undefined): Promise<string> {
    return block === undefined ? this.rpc.call(this.address, data) : this.rpc.callAtBlock(this.address, data, block);
  }

  /**
   * May `requester` obtain (typeCode, leaf) for `matter` under `grantId` at `at` (0 = now)? One eth_call, or a
   * share of one `checkGrants` call under load (see the constructor).
   *
   * The chain is asked about the GRANT (`checkGrant(grantId, requester, matter, 0, 0, at)`), and the scope step
   * is applied here to its answer, exactly as `Authorisations._checkGrant` does last: every verdict before the
   * scope (unknown, window, revoked, ancestor revoked, exhausted, grantee inactive, wrong grantee, wrong matter)
   * depends on the grant, requester, matter and time only, and the scope verdict is "typeCode in the grant's
   * typeCodes or leaf in its leaves", both lists being part of the answer (decoded whole). A zero type code or
   * leaf is never in a grant's scope (IAuthorisations: no zero item), so the chain answers OutOfScope to a query
   * that passes every earlier check. What this buys: the checks of one batch for many materials under the same
   * grant are ONE query (the Coalescer asks identical queries once), instead of one EVM execution per material.
   */
  async checkGrant(grantId: string, requester: string, matter: string, typeCode: string, leaf: string, at = 0): Promise<GrantCheck> {
    // fixed-layout codec (grant-codec.ts): ethers' Interface rebuilt its coders on every call, ~1 ms of CPU each.
    // Encoded here, per check: a malformed argument (typeCode and leaf included) fails its own check only,
    // never a batch it would join.
    const full = encodeCheckGrant("", grantId, requester, matter, typeCode, leaf, at);
    const args = full.slice(0, 3 * 64) + ZERO_WORDS_2 + full.slice(5 * 64);
    const answer = this.#grants ? await this.#grants.load(args) : await this.#checkOne(args);
    return scoped(answer, "0x" + full.slice(3 * 64, 4 * 64), "0x" + full.slice(4 * 64, 5 * 64));
  }

  async #checkOne(args: string, block?: string): Promise<GrantCheck> {
    const out = await this.#ask(CHECK_GRANT_SELECTOR + args, block);
    try {
      return decodeCheckGrant(out);
    } catch (e) {
      throw new ChainCallError(`checkGrant answered with data that does not decode: ${(e as Error).message}`, "BAD_RESPONSE", { cause: e });
    }
  }

  async useLogHeads(custodian: string): Promise<{ treeSize: number; rootHash: string; anchoredBlock: number; anchoredAt: number }[]> {
    const n = Number(
      authorisationsInterface.decodeFunctionResult(
        "useLogHeadCount",
        await this.rpc.call(this.address, authorisationsInterface.encodeFunctionData("useLogHeadCount", [custodian])),
      )[0],
    );
    const out = [];
    for (let i = 0; i < n; i++) {
      const raw = await this.rpc.call(this.address, authorisationsInterface.encodeFunctionData("useLogHead", [custodian, i]));
      const h = authorisationsInterface.decodeFunctionResult("useLogHead", raw)[0] as unknown as { treeSize: bigint; rootHash: string; anchoredBlock: bigint; anchoredAt: bigint };
      out.push({ treeSize: Number(h.treeSize), rootHash: h.rootHash.toLowerCase(), anchoredBlock: Number(h.anchoredBlock), anchoredAt: Number(h.anchoredAt) });
    }
    return out;
  }

  /** Every anchor of `custodian` with the uses per grant it declared (UseLogAnchored logs). */
  async useLogAnchors(custodian: string, fromBlock = 0): Promise<{ treeSize: number; rootHash: string; uses: { grantId: string; count: number }[]; blockNumber: number }[]> {
    const ev = authorisationsInterface.getEvent("UseLogAnchored")!;
    const logs = await this.rpc.request<{ topics: string[]; data: string; blockNumber: string }[]>("eth_getLogs", [
      { address: this.address, topics: [ev.topicHash, custodian], fromBlock: "0x" + fromBlock.toString(16), toBlock: "latest" },
    ]);
    return logs.map((l) => {
      const d = authorisationsInterface.parseLog(l)!;
      const uses = (d.args.uses as unknown as { grantId: string; count: bigint }[]).map((u) => ({ grantId: u.grantId.toLowerCase(), count: Number(u.count) }));
      return { treeSize: Number(d.args.treeSize), rootHash: String(d.args.rootHash).toLowerCase(), uses, blockNumber: Number(l.blockNumber) };
    });
  }

  async latestUseLogSize(custodian: string): Promise<number> {
    const raw = await this.rpc.call(this.address, authorisationsInterface.encodeFunctionData("latestUseLogHead", [custodian]));
    const h = authorisationsInterface.decodeFunctionResult("latestUseLogHead", raw)[0] as unknown as { treeSize: bigint };
    return Number(h.treeSize);
  }
}

/**
 * The node's own transactions (rare): setPeers and anchorUseLog. Either its own sender (a private key: a
 * Wallet with a NonceManager on a provider of `url`) or an existing connected ethers Signer shared with other
 * writers of the same account (the node's ops sender, core/ops-signer.ts; `url` is then unused and the
 * signer's provider is not destroyed by {@link destroy}).
 */
export class ChainWriter implements HeadAnchorSink {
  readonly #signer: Signer & { reset?: () => void };
  readonly #provider: JsonRpcProvider | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(
    url: string,
    privateKey: string | Signer,
    readonly ledger: string,
    readonly authorisations: string | undefined,
    readonly memberId: string,
    readonly views?: AuthorisationsView,
  ) {
    if (typeof privateKey === "string") {
      this.#provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, polling: true, pollingInterval: 100 });
      this.#signer = new NonceManager(new Wallet(privateKey, this.#provider));
    } else {
      if (!privateKey.provider) throw new Error("ChainWriter: the signer must be connected to a provider");
      this.#signer = privateKey;
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lock.then(fn, fn);
    this.#lock = p.catch(() => undefined);
    return p;
  }

  async #send(to: string, data: string): Promise<TransactionReceipt> {
    return this.#serial(async () => {
      try {
        const tx = await this.#signer.sendTransaction({ to, data });
        const r = await tx.wait();
        if (!r || r.status !== 1) throw new Error(`transaction ${tx.hash} failed`);
        return r;
      } catch (e) {
        this.#signer.reset?.();
        throw e;
      }
    });
  }

  /** Publish this node's peer ids and multiaddrs (IConsortium.setPeers, self-service). */
  async setPeers(peerIds: string[], multiaddrs: string[]): Promise<void> {
    await this.#send(this.ledger, consortiumInterface.encodeFunctionData("setPeers", [this.memberId, peerIds, multiaddrs]));
  }

  async latestAnchoredSize(): Promise<number> {
    if (!this.views) throw new Error("no authorisations view");
    return this.views.latestUseLogSize(this.memberId);
  }

  async anchorHead(size: number, root: string, uses: GrantUses[]): Promise<{ blockNumber: number; txHash: string }> {
    if (!this.authorisations) throw new Error("no authorisations contract configured");
    const r = await this.#send(this.authorisations, authorisationsInterface.encodeFunctionData("anchorUseLog", [size, root, uses.map((u) => ({ grantId: u.grantId, count: u.count }))]));
    return { blockNumber: r.blockNumber, txHash: r.hash };
  }

  destroy(): void {
    this.#provider?.destroy();
  }
}
