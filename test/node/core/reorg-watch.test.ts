/**
 * The anchorer's reorg watch list survives a restart (node/src/core/anchorer.ts, "The watch list is durable"):
 * a batch confirmed just before the node stops is still watched by the restarted node; when its block leaves
 * the chain (hardhat `evm_snapshot` / `evm_revert`, then new blocks) the restarted node anchors it again,
 * exactly once. Real hardhat node process, real LevelDB on disk.
 */
import { expect } from "chai";
import { join } from "node:path";
import { computeMerkleRoot, verifyProof } from "@tongban/sdk";
import { useCoreFixture, waitFor, waitForMaterial, warmUp, anchorLogs, newRequests } from "../helpers/core.js";
import { rpc } from "../helpers/chain.js";
import { openDb } from "../../../node/src/core/db.js";
import { watchKey } from "../../../node/src/core/anchorer.js";

async function reorgedCount(core: { metrics: { registry: { metrics(): Promise<string> } } }): Promise<number> {
  const text = await core.metrics.registry.metrics();
  return Number(/tongban_anchor_tx_total\{result="reorged"\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe("node core: the reorg watch list is durable across a restart", function () {
  this.timeout(120_000);
  const fx = useCoreFixture();

  it("a batch confirmed just before a stop is re-anchored exactly once by the restarted node after its block leaves the chain", async () => {
    const cfg = { batchIntervalMs: 100, confirmations: 1, retry: { minMs: 100, maxMs: 200 } };
    const core1 = await fx.newCore(cfg);
    const warm = await warmUp(core1); // learns the entitlement; anchored before the snapshot

    const snap = await rpc<string>(fx.chain.url, "evm_snapshot");
    const acks = await core1.service.register(newRequests(5));
    const root = computeMerkleRoot(acks.map((a) => a.id));
    const before = await waitForMaterial(core1, acks[0]!.id, { what: "anchor before the stop" });
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
      const rec = await waitForMaterial(core2, a.id, { timeoutMs: 30_000, what: "re-anchor after the restart", accept: (r) => r.state === "anchored" && r.anchor!.blockNumber !== oldBlock });
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
    expect((await core2.service.getMaterial(warm)).state).to.equal("anchored");
    expect(core2.service.stats().anchored).to.equal(6);
    await core2.stop();
  });

  it("watch entries are pruned once their block is reorgWatchBlocks deep", async () => {
    const core = await fx.newCore({ batchIntervalMs: 100, confirmations: 1 });
    const acks = await core.service.register(newRequests(3));
    const root = computeMerkleRoot(acks.map((a) => a.id));
    await waitForMaterial(core, acks[0]!.id, { what: "anchor" });
    const key = watchKey(Buffer.from(root.slice(2), "hex"));
    expect(await core.db.get(key), "watched while near the head").to.not.equal(undefined);
    await rpc(fx.chain.url, "hardhat_mine", ["0x41"]); // 65 blocks: past the default 64-block window
    await waitFor(async () => (await core.db.get(key)) === undefined, 20_000, "pruned watch entry");
    await core.stop();
  });
});
