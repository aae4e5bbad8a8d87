/**
 * The anchorer's reorg watch list survives a restart (node/src/core/anchorer.ts, "The watch list is durable"):
 * a batch confirmed just before the node stops is still watched by the restarted node; when its block leaves
 * the chain (hardhat `evm_snapshot` / `evm_revert`, then new blocks) the restarted node anchors it again,
 * exactly once. Real hardhat node process, real LevelDB on disk.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { computeMerkleRoot, verifyProof } from "@tongban/sdk";
import { startCoreFixture, waitFor, TYPE, JUR, type CoreFixture } from "../helpers/core.js";
import { rpc } from "../helpers/chain.js";
import { openDb } from "../../../node/src/core/db.js";
import { watchKey } from "../../../node/src/core/anchorer.js";
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

async function reorgedCount(core: { metrics: { registry: { metrics(): Promise<string> } } }): Promise<number> {
  const text = await core.metrics.registry.metrics();
  return Number(/tongban_anchor_tx_total\{result="reorged"\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe("node core: the reorg watch list is durable across a restart", function () {
  this.timeout(120_000);
  let fx: CoreFixture;
  before(async () => {
    fx = await startCoreFixture();
  });
  after(async () => {
    await fx?.close();
  });

  it("a batch confirmed just before a stop is re-anchored exactly once by the restarted node after its block leaves the chain", async () => {
    const cfg = { batchIntervalMs: 100, confirmations: 1, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    const warm = await core1.service.register([req()]); // learns the entitlement; anchored before the snapshot
    await waitFor(async () => (await core1.service.getMaterial(warm[0]!.id)).state === "anchored", 20_000, "warm-up anchor");

    const snap = await rpc<string>(fx.chain.url, "evm_snapshot");
    const acks = await core1.service.register(Array.from({ length: 5 }, req));
    const root = computeMerkleRoot(acks.map((a) => a.id));
    const before = await waitFor(async () => {
      const r = await core1.service.getMaterial(acks[0]!.id);
      return r.state === "anchored" ? r : undefined;
    }, 20_000, "anchor before the stop");
    expect(before.anchor!.root).to.equal(root);
    const oldBlock = before.anchor!.blockNumber;
    expect(await anchorLogs(fx, root)).to.have.length(1);
    await core1.stop();

    // the watch entry is on disk, written with the confirmation
    const dataDir = core1.config.dataDir;
    const db = await openDb(join(dataDir, "core.leveldb"));
    const entry = await db.get(watchKey(Buffer.from(root.slice(2), "hex")));
    await db.close();
    expect(entry, "durable watch entry of the confirmed batch").to.not.equal(undefined);
    expect(JSON.parse(entry!.toString("utf8")).block).to.equal(oldBlock);

    // while the node is down, the anchor's block leaves the chain; the new branch grows past it
    expect(await rpc<boolean>(fx.chain.url, "evm_revert", [snap])).to.equal(true);
    await rpc(fx.chain.url, "hardhat_mine", ["0x3"]);
    expect(await anchorLogs(fx, root), "the anchor is gone from the chain").to.have.length(0);

    const core2 = await fx.newCore({ ...cfg, dataDir });
    for (const a of acks) {
      const rec = await waitFor(async () => {
        const r = await core2.service.getMaterial(a.id);
        return r.state === "anchored" && r.anchor!.blockNumber !== oldBlock ? r : undefined;
      }, 30_000, "re-anchor after the restart");
      expect(rec.anchor!.root).to.equal(root);
      expect(verifyProof(a.id, rec.anchor!.proof, root)).to.equal(true);
    }
    expect(await anchorLogs(fx, root), "anchored again, once").to.have.length(1);
    expect(await reorgedCount(core2), "batches the restarted node sent back to anchoring").to.equal(1);
    // a few more rounds: nothing is anchored a second time, the warm-up batch (still on chain) is untouched
    await rpc(fx.chain.url, "hardhat_mine", ["0x2"]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await anchorLogs(fx, root)).to.have.length(1);
    expect(await reorgedCount(core2)).to.equal(1);
    expect((await core2.service.getMaterial(warm[0]!.id)).state).to.equal("anchored");
    expect(core2.service.stats().anchored).to.equal(6);
    await core2.stop();
  });

  it("watch entries are pruned once their block is reorgWatchBlocks deep", async () => {
    const core = await fx.newCore({ batchIntervalMs: 100, confirmations: 1 });
    const acks = await core.service.register(Array.from({ length: 3 }, req));
    const root = computeMerkleRoot(acks.map((a) => a.id));
    await waitFor(async () => (await core.service.getMaterial(acks[0]!.id)).state === "anchored", 20_000, "anchor");
    const key = watchKey(Buffer.from(root.slice(2), "hex"));
    expect(await core.db.get(key), "watched while near the head").to.not.equal(undefined);
    await rpc(fx.chain.url, "hardhat_mine", ["0x41"]); // 65 blocks: past the default 64-block window
    await waitFor(async () => (await core.db.get(key)) === undefined, 20_000, "pruned watch entry");
    await core.stop();
  });
});
