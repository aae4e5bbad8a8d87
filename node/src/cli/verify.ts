/**
 * `tongban verify <file> --bundle <bundle.json>`: the SDK's verifier CLI core (`runVerifyCommand`,
 * `formatVerification`, the same options and exit codes as `tongban-verify`), so a department's operator and
 * a cross-province verifier get the same checks and output. Exit codes: 0 verified, 1 not verified,
 * 2 usage error / unreadable file / invalid bundle.
 */
import { readFileSync } from "node:fs";
import { runVerifyCommand, formatVerification, loadBundle, type ProofBundle } from "@tongban/sdk";

export interface VerifyCliOptions {
  bundle: string;
  rpc?: string;
  offline?: boolean;
  ledger?: string;
  at?: string;
  requireSeal?: boolean;
  json?: boolean;
  out?: (s: string) => void;
  err?: (s: string) => void;
}

export async function runVerify(file: string, o: VerifyCliOptions): Promise<number> {
  const out = o.out ?? ((s: string) => void process.stdout.write(s));
  const err = o.err ?? ((s: string) => void process.stderr.write(s));
  let at: Date | number | undefined;
  if (o.at !== undefined) {
    at = /^\d+$/.test(o.at) ? Number(o.at) : new Date(o.at);
    if (at instanceof Date && Number.isNaN(at.getTime())) {
      err(`invalid --at ${o.at}\n`);
      return 2;
    }
  }
  const outcome = await runVerifyCommand({ file, bundle: o.bundle, rpc: o.rpc, offline: o.offline, ledger: o.ledger, at, requireSeal: o.requireSeal });
  if (o.json) out(JSON.stringify(outcome.result ?? { ok: false, error: outcome.error }, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
  else if (outcome.result) {
    let bundle: ProofBundle | undefined;
    try {
      bundle = loadBundle(readFileSync(o.bundle, "utf8"));
    } catch {
      /* reported by the outcome already */
    }
    out(formatVerification(outcome.result, bundle) + "\n");
  } else err(`${outcome.error!.name}: ${outcome.error!.message}\n`);
  return outcome.exitCode;
}
