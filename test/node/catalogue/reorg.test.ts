/**
 * The catalogue index follows chain reorganisations (hardhat node process, evm_snapshot / evm_revert + a
 * different, longer chain past the index's cursor):
 *  - within the kept window: the abandoned blocks' events are undone (a new entry, a new version of an existing
 *    entry, a scenario and its draws, a system) and the new chain's are indexed; the index then equals the index
 *    a fresh node builds from the new chain;
 *  - deeper than the kept window: the index is rebuilt from the start block, again equal to a fresh index.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, encodeBytes32String } from "ethers";
import { CatalogueClient, catalogueCode, type CatalogueEntryDoc } from "@tongban/sdk";
import { startChain, devWallet, rpc, type Chain } from "../helpers/chain.js";
import { deployCatalogue } from "../helpers/catalogue.js";
import { CatalogueService, openCatalogueDb, type CatalogueDB } from "../../../node/src/catalogue/index.js";

const PUDONG = "11310115002418321F";
const XUHUI = "91310104MA1K000018";
const CITY = "11310000002418210Q";
const id = (uscc: string) => encodeBytes32String(uscc).toLowerCase();

const doc = (code: string, item: string, over: Partial<CatalogueEntryDoc> = {}): CatalogueEntryDoc => ({
  resourceCode: code, title: `资源 ${code}`, description: `说明 ${code}`,
  fields: [{ name: "f", label: "字段", type: "string", required: true, dataItem: item }],
  standard: { text: "GB/T 1", version: 1 }, grade: "GENERAL", level: 2, sharing: "UNCONDITIONAL", open: "NOT_OPEN", updateCycle: "DAILY",
  duty: "D-1", system: "SYS-1", uri: "", dataItems: [item], ...over,
});

/** Every index key except the texts/docs this node holds and the reorg bookkeeping. */
async function indexState(db: CatalogueDB): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [k, v] of db.iterator()) if (/^(e|x|s|r|y|u):/.test(k)) out[k] = v;
  return out;
}

