/**
 * The member node process as `npm start` runs it (node/src/main.ts, three separate processes) against a
 * `hardhat node` process: the exchange and the audit API wired into the node, over its HTTP API.
 *  - the identity provider C records a holder's grant to B (POST /v1/grants, ops account);
 *  - B's department fetches A's material (POST /v1/exchange/fetch) over libp2p, verified; refusals come back
 *    through HTTP with their exchange code (revoked, wrong matter, unknown grant);
 *  - the use is in A's SERVED and B's RECEIVED audit history with proofs valid against the head anchored on
 *    chain, CSV export, the audit check and the reconciliation of the two logs;
 *  - A's use-log heads are anchored by A's OPS account while its anchorer anchors materials with the signing
 *    account and the catalogue publishes through the same ops sender: no nonce error, everything lands.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { contracts, createNodeClient, grantDomain, HOLDER_GRANT_TYPES, registerMaterials, waitForAnchored, type NodeClient } from "@tongban/sdk";
import { devWallet, freePort, startChain, type Chain } from "../helpers/chain.js";
import { EXCHANGE_MATTER, EXCHANGE_SPEC, EXCHANGE_USCC, apiCall, memberConfig, prepareMemberKeys, startMemberProcess, type ApiAnswer } from "../helpers/members.js";
import { stopNodeProcesses, type NodeProcess } from "../helpers/node-process.js";
import { expectProvenOnChain } from "../helpers/history.js";
import { runCli } from "../helpers/cli.js";
import { deployConsortium } from "../../../node/src/consortium/deploy.js";

const USCC = EXCHANGE_USCC;
type Key = keyof typeof USCC;
const id32 = (u: string) => encodeBytes32String(u).toLowerCase();
const MATTER = EXCHANGE_MATTER;
const RID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A resident ID number (GB 11643) with a correct check character. */
function residentId(i: number): string {
  const body = `310104${1960 + (i % 40)}${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}${String(i % 1000).padStart(3, "0")}`;
  const s = [...body].reduce((acc, d, k) => acc + Number(d) * RID_W[k]!, 0);
  return body + "10X98765432"[s % 11];
}

const SPEC = EXCHANGE_SPEC;

interface Member extends NodeProcess {
  key: Key;
  dir: string;
  token: string;
  client: NodeClient;
  account: string;
  ops: string;
}

