/**
 * Multi-process fixture of the p2p tests: each member node is a separate process (`node/src/p2p/run.ts`
 * under tsx) with its own LevelDB data dir, on loopback, against the shared hardhat chain of the helper.
 * The test talks to each process over its IPC channel and stops it by pid.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { ContractFactory, Wallet, type Contract } from "ethers";
import { REPO_ROOT, type Chain } from "../helpers/chain.js";
import type { RunConfig } from "../../../node/src/p2p/run.js";

// TONGBAN_P2P_RUN: another run.ts (benchmarks comparing a previous version of node/src/p2p side by side)
const RUN = process.env.TONGBAN_P2P_RUN ?? resolve(REPO_ROOT, "node/src/p2p/run.ts");
export const AUTHORISATIONS_ARTIFACT = resolve(REPO_ROOT, "artifacts/contracts/Authorisations.sol/Authorisations.json");

/** Deploy the authorisations contract from its compiled artifact (the contract is another engineer's). */
export async function deployAuthorisations(admin: Wallet, ledger: string): Promise<Contract> {
  if (!existsSync(AUTHORISATIONS_ARTIFACT)) throw new Error(`no ${AUTHORISATIONS_ARTIFACT}: run npx hardhat compile`);
  const art = JSON.parse(readFileSync(AUTHORISATIONS_ARTIFACT, "utf8")) as { abi: unknown[]; bytecode: string };
  const c = await new ContractFactory(art.abi as never, art.bytecode, admin).deploy(ledger);
  await c.waitForDeployment();
  return c as unknown as Contract;
}

export class NodeProcess {
  #id = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  out = "";
  ready: { peerId: string; multiaddrs: string[] } | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly config: RunConfig,
  ) {
    child.on("message", (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    child.on("exit", () => {
      for (const p of this.#pending.values()) p.reject(new Error(`node process exited:\n${this.out.slice(-2000)}`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(config: RunConfig, timeoutMs = 90_000): Promise<NodeProcess> {
    const child = fork(RUN, [], {
      // TONGBAN_P2P_EXEC_ARGV: extra node flags for the node processes (e.g. --cpu-prof for benchmarks)
      execArgv: ["--import", "tsx", ...(process.env.TONGBAN_P2P_EXEC_ARGV ?? "").split(" ").filter(Boolean)],
      env: { ...process.env, TONGBAN_P2P_CONFIG: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      cwd: REPO_ROOT,
    });
    const np = new NodeProcess(child, config);
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`node did not start:\n${np.out.slice(-3000)}`)), timeoutMs);
      const onData = (d: Buffer) => {
        if (np.out.length < 50_000) np.out += d;
        const m = /READY (\{.*\})/.exec(np.out);
        if (m && !np.ready) {
          np.ready = JSON.parse(m[1]!);
          clearTimeout(t);
          res();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", (d) => {
        if (np.out.length < 50_000) np.out += d;
      });
      child.once("exit", (code) => {
        clearTimeout(t);
        if (!np.ready) rej(new Error(`node exited with ${code}:\n${np.out.slice(-3000)}`));
      });
    });
    return np;
  }

  call<T = unknown>(cmd: string, args?: unknown): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  /** Graceful stop over IPC, then SIGKILL by pid if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    await Promise.race([this.call("stop").catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    const t = setTimeout(() => {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 5000);
    await gone;
    clearTimeout(t);
  }
}

export function runConfig(chain: Chain, ledger: string, authorisations: string, memberId: string, signingKey: string, dataDir: string, extra: Partial<RunConfig> = {}): RunConfig {
  return {
    dataDir,
    rpcUrl: chain.url,
    ledger,
    authorisations,
    memberId,
    signingKey,
    storageKey: "0x" + randomBytes(32).toString("hex"),
    directoryRefreshMs: 500,
    ...extra,
  };
}
