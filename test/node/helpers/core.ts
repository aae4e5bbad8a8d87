/**
 * A node core on a real chain, for tests: hardhat node child process, TongbanLedger deployed, one member
 * (this node's fresh signing account) entitled for BIZ_LICENCE in 310104 and 310115, a keystore in a temp dir,
 * LevelDB in a temp dir.
 *
 * @example
 *   const fx = await startCoreFixture();           // chain + ledger + member
 *   const core = await fx.newCore();               // a node core on it (started)
 *   await core.service.register([...]);
 *   await fx.close();                              // stops cores and the chain, removes temp dirs
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import { startChain, deployLedger, bootstrap, fund, type Chain, type TongbanLedger } from "./chain.js";
import { createNodeCore } from "../../../node/src/core/node.js";
import { createKeystore, LIGHT_SCRYPT, type NodeKeys } from "../../../node/src/core/keystore.js";
import { validateConfig, DEFAULTS, type NodeConfig } from "../../../node/src/core/config.js";
import { createLogger } from "../../../node/src/core/log.js";

export const MEMBER_USCC = "11310115002418321F";
export const OTHER_USCC = "91310104MA1K000018";
export const TYPE = "BIZ_LICENCE";
export const OTHER_TYPE = "HEALTH_CERT"; // registered, but the member is not entitled
export const JUR = 310104;
export const JUR2 = 310115;

export interface CoreFixture {
  chain: Chain;
  ledger: TongbanLedger;
  ledgerAddress: string;
  keys: NodeKeys;
  keystorePath: string;
  password: string;
  dir: string;
  /** config for a node core of the member (override anything) */
  config(over?: Partial<NodeConfig>): NodeConfig;
  newCore(over?: Partial<NodeConfig>): Promise<Awaited<ReturnType<typeof createNodeCore>>>;
  close(): Promise<void>;
}

export async function startCoreFixture(opts: { chain?: Chain } = {}): Promise<CoreFixture> {
  const chain = opts.chain ?? (await startChain());
  try {
    return await setup(chain, opts.chain === undefined);
  } catch (e) {
    if (!opts.chain) await chain.stop();
    throw e;
  }
}

async function setup(chain: Chain, ownChain: boolean): Promise<CoreFixture> {
  const { ledger, address } = await deployLedger(chain);
  const dir = mkdtempSync(join(tmpdir(), "tongban-core-"));
  const password = randomBytes(12).toString("hex");
  const keystorePath = join(dir, "keystore.json");
  const keys = await createKeystore(keystorePath, password, { scrypt: LIGHT_SCRYPT });
  await fund(chain, keys.wallet.address);
  await bootstrap(ledger, {
    jurisdictions: [[310000, 0], [JUR, 310000], [JUR2, 310000]],
    types: [TYPE, OTHER_TYPE],
    members: [
      { uscc: MEMBER_USCC, jurisdiction: JUR2, accounts: [keys.wallet.address], entitlements: [[TYPE, JUR], [TYPE, JUR2]] },
      { uscc: OTHER_USCC, jurisdiction: JUR, accounts: [Wallet.createRandom().address], entitlements: [[OTHER_TYPE, JUR]] },
    ],
  });
  const cores: { stop(): Promise<void> }[] = [];
  let n = 0;
  const fx: CoreFixture = {
    chain,
    ledger,
    ledgerAddress: address,
    keys,
    keystorePath,
    password,
    dir,
    config(over = {}) {
      return validateConfig({
        ...DEFAULTS,
        dataDir: join(dir, `data-${n++}`),
        rpcUrls: [chain.url],
        ledgerAddress: address,
        memberId: MEMBER_USCC,
        keystorePath,
        keystorePassword: password,
        batchIntervalMs: 200,
        pollMs: 50,
        retry: { minMs: 100, maxMs: 1000 },
        logLevel: process.env.TONGBAN_TEST_LOG ?? "silent",
        ...over,
      } as NodeConfig);
    },
    async newCore(over = {}) {
      const cfg = fx.config(over);
      const core = await createNodeCore(cfg, { keys, logger: createLogger({ level: cfg.logLevel }) });
      await core.start();
      cores.push(core);
      return core;
    },
    async close() {
      for (const c of cores) await c.stop().catch(() => undefined);
      if (ownChain) await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
