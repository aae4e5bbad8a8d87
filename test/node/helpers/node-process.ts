/**
 * A member node as a SEPARATE PROCESS, the way `npm start` / `tongban node start` run it: spawn
 * `node --import tsx <entry> [node start] --config <file>`, wait for the `{"event":"listening","url":…}` line,
 * keep stdout + stderr, stop it by pid. Used by the node suite's process tests (test/node/catalogue/e2e-api,
 * test/node/main/exchange-wiring) and the Clique suite's member node (test/clique/helpers/member-node.ts).
 *
 * @example
 *   const p = await startNodeProcess({ configFile: join(dir, "node.json"), cwd: dir });
 *   await fetch(`${p.url}/healthz`);
 *   await p.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The node entry points: `main` = node/src/main.ts (`npm start`), `cli` = `tongban node start`. */
export const NODE_ENTRIES = {
  main: { file: join(REPO_ROOT, "node/src/main.ts"), args: [] as string[] },
  cli: { file: join(REPO_ROOT, "node/src/cli/main.ts"), args: ["node", "start"] },
} as const;
const LISTENING = /"event":"listening","url":"([^"]+)"/;

export interface StartNodeProcessOptions {
  /** the node.json to start with */
  configFile: string;
  /** which entry point (default `main`) */
  entry?: keyof typeof NODE_ENTRIES;
  /** working directory (relative paths in the config resolve against the config file's folder anyway); default the repo root */
  cwd?: string;
  /** name in error messages */
  name?: string;
  /** how long to wait for the listening line (default 120 s); the process is SIGKILLed on timeout */
  timeoutMs?: number;
  /** cap on the kept output: beyond it only the last half is kept (default: no cap) */
  maxOutput?: number;
}

export interface NodeProcess {
  /** the API URL from the listening line */
  url: string;
  pid: number;
  proc: ChildProcess;
  /** stdout + stderr so far */
  readonly out: string;
  /** resolves with the exit code once the process has exited */
  readonly exited: Promise<number | null>;
  /** SIGTERM by pid, SIGKILL after `graceMs` (default 10 s); resolves with the exit code; a no-op once exited */
  stop(graceMs?: number): Promise<number | null>;
}

/** Start a node process and wait until its API listens; throws (with the output's tail) if it exits or times out first. */
export async function startNodeProcess(opts: StartNodeProcessOptions): Promise<NodeProcess> {
  const entry = NODE_ENTRIES[opts.entry ?? "main"];
  const name = opts.name ?? opts.configFile;
  const proc = spawn(process.execPath, ["--import", "tsx", entry.file, ...entry.args, "--config", opts.configFile], {
    cwd: opts.cwd ?? REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (opts.maxOutput !== undefined && out.length > opts.maxOutput) out = out.slice(-Math.floor(opts.maxOutput / 2));
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  // a test process that dies must not leave its node running
  const onExit = () => { try { proc.kill("SIGKILL"); } catch { /* gone */ } };
  process.on("exit", onExit);
  void exited.then(() => process.off("exit", onExit));

  const url = await new Promise<string>((res, rej) => {
    const t = setTimeout(() => {
      proc.kill("SIGKILL");
      rej(new Error(`node ${name} did not start within ${opts.timeoutMs ?? 120_000} ms:\n${out.slice(-3000)}`));
    }, opts.timeoutMs ?? 120_000);
    const check = () => {
      const x = LISTENING.exec(out);
      if (x) {
        clearTimeout(t);
        res(x[1]!);
      }
    };
    proc.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(t);
      rej(new Error(`node ${name} exited (${code}):\n${out.slice(-3000)}`));
    });
  });

  return {
    url,
    pid: proc.pid!,
    proc,
    get out() {
      return out;
    },
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      process.kill(proc.pid!, "SIGTERM");
      const t = setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, "SIGKILL"); }, graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Stop every started process (in parallel), ignoring ones already gone. */
export async function stopNodeProcesses(procs: Iterable<NodeProcess | undefined>, graceMs?: number): Promise<void> {
  await Promise.all([...procs].map((p) => p?.stop(graceMs)));
}
