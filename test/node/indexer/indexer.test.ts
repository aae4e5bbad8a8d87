/**
 * The indexer against a real `hardhat node`: events indexed with confirmations, queries by holder / issuer /
 * type / time, persistence across restarts, and a reorg made with evm_snapshot/evm_revert + new blocks.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbiCoder, Wallet, ZeroHash, encodeBytes32String, keccak256, toUtf8Bytes, Interface } from "ethers";
import { Registry } from "prom-client";
import { startChain, deployLedger, bootstrap, fund, rpc, type Chain, type TongbanLedger } from "../helpers/chain.js";
import { TongbanLedger__factory } from "../../../sdk/src/contracts/types/index.js";
import { Indexer } from "../../../node/src/indexer/indexer.js";
import { HeaderFeed } from "../../../node/src/indexer/headers.js";
import type { MaterialService } from "../../../node/src/core/service.js";
import type { BatchInfo, ChangeEvent } from "../../../node/src/core/types.js";
import { NotFoundError } from "../../../node/src/core/errors.js";
import { LEDGER_EVENTS_ABI } from "../../../node/src/indexer/events.js";
import type { HeaderJson } from "../../../node/src/core/types.js";
import type { IndexedEvent } from "../../../node/src/indexer/types.js";

const USCC = "11310115002418321F";
const ISSUER = encodeBytes32String(USCC).toLowerCase();
const TYPE = encodeBytes32String("BIZ_LICENCE").toLowerCase();

function header(i: number, holder = "alice"): { leaf: string; header: HeaderJson } {
  const h: HeaderJson = {
    typeCode: TYPE,
    issuer: ISSUER,
    holderRef: keccak256(toUtf8Bytes(holder)),
    contentHash: keccak256(toUtf8Bytes(`content ${i}`)),
    hashAlg: 1,
    issuedAt: String(1_700_000_000 + i * 100),
    validFrom: "1700000000",
    validUntil: "0",
    version: 1,
    supersedes: ZeroHash,
  };
  const leaf = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64", "uint64", "uint32", "bytes32"],
      [h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg, h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes],
    ),
  );
  return { leaf, header: h };
}

describe("indexer (hardhat node)", function () {
  this.timeout(180_000);
  let chain: Chain;
  let ledger: TongbanLedger;
  let address: string;
  let issuer: TongbanLedger;
  let dir: string;
  let startBlock: number;

  before(async () => {
    chain = await startChain();
    const d = await deployLedger(chain);
    ledger = d.ledger;
    address = d.address;
    startBlock = await chain.provider.getBlockNumber(); // automine: the deployment's block
    expect(await chain.provider.getCode(address, startBlock)).to.not.equal("0x");
    expect(await chain.provider.getCode(address, startBlock - 1)).to.equal("0x");
    const signer = new Wallet(Wallet.createRandom().privateKey, chain.provider);
    await fund(chain, signer.address);
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [310104, 310000]],
      types: ["BIZ_LICENCE"],
      members: [{ uscc: USCC, jurisdiction: 310104, accounts: [signer.address], entitlements: [["BIZ_LICENCE", 310104]] }],
    });
    issuer = TongbanLedger__factory.connect(address, signer);
    dir = mkdtempSync(join(tmpdir(), "tongban-indexer-"));
  });
  after(async () => {
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const anchor = async (leaf: string) => (await issuer.anchor(leaf, TYPE, 310104, 1)).wait();
  const newIndexer = (name: string, o: Partial<ConstructorParameters<typeof Indexer>[0]> = {}) =>
    new Indexer({ provider: chain.provider, address, dbPath: join(dir, name), startBlock, confirmations: 0, pollMs: 50, registry: new Registry(), ...o });

  it("the event fragments match the compiled TongbanLedger ABI", () => {
    const compiled = new Interface(TongbanLedger__factory.abi);
    const ours = new Interface(LEDGER_EVENTS_ABI);
    const sig = (i: Interface) => {
      const out: string[] = [];
      i.forEachEvent((e) => out.push(e.format("full")));
      return out.sort();
    };
    expect(sig(ours)).to.deep.equal(sig(compiled));
  });

  it("indexes anchors, status changes and members; answers state, history and queries; persists its cursor", async () => {
    const m1 = header(1);
    const m2 = header(2, "bob");
    await anchor(m1.leaf);
    await anchor(m2.leaf);
    await (await issuer.revokeMaterial(m1.leaf, 7)).wait();
    const idx = newIndexer("main");
    const seen: IndexedEvent[] = [];
    idx.onEvent((e) => seen.push(e));
    await idx.syncToHead();
    await idx.addHeader(m1.leaf, m1.header, m1.leaf);
    await idx.addHeader(m2.leaf, m2.header, m2.leaf);

    const s1 = (await idx.materialState(m1.leaf))!;
    expect(s1.anchored).to.equal(true);
    expect(s1.status).to.equal("revoked");
    expect(s1.reason).to.equal(7);
    expect(s1.statusBy).to.equal(ISSUER);
    expect(s1.jurisdiction).to.equal(310104);
    expect((await idx.materialState(m2.leaf))!.status).to.equal("active");
    expect((await idx.history(m1.leaf)).map((e) => e.event)).to.deep.equal(["Anchored", "MaterialRevoked"]);
    expect(seen.map((e) => e.event)).to.include.members(["MemberAdmitted", "EntitlementGranted", "AccountAdded", "Anchored", "MaterialRevoked"]);
    expect((await idx.memberHistory(ISSUER)).map((e) => e.event)).to.include.members(["MemberAdmitted", "AccountAdded", "EntitlementGranted"]);

    const byHolder = await idx.queryMaterials({ holderRef: m2.header.holderRef });
    expect(byHolder.items.map((i) => i.id)).to.deep.equal([m2.leaf]);
    const byIssuer = await idx.queryMaterials({ issuer: ISSUER, typeCode: TYPE });
    expect(byIssuer.items.map((i) => i.id)).to.deep.equal([m1.leaf, m2.leaf]);
    const inTime = await idx.queryMaterials({ issuer: ISSUER, from: 1_700_000_150, to: 1_700_000_250 });
    expect(inTime.items.map((i) => i.id)).to.deep.equal([m2.leaf]);
    const page1 = await idx.queryMaterials({ typeCode: TYPE, limit: 1 });
    expect(page1.items).to.have.length(1);
    const page2 = await idx.queryMaterials({ typeCode: TYPE, limit: 1, after: page1.next });
    expect(page2.items.map((i) => i.id)).to.deep.equal([m2.leaf]);
    expect(page2.next).to.equal(undefined);
    expect(await idx.queryMaterials({ holderRef: keccak256(toUtf8Bytes("nobody")) })).to.deep.equal({ items: [] });

    // a header added again without a root keeps its root; added again with its root (a batch re-indexed
    // after a crash) it is written without a read and answers stay the same, with the root marked done
    await idx.addHeaders([{ leaf: m1.leaf, header: m1.header }]);
    expect((await idx.materialState(m1.leaf))!.root).to.equal(m1.leaf.toLowerCase());
    expect(await idx.batchHeadersDone(m2.leaf)).to.equal(false);
    await idx.addBatchHeaders(m2.leaf, [{ leaf: m2.leaf, header: m2.header }]);
    expect(await idx.batchHeadersDone(m2.leaf)).to.equal(true);
    expect((await idx.materialState(m2.leaf))!).to.include({ root: m2.leaf.toLowerCase(), anchored: true, headerKnown: true });
    expect((await idx.queryMaterials({ holderRef: m2.header.holderRef })).items.map((i) => i.id)).to.deep.equal([m2.leaf]);
    // a header never seen, without a root: indexed, not anchored
    const m3 = header(3, "carol");
    await idx.addHeaders([{ leaf: m3.leaf, header: m3.header }]);
    expect((await idx.materialState(m3.leaf))!).to.include({ root: null, anchored: false, headerKnown: true });
    expect((await idx.queryMaterials({ holderRef: m3.header.holderRef })).items.map((i) => i.id)).to.deep.equal([m3.leaf]);

    const cursor = idx.progress().cursor;
    expect(cursor).to.equal(await chain.provider.getBlockNumber());
    await idx.stop();
    const again = newIndexer("main");
    await again.open();
    expect(again.progress().cursor).to.equal(cursor);
    expect((await again.materialState(m1.leaf))!.status).to.equal("revoked");
    await again.stop();
  });

  it("waits for confirmations", async () => {
    const m = header(3);
    const idx = newIndexer("conf", { confirmations: 2 });
    await anchor(m.leaf);
    await idx.syncToHead();
    expect(await idx.root(m.leaf)).to.equal(null);
    expect(idx.progress().lag).to.equal(0);
    await rpc(chain.url, "hardhat_mine", ["0x2"]);
    await idx.syncToHead();
    expect((await idx.root(m.leaf))!.issuer).to.equal(ISSUER);
    await idx.stop();
  });

  // the second case is how main.ts passes an absent config key: an explicit `undefined` must keep the default depth
  for (const [k, depth] of [[0, 16], [1, undefined]] as const) {
  it(`rolls back a reorg (evm_snapshot / evm_revert + new blocks) and re-indexes the new branch (reorgDepth ${depth})`, async () => {
    const base = header(10 + 100 * k);
    await anchor(base.leaf);
    const idx = newIndexer(`reorg-${k}`, { reorgDepth: depth });
    await idx.syncToHead();
    await idx.addHeader(base.leaf, base.header, base.leaf);
    const forkBlock = idx.progress().cursor;

    const snap = await rpc<string>(chain.url, "evm_snapshot");
    const lost = header(11 + 100 * k);
    await anchor(lost.leaf);
    await (await issuer.suspendMaterial(base.leaf, 3)).wait();
    await idx.syncToHead();
    await idx.addHeader(lost.leaf, lost.header, lost.leaf);
    expect((await idx.materialState(base.leaf))!.status).to.equal("suspended");
    expect((await idx.materialState(lost.leaf))!.anchored).to.equal(true);
    expect(idx.progress().cursor).to.equal(forkBlock + 2);

    // the branch the indexer saw disappears; a longer one with other transactions replaces it
    expect(await rpc<boolean>(chain.url, "evm_revert", [snap])).to.equal(true);
    await rpc(chain.url, "hardhat_mine", ["0x1"]);
    const won = header(12 + 100 * k);
    await anchor(won.leaf);
    await (await issuer.revokeMaterial(base.leaf, 9)).wait();
    expect(await chain.provider.getBlockNumber()).to.equal(forkBlock + 3);

    const seen: IndexedEvent[] = [];
    idx.onEvent((e) => seen.push(e));
    await idx.syncToHead();
    expect(idx.progress().reorgs).to.equal(1);
    expect(seen[0].event).to.equal("Rollback");
    expect(seen[0].blockNumber).to.equal(forkBlock);
    expect(await idx.root(lost.leaf)).to.equal(null);
    const ls = (await idx.materialState(lost.leaf))!;
    expect(ls.anchored).to.equal(false);
    expect((await idx.root(won.leaf))!.blockNumber).to.equal(forkBlock + 2);
    const bs = (await idx.materialState(base.leaf))!;
    expect(bs.status).to.equal("revoked");
    expect(bs.reason).to.equal(9);
    expect((await idx.history(base.leaf)).map((e) => e.event)).to.deep.equal(["Anchored", "MaterialRevoked"]);
    expect(idx.progress().cursor).to.equal(forkBlock + 3);
    const block = await chain.provider.getBlock(forkBlock + 3);
    expect((await idx.events(forkBlock + 1, forkBlock + 3)).every((e) => e.blockNumber <= forkBlock + 3)).to.equal(true);
    expect((await idx.events(forkBlock + 3, forkBlock + 3))[0].blockHash).to.equal(block!.hash);
    await idx.stop();
  });
  }

  it("follows the chain when started, with lag and reorgs as metrics", async () => {
    const registry = new Registry();
    const idx = newIndexer("live", { registry });
    await idx.start();
    const m = header(20);
    await anchor(m.leaf);
    const deadline = Date.now() + 20_000;
    while (!(await idx.root(m.leaf)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await idx.root(m.leaf)).to.not.equal(null);
    const text = await registry.metrics();
    expect(text).to.match(/tongban_indexer_lag_blocks 0/);
    expect(text).to.match(new RegExp(`tongban_indexer_block ${await chain.provider.getBlockNumber()}`));
    expect(idx.progress().running).to.equal(true);
    await idx.stop();
    expect(idx.progress().running).to.equal(false);
  });

  it("header feed: indexes own batches' headers when confirmed, and after a crash backfills roots seen anchored without headers", async () => {
    // the core's side, reduced to what the feed uses: onChange + getBatch (single-leaf batches: root == leaf)
    const batches = new Map<string, BatchInfo>();
    const listeners = new Set<(e: ChangeEvent) => void>();
    const core = {
      onChange: (l: (e: ChangeEvent) => void) => (listeners.add(l), () => void listeners.delete(l)),
      getBatch: async (root: string) => {
        const b = batches.get(root);
        if (!b) throw new NotFoundError("batch", root);
        return b;
      },
    } as unknown as MaterialService;
    const confirm = (m: { leaf: string; header: HeaderJson }) => {
      batches.set(m.leaf, { root: m.leaf, type: "BIZ_LICENCE", jurisdiction: 310104, count: 1, state: "confirmed", plannedAt: 0, leaves: [m.leaf], headers: [m.header] });
    };
    const holder = "carol";
    const crashed = header(30, holder);
    await anchor(crashed.leaf);
    confirm(crashed);
    const stranger = header(31, holder); // anchored by this member from elsewhere: unknown to this store
    await anchor(stranger.leaf);

    // run 1: the indexer sees the anchors, but the node "crashed" before any header was written
    const idx = newIndexer("feed", { ownMemberId: ISSUER });
    await idx.syncToHead();
    // (earlier tests on this chain anchored other roots of the member: unknown to this store too)
    expect(await idx.ownRootsWithoutHeaders()).to.include.members([crashed.leaf, stranger.leaf]);
    const holderRef = keccak256(toUtf8Bytes(holder));
    expect((await idx.queryMaterials({ holderRef })).items).to.deep.equal([]);

    // run 2: the feed backfills at start
    const feed = new HeaderFeed(core, idx);
    await feed.start();
    await feed.idle();
    expect((await idx.queryMaterials({ holderRef })).items.map((i) => i.id)).to.deep.equal([crashed.leaf]);
    expect((await idx.materialState(crashed.leaf))!.anchored).to.equal(true);
    expect(await idx.ownRootsWithoutHeaders()).to.deep.equal([]);

    // live: a batch confirmed by the core is indexed from its event
    const live = header(32, holder);
    await anchor(live.leaf);
    confirm(live);
    for (const l of listeners) l({ kind: "batch", batchId: live.leaf, state: "confirmed", root: live.leaf, count: 1, at: Date.now() });
    await feed.idle();
    await idx.syncToHead();
    const found = (await idx.queryMaterials({ holderRef })).items;
    expect(found.map((i) => i.id)).to.deep.equal([crashed.leaf, live.leaf]);
    expect(found[1].chain.anchored).to.equal(true);
    expect(feed.failed).to.equal(0);
    await feed.stop();
    await idx.stop();
  });
});
