#!/usr/bin/env node
/**
 * The member node process: config -> node core (store, anchorer, material service) -> indexer -> HTTP API.
 * `node dist/main.js --config node.json` or `tongban node start --config node.json`. SIGINT/SIGTERM stop the
 * API first (no new requests; open requests finish), then the indexer, then the core (its queue is durable).
 *
 * Indexer settings come from the config file's optional `indexer` section (the core's loader keeps unknown
 * sections): `{ "indexer": { "startBlock": 0, "reorgDepth": 128, "pollMs": 500, "maxLagBlocks": 5 } }`,
 * or env TONGBAN_INDEXER_START_BLOCK. It uses the core's `confirmations`.
 *
 * Exchange and audit (optional; see {@link AuthorisationsConfig}, {@link P2PConfig}, {@link AuditConfig}):
 * with an `authorisations` section the node keeps its use log (LevelDB `uselog/` under dataDir: every material
 * it serves or receives, RFC 6962 tree, heads anchored on chain every `audit.anchorIntervalMs`) and serves the
 * audit API under /v1/audit; with a `p2p` section it also joins the members' libp2p network (publishing its
 * peer id and addresses with setPeers), serves the materials it registered to authorised peers
 * (`/tongban/exchange/1.1.0` and 1.0.0, content read from its own encrypted store) and fetches for its departments
 * (POST /v1/exchange/fetch). Writes other than material anchoring (head anchors, setPeers, grants recorded as
 * identity provider, catalogue publishing) go through the keystore's OPS account and its one serialised sender
 * (core/ops-signer.ts), so they never race the anchorer's nonces.
 * Stop order: API, p2p (no new exchanges), use log (an anchor in progress finishes), catalogue, ops sender,
 * indexer, core.
 */
import "./polyfill.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FastifyInstance } from "fastify";
import { loadConfig, type NodeConfig } from "./core/config.js";
import { createNodeCore } from "./core/node.js";
import type { NodeCore } from "./core/service.js";
import { forComponent, errInfo, type Logger } from "./core/log.js";
import { Indexer } from "./indexer/indexer.js";
import { FailoverRpc } from "./indexer/rpc.js";
import { HeaderFeed } from "./indexer/headers.js";
import { buildApi } from "./api/server.js";
import { CatalogueService, catalogueRoutes, openCatalogueDb } from "./catalogue/index.js";
import type { DataUseLog } from "./catalogue/service.js";
import { encodeBytes32String } from "ethers";
import { Gauge } from "prom-client";
import { ClassicLevel } from "classic-level";
import { keystorePassword } from "./core/config.js";
import { loadKeystore } from "./core/keystore.js";
import { ErrorCode, NodeError, ValidationError } from "./core/errors.js";
import { SerialSigner, createOpsSender } from "./core/ops-signer.js";
import { RpcClient, connectFailoverProvider } from "./core/chain.js";
import { UseLog } from "./audit/use-log.js";
import { auditRoutes } from "./audit/routes.js";
import { exchangeRoutes, grantRoutes } from "./api/exchange-routes.js";
import { AuthorisationsView, CHAIN_BATCHES_IN_FLIGHT, ChainWriter, ConsortiumView } from "./p2p/chain.js";
import { FailoverChainRpc } from "./p2p/failover-rpc.js";
import { P2PNode } from "./p2p/node.js";
import { cachedMaterialSource, materialSourceFromService } from "./p2p/materials.js";
import { loadOrCreatePeerKey } from "./p2p/peer-key.js";
import { onlineVerifier } from "./p2p/verify.js";

/**
 * Optional `catalogue` section of the node config: the DataCatalogue deployment this node indexes and serves
 * under /v1/catalogue. The node serves it READ-ONLY (search, entries, scenarios, canUse): its one signing
 * account belongs to the anchorer, whose own nonce management must not race a second sender; publishing
 * needs a second signing account of the member (not wired yet).
 */
export interface CatalogueConfig {
  address: string;
  startBlock?: number;
}

export interface IndexerConfig {
  startBlock?: number;
  reorgDepth?: number;
  pollMs?: number;
  /** /readyz fails while the indexer is further behind than this (default 5 blocks) */
  maxLagBlocks?: number;
}

/** Optional `authorisations` section: the Authorisations contract (grants, use-log heads). Env TONGBAN_AUTHORISATIONS. */
export interface AuthorisationsConfig {
  address: string;
}

