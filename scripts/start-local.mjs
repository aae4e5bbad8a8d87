#!/usr/bin/env node
// The main job: a local consortium on an embedded chain.
//   1. starts the Hardhat network as a JSON-RPC node on 127.0.0.1 (in memory),
//   2. deploys TongbanLedger and bootstraps the consortium in config/local-consortium.json
//      (jurisdictions, material types, members, roles, entitlements, M-of-N threshold; bootstrap closed),
//   3. gives every member a node: an encrypted keystore (two fresh accounts, both registered to the member and
//      funded: the signing account for material anchoring and the ops account for every other write; the
//      shared holder-reference key), an API token and a config under .tongban/local/<member>/, and starts it
//      as its own process; the nodes join one libp2p network (peers published on chain with setPeers),
//   4. registers demo materials at the district bureaus, waits until they are anchored and verifies one
//      bundle with the SDK over the chain,
//   5. exchange demo: the Big Data Centre (identity provider) records a holder's consent as a grant letting
//      Pudong's bureau obtain one of Xuhui's licences; Pudong fetches it from Xuhui's node over libp2p through
//      its HTTP API and verifies it; a member without the grant is refused; the use appears in both nodes'
//      audit history with an inclusion proof checked against the head anchored on chain,
//   6. prints each node's API and docs address, and runs until Ctrl-C, which stops everything.
// Every start begins afresh: the chain lives in memory, so .tongban/local/ is reset with it.
//
// Usage: npm start [-- --chain-port 8545 --api-port-base 7101 --demo 100 --no-demo --exit-after-demo]
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const need = (p) => {
  if (!existsSync(join(ROOT, p))) {
    console.error(`start-local: ${p} is missing; run "npm run build" first (npm start does it for you)`);
    process.exit(1);
  }
};
need("node/dist/main.js");
need("sdk/dist/index.js");

await import(join(ROOT, "node/dist/polyfill.js"));
const { JsonRpcProvider, Wallet, HDNodeWallet, Mnemonic, parseEther, keccak256, toUtf8Bytes } = await import("ethers");
const sdk = await import("@tongban/sdk");
const { loadConsortiumSpec, deployConsortium } = await import(join(ROOT, "node/dist/consortium/index.js"));
const { createKeystore, LIGHT_SCRYPT } = await import(join(ROOT, "node/dist/core/keystore.js"));
const { newToken } = await import(join(ROOT, "node/dist/api/auth.js"));

const { values: args } = parseArgs({
  options: {
    "chain-port": { type: "string", default: "8545" },
    spec: { type: "string", default: join(ROOT, "config/local-consortium.json") },
    dir: { type: "string", default: join(ROOT, ".tongban/local") },
    demo: { type: "string", default: "100" },
    "no-demo": { type: "boolean", default: false },
    "exit-after-demo": { type: "boolean", default: false },
    "api-port-base": { type: "string" },
  },
});

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const devKey = (i) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${i}`).privateKey;
const children = [];
const say = (msg) => process.stdout.write(`[tongban] ${msg}\n`);

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

async function rpcUp(url) {
  try {
    const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
    return r.ok;
  } catch {
    return false;
  }
}

/** Spawn a child whose output goes to a log file; remember it so Ctrl-C stops it. */
function startChild(name, cmd, argv, logFile, opts = {}) {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  children.push({ name, child });
  child.once("exit", (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); see ${logFile}. Stopping the consortium.`);
      void shutdown(1);
    }
  });
  return child;
}

