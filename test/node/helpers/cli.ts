/**
 * Run the `tongban` CLI (node/src/cli/main.ts under tsx) as a child process and collect what it printed.
 *
 * @example
 *   const r = await runCli(["grant", "show", "--url", url, "--token-file", f, grantId]);
 *   expect(r.code, r.stderr).to.equal(0);
 *   JSON.parse(r.stdout);
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = join(REPO_ROOT, "node/src/cli/main.ts");

export interface CliResult {
  /** exit code (null if killed by a signal) */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx node/src/cli/main.ts ...args` in the repo root; `env` is added to this process's environment. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    c.stdout!.on("data", (d) => (stdout += d));
    c.stderr!.on("data", (d) => (stderr += d));
    c.once("error", rej);
    c.once("exit", (code) => res({ code, stdout, stderr }));
  });
}

/**
 * Writes `token` to `<dir>/api-token` (mode 0600, as an operator would keep it) and returns the CLI's connection
 * arguments for the node at `url`: `["--url", url, "--token-file", "<dir>/api-token"]`.
 */
export function cliConnection(url: string, dir: string, token: string): string[] {
  const file = join(dir, "api-token");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  return ["--url", url, "--token-file", file];
}
