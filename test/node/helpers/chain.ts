/**
 * Reusable chain harness for node tests: a real `hardhat node` child process on a free loopback port, the
 * TongbanLedger deployed with the typechain factory, and a consortium bootstrapped in one `bootstrapBatch`.
 *
 * @example
 *   const chain = await startChain();
 *   const { ledger } = await deployLedger(chain);
 *   await bootstrap(ledger, { jurisdictions: [310000, 310104], types: ["BIZ_LICENCE"],
 *     members: [{ uscc: "11310115002418321F", jurisdiction: 310104, accounts: [addr], entitlements: [["BIZ_LICENCE", 310104]] }] });
 *   ...
 *   await chain.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, connect, type Server, type Socket } from "node:net";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { ContractFactory, HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, encodeBytes32String, type BaseContract } from "ethers";
import { TongbanLedger__factory, type TongbanLedger } from "../../../sdk/src/contracts/types/index.js";
import { startTestChain, targetName } from "../../infra/target.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** The i-th funded account of `hardhat node` (default mnemonic). */
export function devWallet(i: number): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${i}`);
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const j = (await r.json()) as { result?: T; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result as T;
}

export interface Chain {
  url: string;
  port: number;
  pid: number;
  provider: JsonRpcProvider;
  /** kills the hardhat node (SIGKILL after 3 s if SIGTERM is ignored) */
  stop(): Promise<void>;
}

/**
 * Spawn `hardhat node --port <free> --hostname 127.0.0.1` and wait until it answers JSON-RPC; with
 * TONGBAN_TARGET=clique|external, the chain of test/infra/target.ts instead (url = its first RPC URL).
 */
export async function startChain(opts: { port?: number; timeoutMs?: number } = {}): Promise<Chain> {
  if (targetName() !== "hardhat") return targetChain();
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const bin = resolve(REPO_ROOT, "node_modules/.bin/hardhat");
  const config = resolve(dirname(fileURLToPath(import.meta.url)), "hardhat-node.config.cjs");
  const child: ChildProcess = spawn(bin, ["--config", config, "node", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let out = "";
  child.stdout!.on("data", (d) => { if (out.length < 20_000) out += d; });
  child.stderr!.on("data", (d) => { if (out.length < 20_000) out += d; });
  let exited = false;
  child.once("exit", () => { exited = true; });
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (;;) {
    if (exited) throw new Error(`hardhat node exited early:\n${out.slice(-2000)}`);
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not answer on ${url}:\n${out.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, polling: true, pollingInterval: 100 });
  return {
    url,
    port,
    pid: child.pid!,
    provider,
    async stop() {
      provider.destroy();
      if (exited) return;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      process.kill(child.pid!, "SIGTERM");
      const t = setTimeout(() => { if (!exited) process.kill(child.pid!, "SIGKILL"); }, 3000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** The TONGBAN_TARGET chain (test/infra/target.ts) as a {@link Chain}; `pid` is node 0's geth on Clique. */
async function targetChain(): Promise<Chain> {
  const t = await startTestChain();
  const url = t.rpcUrls[0]!;
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, polling: true, pollingInterval: 250 });
  return {
    url,
    port: Number(new URL(url).port),
    pid: t.clique?.state.nodes[0]?.pid ?? -1,
    provider,
    async stop() {
      provider.destroy();
      await t.stop();
    },
  };
}

/** Let `n` blocks pass: `hardhat_mine` on Hardhat; elsewhere wait until the head is `n` blocks further. */
export async function mine(chain: Chain, n = 1): Promise<void> {
  if (targetName() === "hardhat") {
    await rpc(chain.url, "hardhat_mine", ["0x" + n.toString(16)]);
    return;
  }
  const start = Number(await rpc<string>(chain.url, "eth_blockNumber"));
  const target = start + n;
  // a sealing chain makes a block every period (1 s on the test Clique): n periods plus a generous margin
  const t0 = Date.now();
  const limitMs = 30_000 + n * 5_000;
  for (let head = start; head < target; head = Number(await rpc<string>(chain.url, "eth_blockNumber"))) {
    if (Date.now() - t0 > limitMs) throw new Error(`mine(${n}): the chain at ${chain.url} made ${head - start} of ${n} blocks (head ${head}, from ${start}) in ${Math.round((Date.now() - t0) / 1000)} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Deploy TongbanLedger from dev account `deployerIndex` (0 by default); the deployer is the bootstrap admin. */
