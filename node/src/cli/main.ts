#!/usr/bin/env node
/**
 * `tongban`: run a member node and talk to one.
 *
 *   tongban node start --config node.json
 *   tongban token new                        # a client token and the hash to list in api.tokens
 *   tongban register --type BIZ_LICENCE --jurisdiction 310104 --file licence.pdf \
 *                    --holder-id 11010519491231002X --valid-from 2026-01-01
 *   tongban status <id> | bundle <id> [--out f] | history <id>
 *   tongban revoke <id> [--reason n] | suspend <id> | reinstate <id>
 *   tongban supersede <id> --file new.pdf ...
 *   tongban import stock.csv [--state f] [--batch 500]
 *   tongban verify licence.pdf --bundle licence.bundle.json --rpc http://...
 *   tongban exchange fetch | grant create|revoke|show | audit history|heads|check | keystore add-ops-key
 *     (see audit.ts)
 *
 * Node URL and token: --url / --token-file, or env TONGBAN_URL / TONGBAN_TOKEN (a token on the command line
 * is visible to other users in `ps`, so --token is accepted but discouraged).
 * Exit codes: 0 ok, 1 refused/failed (the error's code and details are printed as JSON on stderr), 2 usage;
 * `verify`: 0 verified, 1 not verified, 2 unreadable input. `import`: 130 when interrupted (resumable).
 */
import "../polyfill.js";
import { readFileSync, writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import {
  createNodeClient,
  registerMaterials,
  getMaterial,
  getBundle,
  getHistory,
  revokeMaterial,
  suspendMaterial,
  reinstateMaterial,
  supersedeMaterial,
  waitForAnchored,
  NodeApiError,
  TongbanError,
  type NodeClient,
  type NodeMaterialInput,
} from "@tongban/sdk";
import { runImport, toUnix, ImportError } from "./import.js";
import { hashToken, newToken } from "../api/auth.js";
import { runVerify } from "./verify.js";
import { registerAuditCommands } from "./audit.js";
import { registerCatalogueCommands } from "./catalogue.js";

interface ConnOpts {
  url?: string;
  token?: string;
  tokenFile?: string;
}

function client(o: ConnOpts): NodeClient {
  const url = o.url ?? process.env.TONGBAN_URL ?? "http://127.0.0.1:8080";
  const token = o.tokenFile ? readFileSync(o.tokenFile, "utf8").trim() : (o.token ?? process.env.TONGBAN_TOKEN);
  return createNodeClient({ url, token });
}

const out = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + "\n");

/** Print an error as `{code, message, details}` on stderr and set the exit code. */
function fail(e: unknown): void {
  let body: { code: string; message: string; details: unknown };
  if (e instanceof NodeApiError) body = { code: e.code, message: e.message, details: e.details.details };
  else if (e instanceof ImportError) body = { code: "IMPORT", message: e.message, details: e.details };
  else if (e instanceof TongbanError) body = { code: e.name, message: e.message, details: e.details };
  else {
    const x = e as { code?: string; message?: string; details?: unknown };
    body = { code: x?.code ?? "ERROR", message: x?.message ?? String(e), details: x?.details ?? {} };
  }
  process.stderr.write(JSON.stringify(body) + "\n");
  process.exitCode = 1;
}

const action =
  <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
  async (...a: A) => {
    try {
      await f(...a);
    } catch (e) {
      fail(e);
    }
  };

function withConn(c: Command): Command {
  return c
    .option("--url <url>", "node API base URL (env TONGBAN_URL)")
    .option("--token-file <file>", "file holding the API token (env TONGBAN_TOKEN)")
    .addOption(new Option("--token <token>", "API token (visible in ps; prefer --token-file)").hideHelp());
}

function withMaterial(c: Command): Command {
  return c
    .option("--type <code>", "material type catalogue code, e.g. BIZ_LICENCE")
    .option("--jurisdiction <code>", "GB/T 2260 division code, e.g. 310104", (v) => Number(v))
    .option("--file <path>", "document content (the node hashes and stores it encrypted)")
    .option("--content-hash <hex>", "content hash instead of the content")
    .option("--hash-alg <id>", "1 = SHA-256 (default), 2 = SM3", (v) => Number(v))
    .option("--holder-type <type>", "holder ID type", "RESIDENT_ID")
    .option("--holder-id <number>", "holder ID number (turned into a keyed holderRef by the node)")
    .option("--holder-ref <hex>", "keyed holder reference instead of the ID")
    .option("--valid-from <date>", "unix seconds or ISO date")
    .option("--valid-until <date>", "unix seconds or ISO date (default: no end)")
    .option("--issued-at <date>", "unix seconds or ISO date (default: now)")
    .option("--wait", "wait until anchored and print the material");
}

