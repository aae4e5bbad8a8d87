/**
 * What the node benchmarks share: a spawned `hardhat node` with the ledger deployed and one member bootstrapped
 * (entitled to `type` in each of `jurisdictions`), a keystore for its signing account, and a started node core
 * (fsync, batches of `batchSize` every `batchIntervalMs`, 1 confirmation, 100 ms polling) on a fresh data dir.
 * Used by ingest.ts (service only) and http.ts (service behind the Fastify API).
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChain, deployLedger, bootstrap, fund, type Chain } from "../../test/node/helpers/chain.js";
import { createNodeCore } from "../src/core/node.js";
import type { NodeCore } from "../src/core/service.js";
import { createKeystore, LIGHT_SCRYPT } from "../src/core/keystore.js";
import { DEFAULTS, validateConfig, type NodeConfig } from "../src/core/config.js";
import { createLogger, type Logger } from "../src/core/log.js";

export const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);

/** CPU seconds (user + system) used so far by process `pid` (Linux /proc; 0 elsewhere). */
export function procCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(parts[11]) + Number(parts[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

export interface BenchCoreOptions {
  uscc: string;
  type: string;
  /** the member's own jurisdiction first; it is entitled to `type` in each */
  jurisdictions: number[];
  /** 32-byte consortium holder-ref key (a random one if not given) */
  holderKey?: Uint8Array;
  batchSize: number;
  batchIntervalMs: number;
  syncWrites?: boolean;
  hashWorker?: boolean;
}

export interface BenchCore {
  chain: Chain;
  core: NodeCore;
  logger: Logger;
  /** stop the core, the chain, and remove the data dir (safe to call after a failed start) */
  stop(): Promise<void>;
}

/** Chain + ledger + bootstrapped member + started core. On failure everything started so far is stopped. */
export async function startBenchCore(o: BenchCoreOptions): Promise<BenchCore> {
  const dir = mkdtempSync(join(tmpdir(), "tongban-bench-"));
  const chain = await startChain();
  let core: NodeCore | undefined;
  const stop = async () => {
    try {
      await core?.stop();
    } finally {
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const { ledger, address } = await deployLedger(chain);
    const keys = await createKeystore(join(dir, "ks.json"), "bench", { scrypt: LIGHT_SCRYPT, ...(o.holderKey ? { holderKey: o.holderKey } : {}) });
    await fund(chain, keys.wallet.address);
    const root = Math.floor(o.jurisdictions[0]! / 10_000) * 10_000;
    await bootstrap(ledger, {
      jurisdictions: [[root, 0], ...o.jurisdictions.map((j) => [j, root] as [number, number])],
      types: [o.type],
      members: [{ uscc: o.uscc, jurisdiction: o.jurisdictions[0]!, accounts: [keys.wallet.address], entitlements: o.jurisdictions.map((j) => [o.type, j] as [string, number]) }],
    });
    const cfg: NodeConfig = validateConfig({
      ...DEFAULTS,
      dataDir: join(dir, "data"),
      rpcUrls: [chain.url],
      ledgerAddress: address,
      memberId: o.uscc,
      keystorePath: join(dir, "ks.json"),
      batchIntervalMs: o.batchIntervalMs,
      batchSize: o.batchSize,
      pollMs: 100,
      syncWrites: o.syncWrites ?? true,
      hashWorker: o.hashWorker ?? true,
      logLevel: "warn",
    } as NodeConfig);
    const logger = createLogger({ level: "warn" });
    core = await createNodeCore(cfg, { keys, logger });
    await core.start();
    return { chain, core, logger, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** Wait until nothing is pending or anchoring. */
export async function drained(core: NodeCore): Promise<void> {
  for (;;) {
    const s = core.service.stats();
    if (s.pending === 0 && s.anchoring === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** ack->anchored quantile (seconds) from the core's summary. */
export async function ackToAnchored(core: NodeCore, p: number): Promise<number> {
  const q = await core.metrics.ackToAnchoredQuantiles.get();
  return q.values.find((v) => v.labels.quantile === p)?.value ?? NaN;
}
