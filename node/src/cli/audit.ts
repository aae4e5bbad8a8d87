/**
 * CLI verbs of the exchange, grants and audit (all through the node's HTTP API):
 *
 *   tongban exchange fetch --custodian <uscc> --grant <id> --material <leaf> --matter <code> [--out file]
 *   tongban grant create --holder-type RESIDENT_ID --holder-id <n> | --holder-ref <hex> --grantee <uscc>
 *                        --matter <code> --type BL [--type ...] | --material <leaf> ... --not-after <date>
 *                        --max-uses <n> --evidence-hash <hex> [--not-before <date>]
 *   tongban grant delegate <parentGrantId> --grantee <member> --max-uses <n> [--type T ...] [--material L ...]
 *                          [--not-before d] [--not-after d] [--salt hex]      (as the parent's grantee, e.g. an agent)
 *                          [--signature <hex> --signer <addr> --nonce <n> --deadline <d>]
 *                                  (relay the grantee's signed delegation from any member's node)
 *   tongban grant sign-delegation <parentGrantId> --key-file <f> --deadline <d> --grantee <member> --max-uses <n>
 *                          [--type/--material/--not-before/--not-after as delegate]   (the agent signs, offline key;
 *                          prints the signature fields for `grant delegate --signature`)
 *   tongban grant revoke <grantId> [--evidence-hash <hex> | --holder-signature <hex> --signer <addr> --nonce <n>
 *                        --deadline <d>]   |   tongban grant show <grantId>
 *   tongban audit history --holder-type T --holder-id N | --holder-ref H | --material L | --member M |
 *                         --matter X | --grant G  [--from d] [--to d] [--limit n] [--csv] [--json] [--out f]
 *   tongban audit heads   |   tongban audit check [--peer-url u --peer-token-file f]
 *   tongban keystore add-ops-key --keystore <file> [--password-file f]
 *
 * `audit history` checks every record's proof itself (SDK verifyInclusion: the leaf hash of the canonical
 * record, its audit path, against the root of the head ANCHORED ON CHAIN as the node read it from the chain;
 * records newer than the anchored head against the node's signed head) and exits 1 if any proof fails.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { bytesToHex, delegateGrant, getGrant, logLeafHash, revokeGrant, signNodeDelegation, verifyInclusion, type NodeClient } from "@tongban/sdk";

export interface CliHelpers {
  withConn(c: Command): Command;
  client(o: ConnOpts): NodeClient;
  out(v: unknown): void;
  action<A extends unknown[]>(f: (...a: A) => Promise<void>): (...a: A) => Promise<void>;
}

interface ConnOpts {
  url?: string;
  token?: string;
  tokenFile?: string;
}

/** An HTTP call to the node; a non-2xx answer throws its `{code, message, details}`. */
export async function call(c: NodeClient, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const r = await c.fetch(`${c.url}${path}`, {
    method,
    headers: { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(c.timeoutMs),
  });
  const text = await r.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (r.status >= 400) {
    throw Object.assign(new Error(parsed?.message ?? `HTTP ${r.status}`), { code: parsed?.code ?? `HTTP_${r.status}`, details: { status: r.status, ...(parsed?.details ?? {}) } });
  }
  return { status: r.status, body: parsed, text };
}

const usage = (msg: string, option: string) => Object.assign(new Error(msg), { code: "USAGE", details: { option } });
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Check each record of a history answer: leaf hash of the encoding, inclusion in the chain's (or signed) head. */
export function checkHistory(h: any): { seq: number; direction: string; ok: boolean; against: string; reason: string }[] {
  return (h.records ?? []).map((r: any) => {
    const leafOk = bytesToHex(logLeafHash(Buffer.from(String(r.encoded).slice(2), "hex"))) === r.leafHash;
    let root: string | undefined;
    let against: string;
    if (r.anchored) {
      root = h.chainHead?.treeSize === r.treeSize ? h.chainHead.rootHash : undefined;
      against = root ? `head ${r.treeSize} anchored on chain (block ${h.chainHead.anchoredBlock})` : `head ${r.treeSize}: not found on chain`;
    } else {
      root = h.signedHead?.size === r.treeSize ? h.signedHead.root : undefined;
      against = `head ${r.treeSize} signed by ${h.signedHead?.signer ?? "?"} (anchoring pending)`;
    }
    const v = root ? verifyInclusion(r.leafHash, r.record.seq, r.treeSize, r.proof, root) : { status: "NO_HEAD", reason: "no head to check against" };
    const ok = leafOk && v.status === "VALID";
    return { seq: r.record.seq, direction: r.record.direction, ok, against, reason: leafOk ? String((v as { reason?: string }).reason ?? v.status) : "leaf hash does not match the record" };
  });
}

export function registerAuditCommands(p: Command, h: CliHelpers): void {
  // ------------------------------------------------------------------------------------------- exchange
  const ex = p.command("exchange").description("obtain materials held by other members (libp2p, under a grant)");
  h.withConn(
    ex
      .command("fetch")
      .description("fetch a material from its custodian's node under a grant; verified against its anchored leaf")
      .requiredOption("--custodian <member>", "custodian member: USCC or bytes32 id")
      .requiredOption("--grant <id>", "grant id (0x, 32 bytes)")
      .requiredOption("--material <leaf>", "material id (its leaf)")
      .requiredOption("--matter <code>", "matter (事项) code")
      .option("--out <file>", "write the content to a file (default: print the answer with base64 content)")
      .option("--timeout-ms <n>", "deadline", (v) => Number(v)),
  ).action(
    h.action(async (o: ConnOpts & { custodian: string; grant: string; material: string; matter: string; out?: string; timeoutMs?: number }) => {
      const r = await call(h.client(o), "POST", "/v1/exchange/fetch", {
        custodian: o.custodian, grantId: o.grant, materialId: o.material, matter: o.matter, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      });
      if (o.out) {
        writeFileSync(o.out, Buffer.from(r.body.content, "base64"));
        const { content: _c, ...rest } = r.body;
        h.out({ ...rest, writtenTo: o.out });
      } else h.out(r.body);
    }),
  );

  // ---------------------------------------------------------------------------------------------- grants
  type DelegateOpts = { grantee: string; maxUses: number; type?: string[]; material?: string[]; notBefore?: string; notAfter?: string };
  const delegateOptions = (c: Command): Command =>
    c
      .requiredOption("--grantee <member>", "the member the grant is delegated to: USCC or bytes32 id")
      .requiredOption("--max-uses <n>", "number of uses (<= the parent's uses left)", (v) => Number(v))
      .option("--type <code>", "material type in scope, a subset of the parent's (repeatable; default: the parent's scope)", collect)
      .option("--material <leaf>", "material in scope, a subset of the parent's (repeatable)", collect)
      .option("--not-before <date>", "unix seconds or ISO date (default: the parent's)")
      .option("--not-after <date>", "unix seconds or ISO date (default: the parent's)");
  const checkMaxUses = (n: number) => {
    if (!Number.isInteger(n) || n < 1) throw usage("--max-uses must be an integer >= 1", "max-uses");
  };
  const delegateTerms = (o: DelegateOpts) => ({
    grantee: o.grantee,
    maxUses: o.maxUses,
    ...(o.type?.length ? { typeCodes: o.type } : {}),
    ...(o.material?.length ? { materialIds: o.material } : {}),
    ...(o.notBefore ? { notBefore: unix(o.notBefore, "not-before") } : {}),
    ...(o.notAfter ? { notAfter: unix(o.notAfter, "not-after") } : {}),
  });
  const gr = p.command("grant").description("grants (授权): record a holder's consent as identity provider, delegate, revoke, show");
  h.withConn(
    gr
      .command("create")
      .description("as identity-provider member: record a holder's consent as a grant to a grantee member")
      .option("--holder-type <type>", "holder ID type", "RESIDENT_ID")
      .option("--holder-id <number>", "holder ID number (keyed into a holderRef by the node)")
      .option("--holder-ref <hex>", "keyed holder reference instead of the ID")
      .requiredOption("--grantee <member>", "grantee member: USCC or bytes32 id")
      .requiredOption("--matter <code>", "matter (事项) code")
      .option("--type <code>", "material type in scope (repeatable)", collect)
      .option("--material <leaf>", "material in scope (repeatable)", collect)
      .option("--not-before <date>", "unix seconds or ISO date (default now)")
      .requiredOption("--not-after <date>", "unix seconds or ISO date")
      .requiredOption("--max-uses <n>", "number of uses", (v) => Number(v))
      .requiredOption("--evidence-hash <hex>", "hash of the consent record at the identity platform"),
  ).action(
    h.action(async (o: ConnOpts & { holderType: string; holderId?: string; holderRef?: string; grantee: string; matter: string; type?: string[]; material?: string[]; notBefore?: string; notAfter: string; maxUses: number; evidenceHash: string }) => {
      if (!o.holderId && !o.holderRef) throw usage("--holder-id or --holder-ref is required", "holder-id");
      if (!o.type?.length && !o.material?.length) throw usage("--type or --material is required (the grant's scope)", "type");
      const r = await call(h.client(o), "POST", "/v1/grants", {
        ...(o.holderId ? { holder: { idType: o.holderType, idNumber: o.holderId } } : { holderRef: o.holderRef }),
        grantee: o.grantee,
        matter: o.matter,
        ...(o.type?.length ? { typeCodes: o.type } : {}),
        ...(o.material?.length ? { materialIds: o.material } : {}),
        ...(o.notBefore ? { notBefore: unix(o.notBefore, "not-before") } : {}),
        notAfter: unix(o.notAfter, "not-after"),
        maxUses: o.maxUses,
        evidenceHash: o.evidenceHash,
      });
      h.out(r.body);
    }),
  );
  h.withConn(
    delegateOptions(
      gr
        .command("delegate <parentGrantId>")
        .description("as the parent grant's grantee (e.g. an agent, 代办人): delegate part of it to another member (a department); or relay the grantee's signed delegation (--signature); idempotent"),
    )
      .option("--salt <hex>", "bytes32; default derived from the parent and the terms (a re-run names the same child)")
      .option("--signature <hex>", "relay the parent grantee's EIP-712 GranteeDelegation signature (grant sign-delegation; SDK signDelegation): any member's node may submit it")
      .option("--signer <address>", "the grantee's account that signed (with --signature)")
      .option("--nonce <n>", "the grantee member's delegation nonce signed (with --signature)")
      .option("--deadline <date>", "the deadline signed, unix seconds or ISO date (with --signature)"),
  ).action(
    h.action(async (parent: string, o: ConnOpts & DelegateOpts & { salt?: string; signature?: string; signer?: string; nonce?: string; deadline?: string }) => {
      checkMaxUses(o.maxUses);
      let delegatorSignature;
      if (o.signature) {
        if (o.salt) throw usage("give --salt or --signature, not both (a signed delegation's salt is its nonce)", "salt");
        for (const [k, v] of [["signer", o.signer], ["nonce", o.nonce], ["deadline", o.deadline]] as const) if (!v) throw usage(`--${k} is required with --signature`, k);
        if (!/^[0-9]{1,78}$/.test(o.nonce!)) throw usage("--nonce must be a decimal integer", "nonce");
        delegatorSignature = { nonce: o.nonce!, deadline: unix(o.deadline!, "deadline"), signer: o.signer!, signature: o.signature };
      } else {
        for (const [k, v] of [["signer", o.signer], ["nonce", o.nonce], ["deadline", o.deadline]] as const) if (v) throw usage(`--${k} goes with --signature`, k);
      }
      h.out(
        await delegateGrant(h.client(o), {
          grantId: parent,
          ...delegateTerms(o),
          ...(o.salt ? { salt: o.salt } : {}),
          ...(delegatorSignature ? { delegatorSignature } : {}),
        }),
      );
    }),
  );
  h.withConn(
    delegateOptions(
      gr
        .command("sign-delegation <parentGrantId>")
        .description("as the parent grant's grantee (an agent, 代办人): sign a delegation with one of its member's account keys (reads the parent, the nonce and the EIP-712 domain through the node; sends nothing); prints the fields for `grant delegate --signature`")
        .requiredOption("--key-file <file>", "file holding the signing account's private key (0x + 64 hex): a current account of the parent's grantee member")
        .requiredOption("--deadline <date>", "unix seconds or ISO date: the delegation must be submitted before it"),
    ),
  ).action(
    h.action(async (parent: string, o: ConnOpts & DelegateOpts & { keyFile: string; deadline: string }) => {
      checkMaxUses(o.maxUses);
      const key = readFileSync(o.keyFile, "utf8").trim();
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw usage("--key-file must hold a 32-byte private key in hex", "key-file");
      const req = await signNodeDelegation(h.client(o), key.startsWith("0x") ? key : `0x${key}`, { grantId: parent, ...delegateTerms(o), deadline: unix(o.deadline, "deadline") });
      h.out(req);
    }),
  );
  h.withConn(
    gr
      .command("revoke <grantId>")
      .description("revoke (and everything delegated below it) as grantor, as identity provider with --evidence-hash, or relay the holder's signature; idempotent")
      .option("--evidence-hash <hex>", "identity-provider revocation on the holder's behalf")
      .option("--holder-signature <hex>", "the holder's EIP-712 HolderRevoke signature (SDK signGrantRevocation)")
      .option("--signer <address>", "the holder's bound key that signed (with --holder-signature)")
      .option("--nonce <n>", "the holder nonce signed (with --holder-signature)")
      .option("--deadline <date>", "the deadline signed, unix seconds or ISO date (with --holder-signature)"),
  ).action(
    h.action(async (grantId: string, o: ConnOpts & { evidenceHash?: string; holderSignature?: string; signer?: string; nonce?: string; deadline?: string }) => {
      if (o.holderSignature) {
        if (o.evidenceHash) throw usage("give --evidence-hash or --holder-signature, not both", "holder-signature");
        for (const [k, v] of [["signer", o.signer], ["nonce", o.nonce], ["deadline", o.deadline]] as const) if (!v) throw usage(`--${k} is required with --holder-signature`, k);
        h.out(await revokeGrant(h.client(o), { grantId, holderSignature: { nonce: o.nonce!, deadline: unix(o.deadline!, "deadline"), signer: o.signer!, signature: o.holderSignature } }));
      } else if (o.evidenceHash) h.out(await revokeGrant(h.client(o), { grantId, evidenceHash: o.evidenceHash }));
      else h.out(await revokeGrant(h.client(o), { grantId }));
    }),
  );
  h.withConn(gr.command("show <grantId>").description("a grant and its status on chain")).action(
    h.action(async (grantId: string, o: ConnOpts) => h.out(await getGrant(h.client(o), { grantId }))),
  );

  // ----------------------------------------------------------------------------------------------- audit
  const au = p.command("audit").description("data-use history with proofs, heads, audit check");
  h.withConn(
    au
      .command("history")
      .description("data-use history of a holder, a material, a member, a matter or a grant; every proof checked")
      .option("--holder-type <type>", "holder ID type", "RESIDENT_ID")
      .option("--holder-id <number>", "holder ID number (sent in the request body, never in a URL)")
      .option("--holder-ref <hex>", "keyed holder reference")
      .option("--material <leaf>", "material id")
      .option("--member <member>", "member: USCC or bytes32 id")
      .option("--matter <code>", "matter code")
      .option("--grant <id>", "grant id")
      .option("--from <date>", "unix seconds or ISO date")
      .option("--to <date>", "unix seconds or ISO date")
      .option("--limit <n>", "at most this many records", (v) => Number(v))
      .option("--csv", "CSV export (the node's format) instead of JSON")
      .option("--json", "print the node's full JSON answer (with proofs) instead of the summary")
      .option("--out <file>", "write the export to a file"),
  ).action(
    h.action(async (o: ConnOpts & { holderType: string; holderId?: string; holderRef?: string; material?: string; member?: string; matter?: string; grant?: string; from?: string; to?: string; limit?: number; csv?: boolean; json?: boolean; out?: string }) => {
      const c = h.client(o);
      const keys = [o.holderId && "holder-id", o.holderRef && "holder-ref", o.material && "material", o.member && "member", o.matter && "matter", o.grant && "grant"].filter(Boolean);
      if (keys.length !== 1) throw usage("give exactly one of --holder-id, --holder-ref, --material, --member, --matter, --grant", "holder-id");
      const range = { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), ...(o.limit ? { limit: o.limit } : {}) };
      const fmt = o.csv ? "csv" : "json";
      let r;
      if (o.holderId) r = await call(c, "POST", `/v1/audit/history/holder?format=${fmt}`, { idType: o.holderType, idNumber: o.holderId, ...range });
      else {
        const [by, key] = o.holderRef ? ["holder-ref", o.holderRef] : o.material ? ["material", o.material] : o.member ? ["member", o.member] : o.matter ? ["matter", o.matter] : ["grant", o.grant!];
        const qs = new URLSearchParams({ format: fmt, ...Object.fromEntries(Object.entries(range).map(([k, v]) => [k, String(v)])) });
        r = await call(c, "GET", `/v1/audit/history/${by}/${encodeURIComponent(key)}?${qs}`);
      }
      if (o.csv) {
        if (o.out) writeFileSync(o.out, r.text);
        else process.stdout.write(r.text);
        return;
      }
      if (o.out) writeFileSync(o.out, JSON.stringify(r.body, null, 2));
      const checks = checkHistory(r.body);
      if (o.json && !o.out) h.out(r.body);
      else {
        h.out({
          logId: r.body.logId,
          anchoredHead: r.body.anchoredHead,
          chainHead: r.body.chainHead,
          truncated: r.body.truncated,
          records: r.body.records.map((x: any, i: number) => ({ ...x.record, treeSize: x.treeSize, anchored: x.anchored, proof: checks[i]!.ok ? "VALID" : "INVALID", against: checks[i]!.against, ...(checks[i]!.ok ? {} : { reason: checks[i]!.reason }) })),
        });
      }
      if (checks.some((x) => !x.ok)) {
        process.stderr.write(JSON.stringify({ code: "PROOF_INVALID", message: `${checks.filter((x) => !x.ok).length} record(s) failed their proof`, details: { seqs: checks.filter((x) => !x.ok).map((x) => x.seq) } }) + "\n");
        process.exitCode = 1;
      }
    }),
  );
  h.withConn(au.command("heads").description("the node's use log: size, signed head, heads anchored on chain")).action(
    h.action(async (o: ConnOpts) => h.out((await call(h.client(o), "GET", "/v1/audit/heads")).body)),
  );
  h.withConn(
    au
      .command("check")
      .description("audit check of the node's log against its heads on chain; with --peer-url, reconcile with that member's log")
      .option("--peer-url <url>", "the peer node's API URL")
      .option("--peer-token-file <file>", "token for the peer node"),
  ).action(
    h.action(async (o: ConnOpts & { peerUrl?: string; peerTokenFile?: string }) => {
      const c = h.client(o);
      let body: unknown = {};
      if (o.peerUrl) {
        const peer = h.client({ url: o.peerUrl, tokenFile: o.peerTokenFile });
        const me = (await call(c, "GET", "/v1/audit/heads")).body.logId as string;
        const them = (await call(peer, "GET", "/v1/audit/heads")).body.logId as string;
        const records = (await call(peer, "GET", `/v1/audit/history/member/${me}?limit=100000`)).body.records;
        body = { peer: { memberId: them, records } };
      }
      const r = await call(c, "POST", "/v1/audit/check", body);
      h.out(r.body);
      if (!r.body.ok) process.exitCode = 1;
    }),
  );

  // -------------------------------------------------------------------------------------------- keystore
  const ks = p.command("keystore").description("the node's keystore");
  ks.command("add-ops-key")
    .description("add an ops account (second signing key: head anchors, setPeers, grants, catalogue) to a keystore; register the printed address to the member (addAccount) and fund it")
    .requiredOption("--keystore <file>", "keystore file")
    .option("--password-file <file>", "file holding the keystore password (else env TONGBAN_KEYSTORE_PASSWORD)")
    .action(
      h.action(async (o: { keystore: string; passwordFile?: string }) => {
        const pw = o.passwordFile ? readFileSync(o.passwordFile, "utf8").replace(/\r?\n$/, "") : process.env.TONGBAN_KEYSTORE_PASSWORD;
        if (!pw) throw usage("--password-file or env TONGBAN_KEYSTORE_PASSWORD is required", "password-file");
        const { addOpsKey } = await import("../core/keystore.js");
        const k = await addOpsKey(o.keystore, pw);
        h.out({ keystore: o.keystore, signingAccount: k.wallet.address, opsAccount: k.ops!.address });
      }),
    );
}

function unix(v: string, option: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw usage(`--${option} must be unix seconds or an ISO date`, option);
  return Math.floor(t / 1000);
}
