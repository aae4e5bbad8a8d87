/**
 * A real multi-node proof-of-authority chain for tests: N geth v1.13.15 processes sealing Clique blocks,
 * peered statically over loopback, each with its own HTTP JSON-RPC endpoint.
 *
 * Everything lives under a temporary directory (genesis, keystores, chain data, logs); nothing is written
 * into the repository. Processes bind 127.0.0.1 only, on ports picked at start, and are killed by pid on
 * `stop()` and when the Node.js process exits (unless started `detached`, as the CLI does).
 *
 * @example
 * const net = await CliqueNetwork.start();           // 4 signers, period 1 s
 * const provider = net.provider(0);                  // JsonRpcProvider with cacheTimeout -1
 * const wallet = new Wallet(net.fundedKeys[0], provider);
 * await net.killSigner(3);                           // chain goes on with 3 of 4
 * await net.restartSigner(3);                        // rejoins and catches up
 * await net.stop();
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Network, SigningKey, Wallet, encryptKeystoreJsonSync, getAddress } from "ethers";

export const GETH_VERSION = "1.13.15";
export const DEFAULT_CHAIN_ID = 1337001;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUILD_SCRIPT = join(REPO_ROOT, "scripts", "clique", "build-geth.sh");

/** Options for {@link CliqueNetwork.start}. All have working defaults. */
export interface CliqueOptions {
  /** Number of signers (= geth nodes). Default 4. */
  signers?: number;
  /** Number of extra funded accounts (for member signing keys). Default 10. */
  fundedAccounts?: number;
  /**
   * Also fund the first `devAccounts` accounts of Hardhat's default mnemonic ("test test ... junk"), so tests
   * written against `hardhat node` (dev wallets 0..29) run unchanged. Default 0.
   */
  devAccounts?: number;
  /** Wei given to every funded account and signer. Default 10^24 (1,000,000 ether). */
  fundedBalance?: bigint;
  /** Clique block period in seconds (>= 1). Default 1. */
  period?: number;
  /** Chain id and network id. Default 1337001. */
  chainId?: number;
  /** Block gas limit (genesis and miner target). Default 100,000,000. */
  gasLimit?: bigint;
  /** Path of the geth binary. Default {@link findGeth}(). */
  geth?: string;
  /** Working directory; created if missing. Default a fresh folder under the OS temp dir. */
  baseDir?: string;
  /** Keep geth running after this process exits (for the CLI). Default false. */
  detached?: boolean;
  /** Keep `baseDir` after `stop()` (for debugging). Default false, or env TONGBAN_CLIQUE_KEEP=1. */
  keepDir?: boolean;
  /** How long `start()` may wait for peering and the first blocks. Default 60 s. */
  readyTimeoutMs?: number;
  /** geth --verbosity (0-5). Default 3. */
  verbosity?: number;
  /** Progress log. Default silent. */
  log?: (msg: string) => void;
}

/** One geth node as recorded in the state file. */
export interface CliqueNodeState {
  index: number;
  dir: string;
  signer: string;
  signerKey: string;
  /**
   * A second account in the node's keystore that is not a signer: `waitReady` mines with it for a moment so the
   * node counts as synced (a fresh geth drops propagated blocks until it has mined or synced) without sealing.
   */
  idleEtherbase?: string;
  enode: string;
  p2pPort: number;
  httpPort: number;
  authPort: number;
  rpcUrl: string;
  pid: number | null;
  args: string[];
}

/** Everything needed to reach (or stop) a running network; written to `<baseDir>/network.json`. */
export interface CliqueState {
  geth: string;
  baseDir: string;
  chainId: number;
  period: number;
  gasLimit: string;
  /** Signer addresses, sorted ascending as in the genesis extradata; in-turn signer of block n is `signers[n % N]`. */
  signers: string[];
  fundedKeys: string[];
  nodes: CliqueNodeState[];
  startedAt: string;
  startMs: number;
}

// ---------------------------------------------------------------------------------------------------------
// Locating / building geth

/** Whether `bin` is an executable geth of the pinned version. */
export function isGethBinary(bin: string): boolean {
  if (!existsSync(bin)) return false;
  const r = spawnSync(bin, ["version"], { encoding: "utf8", timeout: 20_000 });
  return r.status === 0 && new RegExp(`^Version: ${GETH_VERSION.replace(/\./g, "\\.")}-stable`, "m").test(r.stdout);
}

/** Directory of the cached geth build (outside the repo). */
export function gethCacheDir(): string {
  return process.env.TONGBAN_TOOLS ?? join(homedir(), ".cache", "tongban");
}

/**
 * The geth v1.13.15 binary to use, or `null`: `$GETH`, then the cache dir `bin/geth`, then `geth` on PATH.
 * Throws if `$GETH` is set but is not geth 1.13.15 (a wrong pin must not silently fall back).
 */
export function findGeth(): string | null {
  const explicit = process.env.GETH;
  if (explicit) {
    if (isGethBinary(explicit)) return explicit;
    throw new Error(`GETH=${explicit} is not an executable geth v${GETH_VERSION}`);
  }
  const cached = join(gethCacheDir(), "bin", "geth");
  if (isGethBinary(cached)) return cached;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && isGethBinary(join(dir, "geth"))) return join(dir, "geth");
  }
  return null;
}

