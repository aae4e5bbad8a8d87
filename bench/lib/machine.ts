/** What the figures were measured on: CPU, cores, memory, Node, load, git commit. */
import { cpus, loadavg, totalmem, freemem, platform, release } from "node:os";
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../../test/node/helpers/chain.js";

export interface Machine {
  cpuModel: string;
  nproc: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  os: string;
  load: number[];
}

export function machine(): Machine {
  let nproc = cpus().length;
  try { nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim()) || nproc; } catch { /* keep os.cpus() */ }
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    nproc,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    load: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function git(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "sdk/src", "node/src", "contracts", "bench"], { cwd: REPO_ROOT, encoding: "utf8" });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: "unknown", dirty: true };
  }
}

/** Samples the 1-minute load average every `ms` while the run goes on. */
export function loadSampler(ms = 5000): { stop(): { min: number; median: number; max: number; samples: number } } {
  const xs: number[] = [loadavg()[0]!];
  const t = setInterval(() => xs.push(loadavg()[0]!), ms);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      const s = [...xs].sort((a, b) => a - b);
      return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, samples: s.length };
    },
  };
}
