/**
 * CatalogueService against a real `hardhat node`: publish (texts off chain, hashes on chain), versions,
 * event following into LevelDB, search by every dimension and by text, scenarios and approvals, imported
 * texts checked against the chain, data uses gated by canUse and handed to the use log, restart from the
 * cursor, and the Fastify plugin.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { Wallet, encodeBytes32String, keccak256 } from "ethers";
import { catalogueCode, hashCatalogueText, type UseRecord } from "@tongban/sdk";
import { startChain, devWallet, rpc, type Chain } from "../helpers/chain.js";
import { deployCatalogue, licenceEntry } from "../helpers/catalogue.js";
import { CatalogueService, openCatalogueDb, catalogueRoutes, DataUseRefusedError, type CatalogueDB } from "../../../node/src/catalogue/index.js";
import { NodeError } from "../../../node/src/core/errors.js";
import { sendError } from "../../../node/src/api/errors.js";

const PUDONG = "11310115002418321F";
const XUHUI = "91310104MA1K000018";
const id = (uscc: string) => encodeBytes32String(uscc).toLowerCase();

/** A valid GB 32100 code from 17 symbols (check character appended). */
function uscc(body17: string): string {
  const A = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  let sum = 0, w = 1;
  for (const ch of body17) { sum += A.indexOf(ch) * w; w = (w * 3) % 31; }
  return body17 + A[(31 - (sum % 31)) % 31];
}