/**
 * {@link findGeth}, and if none is found and `build` is set (and env TONGBAN_CLIQUE_NO_BUILD is not "1"), run
 * `scripts/clique/build-geth.sh` (needs Go and the Go module proxy; 2-3 minutes). Returns `null` when no
 * binary can be found or built.
 */
export function ensureGeth(opts: { build?: boolean; log?: (m: string) => void } = {}): string | null {
  const found = findGeth();
  if (found || !opts.build || process.env.TONGBAN_CLIQUE_NO_BUILD === "1") return found;
  const hasGo = spawnSync("go", ["version"], { encoding: "utf8" }).status === 0;
  if (!hasGo) return null;
  opts.log?.(`no geth v${GETH_VERSION} found: building it with ${BUILD_SCRIPT}`);
  const r = spawnSync("bash", [BUILD_SCRIPT], { encoding: "utf8", timeout: 20 * 60_000, stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) return null;
  const path = r.stdout.trim().split("\n").pop() ?? "";
  return isGethBinary(path) ? path : null;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Minimal JSON-RPC over HTTP (no provider polling, no retries): throws on transport or RPC error. The default
 * timeout is long enough for a geth starved of CPU on a loaded 2-core machine (a one-shot call such as
 * `miner_stop` or `admin_removePeer` must not fail because the box is busy); polls pass shorter ones.
 */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result as T;
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together while picking, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import("node:net").Server>((ok, fail) => {
      const s = createServer();
      s.once("error", fail);
      s.listen(0, "127.0.0.1", () => ok(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Poll `fn` until it returns a value other than `undefined`, or throw after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ""}`);
    }
    await sleep(everyMs);
  }
}

/** Genesis extradata for Clique: 32 vanity bytes + signer addresses (sorted) + 65-byte empty seal. */
export function cliqueExtraData(signers: string[]): string {
  const sorted = [...signers].map((a) => getAddress(a)).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  return "0x" + "00".repeat(32) + sorted.map((a) => a.slice(2).toLowerCase()).join("") + "00".repeat(65);
}

/** A Clique genesis up to London at block 0 (no Shanghai/Cancun: Clique rejects them). */
export function cliqueGenesis(p: { chainId: number; period: number; gasLimit: bigint; signers: string[]; alloc: Record<string, bigint> }) {
  const alloc: Record<string, { balance: string }> = {};
  for (const [addr, bal] of Object.entries(p.alloc)) alloc[addr.slice(2).toLowerCase()] = { balance: "0x" + bal.toString(16) };
  return {
    config: {
      chainId: p.chainId,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      muirGlacierBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      arrowGlacierBlock: 0,
      grayGlacierBlock: 0,
      clique: { period: p.period, epoch: 30000 },
    },
    nonce: "0x0",
    timestamp: "0x" + Math.floor(Date.now() / 1000).toString(16),
    extraData: cliqueExtraData(p.signers),
    gasLimit: "0x" + p.gasLimit.toString(16),
    difficulty: "0x1",
    mixHash: "0x" + "00".repeat(32),
    coinbase: "0x" + "00".repeat(20),
    baseFeePerGas: "0x3b9aca00",
    alloc,
  };
}

/** Hardhat's default accounts mnemonic (public test keys: never use them on a real chain). */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** Private keys of the first `n` accounts of {@link HARDHAT_MNEMONIC} (m/44'/60'/0'/0/i). */
export function hardhatDevKeys(n: number): string[] {
  if (n <= 0) return [];
  const m = Mnemonic.fromPhrase(HARDHAT_MNEMONIC);
  return Array.from({ length: n }, (_, i) => HDNodeWallet.fromMnemonic(m, `m/44'/60'/0'/0/${i}`).privateKey);
}

/** Processes to kill if this Node.js process exits while networks are still running. */
const liveNetworks = new Set<CliqueNetwork>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const net of liveNetworks) net.killAllNow();
  });
}

// ---------------------------------------------------------------------------------------------------------
// The network

export class CliqueNetwork {
  private readonly procs = new Map<number, ChildProcess>();
  private readonly providers = new Map<number, JsonRpcProvider>();
  private stopped = false;

  private constructor(
    readonly state: CliqueState,
    private readonly opts: { detached: boolean; keepDir: boolean; verbosity: number; log: (m: string) => void },
  ) {}

  get chainId(): number { return this.state.chainId; }
  get baseDir(): string { return this.state.baseDir; }
  /** HTTP JSON-RPC URL of each node, index = signer index. */
  get rpcUrls(): string[] { return this.state.nodes.map((n) => n.rpcUrl); }
  /** Private keys of the funded dev accounts (0x-prefixed), for member signing keys. */
  get fundedKeys(): string[] { return this.state.fundedKeys; }
  /** Signer addresses sorted as in the genesis; node i seals as `nodes[i].signer`. */
  get signers(): string[] { return this.state.signers; }
  get size(): number { return this.state.nodes.length; }

