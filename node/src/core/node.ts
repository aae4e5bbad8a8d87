/**
 * Wires the node core from a config: keystore -> keys; LevelDB; RPC with failover; ledger client; content
 * store; entitlement cache; anchorer; material service. `createNodeCore(config)` then `start()`.
 */
import { join } from "node:path";
import { computeHolderRef, encodeBytes32String } from "./sdk.js";
import type { NodeConfig } from "./config.js";
import { keystorePassword } from "./config.js";
import { loadKeystore, type NodeKeys } from "./keystore.js";
import { openDb, type DB } from "./db.js";
import { RpcClient, LedgerClient } from "./chain.js";
import { LevelContentStore } from "./store.js";
import { Entitlements } from "./intake.js";
import { Anchorer } from "./anchorer.js";
import { CoreMaterialService, type NodeCore } from "./service.js";
import { createMetrics, type CoreMetrics } from "./metrics.js";
import { createLogger, forComponent, errInfo, type Logger } from "./log.js";
import { buildMaterialBundle } from "./bundle.js";
import { LeafHasher } from "./hasher.js";

export interface NodeCoreOptions {
  /** keys already opened (tests, tools); otherwise the keystore named in the config is opened */
  keys?: NodeKeys;
  logger?: Logger;
  metrics?: CoreMetrics;
}

class Core implements NodeCore {
  constructor(
    readonly config: NodeConfig,
    readonly service: CoreMaterialService,
    readonly metrics: CoreMetrics,
    readonly logger: Logger,
    readonly account: string,
    readonly memberId: string,
    readonly db: DB,
    readonly ledger: LedgerClient,
    private readonly holderKey: Buffer,
  ) {}

  holderRef(idType: string, idNumber: string): string {
    return computeHolderRef({ idType, idNumber }, this.holderKey);
  }

  async start(): Promise<void> {
    try {
      await this.ledger.init();
      const m = await this.ledger.memberOf(this.account);
      if (m.memberId !== this.memberId) {
        this.logger.warn({ account: this.account, memberOnChain: m.memberId }, "signing account is not an account of this member on chain: anchors will be refused");
      }
    } catch (e) {
      this.logger.warn({ err: errInfo(e) }, "chain not reachable at start; continuing (requests are accepted, anchoring retries)");
    }
    await this.service.start();
    this.logger.info({ account: this.account, ledger: this.config.ledgerAddress, rpc: this.config.rpcUrls.length }, "node core started");
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.db.close();
    this.logger.info("node core stopped");
  }
}

export async function createNodeCore(config: NodeConfig, opts: NodeCoreOptions = {}): Promise<NodeCore & { db: DB; ledger: LedgerClient; service: CoreMaterialService }> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const metrics = opts.metrics ?? createMetrics();
  const keys = opts.keys ?? (await loadKeystore(config.keystorePath, keystorePassword(config)));
  const memberId = encodeBytes32String(config.memberId.toUpperCase());
  const db = await openDb(join(config.dataDir, "core.leveldb"));
  const rpc = new RpcClient(config.rpcUrls, { metrics, log: forComponent(logger, "rpc") });
  const ledger = new LedgerClient(rpc, config.ledgerAddress, keys.wallet, { gas: config.gas });
  const store = new LevelContentStore(db, keys.storageKey, config.cipher);
  const entitlements = new Entitlements(ledger, db, memberId, config.entitlementTtlSec * 1000, forComponent(logger, "entitlements"));
  let service!: CoreMaterialService;
  const anchorer = new Anchorer(
    db,
    ledger,
    {
      batchIntervalMs: config.batchIntervalMs,
      batchSize: config.batchSize,
      maxInFlight: config.maxInFlight,
      confirmations: config.confirmations,
      pollMs: config.pollMs,
      retry: config.retry,
    },
    metrics,
    forComponent(logger, "anchorer"),
    (e) => service.emit(e),
    () => service.hasListeners(),
  );
  service = new CoreMaterialService(
    {
      db,
      anchorer,
      entitlements,
      store,
      ledger,
      metrics,
      logger: forComponent(logger, "service"),
      issuer: Buffer.from(memberId.slice(2), "hex"),
      holderKey: keys.holderKey,
      bundle: (rec) => buildMaterialBundle(rec, keys.wallet.privateKey),
      hasher: config.hashWorker === false ? undefined : LeafHasher.create(),
    },
    { syncWrites: config.syncWrites, maxQueue: config.maxQueue },
  );
  return new Core(config, service, metrics, logger, keys.wallet.address, memberId, db, ledger, keys.holderKey);
}