export async function deployLedger(chain: Chain, deployerIndex = 0): Promise<{ ledger: TongbanLedger; address: string; admin: Wallet }> {
  const admin = new Wallet(devWallet(deployerIndex).privateKey, chain.provider);
  // Bytecode from the compiled artifact (the typechain factory's embedded copy can be stale, e.g. left
  // instrumented by a coverage run); ABI and types from the factory.
  const artifact = JSON.parse(readFileSync(resolve(REPO_ROOT, "artifacts/contracts/TongbanLedger.sol/TongbanLedger.json"), "utf8")) as { bytecode: string };
  const deployed = await new ContractFactory(TongbanLedger__factory.abi, artifact.bytecode, admin).deploy();
  await deployed.waitForDeployment();
  const address = await deployed.getAddress();
  return { ledger: TongbanLedger__factory.connect(address, admin), address, admin };
}

export interface MemberSpec {
  uscc: string;
  jurisdiction: number;
  accounts: string[];
  /** [typeCode, jurisdiction] pairs the member may anchor */
  entitlements?: [string, number][];
  /** global roles by enum index (0 Governor, 1 IdentityProvider, 2 Cataloguer, 3 Auditor) */
  roles?: number[];
  /** jurisdictions it is revocation authority for */
  revocationAuthority?: number[];
}

export interface ConsortiumSpec {
  /** [code, parent] pairs (parent 0 = top level), in registration order */
  jurisdictions: [number, number][];
  types: string[];
  members: MemberSpec[];
}

/** Set up a consortium in one bootstrapBatch transaction (bootstrap stays open). */
export async function bootstrap(ledger: TongbanLedger, spec: ConsortiumSpec): Promise<void> {
  const i = ledger.interface;
  const calls: string[] = [];
  for (const [code, parent] of spec.jurisdictions) calls.push(i.encodeFunctionData("registerJurisdiction", [code, parent]));
  for (const t of spec.types) calls.push(i.encodeFunctionData("registerMaterialType", [encodeBytes32String(t)]));
  for (const m of spec.members) {
    const id = encodeBytes32String(m.uscc);
    calls.push(i.encodeFunctionData("admitMember", [id, m.jurisdiction, m.accounts]));
    for (const [t, j] of m.entitlements ?? []) calls.push(i.encodeFunctionData("grantEntitlement", [id, encodeBytes32String(t), j]));
    for (const r of m.roles ?? []) calls.push(i.encodeFunctionData("grantRole", [id, r]));
    for (const j of m.revocationAuthority ?? []) calls.push(i.encodeFunctionData("grantRevocationAuthority", [id, j]));
  }
  const tx = await ledger.bootstrapBatch(calls);
  await tx.wait();
}

/** Send ether from dev account `from` to `to` (a node's fresh signing account needs gas). */
export async function fund(chain: Chain, to: string, eth = 100n, from = 1): Promise<void> {
  const w = new Wallet(devWallet(from).privateKey, chain.provider);
  const tx = await w.sendTransaction({ to, value: eth * 10n ** 18n });
  await tx.wait();
}

/**
 * A TCP proxy in front of an RPC endpoint that a test can cut and restore, to simulate the chain being
 * unreachable without losing the chain's state.
 */
export interface Cuttable {
  url: string;
  port: number;
  /** refuse new connections and drop open ones */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, port?: number): Promise<Cuttable> {
  const p = port ?? (await freePort());
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((res, rej) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, "127.0.0.1");
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once("error", rej);
      server.listen(p, "127.0.0.1", () => res());
    });
  const shut = () =>
    new Promise<void>((res) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return res();
      server.close(() => res());
      server = undefined;
    });
  await listen();
  return { url: `http://127.0.0.1:${p}`, port: p, cut: shut, restore: listen, close: shut };
}

export type { TongbanLedger, BaseContract };

/**
 * An HTTP JSON-RPC proxy that forwards every call except those `block(method)` selects, which get HTTP 502
 * (the node sees the endpoint as unreachable for that call). `setBlock` changes the rule at runtime.
 */
export interface RpcFilter {
  url: string;
  setBlock(block: (method: string) => boolean): void;
  /** methods seen, in order */
  seen: string[];
  close(): Promise<void>;
}

export async function startRpcFilter(targetUrl: string, block: (method: string) => boolean = () => false): Promise<RpcFilter> {
  const { createServer: createHttpServer } = await import("node:http");
  let rule = block;
  const seen: string[] = [];
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    let method = "";
    try {
      const j = JSON.parse(body) as { method?: string };
      method = String(j.method ?? "");
    } catch {
      /* batch or junk: forward */
    }
    seen.push(method);
    if (rule(method)) {
      res.writeHead(502).end("blocked by test");
      return;
    }
    try {
      const up = await fetch(targetUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
      res.writeHead(up.status, { "content-type": "application/json" }).end(await up.text());
    } catch {
      res.writeHead(502).end("upstream down");
    }
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    setBlock: (b) => (rule = b),
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