/**
 * Optional `p2p` section (needs `authorisations`): the members' libp2p network and the exchange protocol.
 * Env: TONGBAN_P2P_LISTEN, TONGBAN_P2P_ANNOUNCE (comma separated), TONGBAN_P2P_PUBLISH (0/1).
 */
export interface P2PConfig {
  /** listen multiaddrs (default ["/ip4/127.0.0.1/tcp/0"]) */
  listen?: string[];
  /** multiaddrs to publish instead of the listen ones (behind NAT / a load balancer) */
  announce?: string[];
  /** publish the peer id and addresses on chain with setPeers when they changed (default true) */
  publish?: boolean;
  /** reuse a checkGrant verdict this long, ms (default 0: ask the chain on every request) */
  grantCacheMs?: number;
  /** reuse the requester's on-chain material check this long, ms (default 0) */
  verifyCacheMs?: number;
  /** member directory refresh, ms (default 2,000) */
  directoryRefreshMs?: number;
  /** a fetch for a department gives up after this long, ms (default 10,000) */
  fetchTimeoutMs?: number;
}

/** Optional `audit` section: use-log head anchoring. Env TONGBAN_AUDIT_ANCHOR_INTERVAL_MS. */
export interface AuditConfig {
  /** anchor the use-log head when it grew, at least this often, ms (default 5,000; 0 = only every `anchorEvery`) */
  anchorIntervalMs?: number;
  /** anchor as soon as this many records are unanchored (default 10,000) */
  anchorEvery?: number;
}

export interface RunningNode {
  /** the API's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  core: NodeCore;
  indexer: Indexer;
  api: FastifyInstance;
  logger: Logger;
  /** the use log (with an `authorisations` section) */
  useLog?: UseLog;
  /** the libp2p node (with a `p2p` section) */
  p2p?: P2PNode;
  /** the ops account's sender (keystores with an ops account) */
  opsSigner?: SerialSigner;
  /** stop API, indexer, core (idempotent) */
  stop(): Promise<void>;
}

function indexerConfig(config: NodeConfig, env: NodeJS.ProcessEnv): IndexerConfig {
  const c = { ...((config as NodeConfig & { indexer?: IndexerConfig }).indexer ?? {}) };
  if (env.TONGBAN_INDEXER_START_BLOCK) c.startBlock = Number(env.TONGBAN_INDEXER_START_BLOCK);
  return c;
}

const list = (v: string) => v.split(",").map((x) => x.trim()).filter(Boolean);

/** The `authorisations`, `p2p` and `audit` sections with env overrides, validated (errors name the field). */
export function exchangeConfig(config: NodeConfig, env: NodeJS.ProcessEnv): { authorisations?: AuthorisationsConfig; p2p?: P2PConfig; audit: AuditConfig } {
  const c = config as NodeConfig & { authorisations?: AuthorisationsConfig; p2p?: P2PConfig; audit?: AuditConfig };
  const bad = (field: string, why: string): never => {
    throw new ValidationError(`config ${field} ${why}`, { field });
  };
  let authorisations = c.authorisations ? { ...c.authorisations } : undefined;
  if (env.TONGBAN_AUTHORISATIONS) authorisations = { ...(authorisations ?? {}), address: env.TONGBAN_AUTHORISATIONS };
  let p2p = c.p2p ? { ...c.p2p } : undefined;
  if (env.TONGBAN_P2P_LISTEN) p2p = { ...(p2p ?? {}), listen: list(env.TONGBAN_P2P_LISTEN) };
  if (env.TONGBAN_P2P_ANNOUNCE) p2p = { ...(p2p ?? {}), announce: list(env.TONGBAN_P2P_ANNOUNCE) };
  if (env.TONGBAN_P2P_PUBLISH) p2p = { ...(p2p ?? {}), publish: env.TONGBAN_P2P_PUBLISH !== "0" && env.TONGBAN_P2P_PUBLISH !== "false" };
  const audit = { ...(c.audit ?? {}) };
  if (env.TONGBAN_AUDIT_ANCHOR_INTERVAL_MS) audit.anchorIntervalMs = Number(env.TONGBAN_AUDIT_ANCHOR_INTERVAL_MS);
  if (authorisations && !/^0x[0-9a-fA-F]{40}$/.test(authorisations.address ?? "")) bad("authorisations.address", "must be a 0x address");
  if (p2p) {
    if (!authorisations) bad("p2p", "needs an authorisations section (the exchange checks grants on the Authorisations contract)");
    for (const k of ["listen", "announce"] as const) {
      const v = p2p[k];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== "string" || !a.startsWith("/"))) bad(`p2p.${k}`, "must be a non-empty list of multiaddrs like /ip4/127.0.0.1/tcp/0");
    }
    if (p2p.publish !== undefined && typeof p2p.publish !== "boolean") bad("p2p.publish", "must be true or false");
    for (const k of ["grantCacheMs", "verifyCacheMs", "directoryRefreshMs", "fetchTimeoutMs"] as const) {
      const v = p2p[k];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(`p2p.${k}`, "must be a number >= 0");
    }
    if (p2p.directoryRefreshMs !== undefined && p2p.directoryRefreshMs < 100) bad("p2p.directoryRefreshMs", "must be >= 100");
  }
  if (audit.anchorIntervalMs !== undefined && !(Number.isFinite(audit.anchorIntervalMs) && audit.anchorIntervalMs >= 0)) bad("audit.anchorIntervalMs", "must be a number >= 0");
  if (audit.anchorEvery !== undefined && !(Number.isInteger(audit.anchorEvery) && audit.anchorEvery >= 1)) bad("audit.anchorEvery", "must be an integer >= 1");
  return { authorisations, p2p, audit };
}

