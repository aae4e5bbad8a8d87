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
 *
 *   const fx = await startCoreFixture({ proxy: true }); // + fx.proxy, a cuttable TCP proxy in front of the chain
 *   const core = await fx.newCore({ rpcUrls: [fx.proxy.url] });
 *   await warmUp(core);                            // one material anchored: the core knows the entitlement
 *   await fx.proxy.cut();
 *   await core.service.register(newRequests(100));
 *   const rec = await waitForMaterial(core, id);   // its record once anchored
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import { startChain, deployLedger, bootstrap, fund, startProxy, startRpcFilter, type Chain, type Cuttable, type RpcFilter, type TongbanLedger } from "./chain.js";
import { createNodeCore } from "../../../node/src/core/node.js";
import { createKeystore, LIGHT_SCRYPT, type NodeKeys } from "../../../node/src/core/keystore.js";
import { validateConfig, DEFAULTS, type NodeConfig } from "../../../node/src/core/config.js";
import { createLogger } from "../../../node/src/core/log.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";

export const MEMBER_USCC = "11310115002418321F";
export const OTHER_USCC = "91310104MA1K000018";
export const TYPE = "BIZ_LICENCE";
export const OTHER_TYPE = "HEALTH_CERT"; // registered, but the member is not entitled
export const JUR = 310104;
export const JUR2 = 310115;

/** A started node core of the fixture. */
export type TestCore = Awaited<ReturnType<typeof createNodeCore>>;

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
  newCore(over?: Partial<NodeConfig>): Promise<TestCore>;
  /** stops the proxy / filter (if any), the cores and (if the fixture started it) the chain; removes temp dirs */
  close(): Promise<void>;
}

export interface CoreFixtureOptions {
  /** use this chain (not stopped by close) instead of starting one */
  chain?: Chain;
  /** also start `proxy`: a TCP proxy to the chain that can be cut and restored (chain.ts startProxy) */
  proxy?: boolean;
  /** also start `rpcFilter`: a JSON-RPC proxy failing the methods it is told to (chain.ts startRpcFilter) */
  rpcFilter?: boolean;
}

/** The fronts a fixture started with {@link CoreFixtureOptions} `proxy` / `rpcFilter` has. */
export type CoreFixtureFronts<O extends CoreFixtureOptions> = (O extends { proxy: true } ? { proxy: Cuttable } : unknown) &
  (O extends { rpcFilter: true } ? { rpcFilter: RpcFilter } : unknown);

export async function startCoreFixture<O extends CoreFixtureOptions = CoreFixtureOptions>(opts: O = {} as O): Promise<CoreFixture & CoreFixtureFronts<O>> {
  const chain = opts.chain ?? (await startChain());
  let fx: CoreFixture | undefined;
  const fronts: { proxy?: Cuttable; rpcFilter?: RpcFilter } = {};
  try {
    fx = await setup(chain, opts.chain === undefined);
    if (opts.proxy) fronts.proxy = await startProxy(chain.port);
    if (opts.rpcFilter) fronts.rpcFilter = await startRpcFilter(chain.url);
  } catch (e) {
    await fronts.proxy?.close();
    if (fx) await fx.close();
    else if (!opts.chain) await chain.stop();
    throw e;
  }
  const close = fx.close;
  return Object.assign(fx, fronts, {
    async close() {
      await fronts.proxy?.close();
      await fronts.rpcFilter?.close();
      await close();
    },
  }) as CoreFixture & CoreFixtureFronts<O>;
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

/**
 * Mocha hooks for the enclosing `describe`: a fixture started in `before` ({@link startCoreFixture} with `opts`)
 * and closed in `after`. The returned object stands for it: read its properties in hooks and tests (not while
 * the describe is being declared: that throws, naming the property).
 * @example describe("...", () => { const fx = useCoreFixture({ proxy: true }); it("...", async () => { await fx.proxy.cut(); }); });
 */
export function useCoreFixture<O extends CoreFixtureOptions = CoreFixtureOptions>(opts: O = {} as O): CoreFixture & CoreFixtureFronts<O> {
  let fx: (CoreFixture & CoreFixtureFronts<O>) | undefined;
  before(async () => {
    fx = await startCoreFixture(opts);
  });
  after(async () => {
    await fx?.close();
  });
  return new Proxy({} as CoreFixture & CoreFixtureFronts<O>, {
    get(_target, prop) {
      if (!fx) throw new Error(`the core fixture is not started yet (fx.${String(prop)} read outside a hook or test)`);
      const v = Reflect.get(fx, prop) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(fx) : v;
    },
  });
}

const RUN_START = Math.floor(Date.now() / 1000);

/** A material of the fixture's member: TYPE in JUR, random content hash and holder ref, valid from the test run's start; `over` replaces fields. */
export function newRequest(over: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    typeCode: TYPE,
    jurisdiction: JUR,
    contentHash: "0x" + randomBytes(32).toString("hex"),
    holderRef: "0x" + randomBytes(32).toString("hex"),
    validFrom: RUN_START,
    ...over,
  };
}

/** `n` fresh {@link newRequest}s. */
export const newRequests = (n: number, over: Partial<RegisterRequest> = {}): RegisterRequest[] => Array.from({ length: n }, () => newRequest(over));

type MaterialRecord = Awaited<ReturnType<TestCore["service"]["getMaterial"]>>;

/** Polls material `id` of `core` until it is anchored (or `accept(record)`, when given); resolves with its record. */
export function waitForMaterial(
  core: TestCore,
  id: string,
  opts: { what?: string; timeoutMs?: number; accept?: (r: MaterialRecord) => boolean } = {},
): Promise<MaterialRecord> {
  const accept = opts.accept ?? ((r: MaterialRecord) => r.state === "anchored");
  return waitFor(async () => {
    const r = await core.service.getMaterial(id);
    return accept(r) ? r : undefined;
  }, opts.timeoutMs ?? 20_000, opts.what ?? `material ${id} anchored`);
}

/** Registers one {@link newRequest} (`over`) and waits until it is anchored: the core has learnt the entitlement and reached the chain. Resolves with its id. */
export async function warmUp(core: TestCore, over: Partial<RegisterRequest> = {}): Promise<string> {
  const [ack] = await core.service.register([newRequest(over)]);
  await waitForMaterial(core, ack!.id, { what: "warm-up anchor" });
  return ack!.id;
}

/** The ledger's Anchored events of batch `root` (from block 0). */
export async function anchorLogs(fx: CoreFixture, root: string) {
  const topic = fx.ledger.interface.getEvent("Anchored").topicHash;
  return fx.chain.provider.getLogs({ address: fx.ledgerAddress, topics: [topic, root], fromBlock: 0 });
}
