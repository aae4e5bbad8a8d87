/**
 * A consortium and a member node on a running Clique network, for the clique suite's node tests.
 *
 *  - `deployOnClique(net)`: TongbanLedger (+ Authorisations, DataCatalogue) deployed and bootstrapped with
 *    `deployConsortium` (node/src/consortium) from a small spec; the member's signing key is one of the
 *    network's funded keys, imported into a fresh node keystore.
 *  - `startMemberNode(...)`: the full member node (`tongban node start --config node.json`: core, indexer,
 *    HTTP API) AS A SEPARATE PROCESS (test/node/helpers/node-process.ts), with `rpcUrls` listing several
 *    validators (failover) and `confirmations: 2`. `kill()` stops it by pid.
 *  - `BulkRegistrar`: registers deterministic materials over HTTP (`POST /v1/materials/bulk`) and keeps the
 *    acknowledged ids (an id counts only once the node answered 202).
 *  - `anchorAudit(...)`: counts anchors per leaf from the chain's `Anchored` events and the node's proofs.
 *
 * @example
 *   const c = await deployOnClique(net);
 *   const node = await startMemberNode(c, { rpcUrls: net.rpcUrls });
 *   const reg = new BulkRegistrar(node.client);
 *   await reg.register(0, 1000);
 *   await node.waitDrained();
 *   const audit = await anchorAudit(c, node, reg.acked);
 *   await node.kill();
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Interface, JsonRpcProvider, Network, Wallet, encodeBytes32String, zeroPadValue } from "ethers";
import { createNodeClient, getMaterial, registerMaterials, verifyProof, type NodeClient, type NodeMaterialInput } from "@tongban/sdk";
import { deployConsortium, type ConsortiumSpec, type DeployedConsortium } from "../../../node/src/consortium/index.js";
import { createKeystore, LIGHT_SCRYPT } from "../../../node/src/core/keystore.js";
import { LEDGER_ABI } from "../../../node/src/core/chain.js";
import { hashToken } from "../../../node/src/api/auth.js";
import { freePorts, rpc, type CliqueNetwork } from "../../infra/clique.js";
import { startNodeProcess } from "../../node/helpers/node-process.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const MEMBER_USCC = "11310115002418321F";
export const GOVERNOR_USCC = "91310104MA1K000018";
export const TYPE = "BIZ_LICENCE";
export const JUR = 310104;
export const T0 = 1_767_225_600; // 2026-01-01
const TOKEN = "clique-node-token-" + randomBytes(6).toString("hex");
export const ledgerIface = new Interface(LEDGER_ABI);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` until truthy; throw naming `what` after `timeoutMs`. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs: number, what: string, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(everyMs);
  }
}

export interface CliqueConsortium extends DeployedConsortium {
  dir: string;
  keystorePath: string;
  password: string;
  memberAddress: string;
  holderKey: Uint8Array;
  /** provider on a given node (cache off) */
  provider(url: string): JsonRpcProvider;
  close(): void;
}