describe("member node process: exchange, grants and audit API wired into main.ts", function () {
  this.timeout(300_000);
  let chain: Chain;
  let deployed: Awaited<ReturnType<typeof deployConsortium>>;
  const root = mkdtempSync(join(tmpdir(), "tongban-wiring-"));
  const m = {} as Record<Key, Member>;
  const holder = { idType: "RESIDENT_ID", idNumber: residentId(1) };
  let leaves: string[] = [];
  let grantId: string;
  let fetched: { requestId: string; servedSeq: number; receivedSeq: number };

  const api = (who: Member, method: string, path: string, body?: unknown): Promise<ApiAnswer> => apiCall(who.url, who.token, method, path, body);

  before(async () => {
    chain = await startChain();
    const keys = await prepareMemberKeys(chain, root, ["A", "B", "C"] as Key[]);
    const admin = new Wallet(devWallet(0).privateKey, chain.provider);
    deployed = await deployConsortium(admin, SPEC, { accounts: keys.accounts });
    await Promise.all(
      (["A", "B", "C"] as Key[]).map(async (k) => {
        const cfg = memberConfig({ chain, deployed, memberId: USCC[k], key: keys[k], port: await freePort(), extra: { p2p: { listen: ["/ip4/127.0.0.1/tcp/0"], directoryRefreshMs: 500 } } });
        const proc = await startMemberProcess(root, k, cfg);
        const client = createNodeClient({ url: proc.url, token: keys[k].token });
        m[k] = Object.assign(proc, { key: k, dir: keys[k].dir, token: keys[k].token, client, account: keys[k].account, ops: keys[k].ops });
      }),
    );
    // A registers three licences of the holder through its API; anchored by its signing account
    const now = Math.floor(Date.now() / 1000);
    const acks = await registerMaterials(m.A.client, {
      materials: [0, 1, 2].map((i) => ({ typeCode: "BL", jurisdiction: 310104, content: Buffer.from(`licence ${i} of the holder`).toString("base64"), holder, validFrom: now - 60, issuedAt: now - 60 })),
    });
    for (const a of acks) await waitForAnchored(m.A.client, { id: a.id, timeoutMs: 60_000 });
    leaves = acks.map((a) => a.id);
  });

  after(async () => {
    await stopNodeProcesses(Object.values(m));
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("each node published its peers on chain through its ops account", async () => {
    const ledger = contracts.TongbanLedger__factory.connect(deployed.ledgerAddress, chain.provider);
    for (const k of ["A", "B", "C"] as Key[]) {
      const info = await ledger.getMember(id32(USCC[k]));
      expect(info.peerIds.length, `${k} peer ids`).to.equal(1);
      expect(info.multiaddrs[0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3/);
      const ev = (await ledger.queryFilter(ledger.filters.PeersUpdated(id32(USCC[k])))).at(-1)!;
      const tx = await chain.provider.getTransaction(ev.transactionHash);
      expect(tx!.from.toLowerCase(), `${k} setPeers sender`).to.equal(m[k].ops.toLowerCase());
    }
  });

  it("the identity provider records the holder's grant; B's department fetches A's material over libp2p, verified", async () => {
    const now = Math.floor(Date.now() / 1000);
    const g = await api(m.C, "POST", "/v1/grants", {
      holder, grantee: USCC.B, matter: MATTER, typeCodes: ["BL"], notAfter: now + 3600, maxUses: 100, evidenceHash: keccak256(toUtf8Bytes("consent #1")),
    });
    expect(g.status, g.text).to.equal(201);
    grantId = g.body.grantId;
    const info = await api(m.B, "GET", `/v1/grants/${grantId}`);
    expect(info.status, info.text).to.equal(200);
    expect(info.body.status.name).to.equal("ACTIVE");
    expect(info.body.terms.grantee).to.equal(id32(USCC.B));

    const f = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[0], matter: MATTER });
    expect(f.status, f.text).to.equal(200);
    expect(Buffer.from(f.body.content, "base64").toString()).to.equal("licence 0 of the holder");
    expect(f.body.verification.ok).to.equal(true);
    expect(f.body.bundle.leaf).to.equal(leaves[0]);
    fetched = f.body;
  });

  it("refusals come back through HTTP with their exchange code", async () => {
    const wrongMatter = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[1], matter: "TAX_REGISTRATION" });
    expect(wrongMatter.status, wrongMatter.text).to.equal(403);
    expect(wrongMatter.body.code).to.equal("WRONG_MATTER");
    expect(wrongMatter.body.details.exchangeStatus).to.equal(208);

    const unknown = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId: "0x" + "ab".repeat(32), materialId: leaves[1], matter: MATTER });
    expect(unknown.status, unknown.text).to.equal(404);
    expect(unknown.body.code).to.equal("GRANT_UNKNOWN");

    const notGrantee = await api(m.C, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[1], matter: MATTER });
    expect(notGrantee.status, notGrantee.text).to.equal(403);
    expect(notGrantee.body.code).to.equal("WRONG_GRANTEE");

    const self = await api(m.A, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[1], matter: MATTER });
    expect(self.status, self.text).to.equal(400);
    expect(self.body.details.field).to.equal("custodian");

    const bad = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: "nope", matter: MATTER });
    expect(bad.status).to.equal(400);
    expect(bad.body.code).to.equal("VALIDATION");

    // a second grant, revoked by its grantor (the identity provider): refused at use time
    const now = Math.floor(Date.now() / 1000);
    const g2 = await api(m.C, "POST", "/v1/grants", { holder, grantee: USCC.B, matter: MATTER, materialIds: [leaves[2]], notAfter: now + 3600, maxUses: 1, evidenceHash: keccak256(toUtf8Bytes("consent #2")) });
    expect(g2.status, g2.text).to.equal(201);
    const rv = await api(m.C, "POST", `/v1/grants/${g2.body.grantId}/revoke`, {});
    expect(rv.status, rv.text).to.equal(200);
    const again = await api(m.C, "POST", `/v1/grants/${g2.body.grantId}/revoke`, {});
    expect(again.status, again.text).to.equal(200); // idempotent: the same final state
    expect(again.body).to.include({ grantId: g2.body.grantId, status: "REVOKED", alreadyRevoked: true });
    const revoked = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId: g2.body.grantId, materialId: leaves[2], matter: MATTER });
    expect(revoked.status, revoked.text).to.equal(403);
    expect(revoked.body.code).to.equal("GRANT_REVOKED");
    // refusals leave no use record
    const h = await api(m.A, "GET", `/v1/audit/history/grant/${g2.body.grantId}`);
    expect(h.body.records).to.have.length(0);
  });

  it("a holder's own EIP-712 grant (key bound by the identity provider), submitted by the grantee's node: fetch OK, the signature cannot be replayed", async () => {
    const holderWallet = Wallet.createRandom();
    const bind = await api(m.C, "POST", "/v1/grants/holder-keys", { holder, key: holderWallet.address, evidenceHash: keccak256(toUtf8Bytes("identity verified")) });
    expect(bind.status, bind.text).to.equal(201);
    const holderRef = bind.body.holderRef;
    const { body: n } = await api(m.B, "GET", `/v1/grants/holder-nonce/${holderRef}`);
    const now = Math.floor(Date.now() / 1000);
    const terms = { holderRef, grantee: id32(USCC.B), matter: id32(MATTER), typeCodes: [], leaves: [leaves[1]!], notBefore: BigInt(now - 60), notAfter: BigInt(now + 3600), maxUses: 2 };
    const deadline = now + 600;
    const { chainId } = await chain.provider.getNetwork();
    const signature = await holderWallet.signTypedData(grantDomain(chainId, deployed.authorisationsAddress), HOLDER_GRANT_TYPES, { terms, nonce: BigInt(n.nonce), deadline: BigInt(deadline) });
    const body = {
      terms: { holderRef, grantee: USCC.B, matter: MATTER, materialIds: [leaves[1]], notBefore: now - 60, notAfter: now + 3600, maxUses: 2 },
      nonce: n.nonce, deadline, signer: holderWallet.address, signature,
    };
    const g = await api(m.B, "POST", "/v1/grants/by-signature", body);
    expect(g.status, g.text).to.equal(201);
    const info = await api(m.B, "GET", `/v1/grants/${g.body.grantId}`);
    expect(info.body.origin).to.equal("HOLDER_SIGNATURE");
    const f = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId: g.body.grantId, materialId: leaves[1], matter: MATTER });
    expect(f.status, f.text).to.equal(200);
    expect(Buffer.from(f.body.content, "base64").toString()).to.equal("licence 1 of the holder");
    const replay = await api(m.B, "POST", "/v1/grants/by-signature", body);
    expect(replay.status, replay.text).to.equal(409);
    expect(replay.body.code).to.equal("InvalidHolderNonce");
    // a signature by an unbound key is refused
    const stranger = Wallet.createRandom();
    const { body: n2 } = await api(m.B, "GET", `/v1/grants/holder-nonce/${holderRef}`);
    const sig2 = await stranger.signTypedData(grantDomain(chainId, deployed.authorisationsAddress), HOLDER_GRANT_TYPES, { terms, nonce: BigInt(n2.nonce), deadline: BigInt(deadline) });
    const forged = await api(m.B, "POST", "/v1/grants/by-signature", { ...body, nonce: n2.nonce, signer: stranger.address, signature: sig2 });
    expect(forged.status, forged.text).to.equal(403);
  });

  it("the use is in A's SERVED and B's RECEIVED history, proofs valid against the head anchored on chain by the ops account", async () => {
    for (const [who, direction, seq] of [[m.A, "SERVED", fetched.servedSeq], [m.B, "RECEIVED", fetched.receivedSeq]] as const) {
      let h: Awaited<ReturnType<typeof api>>;
      const deadline = Date.now() + 30_000;
      for (;;) {
        h = await api(who, "POST", "/v1/audit/history/holder", holder);
        expect(h.status, h.text).to.equal(200);
        const r = h.body.records.find((x: { record: { requestId: string } }) => x.record.requestId === fetched.requestId);
        if (r?.anchored && h.body.chainHead) break;
        if (Date.now() > deadline) throw new Error(`${who.key}: use record not anchored: ${h.text}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const r = h.body.records.find((x: { record: { requestId: string } }) => x.record.requestId === fetched.requestId);
      expect(r.record.direction).to.equal(direction);
      expect(r.record.seq).to.equal(seq);
      expect(r.record.leaf).to.equal(leaves[0]);
      expect(r.record.matter).to.equal(id32(MATTER));
      expectProvenOnChain(h.body, r);
      // by material, member and matter; CSV export
      for (const path of [`material/${leaves[0]}`, `member/${who === m.A ? USCC.B : USCC.A}`, `matter/${MATTER}`]) {
        const x = await api(who, "GET", `/v1/audit/history/${path}`);
        expect(x.status, x.text).to.equal(200);
        expect(x.body.records.map((y: { record: { requestId: string } }) => y.record.requestId), path).to.include(fetched.requestId);
      }
      const csv = await api(who, "GET", `/v1/audit/history/material/${leaves[0]}?format=csv`);
      expect(csv.status).to.equal(200);
      expect(csv.type).to.match(/text\/csv/);
      expect(csv.text.split("\r\n")[0]).to.match(/^seq,direction,time/);
      expect(csv.text).to.contain(fetched.requestId);
      // an empty range
      const none = await api(who, "GET", `/v1/audit/history/material/${leaves[0]}?to=2000-01-01`);
      expect(none.body.records).to.have.length(0);
    }
    // the head anchors were sent by A's ops account, not its signing account
    const auth = new Contract(deployed.authorisationsAddress, contracts.Authorisations__factory.abi, chain.provider);
    const evs = await auth.queryFilter(auth.filters.UseLogAnchored!(id32(USCC.A)));
    expect(evs.length).to.be.greaterThan(0);
    for (const ev of evs) expect((await chain.provider.getTransaction(ev.transactionHash))!.from.toLowerCase()).to.equal(m.A.ops.toLowerCase());
  });

  it("the audit check passes on both logs and reconciles A's log with B's export", async () => {
    const exported = await api(m.B, "GET", `/v1/audit/history/member/${USCC.A}`);
    const c = await api(m.A, "POST", "/v1/audit/check", { peer: { memberId: USCC.B, records: exported.body.records } });
    expect(c.status, c.text).to.equal(200);
    expect(c.body.findings, c.text).to.deep.equal([]);
    expect(c.body.ok).to.equal(true);
    expect(c.body.reconciled.records).to.equal(exported.body.records.length);
    // B hiding its RECEIVED record is detected by A's reconciliation
    const hidden = await api(m.A, "POST", "/v1/audit/check", { peer: { memberId: USCC.B, records: [] } });
    expect(hidden.body.ok).to.equal(false);
    expect(hidden.body.findings.map((f: { kind: string }) => f.kind)).to.include("UNMATCHED_SERVED");
    const badId = await api(m.A, "POST", "/v1/audit/history/holder", { idType: "RESIDENT_ID", idNumber: "310104198001010010" });
    expect(badId.status, badId.text).to.equal(400);
    expect(badId.body.code).to.equal("INVALID_ID");
    expect(badId.text).to.not.contain("310104198001010010");
    const badBy = await api(m.A, "GET", `/v1/audit/history/colour/${leaves[0]}`);
    expect(badBy.status).to.equal(400);
    // the routes are in the node's OpenAPI document
    const doc = await fetch(`${m.A.url}/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>);
    for (const p of ["/v1/exchange/fetch", "/v1/grants/", "/v1/grants/{grantId}/revoke", "/v1/audit/history/holder", "/v1/audit/history/{by}/{key}", "/v1/audit/heads", "/v1/audit/check"]) {
      expect(doc.paths, p).to.have.property(p);
    }
    const b = await api(m.B, "POST", "/v1/audit/check", {});
    expect(b.body.ok, b.text).to.equal(true);
    const heads = await api(m.A, "GET", "/v1/audit/heads");
    expect(heads.body.chainHeads.length).to.be.greaterThan(0);
    const metrics = await fetch(`${m.A.url}/metrics`, { headers: { authorization: `Bearer ${m.A.token}` } }).then((r) => r.text());
    expect(metrics).to.match(/tongban_uselog_size \d+/);
    expect(metrics).to.match(/tongban_exchange_answered\{code="OK"\} [1-9]/);
    expect(metrics).to.match(/tongban_exchange_answered\{code="WRONG_MATTER"\} [1-9]/);
    expect(metrics).to.match(/tongban_uselog_ops_sent [1-9]/);
    expect(heads.body.signedHead.signer.toLowerCase()).to.equal(m.A.ops.toLowerCase());
  });

  it("the CLI: exchange fetch, grant show, audit history (proofs checked by the CLI), audit check with reconciliation", async () => {
    const cli = (args: string[]) => runCli(args, { TONGBAN_TOKEN: "" });
    for (const who of [m.A, m.B]) writeFileSync(join(who.dir, "api-token"), who.token + "\n", { mode: 0o600 });
    const conn = (who: Member) => ["--url", who.url, "--token-file", join(who.dir, "api-token")];
    const outFile = join(m.B.dir, "fetched.bin");
    const f = await cli(["exchange", "fetch", ...conn(m.B), "--custodian", USCC.A, "--grant", grantId, "--material", leaves[1]!, "--matter", MATTER, "--out", outFile]);
    expect(f.code, f.stderr).to.equal(0);
    expect(readFileSync(outFile, "utf8")).to.equal("licence 1 of the holder");
    expect(JSON.parse(f.stdout).verification.ok).to.equal(true);
    const refused = await cli(["exchange", "fetch", ...conn(m.B), "--custodian", USCC.A, "--grant", grantId, "--material", leaves[1]!, "--matter", "TAX_REGISTRATION"]);
    expect(refused.code).to.equal(1);
    expect(JSON.parse(refused.stderr).code).to.equal("WRONG_MATTER");
    const g = await cli(["grant", "show", ...conn(m.B), grantId]);
    expect(g.code, g.stderr).to.equal(0);
    expect(JSON.parse(g.stdout).status.name).to.equal("ACTIVE");
    const h = await cli(["audit", "history", ...conn(m.A), "--holder-id", holder.idNumber]);
    expect(h.code, h.stderr).to.equal(0);
    const hist = JSON.parse(h.stdout);
    expect(hist.records.length).to.be.greaterThan(0);
    for (const r of hist.records) expect(r.proof, JSON.stringify(r)).to.equal("VALID");
    expect(hist.records.map((r: { requestId: string }) => r.requestId)).to.include(fetched.requestId);
    const csv = await cli(["audit", "history", ...conn(m.B), "--member", USCC.A, "--csv"]);
    expect(csv.code, csv.stderr).to.equal(0);
    expect(csv.stdout).to.match(/^seq,direction,time/);
    const usageErr = await cli(["audit", "history", ...conn(m.B), "--member", USCC.A, "--matter", MATTER]);
    expect(usageErr.code).to.equal(1);
    expect(JSON.parse(usageErr.stderr).code).to.equal("USAGE");
    // the new fetch may not be anchored yet: the check counts what is anchored, the reconciliation all records
    const c = await cli(["audit", "check", ...conn(m.A), "--peer-url", m.B.url, "--peer-token-file", join(m.B.dir, "api-token")]);
    expect(c.code, c.stdout + c.stderr).to.equal(0);
    expect(JSON.parse(c.stdout).reconciled.records).to.be.greaterThan(1);
  });

  it("a node stops cleanly on SIGTERM and, restarted, keeps its use log and peer id and exchanges again", async () => {
    const ledger = contracts.TongbanLedger__factory.connect(deployed.ledgerAddress, chain.provider);
    const peerBefore = (await ledger.getMember(id32(USCC.B))).peerIds[0];
    const histBefore = (await api(m.B, "GET", `/v1/audit/history/member/${USCC.A}`)).body.records.length;
    const old = m.B;
    process.kill(old.pid, "SIGTERM");
    const code = await old.exited;
    expect(code, old.out.slice(-2000)).to.equal(0);
    expect(old.out).to.contain('"event":"stopped"');
    expect(old.out.split("\n").filter((l) => /"level":(50|60)/.test(l)), "errors while stopping").to.deep.equal([]);
    const again = await startMemberProcess(root, "B");
    m.B = Object.assign(again, { key: old.key, dir: old.dir, token: old.token, client: old.client, account: old.account, ops: old.ops });
    const info = await ledger.getMember(id32(USCC.B));
    expect(info.peerIds[0]).to.equal(peerBefore);
    const f = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[0], matter: MATTER });
    expect(f.status, f.text).to.equal(200);
    const hist = await api(m.B, "GET", `/v1/audit/history/member/${USCC.A}`);
    expect(hist.body.records.length).to.equal(histBefore + 1);
    expect(f.body.receivedSeq).to.equal(hist.body.records.at(-1).record.seq);
  });

  it("head anchors (ops account) run while the anchorer anchors materials and the catalogue publishes through the same ops sender: no nonce errors", async () => {
    const before = await api(m.A, "GET", "/v1/audit/heads");
    const now = Math.floor(Date.now() / 1000);
    const registering = (async () => {
      const ids: string[] = [];
      for (let round = 0; round < 8; round++) {
        const acks = await registerMaterials(m.A.client, {
          materials: Array.from({ length: 25 }, (_, i) => ({ typeCode: "BL", jurisdiction: 310104, content: Buffer.from(`bulk ${round}-${i}`).toString("base64"), holder: { idType: "RESIDENT_ID", idNumber: residentId(100 + round * 25 + i) }, validFrom: now })),
        });
        ids.push(...acks.map((a) => a.id));
        await new Promise((r) => setTimeout(r, 150));
      }
      return ids;
    })();
    const fetching = (async () => {
      const codes: string[] = [];
      for (let i = 0; i < 12; i++) {
        const f = await api(m.B, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaves[i % 2], matter: MATTER });
        codes.push(f.body.code ?? f.status);
        await new Promise((r) => setTimeout(r, 100));
      }
      return codes;
    })();
    const publishing = (async () => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) {
        const d = await api(m.A, "POST", "/v1/catalogue/duties", { code: `DUTY-${i}`, description: `duty ${i} of the bureau` });
        out.push(d.status);
      }
      return out;
    })();
    const [ids, codes, duties] = await Promise.all([registering, fetching, publishing]);
    expect(codes.every((c) => c === "OK"), codes.join()).to.equal(true);
    expect(duties.every((s) => s === 201), duties.join()).to.equal(true);
    for (const id of ids) await waitForAnchored(m.A.client, { id, timeoutMs: 60_000 });
    // every served record ends up under an anchored head on chain
    const size = before.body.size + 12;
    const deadline = Date.now() + 30_000;
    let heads: Awaited<ReturnType<typeof api>>;
    for (;;) {
      heads = await api(m.A, "GET", "/v1/audit/heads");
      if (heads.body.chainHeads.at(-1)?.treeSize === size) break;
      if (Date.now() > deadline) throw new Error(`head of size ${size} not anchored: ${heads.text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(heads.body.size).to.equal(size);
    expect(heads.body.chainHeads.length).to.be.greaterThan(before.body.chainHeads.length);
    const check = await api(m.A, "POST", "/v1/audit/check", {});
    expect(check.body.ok, check.text).to.equal(true);
    // nothing in the node's log at warn level or above about nonces or failed writes (a read-path hiccup of the
    // loaded hardhat node, e.g. "catalogue sync failed: socket hang up", is not what this test is about)
    const bad = m.A.out
      .split("\n")
      .filter((l) => /"level":(40|50|60)/.test(l) && /nonce|replacement|underpriced|anchoring failed|anchor.*(fail|refus)|send failed|batch failed|transaction.*fail|publish/i.test(l));
    expect(bad, bad.join("\n")).to.deep.equal([]);
  });
});