describe("catalogue index: chain reorganisations (hardhat node)", function () {
  this.timeout(180_000);
  let chain: Chain;
  let provider: JsonRpcProvider;
  let address: string;
  let startBlock: number;
  let pudong: CatalogueClient, xuhui: CatalogueClient, city: CatalogueClient;
  const dirs: string[] = [];
  const opened: { svc: CatalogueService; db: CatalogueDB }[] = [];

  async function follower(reorgDepth?: number) {
    const dir = mkdtempSync(join(tmpdir(), "tongban-cat-reorg-"));
    dirs.push(dir);
    const db = await openCatalogueDb(dir);
    const svc = new CatalogueService({ provider, address, db }, { startBlock, pollMs: 0, ...(reorgDepth ? { reorgDepth } : {}) });
    await svc.start();
    opened.push({ svc, db });
    return { svc, db };
  }
  const head = async () => Number(await rpc<string>(chain.url, "eth_blockNumber"));

  before(async () => {
    chain = await startChain();
    provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1 });
    const w = { p: devWallet(2), x: devWallet(3), c: devWallet(4) };
    ({ address, startBlock } = await deployCatalogue(chain, [
      { uscc: PUDONG, jurisdiction: 310115, accounts: [w.p.address] },
      { uscc: XUHUI, jurisdiction: 310104, accounts: [w.x.address] },
      { uscc: CITY, jurisdiction: 310000, accounts: [w.c.address], roles: [2] },
    ], provider));
    pudong = new CatalogueClient(address, new Wallet(w.p.privateKey, provider));
    xuhui = new CatalogueClient(address, new Wallet(w.x.privateKey, provider));
    city = new CatalogueClient(address, new Wallet(w.c.privateKey, provider));
    await pudong.registerDuty("D-1", { hash: "0x" + "11".repeat(32) });
    await pudong.registerSystem("SYS-1", { hash: "0x" + "22".repeat(32) });
    await pudong.registerEntry(doc("R-A", "DE-A"));
    await city.publishEntry("R-A", 1);
  });

  after(async () => {
    for (const o of opened) { await o.svc.stop(); await o.db.close().catch(() => undefined); }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    provider?.destroy();
    await chain?.stop();
  });

  it("undoes the abandoned blocks and indexes the new chain (reorg within the kept window)", async () => {
    const { svc, db } = await follower();
    await svc.sync();
    const before = await indexState(db);
    expect((await svc.getEntry("R-A"))!.version).to.equal(1);

    const snap = await rpc<string>(chain.url, "evm_snapshot");
    // the chain the index will abandon: a new entry, a new version of R-A, a system, a scenario drawing on R-A
    await pudong.registerEntry(doc("R-B", "DE-B"));
    await pudong.updateEntry(doc("R-A", "DE-A", { grade: "IMPORTANT", level: 3, sharing: "CONDITIONAL" }));
    await pudong.registerSystem("SYS-2", { hash: "0x" + "33".repeat(32) });
    await xuhui.registerScenario("SCN-1", { hash: "0x" + "44".repeat(32) }, { hash: "0x" + "55".repeat(32) }, ["R-A"]);
    const oldCursor = await svc.sync();
    expect((await svc.getEntry("R-A"))!.version).to.equal(2);
    expect(await svc.getEntry("R-B")).to.not.equal(undefined);
    expect(await svc.getScenario("SCN-1")).to.not.equal(undefined);
    expect((await svc.search({ grade: "IMPORTANT" })).map((e) => e.code)).to.deep.equal(["R-A"]);
    expect(await indexState(db)).to.not.deep.equal(before);

    // another chain from the snapshot, longer than the old one
    expect(await rpc(chain.url, "evm_revert", [snap])).to.equal(true);
    await pudong.registerEntry(doc("R-C", "DE-C"));
    await rpc(chain.url, "hardhat_mine", ["0x8"]);
    expect(await head()).to.be.greaterThan(oldCursor);
    await svc.sync();
    expect(svc.reorgs).to.equal(1);
    expect((await svc.getEntry("R-A"))!.version).to.equal(1);
    expect((await svc.getEntry("R-A"))!.grade).to.equal("GENERAL");
    expect(await svc.getEntry("R-B")).to.equal(undefined);
    expect(await svc.getScenario("SCN-1")).to.equal(undefined);
    expect(await svc.search({ grade: "IMPORTANT" })).to.deep.equal([]);
    expect((await svc.search({ status: "ANY" })).map((e) => e.code).sort()).to.deep.equal(["R-A", "R-C"]);
    expect((await svc.requests({ provider: id(PUDONG) }))).to.deep.equal([]);

    // the same index a fresh node builds from the new chain
    const fresh = await follower();
    await fresh.svc.sync();
    expect(await indexState(db)).to.deep.equal(await indexState(fresh.db));
    // a sync without a reorg changes nothing
    await svc.sync();
    expect(svc.reorgs).to.equal(1);
  });

  it("a reorg deeper than the kept window rebuilds the index from the start block", async () => {
    const { svc, db } = await follower(2);
    await svc.sync();
    const snap = await rpc<string>(chain.url, "evm_snapshot");
    await pudong.registerEntry(doc("R-D", "DE-D"));
    await rpc(chain.url, "hardhat_mine", ["0x3"]);
    await pudong.updateEntry(doc("R-C", "DE-C", { title: "改" }));
    await rpc(chain.url, "hardhat_mine", ["0x3"]);
    const oldCursor = await svc.sync();
    expect(await svc.getEntry("R-D")).to.not.equal(undefined);
    expect(await rpc(chain.url, "evm_revert", [snap])).to.equal(true);
    await xuhui.registerScenario("SCN-2", { hash: "0x" + "66".repeat(32) }, { hash: "0x" + "77".repeat(32) }, ["R-A"]);
    await rpc(chain.url, "hardhat_mine", ["0x10"]);
    expect(await head()).to.be.greaterThan(oldCursor);
    await svc.sync();
    expect(svc.reorgs).to.equal(1);
    expect(await svc.getEntry("R-D")).to.equal(undefined);
    expect((await svc.getEntry("R-C"))!.version).to.equal(1);
    expect(Object.keys((await svc.getScenario("SCN-2"))!.draws)).to.deep.equal([catalogueCode("R-A")]);
    const fresh = await follower();
    await fresh.svc.sync();
    expect(await indexState(db)).to.deep.equal(await indexState(fresh.db));
  });
});
