import { expect } from "chai";
import { encodeBytes32String } from "ethers";
import { useCoreFixture, waitFor, waitForMaterial, warmUp, newRequest as req, TYPE, MEMBER_USCC } from "../helpers/core.js";
import { rpc } from "../helpers/chain.js";

describe("node core: confirmations and entitlement withdrawn after intake", function () {
  const fx = useCoreFixture({ proxy: true });

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
    const rec = await waitForMaterial(core, a!.id, { what: "3 confirmations" });
    const head = Number(await rpc<string>(fx.chain.url, "eth_blockNumber"));
    expect(head - rec.anchor!.blockNumber + 1).to.be.greaterThanOrEqual(3);
    expect(tx.batchId).to.equal(rec.anchor!.root);
    await core.stop();
  });

  it("a batch the ledger refuses for good (entitlement withdrawn after intake) ends failed, naming the revert", async () => {
    const core = await fx.newCore({ rpcUrls: [fx.proxy.url], retry: { minMs: 100, maxMs: 200 } });
    await warmUp(core, { jurisdiction: 310115 });
    await fx.proxy.cut();
    const acks = await core.service.register([req({ jurisdiction: 310115 }), req({ jurisdiction: 310115 })]);
    // governance withdraws the entitlement while the batch waits
    const call = fx.ledger.interface.encodeFunctionData("revokeEntitlement", [encodeBytes32String(MEMBER_USCC), encodeBytes32String(TYPE), 310115]);
    await (await fx.ledger.bootstrapBatch([call])).wait();
    await fx.proxy.restore();
    const rec = await waitForMaterial(core, acks[0]!.id, { what: "batch failed", accept: (r) => r.state === "failed" });
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
