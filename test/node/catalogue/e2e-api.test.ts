/**
 * The data catalogue end to end through the HTTP API of member node PROCESSES (node/src/main.ts, as `npm start`
 * runs them: ops account + serialised sender for catalogue writes and head anchors, the use log in LevelDB)
 * against a `hardhat node` process:
 *   provider P publishes a resource -> the Cataloguer publishes the version -> consumer C registers a scenario
 *   -> P approves -> C records a data use (POST /v1/catalogue/uses, canUse checked on chain) -> the use is in
 *   C's log with an inclusion proof valid against the head C anchored on chain; the anchor's per-grant counts
 *   do not count it.
 * Bad input gets a clear 4xx code: unknown codes, a second provider for the same data item, a request for a
 * not-shared resource, a use before approval, an expired approval, a use by a member that is neither party.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, Wallet, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { CATALOGUE_HTTP_ROUTES, CatalogueClient, catalogueCode, contracts, type CatalogueEntryDoc } from "@tongban/sdk";
import { devWallet, freePort, rpc, startChain, type Chain } from "../helpers/chain.js";
import { apiCall, memberConfig, prepareMemberKeys, startMemberProcess } from "../helpers/members.js";
import { stopNodeProcesses, type NodeProcess } from "../helpers/node-process.js";
import { licenceEntry } from "../helpers/catalogue.js";
import { expectProvenOnChain } from "../helpers/history.js";
import { runCli } from "../helpers/cli.js";
import { deployConsortium } from "../../../node/src/consortium/deploy.js";
import type { ConsortiumSpec } from "../../../node/src/consortium/spec.js";

const USCC = { P: "11310115002418321F", C: "11310104002418330F", K: "11310000002418210Q" } as const;
const id32 = (u: string) => encodeBytes32String(u).toLowerCase();

const SPEC: ConsortiumSpec = {
  jurisdictions: [{ code: 310000, parent: 0 }, { code: 310104, parent: 310000 }, { code: 310115, parent: 310000 }],
  materialTypes: [{ code: "BL" }],
  members: [
    { key: "p", uscc: USCC.P, jurisdiction: 310115, roles: ["GOVERNOR"] },
    { key: "c", uscc: USCC.C, jurisdiction: 310104, roles: ["GOVERNOR"] },
    { key: "k", uscc: USCC.K, jurisdiction: 310000, roles: ["CATALOGUER"] },
  ],
  governance: { threshold: 1 },
};

/** The sample entry, shared only on conditions (approval per scenario). */
const entry = (over: Partial<CatalogueEntryDoc> = {}): CatalogueEntryDoc => licenceEntry({ sharing: "CONDITIONAL", ...over });

interface Member extends NodeProcess { key: "P" | "C"; dir: string; token: string; ops: string }