describe("catalogue service (hardhat node)", function () {
  this.timeout(180_000);
  let chain: Chain;
  let address: string;
  let startBlock: number;
  const dirs: string[] = [];
  const dbs: CatalogueDB[] = [];
  const cityCode = uscc("11310000MB2F0000A");
  const w = { pudong: devWallet(2), xuhui: devWallet(3), city: devWallet(4) };
  let pudong: CatalogueService, xuhui: CatalogueService, city: CatalogueService;
  const logged: UseRecord[] = [];

  async function service(wallet: ReturnType<typeof devWallet>, member: string, useLog = false, pollMs = 0, dir?: string) {
    const path = dir ?? mkdtempSync(join(tmpdir(), "tongban-cat-"));
    if (!dir) dirs.push(path);
    const db = await openCatalogueDb(path);
    dbs.push(db);
    const svc = new CatalogueService(
      {
        provider: chain.provider, signer: new Wallet(wallet.privateKey, chain.provider), address, db, memberId: id(member),
        ...(useLog ? { useLog: { appendDataUse: async (r: UseRecord) => { logged.push(r); return { seq: logged.length - 1 }; } } } : {}),
      },
      { startBlock, pollMs },
    );
    await svc.start();
    return { svc, path, db };
  }

  before(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deployCatalogue(chain, [
      { uscc: PUDONG, jurisdiction: 310115, accounts: [w.pudong.address] },
      { uscc: XUHUI, jurisdiction: 310104, accounts: [w.xuhui.address] },
      { uscc: cityCode, jurisdiction: 310000, accounts: [w.city.address], roles: [2] },
    ]));
    pudong = (await service(w.pudong, PUDONG, true)).svc;
    xuhui = (await service(w.xuhui, XUHUI)).svc;
    city = (await service(w.city, cityCode)).svc;
  });

  after(async () => {
    for (const s of [pudong, xuhui, city]) await s?.stop();
    for (const db of dbs) await db.close().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await chain?.stop();
  });

  it("publishes an entry: texts in LevelDB, hashes on chain, indexed from events", async () => {
    await pudong.registerDuty("D-MKT-01", "市场主体登记管理");
    await pudong.registerSystem("SYS-PD-LICENCE", "浦东新区证照库");
    const r = await pudong.publish(licenceEntry());
    expect(r.version).to.equal(1);
    expect(r.resourceCode).to.equal(catalogueCode("R310115-0001"));
    await pudong.sync();
    const e = (await pudong.getEntry("R310115-0001"))!;
    expect(e.code).to.equal("R310115-0001");
    expect(e.provider).to.equal(id(PUDONG));
    expect(e.versionHash).to.equal(r.versionHash);
    expect(e.titleHash).to.equal(hashCatalogueText("title", "企业营业执照信息"));
    expect(e.title).to.equal("企业营业执照信息");
    expect(e.fields![0]!.name).to.equal("uscc");
    expect([e.pending, e.publishedVersion, e.grade, e.sharing]).to.deep.equal([true, 0, "GENERAL", "UNCONDITIONAL"]);
    // the Cataloguer publishes it; every node's index sees it
    await city.approveEntry("R310115-0001", 1);
    await pudong.sync();
    await city.sync();
    expect((await pudong.getEntry("R310115-0001"))!.pending).to.equal(false);
    const seenByCity = (await city.getEntry("R310115-0001"))!;
    expect(seenByCity.publishedSharing).to.equal("UNCONDITIONAL");
    expect(seenByCity.title).to.equal(undefined); // the city node does not hold the texts
  });

  it("a second provider for the same data item is refused with the named error", async () => {
    await xuhui.registerDuty("D-HOUSE-01", "房屋管理");
    await xuhui.registerSystem("SYS-XH-HOUSING", "徐汇房屋系统");
    try {
      await xuhui.publish(licenceEntry({ resourceCode: "R310104-0001", duty: "D-HOUSE-01", system: "SYS-XH-HOUSING" }));
      expect.fail("should have been refused");
    } catch (e) {
      expect(e).to.be.instanceOf(NodeError);
      expect((e as NodeError).code).to.equal("CONFLICT");
      expect((e as NodeError).details.error).to.equal("DataItemAlreadyProvided");
      expect((e as NodeError).details.args).to.deep.include({ itemCode: catalogueCode("DE0001"), resourceCode: catalogueCode("R310115-0001"), provider: id(PUDONG) });
    }
    try {
      await xuhui.publish(licenceEntry({ duty: "D-HOUSE-01", system: "SYS-XH-HOUSING", dataItems: [] }));
      expect.fail("should have been refused");
    } catch (e) {
      expect((e as NodeError).code).to.equal("CONFLICT");
      expect((e as NodeError).message).to.match(/another provider/);
    }
  });

  it("updates add versions; search by provider, grade, sharing, open, duty, system, status and text", async () => {
    await pudong.registerDuty("D-FOOD-01", "食品经营许可");
    await pudong.publish(licenceEntry({ resourceCode: "R310115-0002", title: "食品经营许可证信息", description: "Food permits of Pudong", sharing: "CONDITIONAL", duty: "D-FOOD-01", dataItems: ["DE0009"] }));
    await xuhui.publish(licenceEntry({ resourceCode: "R310104-0001", title: "房屋租赁备案", description: "徐汇区住房租赁合同备案", grade: "IMPORTANT", level: 3, sharing: "CONDITIONAL", duty: "D-HOUSE-01", system: "SYS-XH-HOUSING", dataItems: [] }));
    const v2 = await pudong.publish(licenceEntry({ description: "浦东新区市场主体登记信息（含经营范围）。", updateCycle: "REAL_TIME" }));
    expect(v2.version).to.equal(2);
    expect((await pudong.publishedDoc("R310115-0001"))!.updateCycle).to.equal("REAL_TIME");
    expect((await pudong.publishedDoc("R310115-0001", 1))!.updateCycle).to.equal("DAILY");
    await pudong.sync();

    const codes = async (q: Parameters<CatalogueService["search"]>[0]) => (await pudong.search(q)).map((e) => e.code).sort();
    expect(await codes({})).to.deep.equal(["R310104-0001", "R310115-0001", "R310115-0002"]);
    expect(await codes({ provider: PUDONG })).to.deep.equal(["R310115-0001", "R310115-0002"]);
    expect(await codes({ provider: id(XUHUI) })).to.deep.equal(["R310104-0001"]);
    expect(await codes({ grade: "IMPORTANT" })).to.deep.equal(["R310104-0001"]);
    expect(await codes({ sharing: "CONDITIONAL" })).to.deep.equal(["R310104-0001", "R310115-0002"]);
    expect(await codes({ sharing: "CONDITIONAL", provider: PUDONG })).to.deep.equal(["R310115-0002"]);
    expect(await codes({ duty: "D-FOOD-01" })).to.deep.equal(["R310115-0002"]);
    expect(await codes({ system: "SYS-XH-HOUSING" })).to.deep.equal(["R310104-0001"]);
    expect(await codes({ open: "OPEN" })).to.deep.equal([]);
    expect(await codes({ text: "经营范围" })).to.deep.equal(["R310115-0001"]);
    expect(await codes({ text: "food" })).to.deep.equal(["R310115-0002"]);
    expect(await codes({ text: "租赁" })).to.deep.equal([]); // Pudong's node does not hold Xuhui's texts
    expect(await pudong.search({ limit: 1 })).to.have.length(1);
    const e = (await pudong.getEntry("R310115-0001"))!;
    expect([e.version, e.publishedVersion, e.pending, e.updateCycle]).to.deep.equal([2, 1, true, "REAL_TIME"]);
    expect(e.versionHash).to.equal(v2.versionHash);
    expect(e.prevVersionHash).to.not.equal(e.versionHash);
    try { await pudong.search({ grade: "SECRET" as never }); expect.fail(); } catch (err) { expect((err as NodeError).code).to.equal("VALIDATION"); }
  });

  it("a Cataloguer's correction is indexed as a published version", async () => {
    const before = (await pudong.getEntry("R310104-0001"))!;
    await city.correctClassification("R310104-0001", { grade: "IMPORTANT", level: 4, sharing: "CONDITIONAL", open: "NOT_OPEN" }, "含个人住址");
    try {
      await pudong.correctClassification("R310104-0001", { grade: "GENERAL", level: 1, sharing: "CONDITIONAL", open: "NOT_OPEN" }, "x");
      expect.fail();
    } catch (err) {
      expect((err as NodeError).code).to.equal("NOT_ENTITLED");
      expect((err as NodeError).details.error).to.equal("MissingRole");
    }
    await pudong.sync();
    const e = (await pudong.getEntry("R310104-0001"))!;
    expect([e.version, e.publishedVersion, e.level, e.pending, e.publishedSharing]).to.deep.equal([2, 2, 4, false, "CONDITIONAL"]);
    expect(e.prevVersionHash).to.equal(before.versionHash);
  });

  it("imports another provider's texts only if they match the chain", async () => {
    try {
      await pudong.importTexts("R310104-0001", { title: "房屋租赁备案（伪）" });
      expect.fail();
    } catch (err) {
      expect((err as NodeError).code).to.equal("CONFLICT");
      expect((err as NodeError).details.field).to.equal("title");
    }
    await pudong.importTexts("R310104-0001", { title: "房屋租赁备案 ", description: "徐汇区住房租赁合同备案" });
    expect((await pudong.search({ text: "租赁" })).map((x) => x.code)).to.deep.equal(["R310104-0001"]);
  });

  it("scenarios, approvals, canUse and data uses recorded only when the chain allows", async () => {
    await city.approveEntry("R310115-0002", 1);
    await xuhui.registerScenario("SCN-OPEN-SHOP", "开办餐饮店一件事", "《上海市优化营商环境条例》", ["R310115-0001", "R310115-0002"]);
    await pudong.sync();
    const inbox = await pudong.requests();
    expect(inbox.map((r) => [r.resourceCode, r.needsApproval, r.status])).to.deep.equal([
      [catalogueCode("R310115-0001"), false, "DRAWN"], [catalogueCode("R310115-0002"), true, "DRAWN"],
    ]);
    expect(await pudong.canUse("SCN-OPEN-SHOP", "R310115-0001")).to.deep.equal({ ok: true, reason: "OK", code: 0 });
    expect((await pudong.canUse("SCN-OPEN-SHOP", "R310115-0002")).reason).to.equal("APPROVAL_MISSING");

    const use = { scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0002", consumer: id(XUHUI), matter: "MATTER-0042", requestId: keccak256("0x01"), queryHash: keccak256("0x02") };
    try {
      await pudong.recordDataUse(use);
      expect.fail();
    } catch (err) {
      expect(err).to.be.instanceOf(DataUseRefusedError);
      expect((err as NodeError).details.reason).to.equal("APPROVAL_MISSING");
    }
    expect(logged).to.have.length(0);

    const now = Number((await chain.provider.getBlock("latest"))!.timestamp);
    await pudong.approveUse("SCN-OPEN-SHOP", "R310115-0002", now + 3600);
    const { seq, record } = await pudong.recordDataUse(use);
    expect(seq).to.equal(0);
    expect(record).to.deep.include({ basis: "SCENARIO", direction: "SERVED", grantId: catalogueCode("SCN-OPEN-SHOP"), typeCode: catalogueCode("R310115-0002"), requester: id(XUHUI), custodian: id(PUDONG) });
    await pudong.sync();
    expect((await pudong.requests({ status: "APPROVED" })).map((r) => r.expiresAt)).to.deep.equal([now + 3600]);

    await rpc(chain.url, "evm_increaseTime", [7200]);
    await rpc(chain.url, "evm_mine");
    expect((await pudong.canUse("SCN-OPEN-SHOP", "R310115-0002")).reason).to.equal("APPROVAL_EXPIRED");
    try { await pudong.recordDataUse(use); expect.fail(); } catch (err) { expect((err as NodeError).details.reason).to.equal("APPROVAL_EXPIRED"); }
    expect(logged).to.have.length(1);
  });

  it("withdrawal is followed; the index survives a restart and resumes from its cursor", async () => {
    await pudong.withdraw("R310115-0002", "merged into R310115-0001");
    await pudong.sync();
    expect((await pudong.getEntry("R310115-0002"))!.status).to.equal("WITHDRAWN");
    expect((await pudong.search({})).map((e) => e.code)).to.not.include("R310115-0002");
    expect((await pudong.search({ status: "WITHDRAWN" })).map((e) => e.code)).to.deep.equal(["R310115-0002"]);
    expect((await pudong.canUse("SCN-OPEN-SHOP", "R310115-0002")).reason).to.equal("RESOURCE_WITHDRAWN");

    // a second node following with its own timer
    const follower = await service(w.xuhui, XUHUI, false, 50);
    // wait for the follower's timer to reach the withdrawal (30 s: a loaded 2-core machine; was 100 x 50 ms)
    for (const end = Date.now() + 30_000; (await follower.svc.getEntry("R310115-0002"))?.status !== "WITHDRAWN" && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await follower.svc.getEntry("R310115-0002"))?.status, "R310115-0002 on the follower after 30 s").to.equal("WITHDRAWN");
    await follower.svc.stop();
    await follower.db.close();
    const again = await service(w.xuhui, XUHUI, false, 0, follower.path);
    expect((await again.svc.getEntry("R310115-0002"))!.status).to.equal("WITHDRAWN");
    const next = await again.svc.sync();
    expect(next).to.equal((await chain.provider.getBlockNumber()) + 1);
    await again.svc.stop();
  });

  it("Fastify plugin: routes validate input and answer from the service", async () => {
    const app = Fastify();
    app.setErrorHandler((err, req, reply) => sendError(reply, req, err)); // as node/src/api/server.ts does
    await app.register(catalogueRoutes, { prefix: "/v1/catalogue", service: pudong });
    await app.ready();
    const list = await app.inject({ method: "GET", url: "/v1/catalogue/entries?sharing=UNCONDITIONAL" });
    expect(list.statusCode).to.equal(200);
    expect(list.json().entries.map((e: { code: string }) => e.code)).to.deep.equal(["R310115-0001"]);
    const one = await app.inject({ method: "GET", url: "/v1/catalogue/entries/R310115-0001" });
    expect(one.json().title).to.equal("企业营业执照信息");
    const bad = await app.inject({ method: "GET", url: "/v1/catalogue/entries?grade=SECRET" });
    expect(bad.statusCode).to.equal(400);
    const badBody = await app.inject({ method: "POST", url: "/v1/catalogue/entries", payload: { ...licenceEntry(), level: 9 } });
    expect(badBody.statusCode).to.equal(400);
    const can = await app.inject({ method: "GET", url: "/v1/catalogue/scenarios/SCN-OPEN-SHOP/resources/R310115-0001/can-use" });
    expect(can.json()).to.deep.equal({ ok: true, reason: "OK", code: 0 });
    const missing = await app.inject({ method: "GET", url: "/v1/catalogue/entries/R-NONE" });
    expect(missing.statusCode).to.equal(404);
    expect(missing.json().code).to.equal("NOT_FOUND");
    await app.close();
  });
});
