#!/usr/bin/env node
/**
 * tongban-verify <file> --bundle <bundle.json> [--rpc <url>] [--offline] [--ledger <address>] [--at <iso|unix>]
 *                [--require-seal] [--json]
 * Verifies a material file against its proof bundle. Readable output by default, `--json` for the result object.
 * Exit codes: 0 = verified (every check VALID; see verify() for tolerated SKIPPED), 1 = not verified,
 * 2 = usage error, unreadable file or invalid bundle.
 * The core is exported as {@link runVerifyCommand} so other CLIs (the node's `tongban verify`) reuse it.
 */
import { readFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { loadBundle, BundleValidationError, type ProofBundle } from "../bundle.js";
import { hashFile, UnknownHashAlgError } from "../content-hash.js";
import { verify, type VerificationResult, type VerifyInput } from "../verify.js";
import { bytes32ToString } from "../leaf.js";

/** Parameters of {@link runVerifyCommand}. */
export interface VerifyCommandParameters {
  /** path of the material file (streamed, never loaded whole) */
  file: string;
  /** path of the bundle JSON, or the bundle itself */
  bundle: string | ProofBundle;
  rpc?: string;
  offline?: boolean;
  ledger?: string;
  at?: Date | number;
  requireSeal?: boolean;
}

/** Outcome of {@link runVerifyCommand}: the exit code, the result (absent on usage/input errors), and a message. */
export interface VerifyCommandOutcome {
  exitCode: 0 | 1 | 2;
  result?: VerificationResult;
  error?: { name: string; message: string; details?: unknown };
}

/**
 * The CLI's core: load the bundle, stream-hash the file, verify. Never throws.
 * @example
 * const { exitCode, result } = await runVerifyCommand({ file: "licence.pdf", bundle: "licence.bundle.json", rpc: "http://127.0.0.1:8545" });
 */
export async function runVerifyCommand(p: VerifyCommandParameters): Promise<VerifyCommandOutcome> {
  let bundle: ProofBundle;
  try {
    bundle = typeof p.bundle === "string" ? loadBundle(await readFile(p.bundle, "utf8")) : loadBundle(p.bundle);
  } catch (e) {
    const err = e as Error & { details?: unknown };
    return { exitCode: 2, error: { name: err.name, message: err.message, ...(e instanceof BundleValidationError ? { details: err.details } : {}) } };
  }
  let input: VerifyInput;
  try {
    input = { contentHash: await hashFile(p.file, bundle.header.hashAlg) };
  } catch (e) {
    if (e instanceof UnknownHashAlgError) input = { content: new Uint8Array() }; // reported as INTEGRITY ERROR
    else return { exitCode: 2, error: { name: (e as Error).name, message: `cannot read ${p.file}: ${(e as Error).message}` } };
  }
  const result = await verify(input, bundle, {
    ...(p.rpc ? { provider: p.rpc } : {}), offline: p.offline === true && !p.rpc,
    ...(p.ledger ? { ledger: p.ledger } : {}), ...(p.at !== undefined ? { at: p.at } : {}), requireSeal: p.requireSeal === true,
  });
  return { exitCode: result.ok ? 0 : 1, result };
}

const MARK: Record<string, string> = { VALID: "✔", INVALID: "✘", ERROR: "!", SKIPPED: "-" };

/**
 * Human-readable report of a verification.
 * @example console.log(formatVerification(result))
 */
export function formatVerification(r: VerificationResult, bundle?: ProofBundle): string {
  const lines: string[] = [];
  lines.push(`${r.ok ? "VERIFIED" : "NOT VERIFIED"}  leaf ${r.leaf}  (${r.mode})`);
  if (bundle) {
    let type = bundle.header.typeCode, issuer = bundle.header.issuer;
    try { type = bytes32ToString(type); issuer = bytes32ToString(issuer); } catch { /* not a string code */ }
    lines.push(`  type ${type}  issuer ${issuer}  version ${bundle.header.version}  chain ${bundle.anchor.chainId} ${bundle.anchor.contract}`);
  }
  for (const c of r.checks) {
    lines.push(`  ${MARK[c.status]} ${c.check.padEnd(16)} ${c.status.padEnd(8)} ${String(c.code).padStart(3)} ${c.reason}: ${c.message}`);
  }
  return lines.join("\n");
}

/**
 * Parses `argv` (without node and script) and runs; returns the exit code. Output goes to `out`/`err`.
 * @example process.exitCode = await main(["licence.pdf", "--bundle", "b.json", "--offline"])
 */
export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const program = new Command()
    .name("tongban-verify")
    .description("Verify a Tongban e-material file against its proof bundle")
    .argument("<file>", "the material file")
    .requiredOption("--bundle <path>", "the proof bundle (JSON)")
    .option("--rpc <url>", "JSON-RPC URL of a node of the ledger's chain (online verification)")
    .option("--offline", "verify without a chain; chain checks are SKIPPED and tolerated")
    .option("--ledger <address>", "the ledger contract you trust; bundles naming another fail")
    .option("--at <time>", "judge the validity window at this ISO time or unix seconds (default now)")
    .option("--require-seal", "fail when the bundle carries no issuer e-seal")
    .option("--json", "print the result as JSON")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  let file: string;
  let opts: { bundle: string; rpc?: string; offline?: boolean; ledger?: string; at?: string; requireSeal?: boolean; json?: boolean };
  try {
    program.parse(argv, { from: "user" });
    file = program.args[0]!;
    opts = program.opts();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  let at: Date | number | undefined;
  if (opts.at !== undefined) {
    at = /^\d+$/.test(opts.at) ? Number(opts.at) : new Date(opts.at);
    if (at instanceof Date && Number.isNaN(at.getTime())) { err(`invalid --at ${opts.at}\n`); return 2; }
  }
  const outcome = await runVerifyCommand({
    file, bundle: opts.bundle, rpc: opts.rpc, offline: opts.offline, ledger: opts.ledger, at, requireSeal: opts.requireSeal,
  });
  if (opts.json) {
    out(JSON.stringify(outcome.result ?? { ok: false, error: outcome.error }, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
  } else if (outcome.result) {
    let bundle: ProofBundle | undefined;
    try { bundle = loadBundle(await readFile(opts.bundle, "utf8")); } catch { /* already reported */ }
    out(formatVerification(outcome.result, bundle) + "\n");
  } else {
    err(`${outcome.error!.name}: ${outcome.error!.message}\n`);
  }
  return outcome.exitCode;
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`tongban-verify: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
}