  /**
   * Generate keys and genesis, init the data dirs, start all nodes, and wait until every node is peered with
   * every other one and all have imported the same block >= 2.
   */
  static async start(options: CliqueOptions = {}): Promise<CliqueNetwork> {
    const t0 = Date.now();
    const n = options.signers ?? 4;
    if (n < 1) throw new Error("signers must be >= 1");
    const period = options.period ?? 1;
    if (period < 1) throw new Error("Clique period must be >= 1 s");
    const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
    const gasLimit = options.gasLimit ?? 100_000_000n;
    const fundedBalance = options.fundedBalance ?? 10n ** 24n;
    const log = options.log ?? (() => {});
    const geth = options.geth ?? findGeth();
    if (!geth) throw new Error(`no geth v${GETH_VERSION} binary: run scripts/clique/build-geth.sh or set GETH`);
    const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), "tongban-clique-"));
    mkdirSync(baseDir, { recursive: true });

    // Keys: one signer key and one p2p node key per node; funded dev accounts for members.
    const nodeKeys = Array.from({ length: n }, () => ({ signer: new Wallet("0x" + randomBytes(32).toString("hex")), nodeKey: randomBytes(32).toString("hex") }));
    nodeKeys.sort((a, b) => (a.signer.address.toLowerCase() < b.signer.address.toLowerCase() ? -1 : 1));
    const funded = Array.from({ length: options.fundedAccounts ?? 10 }, () => new Wallet("0x" + randomBytes(32).toString("hex")));
    const alloc: Record<string, bigint> = {};
    for (const k of nodeKeys) alloc[k.signer.address] = fundedBalance;
    for (const w of funded) alloc[w.address] = fundedBalance;
    for (const k of hardhatDevKeys(options.devAccounts ?? 0)) alloc[new Wallet(k).address] = fundedBalance;
    const genesis = cliqueGenesis({ chainId, period, gasLimit, signers: nodeKeys.map((k) => k.signer.address), alloc });
    const genesisPath = join(baseDir, "genesis.json");
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));

    const ports = await freePorts(3 * n);
    const nodes: CliqueNodeState[] = nodeKeys.map((k, i) => {
      const pub = new SigningKey("0x" + k.nodeKey).publicKey; // 0x04 || X || Y
      const p2pPort = ports[3 * i], httpPort = ports[3 * i + 1], authPort = ports[3 * i + 2];
      return {
        index: i,
        dir: join(baseDir, `node${i}`),
        signer: k.signer.address,
        signerKey: k.signer.privateKey,
        enode: `enode://${pub.slice(4)}@127.0.0.1:${p2pPort}`,
        p2pPort,
        httpPort,
        authPort,
        rpcUrl: `http://127.0.0.1:${httpPort}`,
        pid: null,
        args: [],
      };
    });

    // Data dirs: keystore (light scrypt: the chain is a local test chain), password, node key, config, init.
    const verbosity = options.verbosity ?? 3;
    for (const [i, node] of nodes.entries()) {
      mkdirSync(join(node.dir, "keystore"), { recursive: true });
      mkdirSync(join(node.dir, "geth"), { recursive: true });
      const password = randomBytes(16).toString("hex");
      writeFileSync(join(node.dir, "password.txt"), password + "\n", { mode: 0o600 });
      const ks = encryptKeystoreJsonSync({ address: node.signer, privateKey: node.signerKey }, password, { scrypt: { N: 1 << 12 } });
      writeFileSync(join(node.dir, "keystore", `key-${node.signer.slice(2).toLowerCase()}.json`), ks, { mode: 0o600 });
      const idle = new Wallet("0x" + randomBytes(32).toString("hex"));
      const idleKs = encryptKeystoreJsonSync({ address: idle.address, privateKey: idle.privateKey }, password, { scrypt: { N: 1 << 12 } });
      writeFileSync(join(node.dir, "keystore", `key-${idle.address.slice(2).toLowerCase()}.json`), idleKs, { mode: 0o600 });
      node.idleEtherbase = idle.address;
      writeFileSync(join(node.dir, "geth", "nodekey"), nodeKeys[i].nodeKey, { mode: 0o600 });
      const statics = nodes.filter((o) => o.index !== i).map((o) => JSON.stringify(o.enode)).join(", ");
      // geth 1.13 ignores static-nodes.json: static peers come from the TOML config. ListenAddr binds loopback.
      writeFileSync(
        join(node.dir, "config.toml"),
        `[Node.P2P]\nListenAddr = "127.0.0.1:${node.p2pPort}"\nNoDiscovery = true\nStaticNodes = [${statics}]\n`,
      );
      node.args = [
        "--datadir", node.dir,
        "--config", join(node.dir, "config.toml"),
        "--networkid", String(chainId),
        "--nodiscover", "--nat", "none", "--netrestrict", "127.0.0.0/8", "--maxpeers", String(Math.max(8, 2 * n)),
        "--ipcdisable",
        "--http", "--http.addr", "127.0.0.1", "--http.port", String(node.httpPort),
        "--http.api", "eth,net,web3,clique,admin,txpool,debug,miner",
        "--authrpc.addr", "127.0.0.1", "--authrpc.port", String(node.authPort),
        "--syncmode", "full", "--gcmode", "archive", "--cache", "128",
        // No --mine: sealing starts over RPC (miner_start) once the node is peered and caught up, so a node
        // never seals a private fork at startup (geth discards propagated blocks until it mines or syncs).
        "--miner.etherbase", node.signer, "--miner.gaslimit", gasLimit.toString(),
        "--unlock", node.signer, "--password", join(node.dir, "password.txt"), "--allow-insecure-unlock",
        "--verbosity", String(verbosity),
      ];
    }
    await Promise.all(nodes.map((node) => runToEnd(geth, ["--datadir", node.dir, "--verbosity", "2", "init", genesisPath], join(node.dir, "init.log"))));

    const state: CliqueState = {
      geth,
      baseDir,
      chainId,
      period,
      gasLimit: gasLimit.toString(),
      signers: nodes.map((x) => x.signer),
      fundedKeys: funded.map((w) => w.privateKey),
      nodes,
      startedAt: new Date().toISOString(),
      startMs: 0,
    };
    const net = new CliqueNetwork(state, {
      detached: options.detached ?? false,
      keepDir: options.keepDir ?? process.env.TONGBAN_CLIQUE_KEEP === "1",
      verbosity,
      log,
    });
    if (!net.opts.detached) {
      liveNetworks.add(net);
      installExitHook();
    }
    try {
      for (const i of nodes.keys()) net.spawnNode(i);
      net.saveState();
      log(`started ${n} geth nodes under ${baseDir}; waiting for peering and blocks`);
      await net.waitReady(options.readyTimeoutMs ?? 60_000);
    } catch (e) {
      // Say why before the logs go: the last lines of each node's log.
      const tails = nodes.map((node, i) => {
        let lines: string[] = [];
        try { lines = readFileSync(join(node.dir, "geth.log"), "utf8").trimEnd().split("\n").slice(-8); } catch { /* no log */ }
        return `--- node ${i} (${net.logFile(i)}):\n${lines.join("\n")}`;
      });
      await net.stop();
      throw new Error(`clique network did not become ready: ${String(e)}\n${tails.join("\n")}`);
    }
    state.startMs = Date.now() - t0;
    net.saveState();
    log(`clique network ready in ${state.startMs} ms`);
    return net;
  }

  /**
   * Attach to a network started elsewhere (e.g. by `scripts/clique/start.mjs`) from its `network.json`.
   * `stop()` on an attached network stops it.
   */
  static attach(stateFile: string, opts: { log?: (m: string) => void } = {}): CliqueNetwork {
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as CliqueState;
    const net = new CliqueNetwork(state, { detached: true, keepDir: false, verbosity: 3, log: opts.log ?? (() => {}) });
    return net;
  }

  /** Path of this network's state file. */
  get stateFile(): string { return join(this.baseDir, "network.json"); }

  private saveState() {
    writeFileSync(this.stateFile, JSON.stringify(this.state, null, 2), { mode: 0o600 });
  }

  private spawnNode(i: number) {
    const node = this.state.nodes[i];
    const logFd = openSync(join(node.dir, "geth.log"), "a");
    const child = spawn(this.state.geth, node.args, {
      stdio: ["ignore", logFd, logFd],
      detached: this.opts.detached,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir() },
    });
    closeSync(logFd);
    if (child.pid === undefined) throw new Error(`could not start geth node ${i}`);
    if (this.opts.detached) child.unref();
    node.pid = child.pid;
    this.procs.set(i, child);
    child.once("exit", () => {
      if (this.procs.get(i) === child) this.procs.delete(i);
    });
  }

  private async waitReady(timeoutMs: number) {
    const n = this.size;
    await until("every node's RPC", async () => ((await this.heads()).every((h) => h !== null) ? true : undefined), timeoutMs);
    await until(
      `every node peered with the ${n - 1} others`,
      async () => {
        const counts = await Promise.all(this.rpcUrls.map((u) => rpc<string>(u, "net_peerCount")));
        return counts.every((c) => Number(c) >= n - 1) ? true : undefined;
      },
      timeoutMs,
    );
    await this.startSealersInTurn(timeoutMs);
    await this.waitForSameHead({ minBlock: 2, timeoutMs });
  }

  /**
   * Start sealing without a startup race. Started together at block 0, every signer may seal blocks 1 and 2
   * (nobody is "recent" yet), so several out-of-turn blocks of equal difficulty compete; on a loaded machine
   * this once ended with nodes 0,1 and 2,3 on two forks at height 2 where no signer could seal on its own fork
   * (Clique deadlock: "timed out ... waiting for nodes 0, 1, 2, 3 to agree on the head (>= 2): heads 0:2 1:2 2:2
   * 3:2; block 2: 0:0xcefc1f38 1:0xcefc1f38 2:0xca136324 3:0xca136324", 2026-11-25 00:16 UTC, load ~11).
   * So: (1) each node mines for a moment with a non-signer etherbase (the seal fails: unauthorized), which marks
   * it synced so it imports propagated blocks, then goes back to its signer etherbase; (2) blocks 1..floor(N/2)
   * are sealed one at a time by their in-turn signer, each once every node holds the previous one; (3) the
   * rest start. From then on the in-turn signer of a block is never "recent", so an out-of-turn rival always has
   * lower difficulty and loses.
   */
  private async startSealersInTurn(timeoutMs: number): Promise<void> {
    const n = this.size;
    const urls = this.rpcUrls;
    // miner_start only queues the start (geth runs it on a goroutine): wait for eth_mining before the stop, and
    // for it to clear before the etherbase goes back, or a late start would leave the idle account mining
    const mining = (i: number, want: boolean) =>
      until(`node ${i} eth_mining = ${want}`, async () => ((await rpc<boolean>(urls[i], "eth_mining")) === want ? true : undefined), timeoutMs, 50);
    await Promise.all(this.state.nodes.map(async (node, i) => {
      if (!node.idleEtherbase) return;
      await rpc(urls[i], "miner_setEtherbase", [node.idleEtherbase]);
      await rpc(urls[i], "miner_start");
      await mining(i, true);
      await rpc(urls[i], "miner_stop");
      await mining(i, false);
      await rpc(urls[i], "miner_setEtherbase", [node.signer]);
    }));
    const started = new Set<number>();
    const head = await this.blockNumber(0);
    if (head === 0 && n > 1 && this.state.nodes.every((x) => x.idleEtherbase)) {
      for (let b = 1; b <= Math.floor(n / 2); b++) {
        const sealer = b % n;
        await rpc(urls[sealer], "miner_start");
        started.add(sealer);
        await this.waitForSameHead({ minBlock: b, exact: true, timeoutMs });
      }
    }
    await Promise.all(urls.map((u, i) => (started.has(i) ? undefined : rpc(u, "miner_start"))));
  }

  /** Whether node `i` is running (as far as this process knows; attached networks check the pid). */
  isAlive(i: number): boolean {
    const pid = this.state.nodes[i].pid;
    if (pid === null) return false;
    if (this.procs.has(i)) return true;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Indexes of running nodes. */
  alive(): number[] {
    return this.state.nodes.map((n) => n.index).filter((i) => this.isAlive(i));
  }

  /** An ethers provider for node `i` (static network, request cache off, so nonces are never reused). */
  provider(i = 0): JsonRpcProvider {
    let p = this.providers.get(i);
    if (!p) {
      const network = Network.from(this.chainId);
      p = new JsonRpcProvider(this.rpcUrls[i], network, { staticNetwork: network, cacheTimeout: -1, pollingInterval: 250 });
      this.providers.set(i, p);
    }
    return p;
  }

  /** A funded wallet (index into `fundedKeys`) connected to node `node`. */
  wallet(account = 0, node = 0): Wallet {
    return new Wallet(this.fundedKeys[account], this.provider(node));
  }

  /** Latest block number of node `i`. */
  async blockNumber(i = 0): Promise<number> {
    return Number(await rpc<string>(this.rpcUrls[i], "eth_blockNumber"));
  }

  /**
   * Latest block number of every node, `null` for a node that is not running or does not answer within
   * `timeoutMs`. A running node gets 5 s by default: with 1 s a busy geth on a loaded machine read as `null`,
   * so `maxHead()` silently dropped the highest node and returned a lower head.
   */
  async heads(timeoutMs = 5_000): Promise<(number | null)[]> {
    return Promise.all(this.rpcUrls.map((u, i) =>
      this.isAlive(i) ? rpc<string>(u, "eth_blockNumber", [], timeoutMs).then(Number, () => null) : Promise.resolve(null)));
  }

  /** Highest block number among live nodes; throws (naming the heads seen) if no live node answers. */
  async maxHead(): Promise<number> {
    const all = await this.heads();
    const hs = all.filter((h): h is number => h !== null);
    if (!hs.length) throw new Error(`no node answers (alive: ${this.alive().join(", ") || "none"}; heads ${JSON.stringify(all)})`);
    return Math.max(...hs);
  }

  /** `heads()` as text for timeout messages: "0:12 1:12 2:- 3:11". */
  async describeHeads(): Promise<string> {
    const hs = await this.heads();
    return hs.map((h, i) => `${i}:${h ?? "-"}`).join(" ");
  }

  /** Header fields of block `number` on node `i` (hash, miner-independent signer via clique_getSigner). */
  async block(number: number, i = 0): Promise<{ number: number; hash: string; difficulty: number; timestamp: number; signer: string }> {
    const tag = "0x" + number.toString(16);
    const b = await rpc<{ hash: string; difficulty: string; timestamp: string } | null>(this.rpcUrls[i], "eth_getBlockByNumber", [tag, false]);
    if (!b) throw new Error(`node ${i} has no block ${number}`);
    const signer = await rpc<string>(this.rpcUrls[i], "clique_getSigner", [tag]);
    return { number, hash: b.hash, difficulty: Number(b.difficulty), timestamp: Number(b.timestamp), signer: getAddress(signer) };
  }

  /**
   * Wait until node `i` (default: any live node) reaches block `n`; returns the height reached. A timeout names
   * the heads of every node at the last poll.
   */
  async waitForBlock(n: number, opts: { node?: number; timeoutMs?: number } = {}): Promise<number> {
    return until(`block ${n}${opts.node === undefined ? " on any node" : ` on node ${opts.node}`}`, async () => {
      const h = opts.node === undefined ? await this.maxHead() : await this.blockNumber(opts.node);
      if (h >= n) return h;
      throw new Error(`heads ${await this.describeHeads()}`);
    }, opts.timeoutMs ?? 30_000);
  }

  /**
   * Wait until every given node (default: all live ones) has reached block `n`: before reading state from
   * node j after node i (or the member node through i) saw block n, since j may import it a moment later.
   */
  async waitForNodesAt(n: number, nodes: number[] = this.alive(), timeoutMs = 30_000): Promise<void> {
    await until(`block ${n} on nodes ${nodes.join(", ")}`, async () => {
      const hs = await Promise.all(nodes.map((i) => this.blockNumber(i)));
      if (hs.every((h) => h >= n)) return true;
      throw new Error(`heads ${nodes.map((i, k) => `${i}:${hs[k]}`).join(" ")}`);
    }, timeoutMs);
  }

  /**
   * Wait until all the given nodes (default: all live ones) report the same head, at least `minBlock`, with the
   * same block hash. Returns that head. Unless `exact`, a moving chain is accepted when every node is within 1
   * block of the lowest and all have the same block there (the lowest head is returned); with `exact` (for a
   * chain that has stopped) every node must be at the same height. A timeout names the heads and hashes seen.
   */
  async waitForSameHead(opts: { nodes?: number[]; minBlock?: number; timeoutMs?: number; exact?: boolean } = {}): Promise<{ number: number; hash: string }> {
    const nodes = opts.nodes ?? this.alive();
    return until(`nodes ${nodes.join(", ")} to agree on the head${opts.minBlock ? ` (>= ${opts.minBlock})` : ""}`, async () => {
      const hs = await Promise.all(nodes.map((i) => this.blockNumber(i)));
      const target = Math.min(...hs);
      const seen = () => `heads ${nodes.map((i, k) => `${i}:${hs[k]}`).join(" ")}`;
      if (target < (opts.minBlock ?? 0)) throw new Error(seen());
      if (Math.max(...hs) - target > (opts.exact ? 0 : 1)) throw new Error(seen());
      // Compare hashes at the lowest head: that block must be identical everywhere, and everyone must be there.
      const blocks = await Promise.all(
        nodes.map((i) => rpc<{ hash: string } | null>(this.rpcUrls[i], "eth_getBlockByNumber", ["0x" + target.toString(16), false])),
      );
      if (blocks.some((b) => !b) || new Set(blocks.map((b) => b!.hash)).size !== 1) {
        throw new Error(`${seen()}; block ${target}: ${nodes.map((i, k) => `${i}:${blocks[k]?.hash.slice(0, 10) ?? "-"}`).join(" ")}`);
      }
      return { number: target, hash: blocks[0]!.hash };
    }, opts.timeoutMs ?? 30_000);
  }

  /**
   * Wait until the chain stops growing: no new block on any live node for `quietMs`. Returns the stalled height.
   * Throws if it keeps growing for `timeoutMs`.
   */
  async waitForStall(opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<number> {
    const quiet = opts.quietMs ?? 5_000;
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let last = await this.maxHead();
    let since = Date.now();
    for (;;) {
      await sleep(250);
      // a poll where no node answered (a starved machine) is no evidence of quiet: the quiet period restarts
      const h = await this.maxHead().catch(() => undefined);
      if (h === undefined) {
        since = Date.now();
      } else if (h !== last) {
        last = h;
        since = Date.now();
      } else if (Date.now() - since >= quiet) {
        return h;
      }
      if (Date.now() > deadline) {
        throw new Error(`chain did not stall (no block for ${quiet} ms) within ${opts.timeoutMs ?? 30_000} ms: heads ${await this.describeHeads()}`);
      }
    }
  }

  /**
   * Fix the head: stop sealing everywhere and return the head once the chain has stopped and every live node
   * holds the same block at the same height. `miner_stop` does not cancel a seal in flight (an out-of-turn
   * signer waits up to period + wiggle), and a stopped miner is not interrupted by a new head either, so two
   * out-of-turn signers can each still seal a block at the same height after the stop: with equal total
   * difficulty each node may keep its own, and with nobody sealing that fork never resolves. Then one signer
   * that may seal on its own chain seals one more block (heavier, everyone adopts it) and stops again.
   */
  async freezeHead(opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<{ number: number; hash: string }> {
    const timeoutMs = opts.timeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    await this.stopSealing();
    for (let round = 0; ; round++) {
      await this.waitForStall({ quietMs: opts.quietMs ?? 5_000, timeoutMs: Math.max(10_000, deadline - Date.now()) });
      try {
        return await this.waitForSameHead({ exact: true, timeoutMs: 5_000 });
      } catch (e) {
        if (Date.now() > deadline || round >= 3) throw new Error(`the head did not settle after stopping the sealers: ${(e as Error).message}`);
        // a fork at the stalled height: let one node that may seal on its own chain extend it by one block
        const live = this.alive();
        let sealer: number | undefined;
        for (const i of live) {
          if ((await this.freeSigners(await this.blockNumber(i), i)).includes(i)) { sealer = i; break; }
        }
        if (sealer === undefined) throw new Error(`the head did not settle and no live signer may seal on its own chain: ${(e as Error).message}`);
        this.opts.log(`heads differ after stopping the sealers (${(e as Error).message}); node ${sealer} seals one block`);
        const from = await this.blockNumber(sealer);
        await this.startSealing([sealer]);
        try {
          await this.waitForBlock(from + 1, { node: sealer, timeoutMs: 30_000 });
        } finally {
          await this.stopSealing([sealer]);
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Partitions (for reorganisations): cut the p2p links between groups of nodes, then heal them.

  /** Stop sealing on the given nodes (default all live ones): `miner_stop`. */
  async stopSealing(nodes: number[] = this.alive()): Promise<void> {
    await Promise.all(nodes.map((i) => rpc(this.rpcUrls[i], "miner_stop")));
  }

  /** Start sealing on the given nodes (default all live ones): `miner_start`. */
  async startSealing(nodes: number[] = this.alive()): Promise<void> {
    await Promise.all(nodes.map((i) => rpc(this.rpcUrls[i], "miner_start")));
  }

  /**
   * Indexes of the signers that may seal block `head + 1` on node `i`'s chain: Clique lets a signer seal at
   * most once in any `floor(N/2) + 1` consecutive blocks, so the sealers of the last `floor(N/2)` blocks may not.
   */
  async freeSigners(head: number, i = 0): Promise<number[]> {
    const recent = new Set<string>();
    for (let n = head; n > Math.max(0, head - Math.floor(this.size / 2)); n--) recent.add((await this.block(n, i)).signer.toLowerCase());
    return this.signers.map((s, k) => (recent.has(s.toLowerCase()) ? -1 : k)).filter((k) => k >= 0);
  }

  /**
   * Cut every p2p link between `side` and the other live nodes (`admin_removePeer` on both ends, which also
   * drops the static-dial entry, so neither end redials), and wait until no node of `side` has a peer outside
   * it. Returns the other side.
   */
  async partition(side: number[], timeoutMs = 20_000): Promise<number[]> {
    const other = this.alive().filter((i) => !side.includes(i));
    await Promise.all(side.flatMap((a) => other.flatMap((b) => [
      rpc(this.rpcUrls[a], "admin_removePeer", [this.state.nodes[b].enode]),
      rpc(this.rpcUrls[b], "admin_removePeer", [this.state.nodes[a].enode]),
    ])));
    const enodeId = (e: string) => e.slice("enode://".length, e.indexOf("@")).toLowerCase();
    const outside = new Set(other.map((b) => enodeId(this.state.nodes[b].enode)));
    await until("the partition", async () => {
      for (const a of side) {
        const peers = await rpc<{ id: string; enode: string }[]>(this.rpcUrls[a], "admin_peers");
        if (peers.some((p) => outside.has(enodeId(p.enode)))) return undefined;
      }
      return true;
    }, timeoutMs);
    this.partitioned = { side, other };
    return other;
  }

  /** The current partition, if any. */
  partitioned: { side: number[]; other: number[] } | undefined;

  /**
   * Re-link every live node with every other (`admin_addPeer` both ways) and wait for the full mesh.
   * geth's dialer refuses to redial a node it dialled in the last 35 s (`dialHistoryExpiration`), and a
   * partition made just before can leave both ends in that history: the links then come up only once the
   * entries expire. So the wait is longer than that, and the missing links are re-added every 5 s.
   */
  async heal(timeoutMs = 90_000): Promise<void> {
    const live = this.alive();
    const enodeId = (e: string) => e.slice("enode://".length, e.indexOf("@")).toLowerCase();
    const link = (a: number, b: number) => rpc(this.rpcUrls[a], "admin_addPeer", [this.state.nodes[b].enode]);
    await Promise.all(live.flatMap((a) => live.filter((b) => b !== a).map((b) => link(a, b))));
    let lastAdd = Date.now();
    await until("the full mesh after healing", async () => {
      const peers = await Promise.all(live.map((i) => rpc<{ enode: string }[]>(this.rpcUrls[i], "admin_peers")));
      const missing: [number, number][] = [];
      live.forEach((a, k) => {
        const have = new Set(peers[k].map((p) => enodeId(p.enode)));
        for (const b of live) if (b !== a && !have.has(enodeId(this.state.nodes[b].enode))) missing.push([a, b]);
      });
      if (missing.length === 0) return true;
      if (Date.now() - lastAdd >= 5_000) {
        lastAdd = Date.now();
        await Promise.all(missing.map(([a, b]) => link(a, b).catch(() => undefined)));
      }
      throw new Error(`missing links ${missing.map(([a, b]) => `${a}->${b}`).join(", ")}`);
    }, timeoutMs);
    this.partitioned = undefined;
  }

  /**
   * Stop signer `i`. `SIGTERM` (default) is a clean shutdown; `SIGKILL` simulates a crash (archive mode keeps
   * every block's state on disk, so the node restarts where it was).
   */
  async killSigner(i: number, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 20_000): Promise<void> {
    const pid = this.state.nodes[i].pid;
    if (pid === null || !this.isAlive(i)) return;
    this.opts.log(`stopping node ${i} (pid ${pid}) with ${signal}`);
    this.providers.get(i)?.destroy();
    this.providers.delete(i);
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
    try {
      await until(`node ${i} (pid ${pid}) to exit`, async () => (this.pidGone(i, pid) ? true : undefined), timeoutMs, 100);
    } catch {
      try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
      await until(`node ${i} (pid ${pid}) to die`, async () => (this.pidGone(i, pid) ? true : undefined), 5_000, 100);
    }
    this.state.nodes[i].pid = null;
    this.saveStateQuietly();
  }

  private pidGone(i: number, pid: number): boolean {
    const child = this.procs.get(i);
    if (child) return child.exitCode !== null || child.signalCode !== null;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }

  /**
   * Start signer `i` again with its data dir and ports. Waits until its RPC answers, it has a peer, and it has
   * caught up with the highest head among the other live nodes (geth's downloader starts at once with 5 peers,
   * otherwise on its 10 s forced-sync cycle); then starts sealing (`miner_start`). Returns the catch-up time.
   */
  async restartSigner(i: number, timeoutMs = 60_000): Promise<{ catchUpMs: number; head: number }> {
    const t0 = Date.now();
    if (this.isAlive(i)) throw new Error(`node ${i} is running`);
    this.spawnNode(i);
    this.saveStateQuietly();
    this.opts.log(`restarted node ${i} (pid ${this.state.nodes[i].pid})`);
    const url = this.rpcUrls[i];
    await until(`node ${i} RPC`, () => rpc<string>(url, "eth_blockNumber", [], 1_000).then(() => true), timeoutMs);
    // Static peers are dialled anyway; adding them explicitly saves the redial backoff of the others.
    const others = this.alive().filter((j) => j !== i);
    await Promise.all(others.map((j) => rpc(url, "admin_addPeer", [this.state.nodes[j].enode]).catch(() => undefined)));
    if (others.length) {
      await until(`node ${i} to peer`, async () => (Number(await rpc<string>(url, "net_peerCount")) >= 1 ? true : undefined), timeoutMs);
    }
    let head = await this.blockNumber(i);
    if (others.length) {
      const target = Math.max(...(await Promise.all(others.map((j) => this.blockNumber(j)))));
      head = await until(`node ${i} to catch up to block ${target}`, async () => {
        const h = await this.blockNumber(i);
        return h >= target ? h : undefined;
      }, timeoutMs);
    }
    const catchUpMs = Date.now() - t0;
    await rpc(url, "miner_start");
    this.opts.log(`node ${i} caught up to ${head} in ${catchUpMs} ms and seals again`);
    return { catchUpMs, head };
  }

  private saveStateQuietly() {
    try { this.saveState(); } catch { /* dir removed */ }
  }

  /** Path of node `i`'s geth log. */
  logFile(i: number): string {
    return join(this.state.nodes[i].dir, "geth.log");
  }

  /** Synchronous SIGKILL of every node (used on process exit). */
  killAllNow(): void {
    for (const node of this.state.nodes) {
      if (node.pid !== null) {
        try { process.kill(node.pid, "SIGKILL"); } catch { /* gone */ }
      }
    }
    if (!this.opts.keepDir && !this.opts.detached) {
      try { rmSync(this.baseDir, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }

  /** Stop every node (SIGTERM, then SIGKILL after 15 s); the working dir stays. */
  async stopProcesses(): Promise<void> {
    for (const p of this.providers.values()) p.destroy();
    this.providers.clear();
    await Promise.all(this.state.nodes.map((n) => this.killSigner(n.index, "SIGTERM", 15_000).catch(() => undefined)));
    liveNetworks.delete(this);
  }

  /** Stop every node (SIGTERM, then SIGKILL after 15 s) and remove the working dir unless kept. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopProcesses();
    if (!this.opts.keepDir) rmSync(this.baseDir, { recursive: true, force: true });
    this.opts.log(this.opts.keepDir ? `stopped; kept ${this.baseDir}` : "stopped");
  }
}

/** Run a command to completion with output to `logFile`; reject on non-zero exit. */
function runToEnd(cmd: string, args: string[], logFile: string): Promise<void> {
  return new Promise((ok, fail) => {
    const fd = openSync(logFile, "a");
    const child = spawn(cmd, args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    child.once("error", fail);
    child.once("exit", (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(" ")} exited ${code}; see ${logFile}`))));
  });
}