/** Start a node from a loaded config. */
export async function startNode(config: NodeConfig, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunningNode> {
  const env = opts.env ?? process.env;
  const xc = exchangeConfig(config, env);
  const keys = await loadKeystore(config.keystorePath, keystorePassword(config, env));
  if (xc.authorisations && !keys.ops) {
    throw new ValidationError(
      `config authorisations needs an ops account in the keystore ${config.keystorePath} (use-log head anchors and setPeers must not share the anchorer's account): add one with \`tongban keystore add-ops-key\` and register its address to the member (addAccount)`,
      { field: "keystorePath" },
    );
  }
  const core = await createNodeCore(config, { keys });
  const logger = core.logger;
  const memberId32 = core.memberId.toLowerCase();
  // the ops account's one sender (head anchors, setPeers, grants, catalogue publishing)
  // on every chain.rpcUrls URL with the anchorer's failover (core/chain.ts FailoverProvider)
  const opsSender = keys.ops ? await createOpsSender(keys.ops, config.rpcUrls, { metrics: core.metrics, log: forComponent(logger, "ops-rpc") }) : undefined;
  const opsProvider = opsSender?.provider;
  const opsSigner: SerialSigner | undefined = opsSender?.signer;
  const ic = indexerConfig(config, env);
  const rpc = new FailoverRpc(config.rpcUrls);
  const indexer = new Indexer({
    provider: rpc,
    address: config.ledgerAddress,
    dbPath: join(config.dataDir, "index.leveldb"),
    startBlock: ic.startBlock ?? 0,
    confirmations: config.confirmations,
    reorgDepth: ic.reorgDepth,
    pollMs: ic.pollMs,
    ownMemberId: core.memberId,
    registry: core.metrics.registry,
    logger: forComponent(logger, "indexer"),
  });
  // use log, chain views and the p2p node (authorisations / p2p sections); the views read on every chain.rpcUrls
  // URL with the same failover as the ops sender and the catalogue (p2p/failover-rpc.ts), and the writer sends
  // through the ops sender's failover signer (its own `url` argument is then unused)
  const chainRpc = xc.authorisations
    ? new FailoverChainRpc(config.rpcUrls, { log: forComponent(logger, "p2p-rpc"), onUrlError: (url) => core.metrics.rpcErrors.inc({ url }) })
    : undefined;
  // chain reads coalesce, up to CHAIN_BATCHES_IN_FLIGHT batches out at once per view (as p2p/run.ts and the
  // exchange bench run them): a read does not wait for the previous batch's round trip
  const chainCoalesce = { maxInFlight: CHAIN_BATCHES_IN_FLIGHT };
  const authView = xc.authorisations ? new AuthorisationsView(chainRpc!, xc.authorisations.address, { coalesce: chainCoalesce }) : undefined;
  const consortiumView = xc.authorisations ? new ConsortiumView(chainRpc!, config.ledgerAddress) : undefined;
  const writer = xc.authorisations ? new ChainWriter(config.rpcUrls[0]!, opsSigner!, config.ledgerAddress, xc.authorisations.address, memberId32, authView) : undefined;
  const useLogDb = xc.authorisations
    ? new ClassicLevel<Buffer, Buffer>(join(config.dataDir, "uselog"), { keyEncoding: "buffer", valueEncoding: "buffer" })
    : undefined;
  const useLog = xc.authorisations
    ? new UseLog(
        {
          db: useLogDb!,
          logId: memberId32,
          anchor: writer,
          signer: { address: keys.ops!.address, signDigest: (d) => keys.ops!.signMessageSync(Buffer.from(d.slice(2), "hex")) },
          logger: forComponent(logger, "uselog"),
        },
        { anchorIntervalMs: xc.audit.anchorIntervalMs ?? 5000, anchorEvery: xc.audit.anchorEvery ?? 10_000, syncWrites: config.syncWrites },
      )
    : undefined;
  // the catalogue records its data uses in the same log (DataUseLog.appendDataUse, when the use log has it)
  const dataUseLog = useLog && typeof (useLog as unknown as { appendDataUse?: unknown }).appendDataUse === "function" ? (useLog as unknown as DataUseLog) : undefined;
  let api: FastifyInstance | undefined;
  const cc = (config as NodeConfig & { catalogue?: CatalogueConfig }).catalogue;
  const catalogueDb = cc?.address ? await openCatalogueDb(join(config.dataDir, "catalogue")) : undefined;
  // catalogue views and event following on every chain.rpcUrls URL with the anchorer's failover, like the ops sender
  const catalogueProvider = cc?.address ? await connectFailoverProvider(new RpcClient(config.rpcUrls, { metrics: core.metrics, log: forComponent(logger, "catalogue-rpc") })) : undefined;
  const catalogue = cc?.address
    ? new CatalogueService(
        {
          provider: catalogueProvider!,
          address: cc.address,
          db: catalogueDb!,
          memberId: encodeBytes32String(config.memberId),
          logger: forComponent(logger, "catalogue"),
          ...(opsSigner ? { signer: opsSigner } : {}),
          ...(dataUseLog ? { useLog: dataUseLog } : {}),
        },
        { startBlock: cc.startBlock ?? 0, confirmations: config.confirmations },
      )
    : undefined;
  let p2p: P2PNode | undefined;
  // the headers of this node's own materials, as they are anchored (holder/issuer/type queries need them)
  const feed = new HeaderFeed(core.service, indexer, forComponent(logger, "indexer"));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (api) await api.close().catch((e) => logger.error({ err: errInfo(e) }, "closing the API failed"));
      await p2p?.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the p2p node failed"));
      await useLog?.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the use log failed"));
      await useLogDb?.close().catch((e) => logger.error({ err: errInfo(e) }, "closing the use log failed"));
      await feed.stop();
      await catalogue?.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the catalogue failed"));
      catalogueProvider?.destroy();
      await catalogueDb?.close().catch((e) => logger.error({ err: errInfo(e) }, "closing the catalogue index failed"));
      writer?.destroy();
      opsProvider?.destroy();
      await indexer.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the indexer failed"));
      await core.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the core failed"));
      logger.info("node stopped");
    })());
  if (config.api.tokens.length === 0) logger.warn("no API tokens configured (api.tokens): every /v1 request will be refused");
  try {
    await core.start();
    await indexer.open();
    await feed.start();
    await indexer.start();
    await catalogue?.start();
    if (keys.ops && consortiumView) {
      const m = await consortiumView.memberOf(keys.ops.address).catch(() => undefined);
      if (m && m.memberId !== memberId32) logger.warn({ ops: keys.ops.address, memberOnChain: m.memberId }, "the ops account is not an account of this member on chain: head anchors and setPeers will be refused");
    }
    if (useLogDb && useLog) {
      await useLogDb.open();
      await useLog.start();
    }
    if (xc.p2p && useLog) {
      const chainId = await chainRpc!.chainId();
      p2p = new P2PNode(
        {
          memberId: memberId32,
          signingKey: keys.wallet.privateKey,
          peerKey: await loadOrCreatePeerKey(join(config.dataDir, "p2p-key.json"), keys.storageKey),
          chainId,
          authorisations: authView!,
          consortium: consortiumView!,
          writer: xc.p2p.publish === false ? undefined : writer,
          materials: cachedMaterialSource(materialSourceFromService(core.service)),
          useLog,
          verify: onlineVerifier(chainRpc!, config.ledgerAddress, { cacheMs: xc.p2p.verifyCacheMs ?? 0, coalesce: chainCoalesce }),
          logger: forComponent(logger, "p2p"),
        },
        {
          listen: xc.p2p.listen ?? ["/ip4/127.0.0.1/tcp/0"],
          ...(xc.p2p.announce ? { announce: xc.p2p.announce } : {}),
          grantCacheMs: xc.p2p.grantCacheMs ?? 0,
          directory: { refreshMs: xc.p2p.directoryRefreshMs ?? 2000 },
        },
      );
      try {
        await p2p.start();
      } catch (e) {
        throw new NodeError(
          ErrorCode.UNAVAILABLE,
          `p2p: the node could not join the network: ${String((e as Error)?.message ?? e).slice(0, 300)} (is the ops account ${keys.ops!.address} registered to member ${config.memberId} and funded?)`,
          { field: "p2p", opsAccount: keys.ops!.address },
          { cause: e },
        );
      }
      logger.info({ peerId: p2p.peerId, multiaddrs: p2p.multiaddrs() }, "p2p node listening");
    }
    // metrics of the exchange and the use log, read at scrape time
    if (useLog) {
      const registers = [core.metrics.registry];
      const served = p2p?.server.counts;
      new Gauge({ name: "tongban_uselog_size", help: "records in this node's use log", registers, collect() { this.set(useLog.size); } });
      new Gauge({ name: "tongban_uselog_ops_sent", help: "transactions sent by the ops account's sender", registers, collect() { this.set(opsSigner?.sent ?? 0); } });
      if (served) {
        new Gauge({
          name: "tongban_exchange_answered",
          help: "exchange requests this node answered as custodian, by status code (since start)",
          labelNames: ["code"],
          registers,
          collect() {
            for (const [code, n] of served) this.set({ code }, n);
          },
        });
      }
    }
    const plugins: NonNullable<Parameters<typeof buildApi>[0]["plugins"]> = [];
    if (catalogue) plugins.push({ prefix: "/v1/catalogue", plugin: catalogueRoutes, options: { service: catalogue, ...(useLog ? { useLog } : {}) } });
    if (useLog) {
      plugins.push({
        prefix: "/v1/audit",
        plugin: auditRoutes,
        options: { useLog, memberId: memberId32, authorisations: authView, holderRef: (t: string, n: string) => core.holderRef(t, n) },
      });
      plugins.push({
        prefix: "/v1/grants",
        plugin: grantRoutes,
        options: { signer: opsSigner, address: xc.authorisations!.address, memberId: memberId32, provider: opsProvider, holderRef: (t: string, n: string) => core.holderRef(t, n) },
      });
    }
    if (p2p) plugins.push({ prefix: "/v1/exchange", plugin: exchangeRoutes, options: { p2p, memberId: memberId32, fetchTimeoutMs: xc.p2p?.fetchTimeoutMs ?? 10_000 } });
    api = await buildApi({
      service: core.service,
      indexer,
      tokens: config.api.tokens,
      registry: core.metrics.registry,
      logger: forComponent(logger, "api"),
      holderRef: (idType, idNumber) => core.holderRef(idType, idNumber),
      chainHead: async () => Number(await rpc.send("eth_blockNumber", [])),
      maxLagBlocks: ic.maxLagBlocks,
      plugins,
    });
    const url = await api.listen({ host: config.api.host, port: config.api.port });
    logger.info({ url, member: config.memberId, ledger: config.ledgerAddress }, "node API listening");
    return { url, core, indexer, api, logger, stop, useLog, p2p, opsSigner };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Run a node until SIGINT/SIGTERM, then stop it cleanly and exit 0 (1 if it could not start).
 * Prints one JSON line `{"event":"listening","url":...}` on stdout once the API listens.
 */
export async function runNodeProcess(configFile: string | undefined): Promise<void> {
  let node: RunningNode;
  try {
    node = await startNode(loadConfig({ file: configFile }));
  } catch (e) {
    const err = e as { code?: string; message?: string; details?: unknown };
    process.stderr.write(`tongban node: cannot start: ${err.message ?? e}${err.details ? ` ${JSON.stringify(err.details)}` : ""}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(JSON.stringify({ event: "listening", url: node.url, pid: process.pid }) + "\n");
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      node.logger.info({ signal: sig }, "shutting down");
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // a second signal while stopping kills at once
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      void node.stop().then(resolve, resolve);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  process.stdout.write(JSON.stringify({ event: "stopped", pid: process.pid }) + "\n");
}

// `node dist/main.js [--config file]`
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--config");
  await runNodeProcess(i > 0 ? process.argv[i + 1] : undefined);
}