function waitForLine(child, pattern, timeoutMs, what) {
  return new Promise((res, rej) => {
    let buf = "";
    const t = setTimeout(() => rej(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.stdout.on("data", (d) => {
      buf += d;
      const m = buf.match(pattern);
      if (m) {
        clearTimeout(t);
        res(m);
      }
    });
    child.once("exit", () => rej(new Error(`${what} exited before it was ready`)));
  });
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say("stopping: member nodes first, then the chain");
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 8000);
    await gone;
    clearTimeout(t);
  }
  say("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// Whatever fails after the chain started (a deploy error, a node that cannot start...), stop the children
// instead of leaving an orphaned chain or node process behind.
const fail = (e) => {
  console.error(`start-local: ${e?.stack ?? e}`);
  void shutdown(1);
};
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

// ---------------------------------------------------------------------------------------------------- demo data
const RID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A resident ID number (GB 11643) with a correct check character, for demo holders. */
function demoResidentId(division, i) {
  const birth = `19${String(60 + (i % 40)).padStart(2, "0")}${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}`;
  const body = `${division}${birth}${String(i % 1000).padStart(3, "0")}`;
  const s = [...body].reduce((acc, d, k) => acc + Number(d) * RID_W[k], 0);
  return body + "10X98765432"[s % 11];
}

async function waitAnchored(client, ids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    for (;;) {
      const m = await sdk.getMaterial(client, { id });
      if (m.state === "anchored") break;
      if (m.state === "failed") throw new Error(`material ${id} failed to anchor`);
      if (Date.now() > deadline) throw new Error(`material ${id} not anchored within ${timeoutMs / 1000} s (state ${m.state})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// ---------------------------------------------------------------------------------------------------- main
const spec = loadConsortiumSpec(args.spec);
if (args["api-port-base"]) spec.members.forEach((m, i) => (m.apiPort = Number(args["api-port-base"]) + i));
const chainPort = Number(args["chain-port"]);
const chainUrl = `http://127.0.0.1:${chainPort}`;
const p2pPorts = args["api-port-base"] ? [] : spec.members.filter((m) => m.p2pPort).map((m) => [`${m.key} p2p`, m.p2pPort]);
for (const [what, port] of [["chain", chainPort], ...spec.members.map((m) => [`${m.key} API`, m.apiPort]), ...p2pPorts]) {
  if (!(await portFree(port))) {
    console.error(`start-local: port ${port} (${what}) on 127.0.0.1 is in use; stop what holds it or pass --chain-port / edit ${args.spec}`);
    process.exit(1);
  }
}
rmSync(args.dir, { recursive: true, force: true });
mkdirSync(args.dir, { recursive: true });

say(`starting the embedded chain (Hardhat network, london) on ${chainUrl}`);
startChild("chain", join(ROOT, "node_modules/.bin/hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(chainPort)], join(args.dir, "chain.log"));
for (let i = 0; !(await rpcUp(chainUrl)); i++) {
  if (i > 240) {
    say(`the chain did not answer on ${chainUrl}; see ${join(args.dir, "chain.log")}`);
    await shutdown(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
const provider = new JsonRpcProvider(chainUrl, undefined, { cacheTimeout: -1, staticNetwork: true });
const admin = new Wallet(devKey(0), provider);
const funder = new Wallet(devKey(1), provider);

// One holder-reference key for the whole consortium: member nodes hold it, the chain never sees it.
const holderKey = randomBytes(32);
const members = [];
for (const m of spec.members) {
  const dir = join(args.dir, m.key);
  mkdirSync(dir, { recursive: true });
  const password = randomBytes(24).toString("base64url");
  writeFileSync(join(dir, "keystore.password"), password, { mode: 0o600 });
  const keys = await createKeystore(join(dir, "keystore.json"), password, { holderKey, scrypt: LIGHT_SCRYPT });
  const { token, hash } = newToken();
  writeFileSync(join(dir, "api-token"), token + "\n", { mode: 0o600 });
  members.push({ spec: m, dir, account: keys.wallet.address, opsAccount: keys.ops.address, token, tokenHash: hash });
}
// Sent one after another: an automining chain cannot queue a nonce that arrives before its predecessor.
const funding = [];
for (const m of members) {
  funding.push(await funder.sendTransaction({ to: m.account, value: parseEther("1000") }));
  funding.push(await funder.sendTransaction({ to: m.opsAccount, value: parseEther("100") }));
}
await Promise.all(funding.map((tx) => tx.wait()));

say(`deploying TongbanLedger, Authorisations, DataCatalogue and bootstrapping ${spec.members.length} members (2 accounts each) from ${args.spec}`);
const deployed = await deployConsortium(admin, spec, { accounts: Object.fromEntries(members.map((m) => [m.spec.key, [m.account, m.opsAccount]])) });
say(`ledger ${deployed.ledgerAddress} (chain ${deployed.chainId}, block ${deployed.deployBlock}); bootstrap closed, threshold ${spec.governance.threshold}`);
writeFileSync(join(args.dir, "consortium.json"), JSON.stringify({ chainUrl, ...deployed, chainId: String(deployed.chainId) }, null, 2));

for (const m of members) {
  const config = {
    dataDir: "./data",
    rpcUrls: [chainUrl],
    ledgerAddress: deployed.ledgerAddress,
    memberId: m.spec.uscc,
    confirmations: 0,
    batchIntervalMs: 1000,
    keystorePath: "./keystore.json",
    keystorePasswordFile: "./keystore.password",
    api: { host: "127.0.0.1", port: m.spec.apiPort, tokens: [m.tokenHash] },
    indexer: { startBlock: deployed.deployBlock },
    catalogue: { address: deployed.catalogueAddress, startBlock: deployed.deployBlock },
    authorisations: { address: deployed.authorisationsAddress },
    p2p: { listen: [`/ip4/127.0.0.1/tcp/${args["api-port-base"] ? 0 : (m.spec.p2pPort ?? 0)}`], publish: true, directoryRefreshMs: 1000 },
    audit: { anchorIntervalMs: 1000 },
    logLevel: "info",
  };
  m.configFile = join(m.dir, "node.json");
  writeFileSync(m.configFile, JSON.stringify(config, null, 2));
}

say("starting member nodes");
await Promise.all(
  members.map(async (m) => {
    const child = startChild(m.spec.key, process.execPath, [join(ROOT, "node/dist/main.js"), "--config", m.configFile], join(m.dir, "node.log"));
    const [, url] = await waitForLine(child, /"event":"listening","url":"([^"]+)"/, 60_000, `node ${m.spec.key}`);
    m.url = url;
    m.client = sdk.createNodeClient({ url, token: m.token });
  }),
);

if (!args["no-demo"]) {
  const n = Math.max(1, Number(args.demo) || 100);
  const issuers = members.filter((m) => (m.spec.entitlements ?? []).some((e) => e.type === "BL"));
  for (const m of issuers) {
    const { jurisdiction } = m.spec.entitlements.find((e) => e.type === "BL");
    const now = Math.floor(Date.now() / 1000);
    const materials = Array.from({ length: n }, (_, i) => ({
      typeCode: "BL",
      jurisdiction,
      content: Buffer.from(`Business licence #${i} issued by ${m.spec.name} (${m.spec.uscc}) at ${now}`).toString("base64"),
      holder: { idType: "RESIDENT_ID", idNumber: demoResidentId(String(jurisdiction), i) },
      issuedAt: now,
      validFrom: now,
      validUntil: now + 5 * 365 * 86400,
    }));
    const t0 = Date.now();
    const acks = await sdk.registerMaterials(m.client, { materials, idempotencyKey: `demo-${m.spec.key}` });
    m.demo = { acks, holders: materials.map((x) => x.holder) };
    await waitAnchored(m.client, acks.map((a) => a.id), 60_000);
    say(`${m.spec.key}: ${acks.length} demo business licences registered and anchored in ${Date.now() - t0} ms`);
    const first = acks[0].id;
    const bundle = sdk.loadBundle(await sdk.getBundle(m.client, { id: first }));
    const content = await sdk.getContent(m.client, { id: first });
    const result = await sdk.verify({ content }, bundle, { provider: chainUrl, ledger: deployed.ledgerAddress });
    say(`${m.spec.key}: verified material ${first.slice(0, 18)}… over the chain: ${result.ok ? "all checks VALID" : "NOT VALID"} (${result.checks.map((c) => `${c.check}=${c.status}`).join(", ")})`);
    if (!result.ok) await shutdown(1);
  }
}

// Exchange demo: a holder's consent (recorded by the identity provider) lets Pudong obtain a Xuhui licence.
const api = async (m, method, path, body) => {
  const r = await fetch(`${m.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${m.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: await r.json() };
};
const byKey = (k) => members.find((m) => m.spec.key === k);
if (!args["no-demo"] && byKey("bdc") && byKey("xuhui")?.demo && byKey("pudong")) {
  const [idp, custodian, requester] = [byKey("bdc"), byKey("xuhui"), byKey("pudong")];
  const holder = custodian.demo.holders[0];
  const materialId = custodian.demo.acks[0].id;
  const matter = "ENTERPRISE_CHANGE_REG";
  const now = Math.floor(Date.now() / 1000);
  // the consent record at the unified identity platform is off chain; the grant carries its hash
  const evidenceHash = keccak256(toUtf8Bytes(`demo consent ${randomBytes(16).toString("hex")} at ${now}`));
  const g = await api(idp, "POST", "/v1/grants", {
    holder, grantee: requester.spec.uscc, matter, typeCodes: ["BL"], notAfter: now + 86400, maxUses: 5, evidenceHash,
  });
  if (g.status !== 201) throw new Error(`grant refused: ${g.status} ${JSON.stringify(g.body)}`);
  say(`${idp.spec.key}: recorded the holder's consent as grant ${g.body.grantId.slice(0, 18)}… (grantee ${requester.spec.key}, matter ${matter}, type BL, 5 uses) in block ${g.body.blockNumber}`);
  const t0 = Date.now();
  const f = await api(requester, "POST", "/v1/exchange/fetch", { custodian: custodian.spec.uscc, grantId: g.body.grantId, materialId, matter });
  if (f.status !== 200) throw new Error(`fetch refused: ${f.status} ${JSON.stringify(f.body)}`);
  const text = Buffer.from(f.body.content, "base64").toString("utf8");
  say(`${requester.spec.key}: fetched ${materialId.slice(0, 18)}… from ${custodian.spec.key}'s node over libp2p in ${Date.now() - t0} ms (${f.body.contentBytes} bytes: "${text.slice(0, 40)}…"); verified against its anchored leaf: ${f.body.verification.ok ? "all checks VALID" : "NOT VALID"}`);
  if (!f.body.verification.ok) await shutdown(1);
  const refused = await api(idp, "POST", "/v1/exchange/fetch", { custodian: custodian.spec.uscc, grantId: g.body.grantId, materialId, matter });
  say(`${idp.spec.key}: the same fetch without being the grantee is refused: HTTP ${refused.status} ${refused.body.code}`);
  if (refused.status !== 403) await shutdown(1);
  // both sides logged the use; wait until the heads covering it are anchored on chain, then check the proofs
  for (const [m, direction] of [[requester, "RECEIVED"], [custodian, "SERVED"]]) {
    let h;
    const deadline = Date.now() + 30_000;
    for (;;) {
      h = await api(m, "POST", "/v1/audit/history/holder", holder);
      if (h.status !== 200) throw new Error(`audit history: ${h.status} ${JSON.stringify(h.body)}`);
      const r = h.body.records.find((x) => x.record.requestId === f.body.requestId);
      if (r?.anchored && h.body.chainHead?.rootHash === h.body.anchoredHead?.root) break;
      if (Date.now() > deadline) throw new Error(`${m.spec.key}: the use record was not anchored within 30 s`);
      await new Promise((res) => setTimeout(res, 250));
    }
    const r = h.body.records.find((x) => x.record.requestId === f.body.requestId);
    const leafOk = sdk.bytesToHex(sdk.logLeafHash(Buffer.from(r.encoded.slice(2), "hex"))) === r.leafHash;
    const v = sdk.verifyInclusion(r.leafHash, r.record.seq, r.treeSize, r.proof, h.body.chainHead.rootHash);
    say(`${m.spec.key}: audit history of the holder: ${h.body.records.length} record(s); ${r.record.direction} #${r.record.seq} (matter ${matter}, grant ${r.record.grantId.slice(0, 10)}…) — inclusion proof ${v.status === "VALID" && leafOk ? "VALID" : "INVALID"} against the head of size ${r.treeSize} anchored on chain in block ${h.body.chainHead.anchoredBlock}`);
    if (v.status !== "VALID" || !leafOk || r.record.direction !== direction) await shutdown(1);
  }
}

// The data catalogue (read-only in the node for now) is indexed from the chain and searchable on every node.
{
  const bdc = members[0];
  const r = await fetch(`${bdc.url}/v1/catalogue/entries`, { headers: { authorization: `Bearer ${bdc.token}` } });
  const body = await r.json();
  say(`${bdc.spec.key}: catalogue search answered ${r.status} with ${body.entries?.length ?? "no"} entries (DataCatalogue ${deployed.catalogueAddress})`);
  if (r.status !== 200) await shutdown(1);
}

say("the local consortium is up:");
for (const m of members) {
  say(`  ${m.spec.key.padEnd(8)} ${m.spec.name} — API ${m.url}/v1  docs ${m.url}/docs  token in ${join(m.dir, "api-token")}`);
}
say(`  chain    ${chainUrl} (chain id ${deployed.chainId}), ledger ${deployed.ledgerAddress}`);
say("try: curl -H \"authorization: Bearer $(cat .tongban/local/xuhui/api-token)\" " + `${members[1]?.url ?? members[0].url}/v1/query/materials?type=BL`);
{
  const [x, p] = [byKey("xuhui"), byKey("pudong")];
  if (x && p) say(`try: node node/dist/cli/main.js audit history --url ${p.url} --token-file ${join(p.dir, "api-token")} --member ${x.spec.uscc}`);
}
if (args["exit-after-demo"]) await shutdown(0);
say("Ctrl-C stops everything.");
