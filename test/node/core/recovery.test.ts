import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { Wallet, encodeBytes32String } from "ethers";
import { computeMerkleRoot, verifyProof } from "@tongban/sdk";
import { startCoreFixture, waitFor, TYPE, JUR, type CoreFixture } from "../helpers/core.js";
import { startRpcFilter, type RpcFilter } from "../helpers/chain.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";

const NOW = Math.floor(Date.now() / 1000);
const req = (): RegisterRequest => ({
  typeCode: TYPE,
  jurisdiction: JUR,
  contentHash: "0x" + randomBytes(32).toString("hex"),
  holderRef: "0x" + randomBytes(32).toString("hex"),
  validFrom: NOW,
});

async function anchorLogs(fx: CoreFixture, root: string) {
  const topic = fx.ledger.interface.getEvent("Anchored").topicHash;
  return fx.chain.provider.getLogs({ address: fx.ledgerAddress, topics: [topic, root], fromBlock: 0 });
}

describe("node core: recovery of planned and sent batches", function () {
  let fx: CoreFixture;
  let filter: RpcFilter;
  before(async () => {
    fx = await startCoreFixture();
    filter = await startRpcFilter(fx.chain.url);
  });
  after(async () => {
    await filter?.close();
    await fx?.close();
  });

  it("a signed anchor tx persisted but never broadcast is rebroadcast after restart, anchored once", async () => {
    const cfg = { rpcUrls: [filter.url], batchIntervalMs: 100, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    await core1.service.register([req()]); // learn the entitlement
    await waitFor(async () => core1.service.stats().anchored === 1, 20_000, "first anchor");
    filter.setBlock((m) => m === "eth_sendRawTransaction");
    const acks = await core1.service.register(Array.from({ length: 40 }, req));
    // the batch is planned, signed and recorded as sent, but the broadcast never reached the chain
    await waitFor(async () => filter.seen.filter((m) => m === "eth_sendRawTransaction").length >= 2, 20_000, "blocked broadcast");
    await core1.stop();
    const root = computeMerkleRoot(acks.map((a) => a.id));
    expect(await anchorLogs(fx, root)).to.have.length(0);

    filter.setBlock(() => false);
    const core2 = await fx.newCore({ ...cfg, dataDir: core1.config.dataDir });
    for (const a of acks) {
      const rec = await waitFor(async () => {
        const r = await core2.service.getMaterial(a.id);
        return r.state === "anchored" ? r : undefined;
      }, 20_000, "anchor after rebroadcast");
      expect(rec.anchor!.root).to.equal(root);
      expect(verifyProof(a.id, rec.anchor!.proof, root)).to.equal(true);
    }
    expect(await anchorLogs(fx, root)).to.have.length(1);
    await core2.stop();
  });

  it("a planned batch whose root got anchored while the node was down is finalised from the chain, not resent", async () => {
    const cfg = { rpcUrls: [filter.url], batchIntervalMs: 100, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    await core1.service.register([req()]);
    await waitFor(async () => core1.service.stats().anchored === 1, 20_000, "first anchor");
    filter.setBlock((m) => m === "eth_estimateGas"); // plan, but never get to sign
    const acks = await core1.service.register(Array.from({ length: 7 }, req));
    await waitFor(async () => core1.service.stats().anchoring === 7, 20_000, "planned");
    await core1.stop();
    // the same account anchors the planned root behind the node's back (e.g. the tx did go out before a crash)
    const root = computeMerkleRoot(acks.map((a) => a.id));
    const signer = new Wallet(fx.keys.wallet.privateKey, fx.chain.provider);
    const tx = await fx.ledger.connect(signer).anchor(root, encodeBytes32String(TYPE), JUR, 7);
    await tx.wait();

    filter.setBlock(() => false);
    const core2 = await fx.newCore({ ...cfg, dataDir: core1.config.dataDir });
    const rec = await waitFor(async () => {
      const r = await core2.service.getMaterial(acks[3]!.id);
      return r.state === "anchored" ? r : undefined;
    }, 20_000, "finalised from chain");
    expect(rec.anchor!.txHash).to.equal(tx.hash);
    expect(await anchorLogs(fx, root)).to.have.length(1);
    await core2.stop();
  });
});
