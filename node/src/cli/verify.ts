/**
 * `tongban verify`: explained verification of a proof bundle (and its document) with the SDK's `verify`,
 * against a chain the verifier trusts (`--rpc`) or offline. Prints one line per check and returns the exit
 * code: 0 if every check passed, 1 otherwise.
 */
import { readFileSync } from "node:fs";
import { loadBundle, verify, type VerifyInput } from "@tongban/sdk";

export interface VerifyCliOptions {
  content?: string;
  contentHash?: string;
  rpc?: string;
  /** trusted ledger address (a bundle naming another contract fails) */
  ledger?: string;
  json?: boolean;
  write?: (s: string) => void;
}

export async function runVerify(bundlePath: string, o: VerifyCliOptions): Promise<number> {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  const bundle = loadBundle(readFileSync(bundlePath, "utf8"));
  let input: VerifyInput;
  if (o.content) input = { content: new Uint8Array(readFileSync(o.content)) };
  else if (o.contentHash) input = { contentHash: o.contentHash };
  else input = { contentHash: bundle.header.contentHash };
  const res = await verify(input, bundle, o.rpc ? { provider: o.rpc, ledger: o.ledger } : { offline: true });
  if (o.json) write(JSON.stringify(res, null, 2) + "\n");
  else {
    write(`material ${res.leaf} (${res.mode})${o.content || o.contentHash ? "" : " — no document given: integrity checked against the bundle's own hash"}\n`);
    for (const c of res.checks) write(`  ${c.status.padEnd(8)} ${c.check.padEnd(16)} ${c.reason} (${c.code}) ${c.message}\n`);
    write(res.ok ? "VALID\n" : "NOT VALID\n");
  }
  return res.ok ? 0 : 1;
}