interface MaterialOpts {
  type?: string;
  jurisdiction?: number;
  file?: string;
  contentHash?: string;
  hashAlg?: number;
  holderType: string;
  holderId?: string;
  holderRef?: string;
  validFrom?: string;
  validUntil?: string;
  issuedAt?: string;
  wait?: boolean;
}

function materialFrom(o: MaterialOpts, required: boolean): NodeMaterialInput {
  const miss = (f: string) => {
    throw Object.assign(new Error(`--${f} is required`), { code: "USAGE", details: { option: f } });
  };
  if (required && !o.type) miss("type");
  if (required && !o.jurisdiction) miss("jurisdiction");
  if (!o.validFrom) miss("valid-from");
  if (!o.file && !o.contentHash) miss("file");
  if (!o.holderId && !o.holderRef) miss("holder-id");
  const m: NodeMaterialInput = {
    typeCode: o.type!,
    jurisdiction: o.jurisdiction!,
    validFrom: toUnix(o.validFrom!, "valid-from", "option"),
  };
  if (o.file) m.content = new Uint8Array(readFileSync(o.file));
  if (o.contentHash) m.contentHash = o.contentHash;
  if (o.hashAlg) m.hashAlg = o.hashAlg;
  if (o.holderId) m.holder = { idType: o.holderType, idNumber: o.holderId };
  if (o.holderRef) m.holderRef = o.holderRef;
  if (o.validUntil) m.validUntil = toUnix(o.validUntil, "valid-until", "option");
  if (o.issuedAt) m.issuedAt = toUnix(o.issuedAt, "issued-at", "option");
  return m;
}

