import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { encodeBytes32String } from "ethers";
import { startCoreFixture, waitFor, TYPE, JUR, MEMBER_USCC, type CoreFixture } from "../helpers/core.js";
import { startProxy, rpc, type Cuttable } from "../helpers/chain.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";

const NOW = Math.floor(Date.now() / 1000);
const req = (over: Partial<RegisterRequest> = {}): RegisterRequest => ({
  typeCode: TYPE,
  jurisdiction: JUR,
  contentHash: "0x" + randomBytes(32).toString("hex"),
  holderRef: "0x" + randomBytes(32).toString("hex"),
  validFrom: NOW,
  ...over,
});

describe("node core: confirmations and entitlement withdrawn after intake", function () {
  let fx: CoreFixture;
  let proxy: Cuttable;
  before(async () => {
    fx = await startCoreFixture();
    proxy = await startProxy(fx.chain.port);
  });
  after(async () => {
    await proxy?.close();
    await fx?.close();
  });

  it("waits for the configured confirmations before marking a batch anchored", async () => {
    const core = await fx.newCore({ confirmations: 3 });
    const [a] = await core.service.register([req()]);
    const tx = await waitFor(async () => {
      const r = await core.service.getMaterial(a!.id);
      return r.state === "anchoring" && r.batchId ? r : undefined;
    }, 20_000, "batch sent");
    // hardhat mines one block per transaction: the anchor's block is head, 1 confirmation only
    await new Promise((r) => setTimeout(r, 600));
    expect((await core.service.getMaterial(a!.id)).state).to.equal("anchoring");
    await rpc(fx.chain.url, "hardhat_mine", ["0x1"]);
    await new Promise((r) => setTimeout(r, 600));
    expect((await core.service.getMaterial(a!.id)).state).to.equal("anchoring");
    await rpc(fx.chain.url, "hardhat_mine", ["0x1"]);
    const rec = await waitFor(async () => {
      const r = await core.service.getMaterial(a!.id);
      return r.state === "anchored" ? r : undefined;
    }, 20_000, "3 confirmations");
    const head = Number(await rpc<string>(fx.chain.url, "eth_blockNumber"));
    expect(head - rec.anchor!.blockNumber + 1).to.be.greaterThanOrEqual(3);
    expect(tx.batchId).to.equal(rec.anchor!.root);
    await core.stop();
  });

  it("a batch the ledger refuses for good (entitlement withdrawn after intake) ends failed, naming the revert", async () => {
    const core = await fx.newCore({ rpcUrls: [proxy.url], retry: { minMs: 100, maxMs: 200 } });
    const [warm] = await core.service.register([req({ jurisdiction: 310115 })]);
    await waitFor(async () => (await core.service.getMaterial(warm!.id)).state === "anchored", 20_000, "warm-up");
    await proxy.cut();
    const acks = await core.service.register([req({ jurisdiction: 310115 }), req({ jurisdiction: 310115 })]);
    // governance withdraws the entitlement while the batch waits
    const call = fx.ledger.interface.encodeFunctionData("revokeEntitlement", [encodeBytes32String(MEMBER_USCC), encodeBytes32String(TYPE), 310115]);
    await (await fx.ledger.bootstrapBatch([call])).wait();
    await proxy.restore();
    const rec = await waitFor(async () => {
      const r = await core.service.getMaterial(acks[0]!.id);
      return r.state === "failed" ? r : undefined;
    }, 20_000, "batch failed");
    expect(rec.error!.code).to.equal("NotEntitled");
    expect(core.service.stats().failed).to.equal(2);
    // and intake now refuses at the edge (a fresh core asks the chain; a running one after its 10 s cache TTL)
    const fresh = await fx.newCore();
    try {
      await fresh.service.register([req({ jurisdiction: 310115 })]);
      expect.fail("should be refused");
    } catch (e) {
      expect((e as { code: string }).code).to.equal("NOT_ENTITLED");
    }
    await core.stop();
    await fresh.stop();
  });
});
