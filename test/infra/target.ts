/**
 * Which chain a suite runs against, chosen by environment, so the same test can run on a single-node
 * Hardhat chain (fast, instant mining) or on the real 4-signer geth Clique network (docs/clique.md).
 *
 *   TONGBAN_TARGET=hardhat (default)  spawn `hardhat node` on a free 127.0.0.1 port (chain id 31337)
 *   TONGBAN_TARGET=clique             start a 4-signer Clique network (test/infra/clique.ts), or attach to
 *                                     the one in TONGBAN_CLIQUE_STATE (written by scripts/clique/start.mjs)
 *   TONGBAN_TARGET=external           TONGBAN_RPC_URLS (comma-separated) + TONGBAN_FUNDED_KEYS (comma-separated)
 *
 * Whatever the target, a suite gets RPC URLs and funded private keys, and must wait for receipts
 * (`await (await tx).wait(chain.confirmations)`): on Clique a block comes every period, not per transaction.
 *
 * @example
 * const chain = await startTestChain();
 * const wallet = new Wallet(chain.fundedKeys[0], chain.provider());
 * ...
 * await chain.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Network } from "ethers";
import { CliqueNetwork, ensureGeth, freePorts, hardhatDevKeys, rpc, until, type CliqueOptions } from "./clique.js";

export type TargetName = "hardhat" | "clique" | "external";

/** A chain a suite can use, independent of what runs it. */
export interface TestChain {
  target: TargetName;
  chainId: number;
  /** JSON-RPC URLs; Clique gives one per signer node, the others one. */
  rpcUrls: string[];
  /** 0x-prefixed private keys of funded accounts (hardhat: the 30 default accounts). */
  fundedKeys: string[];
  /** Confirmations to wait for on writes (1 everywhere; Clique has no instant finality, so never 0). */
  confirmations: number;
  /** An ethers provider on `rpcUrls[i]` with the request cache off (`cacheTimeout: -1`). */
  provider(i?: number): JsonRpcProvider;
  /** The Clique network, for tests that kill or restart signers. */
  clique?: CliqueNetwork;
  /** Stop what this call started (an attached Clique network or an external chain is left running). */
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Accounts of Hardhat's default mnemonic funded on every target (hardhat.config.ts keeps the default 30). */
const DEV_ACCOUNTS = 30;

/** The target named by TONGBAN_TARGET (default "hardhat"). */
export function targetName(): TargetName {
  const t = (process.env.TONGBAN_TARGET ?? "hardhat").toLowerCase();
  if (t !== "hardhat" && t !== "clique" && t !== "external") {
    throw new Error(`TONGBAN_TARGET=${t}: expected hardhat, clique or external`);
  }
  return t;
}

function providerFactory(rpcUrls: string[], chainId: number) {
  const cache = new Map<number, JsonRpcProvider>();
  const network = Network.from(chainId);
  return {
    get(i = 0): JsonRpcProvider {
      let p = cache.get(i);
      if (!p) {
        p = new JsonRpcProvider(rpcUrls[i], network, { staticNetwork: network, cacheTimeout: -1, pollingInterval: 250 });
        cache.set(i, p);
      }
      return p;
    },
    destroy() {
      for (const p of cache.values()) p.destroy();
      cache.clear();
    },
  };
}

/** Start (or attach to) the chain named by TONGBAN_TARGET. */
export async function startTestChain(opts: { target?: TargetName; clique?: CliqueOptions } = {}): Promise<TestChain> {
  const target = opts.target ?? targetName();
  if (target === "clique") return startClique(opts.clique);
  if (target === "external") return external();
  return startHardhat();
}

/**
 * Clique: the same 30 dev accounts as `hardhat node` are funded in the genesis and come first in `fundedKeys`
 * (then the harness's own random ones), so a suite written for Hardhat finds its accounts funded.
 */
async function startClique(options: CliqueOptions = {}): Promise<TestChain> {
  const stateFile = process.env.TONGBAN_CLIQUE_STATE;
  let net: CliqueNetwork;
  if (stateFile) net = CliqueNetwork.attach(stateFile);
  else {
    const geth = options.geth ?? ensureGeth({ build: true });
    if (!geth) throw new Error("TONGBAN_TARGET=clique: no geth v1.13.15 found or buildable (scripts/clique/build-geth.sh)");
    net = await CliqueNetwork.start({ devAccounts: DEV_ACCOUNTS, ...options, geth });
  }
  const devKeys = hardhatDevKeys(DEV_ACCOUNTS);
  const providers = providerFactory(net.rpcUrls, net.chainId);
  return {
    target: "clique",
    chainId: net.chainId,
    rpcUrls: net.rpcUrls,
    fundedKeys: [...devKeys, ...net.fundedKeys],
    confirmations: 1,
    provider: (i) => providers.get(i),
    clique: net,
    async stop() {
      providers.destroy();
      if (!stateFile) await net.stop();
    },
  };
}

function external(): TestChain {
  const rpcUrls = (process.env.TONGBAN_RPC_URLS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const fundedKeys = (process.env.TONGBAN_FUNDED_KEYS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (!rpcUrls.length || !fundedKeys.length) throw new Error("TONGBAN_TARGET=external needs TONGBAN_RPC_URLS and TONGBAN_FUNDED_KEYS");
  const chainId = Number(process.env.TONGBAN_CHAIN_ID ?? "0");
  if (!chainId) throw new Error("TONGBAN_TARGET=external needs TONGBAN_CHAIN_ID");
  const providers = providerFactory(rpcUrls, chainId);
  return {
    target: "external",
    chainId,
    rpcUrls,
    fundedKeys,
    confirmations: Number(process.env.TONGBAN_CONFIRMATIONS ?? "1"),
    provider: (i) => providers.get(i),
    async stop() {
      providers.destroy();
    },
  };
}

async function startHardhat(): Promise<TestChain> {
  const [port] = await freePorts(1);
  const require = createRequire(join(REPO_ROOT, "package.json"));
  const hardhatCli = require.resolve("hardhat/internal/cli/bootstrap.js");
  // Own process group, so stop() reaches anything hardhat spawns; killed on exit too.
  const child: ChildProcess = spawn(process.execPath, [hardhatCli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try { process.kill(-pid, signal); } catch { /* gone */ }
  };
  const onExit = () => killGroup("SIGKILL");
  process.on("exit", onExit);
  const url = `http://127.0.0.1:${port}`;
  try {
    await until("hardhat node RPC", async () => {
      if (child.exitCode !== null) throw new Error(`hardhat node exited ${child.exitCode}: ${stderr}`);
      return (await rpc<string>(url, "eth_chainId", [], 1_000)) ? true : undefined;
    }, 60_000, 200);
  } catch (e) {
    killGroup("SIGKILL");
    throw e;
  }
  const chainId = Number(await rpc<string>(url, "eth_chainId"));
  const fundedKeys = hardhatDevKeys(DEV_ACCOUNTS);
  const providers = providerFactory([url], chainId);
  return {
    target: "hardhat",
    chainId,
    rpcUrls: [url],
    fundedKeys,
    confirmations: 1,
    provider: (i) => providers.get(i),
    async stop() {
      providers.destroy();
      killGroup("SIGTERM");
      await until("hardhat node to exit", async () => (child.exitCode !== null || child.signalCode !== null ? true : undefined), 10_000, 100)
        .catch(() => killGroup("SIGKILL"));
      process.off("exit", onExit);
    },
  };
}
