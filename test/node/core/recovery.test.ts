import { expect } from "chai";
import { Wallet, encodeBytes32String } from "ethers";
import { computeMerkleRoot, verifyProof } from "@tongban/sdk";
import { useCoreFixture, waitFor, waitForMaterial, anchorLogs, newRequest, newRequests, TYPE, JUR } from "../helpers/core.js";

describe("node core: recovery of planned and sent batches", function () {
  const fx = useCoreFixture({ rpcFilter: true });

  it("a signed anchor tx persisted but never broadcast is rebroadcast after restart, anchored once", async () => {
    const cfg = { rpcUrls: [fx.rpcFilter.url], batchIntervalMs: 100, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    await core1.service.register([newRequest()]); // learn the entitlement
    await waitFor(async () => core1.service.stats().anchored === 1, 20_000, "first anchor");
    fx.rpcFilter.setBlock((m) => m === "eth_sendRawTransaction");
    const acks = await core1.service.register(newRequests(40));
    // the batch is planned, signed and recorded as sent, but the broadcast never reached the chain
    await waitFor(async () => fx.rpcFilter.seen.filter((m) => m === "eth_sendRawTransaction").length >= 2, 20_000, "blocked broadcast");
    await core1.stop();
    const root = computeMerkleRoot(acks.map((a) => a.id));
    expect(await anchorLogs(fx, root)).to.have.length(0);

    fx.rpcFilter.setBlock(() => false);
    const core2 = await fx.newCore({ ...cfg, dataDir: core1.config.dataDir });
    for (const a of acks) {
      const rec = await waitForMaterial(core2, a.id, { what: "anchor after rebroadcast" });
      expect(rec.anchor!.root).to.equal(root);
      expect(verifyProof(a.id, rec.anchor!.proof, root)).to.equal(true);
    }
    expect(await anchorLogs(fx, root)).to.have.length(1);
    await core2.stop();
  });

  it("a planned batch whose root got anchored while the node was down is finalised from the chain, not resent", async () => {
    const cfg = { rpcUrls: [fx.rpcFilter.url], batchIntervalMs: 100, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    await core1.service.register([newRequest()]);
    await waitFor(async () => core1.service.stats().anchored === 1, 20_000, "first anchor");
    fx.rpcFilter.setBlock((m) => m === "eth_estimateGas"); // plan, but never get to sign
    const acks = await core1.service.register(newRequests(7));
    await waitFor(async () => core1.service.stats().anchoring === 7, 20_000, "planned");
    await core1.stop();
    // the same account anchors the planned root behind the node's back (e.g. the tx did go out before a crash)
    const root = computeMerkleRoot(acks.map((a) => a.id));
    const signer = new Wallet(fx.keys.wallet.privateKey, fx.chain.provider);
    const tx = await fx.ledger.connect(signer).anchor(root, encodeBytes32String(TYPE), JUR, 7);
    await tx.wait();

    fx.rpcFilter.setBlock(() => false);
    const core2 = await fx.newCore({ ...cfg, dataDir: core1.config.dataDir });
    const rec = await waitForMaterial(core2, acks[3]!.id, { what: "finalised from chain" });
    expect(rec.anchor!.txHash).to.equal(tx.hash);
    expect(await anchorLogs(fx, root)).to.have.length(1);
    await core2.stop();
  });
});