/** Deploy and bootstrap a one-issuer consortium through node `via` of the network. */
export async function deployOnClique(net: CliqueNetwork, opts: { via?: number; adminKey?: number; memberKey?: number } = {}): Promise<CliqueConsortium> {
  const dir = mkdtempSync(join(tmpdir(), "tongban-clique-node-"));
  const password = randomBytes(12).toString("hex");
  const keystorePath = join(dir, "keystore.json");
  const keys = await createKeystore(keystorePath, password, { privateKey: net.fundedKeys[opts.memberKey ?? 1], scrypt: LIGHT_SCRYPT });
  const admin = net.wallet(opts.adminKey ?? 0, opts.via ?? 1);
  const spec: ConsortiumSpec = {
    jurisdictions: [{ code: 310000, parent: 0 }, { code: JUR, parent: 310000 }],
    materialTypes: [{ code: TYPE }],
    members: [
      { key: "xuhui", uscc: MEMBER_USCC, jurisdiction: JUR, roles: ["REVOCATION_AUTHORITY"], entitlements: [{ type: TYPE, jurisdiction: JUR }] },
      { key: "bdc", uscc: GOVERNOR_USCC, jurisdiction: 310000, roles: ["GOVERNOR"] },
    ],
    governance: { threshold: 1 },
  };
  const deployed = await deployConsortium(admin, spec, {
    accounts: { xuhui: [keys.wallet.address], bdc: [Wallet.createRandom().address] },
  });
  const providers = new Map<string, JsonRpcProvider>();
  const network = Network.from(net.chainId);
  return {
    ...deployed,
    dir,
    keystorePath,
    password,
    memberAddress: keys.wallet.address,
    holderKey: keys.holderKey,
    provider(url: string) {
      let p = providers.get(url);
      if (!p) providers.set(url, (p = new JsonRpcProvider(url, network, { staticNetwork: network, cacheTimeout: -1 })));
      return p;
    },
    close() {
      for (const p of providers.values()) p.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What `/readyz` says about the service and the indexer. */
export interface Readiness {
  ready: boolean;
  chain?: { ok: boolean; head: number | null };
  indexer?: { cursor: number; head: number; lag: number; caughtUp: boolean; reorgs: number };
  service: { pending: number; anchoring: number; anchored: number; failed: number; opsPending: number; batchesSent: number; chainUp: boolean };
}

export interface MemberNode {
  url: string;
  pid: number;
  client: NodeClient;
  /** stdout + stderr of the node process (capped) */
  output(): string;
  readiness(): Promise<Readiness>;
  /** wait until nothing is pending or anchoring; returns the readiness then */
  waitDrained(timeoutMs: number): Promise<Readiness>;
  /** SIGTERM (SIGKILL after 15 s) by pid */
  kill(): Promise<void>;
}

/**
 * Start the member node as a separate process: `node --import tsx node/src/cli/main.ts node start --config f`.
 * `rpcUrls` in failover order; `confirmations` 2 by default.
 */
export async function startMemberNode(c: CliqueConsortium, opts: { rpcUrls: string[]; confirmations?: number; logLevel?: string; name?: string }): Promise<MemberNode> {
  const [port] = await freePorts(1);
  const cfg = {
    dataDir: join(c.dir, `data-${opts.name ?? "node"}`),
    rpcUrls: opts.rpcUrls,
    ledgerAddress: c.ledgerAddress,
    memberId: MEMBER_USCC,
    keystorePath: c.keystorePath,
    keystorePassword: c.password,
    confirmations: opts.confirmations ?? 2,
    batchIntervalMs: 500,
    batchSize: 2000,
    maxInFlight: 4,
    pollMs: 200,
    retry: { minMs: 200, maxMs: 2000 },
    logLevel: opts.logLevel ?? "warn",
    api: { host: "127.0.0.1", port, tokens: [hashToken(TOKEN)] },
    // reorgDepth given explicitly: startNode passes `reorgDepth: undefined` through when the config omits it,
    // which overrides the indexer's default (128) and breaks any step spanning more than one block (reported).
    indexer: { startBlock: c.deployBlock, pollMs: 250, maxLagBlocks: 3, reorgDepth: 128 },
  };
  const file = join(c.dir, `node-${opts.name ?? "node"}.json`);
  writeFileSync(file, JSON.stringify(cfg, null, 2), { mode: 0o600 });
  const proc = await startNodeProcess({ configFile: file, entry: "cli", name: opts.name ?? "node", timeoutMs: 120_000, maxOutput: 4_000_000 });
  const url = proc.url;
  const client = createNodeClient({ url, token: TOKEN, timeoutMs: 120_000 });
  const readiness = async (): Promise<Readiness> => {
    const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    return (await r.json()) as Readiness;
  };
  return {
    url,
    pid: proc.pid,
    client,
    output: () => proc.out,
    readiness,
    waitDrained: (timeoutMs) =>
      waitFor(async () => {
        const r = await readiness();
        return r.service.pending === 0 && r.service.anchoring === 0 ? r : undefined;
      }, timeoutMs, "the node's queue to drain", 250),
    async kill() {
      await proc.stop(15_000);
    },
  };
}

/** The i-th material of the bulk runs: registered by hash, deterministic, distinct per index. */
export function bulkMaterial(i: number): NodeMaterialInput {
  const h = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");
  return { typeCode: TYPE, jurisdiction: JUR, contentHash: h(`clique-content-${i}`), holderRef: h(`clique-holder-${i % 97}`), issuedAt: T0, validFrom: T0 } as NodeMaterialInput;
}

/** Registers index ranges over HTTP and remembers what was acknowledged (id -> index). */
export class BulkRegistrar {
  readonly acked = new Map<string, number>();
  /** acknowledged requests (materials), including re-registrations */
  ackCount = 0;
  constructor(private readonly client: NodeClient, private readonly chunk = 200) {}

  /** Register [from, to) in chunks of `chunk`, `parallel` requests at once; `onAck(total acked)` after each. */
  async register(from: number, to: number, opts: { parallel?: number; onAck?: (n: number) => void | Promise<void> } = {}): Promise<void> {
    const starts: number[] = [];
    for (let i = from; i < to; i += this.chunk) starts.push(i);
    let next = 0;
    const worker = async () => {
      while (next < starts.length) {
        const s = starts[next++]!;
        const n = Math.min(this.chunk, to - s);
        const acks = await registerMaterials(this.client, { materials: Array.from({ length: n }, (_, k) => bulkMaterial(s + k)) });
        if (acks.length !== n) throw new Error(`bulk of ${n} answered ${acks.length} acks`);
        acks.forEach((a, k) => {
          const prev = this.acked.get(a.id);
          if (prev !== undefined && prev !== s + k) throw new Error(`id ${a.id} acknowledged for indexes ${prev} and ${s + k}`);
          this.acked.set(a.id, s + k);
        });
        this.ackCount += n;
        await opts.onAck?.(this.acked.size);
      }
    };
    await Promise.all(Array.from({ length: opts.parallel ?? 2 }, worker));
  }
}

export interface AnchorAudit {
  /** distinct acknowledged materials checked */
  acknowledged: number;
  /** of those, anchored (node record anchored, proof verifies, root anchored on chain by this member) */
  anchored: number;
  /** leaves declared by this member's Anchored events in total */
  declaredOnChain: number;
  /** roots anchored more than once, and leaves under more than one anchored root */
  duplicateRoots: number;
  duplicateLeaves: number;
  /** distinct Anchored roots of this member */
  roots: number;
  /** leaf -> root per the node */
  leafRoot: Map<string, string>;
}

/** Run `fn` over `items` with `n` at once. */
export async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

/**
 * Anchors per leaf: every acknowledged id's record from the node (state, root, proof checked locally with the
 * SDK), against this member's `Anchored` events read from `rpcUrl` (each root once; counts sum to exactly the
 * distinct leaves), and `materialState(root, leaf)` on chain for every `sampleEvery`-th leaf.
 */
export async function anchorAudit(
  c: CliqueConsortium,
  node: MemberNode,
  ids: Iterable<string>,
  rpcUrl: string,
  opts: { sampleEvery?: number; known?: Map<string, string> } = {},
): Promise<AnchorAudit> {
  const list = [...ids];
  const sampleEvery = opts.sampleEvery ?? 25;
  // anchored records already checked (leaf -> root): an anchored record never changes, so fetch only new ones
  const known = opts.known ?? new Map<string, string>();
  const leafRoot = new Map<string, string>();
  let anchored = 0;
  let k = 0;
  const sampled: [string, string][] = [];
  await pool(list, 12, async (id) => {
    const cached = known.get(id);
    if (cached) {
      leafRoot.set(id, cached);
      return;
    }
    const m = await getMaterial(node.client, { id });
    if (m.state !== "anchored" || !m.anchor) return;
    if (!verifyProof(id, m.anchor.proof, m.anchor.root)) throw new Error(`proof of ${id} does not verify against ${m.anchor.root}`);
    leafRoot.set(id, m.anchor.root.toLowerCase());
    if (k++ % sampleEvery === 0) sampled.push([m.anchor.root, id]);
  });
  const p = c.provider(rpcUrl);
  const topic = ledgerIface.getEvent("Anchored")!.topicHash;
  const issuer = encodeBytes32String(MEMBER_USCC);
  const logs = await p.getLogs({ address: c.ledgerAddress, topics: [topic, null, zeroPadValue(issuer, 32)], fromBlock: c.deployBlock, toBlock: "latest" });
  const onChain = new Map<string, number>();
  let duplicateRoots = 0;
  let declared = 0;
  for (const l of logs) {
    const ev = ledgerIface.parseLog(l)!;
    const root = String(ev.args.root).toLowerCase();
    if (onChain.has(root)) duplicateRoots++;
    onChain.set(root, Number(ev.args.count));
    declared += Number(ev.args.count);
  }
  // leaves per root according to the node must equal the count declared on chain for that root
  const perRoot = new Map<string, number>();
  for (const [, root] of leafRoot) perRoot.set(root, (perRoot.get(root) ?? 0) + 1);
  for (const [id, root] of leafRoot) if (onChain.has(root)) anchored++; else leafRoot.delete(id);
  for (const [root, n] of perRoot) {
    if (onChain.has(root) && onChain.get(root) !== n) throw new Error(`root ${root}: ${n} leaves per the node, ${onChain.get(root)} on chain`);
  }
  // a leaf anchored under two roots would make the declared total exceed the distinct leaves
  const duplicateLeaves = Math.max(0, declared - leafRoot.size);
  const ledger = new (await import("ethers")).Contract(c.ledgerAddress, LEDGER_ABI, p);
  await pool(sampled, 6, async ([root, leaf]) => {
    const st = await ledger.materialState(root, leaf, 1);
    if (!st.anchored || st.issuer !== issuer) throw new Error(`materialState(${root}, ${leaf}) is not anchored by the member`);
  });
  for (const [id, root] of leafRoot) known.set(id, root);
  return { acknowledged: list.length, anchored, declaredOnChain: declared, duplicateRoots, duplicateLeaves, roots: onChain.size, leafRoot };
}

/** `eth_blockNumber` of a URL, or null. */
export async function headOf(url: string): Promise<number | null> {
  return rpc<string>(url, "eth_blockNumber", [], 1_000).then(Number, () => null);
}