export function program(): Command {
  const p = new Command("tongban").description("Tongban member node and client").version("0.1.0").showHelpAfterError();

  const node = p.command("node").description("run a member node");
  node
    .command("start")
    .description("start a node from a config file; stops cleanly on SIGINT/SIGTERM")
    .option("--config <file>", "node config JSON (env TONGBAN_CONFIG)")
    .action(async (o: { config?: string }) => {
      const { runNodeProcess } = await import("../main.js");
      await runNodeProcess(o.config);
    });

  const token = p.command("token").description("API tokens (the node config lists only their hashes)");
  token
    .command("new")
    .description("print a new random token and the hash to put in api.tokens")
    .action(() => out(newToken()));
  token
    .command("hash <token>")
    .description("the api.tokens entry for an existing token")
    .action((t: string) => out({ hash: hashToken(t) }));

  withMaterial(withConn(p.command("register").description("register one material"))).action(
    action(async (o: MaterialOpts & ConnOpts) => {
      const c = client(o);
      const [ack] = await registerMaterials(c, { materials: [materialFrom(o, true)] });
      out(o.wait ? await waitForAnchored(c, { id: ack.id }) : ack);
    }),
  );

  withConn(p.command("status <id>").description("state of a material (node record + chain view)")).action(
    action(async (id: string, o: ConnOpts) => out(await getMaterial(client(o), { id }))),
  );
  withConn(p.command("history <id>").description("chain history of a material")).action(
    action(async (id: string, o: ConnOpts) => out(await getHistory(client(o), { id }))),
  );
  withConn(p.command("bundle <id>").description("proof bundle of an anchored material").option("--out <file>", "write to a file")).action(
    action(async (id: string, o: ConnOpts & { out?: string }) => {
      const b = await getBundle(client(o), { id });
      if (o.out) writeFileSync(o.out, JSON.stringify(b, null, 2));
      else out(b);
    }),
  );
  withConn(p.command("revoke <id>").description("revoke a material (final)").option("--reason <n>", "uint16 reason code", (v) => Number(v), 0)).action(
    action(async (id: string, o: ConnOpts & { reason: number }) => out(await revokeMaterial(client(o), { id, reason: o.reason }))),
  );
  withConn(p.command("suspend <id>").description("suspend a material (reversible)").option("--reason <n>", "uint16 reason code", (v) => Number(v), 0)).action(
    action(async (id: string, o: ConnOpts & { reason: number }) => out(await suspendMaterial(client(o), { id, reason: o.reason }))),
  );
  withConn(p.command("reinstate <id>").description("lift this member's suspension")).action(
    action(async (id: string, o: ConnOpts) => out(await reinstateMaterial(client(o), { id }))),
  );
  withMaterial(withConn(p.command("supersede <id>").description("register the successor of a material"))).action(
    action(async (id: string, o: MaterialOpts & ConnOpts) => {
      const c = client(o);
      const old = await getMaterial(c, { id });
      const m = materialFrom({ ...o, type: o.type ?? old.type, jurisdiction: o.jurisdiction ?? old.jurisdiction }, true);
      const res = await supersedeMaterial(c, { id, material: m });
      out(o.wait ? { ...res, material: await waitForAnchored(c, { id: res.ack.id }) } : res);
    }),
  );

  withConn(
    p
      .command("import <input>")
      .description("register existing stock from a CSV file or a directory of *.json descriptors; resumable")
      .option("--state <file>", "state file (default <input>.import-state.json)")
      .option("--batch <n>", "materials per request", (v) => Number(v), 500)
      .option("--type <code>", "typeCode for rows that leave it empty")
      .option("--jurisdiction <code>", "jurisdiction for rows that leave it empty", (v) => Number(v))
      .option("--no-progress", "no progress bar"),
  ).action(
    action(async (input: string, o: ConnOpts & { state?: string; batch: number; type?: string; jurisdiction?: number; progress: boolean }) => {
      const ac = new AbortController();
      const onSig = () => {
        if (ac.signal.aborted) process.exit(130);
        process.stderr.write("\ninterrupted: finishing the request in flight, then saving the state (again to quit now)\n");
        ac.abort();
      };
      process.on("SIGINT", onSig);
      process.on("SIGTERM", onSig);
      const bar = o.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: "import [{bar}] {value}/{total} {percentage}% eta {eta}s" }, cliProgress.Presets.shades_classic) : undefined;
      let begun = false;
      try {
        const res = await runImport({
          input,
          client: client(o),
          statePath: o.state,
          batchSize: o.batch,
          defaults: { ...(o.type ? { typeCode: o.type } : {}), ...(o.jurisdiction ? { jurisdiction: o.jurisdiction } : {}) },
          signal: ac.signal,
          onProgress: (done, total) => {
            if (!bar) return;
            if (!begun) bar.start(total, done);
            begun = true;
            bar.update(done);
          },
        });
        bar?.stop();
        out(res);
        if (!res.complete) process.exitCode = 130;
      } finally {
        bar?.stop();
        process.off("SIGINT", onSig);
        process.off("SIGTERM", onSig);
      }
    }),
  );

  p.command("verify <file>")
    .description("verify a document against its proof bundle on a chain you trust (the SDK's verifier; no node needed)")
    .requiredOption("--bundle <path>", "the proof bundle (JSON), e.g. from `tongban bundle <id> --out`")
    .option("--rpc <url>", "JSON-RPC URL of the ledger's chain (env TONGBAN_RPC); without it use --offline")
    .option("--offline", "verify without a chain; chain checks are SKIPPED and tolerated")
    .option("--ledger <address>", "the ledger contract you trust; bundles naming another fail")
    .option("--at <time>", "judge the validity window at this ISO time or unix seconds (default now)")
    .option("--require-seal", "fail when the bundle carries no issuer e-seal")
    .option("--json", "print the result as JSON")
    .action(
      action(async (file: string, o: { bundle: string; rpc?: string; offline?: boolean; ledger?: string; at?: string; requireSeal?: boolean; json?: boolean }) => {
        process.exitCode = await runVerify(file, { ...o, rpc: o.rpc ?? process.env.TONGBAN_RPC });
      }),
    );
  registerAuditCommands(p, { withConn, client, out, action });
  registerCatalogueCommands(p, { withConn, client, out, action });
  return p;
}

await program().parseAsync(process.argv);
