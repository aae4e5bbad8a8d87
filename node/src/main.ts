#!/usr/bin/env node
/**
 * The member node process: config -> node core (store, anchorer, material service) -> indexer -> HTTP API.
 * `node dist/main.js --config node.json` or `tongban node start --config node.json`. SIGINT/SIGTERM stop the
 * API first (no new requests; open requests finish), then the indexer, then the core (its queue is durable).
 *
 * Indexer settings come from the config file's optional `indexer` section (the core's loader keeps unknown
 * sections): `{ "indexer": { "startBlock": 0, "reorgDepth": 128, "pollMs": 500, "maxLagBlocks": 5 } }`,
 * or env TONGBAN_INDEXER_START_BLOCK. It uses the core's `confirmations`.
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
import { JsonRpcProvider, encodeBytes32String } from "ethers";

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

export interface RunningNode {
  /** the API's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  core: NodeCore;
  indexer: Indexer;
  api: FastifyInstance;
  logger: Logger;
  /** stop API, indexer, core (idempotent) */
  stop(): Promise<void>;
}

function indexerConfig(config: NodeConfig, env: NodeJS.ProcessEnv): IndexerConfig {
  const c = { ...((config as NodeConfig & { indexer?: IndexerConfig }).indexer ?? {}) };
  if (env.TONGBAN_INDEXER_START_BLOCK) c.startBlock = Number(env.TONGBAN_INDEXER_START_BLOCK);
  return c;
}

/** Start a node from a loaded config. */
export async function startNode(config: NodeConfig, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunningNode> {
  const env = opts.env ?? process.env;
  const core = await createNodeCore(config);
  const logger = core.logger;
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
  let api: FastifyInstance | undefined;
  const cc = (config as NodeConfig & { catalogue?: CatalogueConfig }).catalogue;
  const catalogueDb = cc?.address ? await openCatalogueDb(join(config.dataDir, "catalogue")) : undefined;
  const catalogueProvider = cc?.address ? new JsonRpcProvider(config.rpcUrls[0], undefined, { cacheTimeout: -1 }) : undefined;
  const catalogue = cc?.address
    ? new CatalogueService(
        {
          provider: catalogueProvider!,
          address: cc.address,
          db: catalogueDb!,
          memberId: encodeBytes32String(config.memberId),
          logger: forComponent(logger, "catalogue"),
        },
        { startBlock: cc.startBlock ?? 0, confirmations: config.confirmations },
      )
    : undefined;
  // the headers of this node's own materials, as they are anchored (holder/issuer/type queries need them)
  const feed = new HeaderFeed(core.service, indexer, forComponent(logger, "indexer"));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (api) await api.close().catch((e) => logger.error({ err: errInfo(e) }, "closing the API failed"));
      await feed.stop();
      await catalogue?.stop().catch((e) => logger.error({ err: errInfo(e) }, "stopping the catalogue failed"));
      catalogueProvider?.destroy();
      await catalogueDb?.close().catch((e) => logger.error({ err: errInfo(e) }, "closing the catalogue index failed"));
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
    api = await buildApi({
      service: core.service,
      indexer,
      tokens: config.api.tokens,
      registry: core.metrics.registry,
      logger: forComponent(logger, "api"),
      holderRef: (idType, idNumber) => core.holderRef(idType, idNumber),
      chainHead: async () => Number(await rpc.send("eth_blockNumber", [])),
      maxLagBlocks: ic.maxLagBlocks,
      plugins: catalogue ? [{ prefix: "/v1/catalogue", plugin: catalogueRoutes, options: { service: catalogue } }] : [],
    });
    const url = await api.listen({ host: config.api.host, port: config.api.port });
    logger.info({ url, member: config.memberId, ledger: config.ledgerAddress }, "node API listening");
    return { url, core, indexer, api, logger, stop };
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