describe("catalogue end to end through the API of member node processes (hardhat node)", function () {
  this.timeout(300_000);
  let chain: Chain;
  let deployed: Awaited<ReturnType<typeof deployConsortium>>;
  const root = mkdtempSync(join(tmpdir(), "tongban-cat-e2e-"));
  const m = {} as Record<"P" | "C", Member>;
  let cataloguer: CatalogueClient;
  let used: { seq: number; leafHash: string; record: Record<string, unknown> };

  const api = (who: Member, method: string, path: string, body?: unknown) => apiCall(who.url, who.token, method, path, body);
  const chainNow = async () => Number((await chain.provider.getBlock("latest"))!.timestamp);

  before(async () => {
    chain = await startChain();
    const keys = await prepareMemberKeys(chain, root, ["P", "C"] as const);
    const cat = new Wallet(devWallet(7).privateKey, chain.provider);
    const admin = new Wallet(devWallet(0).privateKey, chain.provider);
    deployed = await deployConsortium(admin, SPEC, { accounts: { ...keys.accounts, k: [cat.address] } });
    cataloguer = new CatalogueClient(deployed.catalogueAddress, cat);
    await Promise.all((["P", "C"] as const).map(async (k) => {
      const cfg = memberConfig({ chain, deployed, memberId: USCC[k], key: keys[k], port: await freePort() });
      const proc = await startMemberProcess(root, k, cfg, 150_000);
      m[k] = Object.assign(proc, { key: k, dir: keys[k].dir, token: keys[k].token, ops: keys[k].ops });
    }));
  });

  after(async () => {
    await stopNodeProcesses(Object.values(m));
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("the OpenAPI document lists every catalogue route the SDK's HTTP client calls", async () => {
    const doc = await (await fetch(`${m.P.url}/openapi.json`)).json();
    for (const [method, path] of CATALOGUE_HTTP_ROUTES) expect(doc.paths?.[path]?.[method], `${method} ${path}`).to.be.an("object");
    expect(doc.paths["/v1/catalogue/uses"].post.requestBody).to.be.an("object");
  });

  it("provider publishes resources (texts off chain, hashes on chain); the Cataloguer publishes the versions", async () => {
    for (const [path, body] of [
      ["/v1/catalogue/duties", { code: "D-MKT-01", description: "市场主体登记管理" }],
      ["/v1/catalogue/systems", { code: "SYS-PD-LICENCE", description: "浦东新区证照库" }],
      ["/v1/catalogue/entries", entry()],
      ["/v1/catalogue/entries", entry({ resourceCode: "R310115-0009", title: "涉密执法记录", dataItems: ["DE0099"], fields: [{ name: "case", label: "案件", type: "string", required: true, dataItem: "DE0099" }], grade: "CORE", level: 4, sharing: "NOT_SHARED" })],
    ] as const) {
      const r = await api(m.P, "POST", path, body);
      expect(r.status, `${path}: ${r.text}`).to.equal(201);
    }
    await cataloguer.publishEntry("R310115-0001", 1);
    await cataloguer.publishEntry("R310115-0009", 1);
    // P's index follows the events (1 s poll) and serves search with the texts it holds
    let found: any[] = [];
    for (let i = 0; i < 60 && found.length === 0; i++) {
      const s = await api(m.P, "GET", `/v1/catalogue/entries?sharing=CONDITIONAL&text=${encodeURIComponent("营业执照")}`);
      expect(s.status, s.text).to.equal(200);
      found = s.body.entries;
      if (!found.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(found.map((e) => [e.code, e.provider, e.publishedVersion, e.title])).to.deep.equal([["R310115-0001", id32(USCC.P), 1, "企业营业执照信息"]]);
  });

  it("bad input: a second provider for the same data item, unknown codes, a not-shared resource -> clear 4xx codes", async () => {
    expect((await api(m.C, "POST", "/v1/catalogue/duties", { code: "D-HOUSE-01", description: "房屋管理" })).status).to.equal(201);
    expect((await api(m.C, "POST", "/v1/catalogue/systems", { code: "SYS-XH-HOUSING", description: "徐汇房屋系统" })).status).to.equal(201);
    const second = await api(m.C, "POST", "/v1/catalogue/entries", entry({ resourceCode: "R310104-0001", duty: "D-HOUSE-01", system: "SYS-XH-HOUSING" }));
    expect(second.status, second.text).to.equal(409);
    expect([second.body.code, second.body.details.error]).to.deep.equal(["CONFLICT", "DataItemAlreadyProvided"]);
    expect(second.body.details.args).to.deep.include({ itemCode: catalogueCode("DE0001"), provider: id32(USCC.P) });
    // the same resource code as another provider's
    const taken = await api(m.C, "POST", "/v1/catalogue/entries", entry({ duty: "D-HOUSE-01", system: "SYS-XH-HOUSING", dataItems: [] }));
    expect(taken.status, taken.text).to.equal(409);

    const unknownRes = await api(m.C, "POST", "/v1/catalogue/scenarios", { scenarioId: "SCN-X", purpose: "开办餐饮店", legalBasis: "《食品安全法》", resources: ["R-NOPE"] });
    expect(unknownRes.status, unknownRes.text).to.equal(404);
    expect(unknownRes.body.details.error).to.equal("UnknownResource");
    const unknownDuty = await api(m.C, "POST", "/v1/catalogue/entries", entry({ resourceCode: "R310104-0002", duty: "D-NOPE", system: "SYS-XH-HOUSING", dataItems: [] }));
    expect(unknownDuty.status, unknownDuty.text).to.equal(404);
    expect(unknownDuty.body.details.error).to.equal("UnknownDuty");
    const malformed = await api(m.C, "POST", "/v1/catalogue/uses", { scenarioId: "SCN X with spaces", resourceCode: "R310115-0001", matter: "M-1", queryHash: keccak256("0x01") });
    expect(malformed.status).to.equal(400);
    expect(malformed.body.code).to.equal("VALIDATION");
    const noScenario = await api(m.C, "POST", "/v1/catalogue/uses", { scenarioId: "SCN-NONE", resourceCode: "R310115-0001", matter: "M-1", queryHash: keccak256("0x01") });
    expect(noScenario.status, noScenario.text).to.equal(404);
    expect(noScenario.body.code).to.equal("UNKNOWN_SCENARIO");

    const notShared = await api(m.C, "POST", "/v1/catalogue/scenarios", { scenarioId: "SCN-SECRET", purpose: "执法", legalBasis: "无", resources: ["R310115-0009"] });
    expect(notShared.status, notShared.text).to.equal(403);
    expect(notShared.body.details.error).to.equal("ResourceNotShared");
  });

  it("consumer registers a scenario; a use before approval is refused APPROVAL_MISSING; after approval it is logged", async () => {
    const s = await api(m.C, "POST", "/v1/catalogue/scenarios", { scenarioId: "SCN-OPEN-SHOP", purpose: "开办餐饮店一件事", legalBasis: "《食品安全法》第三十五条", resources: ["R310115-0001"] });
    expect(s.status, s.text).to.equal(201);
    const use = { scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001", matter: "MATTER-0042", queryHash: keccak256(toUtf8Bytes("uscc=91310104MA1K000018")) };
    const early = await api(m.C, "POST", "/v1/catalogue/uses", use);
    expect(early.status, early.text).to.equal(403);
    expect(early.body.code).to.equal("APPROVAL_MISSING");
    // only the provider approves
    const byConsumer = await api(m.C, "POST", "/v1/catalogue/scenarios/SCN-OPEN-SHOP/resources/R310115-0001/approve", { expiresAt: (await chainNow()) + 3600 });
    expect(byConsumer.status, byConsumer.text).to.equal(403);
    const ok = await api(m.P, "POST", "/v1/catalogue/scenarios/SCN-OPEN-SHOP/resources/R310115-0001/approve", { expiresAt: (await chainNow()) + 3600 });
    expect(ok.status, ok.text).to.equal(200);

    const r = await api(m.C, "POST", "/v1/catalogue/uses", use);
    expect(r.status, r.text).to.equal(201);
    expect(r.body.direction).to.equal("RECEIVED");
    expect(r.body.record).to.deep.include({
      basis: "SCENARIO", grantId: catalogueCode("SCN-OPEN-SHOP"), typeCode: catalogueCode("R310115-0001"), requester: id32(USCC.C),
      custodian: id32(USCC.P), matter: catalogueCode("MATTER-0042"), leaf: use.queryHash,
    });
    used = r.body;
    // the provider may record its SERVED side; a member that is neither party may not
    const served = await api(m.P, "POST", "/v1/catalogue/uses", { ...use, requestId: r.body.record.requestId, consumer: USCC.C });
    expect(served.status, served.text).to.equal(201);
    expect(served.body.direction).to.equal("SERVED");
    // a retry with the same request id is not logged twice
    const again = await api(m.P, "POST", "/v1/catalogue/uses", { ...use, requestId: r.body.record.requestId, consumer: USCC.C });
    expect(again.status, again.text).to.equal(409);
    expect(again.body.details.requestId).to.equal(r.body.record.requestId);
    const other = await api(m.P, "POST", "/v1/catalogue/uses", { ...use, requestId: r.body.record.requestId, consumer: USCC.P });
    expect([other.status, other.body.details.field]).to.deep.equal([400, "consumer"]);
  });

  it("the auditor sees the use with its proof against the head anchored on chain; the anchor counts no grant use for it", async () => {
    let h: Awaited<ReturnType<typeof api>>;
    const deadline = Date.now() + 60_000;
    for (;;) {
      h = await api(m.C, "GET", `/v1/audit/history/member/${USCC.P}`);
      expect(h.status, h.text).to.equal(200);
      const x = h.body.records.find((y: any) => y.record.seq === used.seq);
      if (x?.anchored && h.body.chainHead) break;
      if (Date.now() > deadline) throw new Error(`use not anchored: ${h.text}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const x = h.body.records.find((y: any) => y.record.seq === used.seq);
    expect(x.record.basis).to.equal("SCENARIO");
    expect(x.leafHash).to.equal(used.leafHash);
    expectProvenOnChain(h.body, x);
    // the catalogue's own view: data uses by scenario and by resource, with proofs
    for (const q of ["scenario=SCN-OPEN-SHOP", "resource=R310115-0001", `member=${USCC.P}`, "matter=MATTER-0042"]) {
      const u = await api(m.C, "GET", `/v1/catalogue/uses?${q}`);
      expect(u.status, u.text).to.equal(200);
      expect(u.body.records.map((y: any) => y.leafHash), q).to.deep.equal([used.leafHash]);
    }
    const two = await api(m.C, "GET", "/v1/catalogue/uses?scenario=SCN-OPEN-SHOP&resource=R310115-0001");
    expect(two.status).to.equal(400);
    // on chain: C's head covers the use, anchored by C's ops account, with no per-grant count for it
    const auth = new Contract(deployed.authorisationsAddress, contracts.Authorisations__factory.abi, chain.provider);
    const evs = await auth.queryFilter(auth.filters.UseLogAnchored!(id32(USCC.C)));
    expect(evs.length).to.be.greaterThan(0);
    const last = evs.at(-1) as unknown as { args: { treeSize: bigint; rootHash: string; uses: unknown[] }; transactionHash: string };
    expect(Number(last.args.treeSize)).to.be.greaterThan(used.seq);
    for (const ev of evs) expect((ev as unknown as { args: { uses: unknown[] } }).args.uses).to.deep.equal([]);
    expect((await chain.provider.getTransaction(last.transactionHash))!.from.toLowerCase()).to.equal(m.C.ops.toLowerCase());
  });

  it("an expired approval, a withdrawn resource: the use is refused with the canUse code", async () => {
    const use = { scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001", matter: "MATTER-0042", queryHash: keccak256("0x02") };
    await rpc(chain.url, "evm_increaseTime", [7200]);
    await rpc(chain.url, "evm_mine");
    const expired = await api(m.C, "POST", "/v1/catalogue/uses", use);
    expect(expired.status, expired.text).to.equal(403);
    expect(expired.body.code).to.equal("APPROVAL_EXPIRED");
    expect(expired.body.details).to.deep.include({ reason: "APPROVAL_EXPIRED", code: 11 });
    // re-approved, then withdrawn by the provider
    expect((await api(m.P, "POST", "/v1/catalogue/scenarios/SCN-OPEN-SHOP/resources/R310115-0001/approve", { expiresAt: (await chainNow()) + 3600 })).status).to.equal(200);
    expect((await api(m.C, "POST", "/v1/catalogue/uses", use)).status).to.equal(201);
    expect((await api(m.P, "POST", "/v1/catalogue/entries/R310115-0001/withdraw", { reason: "merged" })).status).to.equal(200);
    const gone = await api(m.C, "POST", "/v1/catalogue/uses", { ...use, queryHash: keccak256("0x03") });
    expect(gone.status, gone.text).to.equal(403);
    expect(gone.body.code).to.equal("RESOURCE_WITHDRAWN");
  });
  it("CLI verbs over the HTTP API: system/duty register, publish, search, show, scenario register, can-use, use, uses, approve, reject", async () => {
    const cli = async (who: Member, ...args: string[]): Promise<{ code: number; json: any; stderr: string }> => {
      const r = await runCli(args, { TONGBAN_URL: who.url, TONGBAN_TOKEN: who.token });
      let json: any;
      try { json = JSON.parse(r.stdout || r.stderr); } catch { json = undefined; }
      return { code: r.code ?? 1, json, stderr: r.stderr };
    };
    const docFile = join(root, "entry-3.json");
    writeFileSync(docFile, JSON.stringify(entry({ resourceCode: "R310115-0003", title: "食品经营许可信息", dataItems: ["DE0003"], sharing: "UNCONDITIONAL", system: "SYS-PD-FOOD",
      fields: [{ name: "licence", label: "许可证号", type: "string", required: true, dataItem: "DE0003" }] })));
    let r = await cli(m.P, "catalogue", "system", "register", "SYS-PD-FOOD", "--description", "浦东食品许可系统");
    expect(r.code, r.stderr).to.equal(0);
    r = await cli(m.P, "catalogue", "publish", "--file", docFile);
    expect([r.code, r.json?.version], r.stderr).to.deep.equal([0, 1]);
    await cataloguer.publishEntry("R310115-0003", 1);
    let found: any[] = [];
    for (let i = 0; i < 40 && !found.length; i++) {
      r = await cli(m.P, "catalogue", "search", "--system", "SYS-PD-FOOD", "--sharing", "UNCONDITIONAL");
      expect(r.code, r.stderr).to.equal(0);
      found = r.json.entries;
    }
    expect(found.map((e) => e.code)).to.deep.equal(["R310115-0003"]);
    r = await cli(m.P, "catalogue", "show", "R310115-0003");
    expect([r.code, r.json.title]).to.deep.equal([0, "食品经营许可信息"]);
    r = await cli(m.C, "catalogue", "scenario", "register", "SCN-CLI", "--purpose", "食品经营核查", "--legal-basis", "《食品安全法》", "--resource", "R310115-0003");
    expect(r.code, r.stderr).to.equal(0);
    // unconditional: usable at once, no approval; approving it is refused with the contract's error
    r = await cli(m.C, "catalogue", "can-use", "SCN-CLI", "R310115-0003");
    expect(r.json).to.deep.equal({ ok: true, reason: "OK", code: 0 });
    r = await cli(m.P, "catalogue", "approve", "SCN-CLI", "R310115-0003", "--expires", String((await chainNow()) + 600));
    expect(r.code).to.equal(1);
    expect(r.json.details.error).to.equal("ApprovalNotNeeded");
    r = await cli(m.C, "catalogue", "use", "SCN-CLI", "R310115-0003", "--matter", "FOOD-CHECK", "--query", "licence=JY13101150000001");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json.record.leaf).to.equal(keccak256(toUtf8Bytes("licence=JY13101150000001")));
    r = await cli(m.C, "catalogue", "uses", "--scenario", "SCN-CLI");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json.checks).to.have.length(1);
    expect(r.json.checks[0].ok).to.equal(true);
    // a refused use: exit 1, the canUse reason as the code
    r = await cli(m.C, "catalogue", "use", "SCN-OPEN-SHOP", "R310115-0001", "--matter", "M-1", "--query", "x");
    expect([r.code, r.json.code]).to.deep.equal([1, "RESOURCE_WITHDRAWN"]);
    r = await cli(m.P, "catalogue", "reject", "SCN-OPEN-SHOP", "R310115-0001", "--reason", "withdrawn");
    expect(r.code).to.equal(1); // a withdrawn resource cannot be decided on any more
    r = await cli(m.P, "catalogue", "withdraw", "R310115-0003", "--reason", "replaced");
    expect(r.code, r.stderr).to.equal(0);
    r = await cli(m.C, "catalogue", "uses");
    expect([r.code, r.json.code]).to.deep.equal([1, "USAGE"]);
  });
});
