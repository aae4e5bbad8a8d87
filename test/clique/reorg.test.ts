/**
 * Real chain reorganisations on geth Clique, with a transaction of the member node in the dropped branch.
 *
 * How a reorg is made. Sealing is stopped on every signer (`miner_stop`) so the head h is fixed; the signers
 * that may seal h+1 are the ones that did not seal the last floor(N/2) blocks ("free"). The network is cut in
 * two with `admin_removePeer` on both ends of every cross link: a MINORITY of free signers, which the member
 * node talks to, and the MAJORITY. The node's materials are registered and its anchor tx waits in the
 * minority's pool; sealing restarts. The minority seals a short branch containing the anchor and then stops
 * (Clique: a signer seals at most once in floor(N/2)+1 blocks), the majority goes on and is heavier. On heal,
 * the minority's nodes switch to the majority's chain: the node's RPC endpoint really reorganises.
 *
 *  - 4 signers, 3|1 split: the lone free signer seals 1 block (the most a 4-signer network can drop without
 *    deadlocking: see docs/clique.md "Reorgs"). The member node runs with `confirmations: 0` (its anchorer
 *    still waits for the receipt; its indexer reads the head block), so both act on the dropped block. After
 *    the heal geth re-injects the dropped anchor tx and it is mined again (same tx, later block).
 *  - 5 signers, 3|2 split: the 2 free signers seal 2 blocks; `confirmations: 1`, so the anchorer and the
 *    indexer both act on the first. During the partition the member's own key spends the same nonce on the
 *    majority side (a self-transfer), so after the heal the dropped anchor tx can never be mined: the node must
 *    re-sign and re-send the anchor.
 *
 * Asserted after the heal: the node's record of every acknowledged material is anchored in the block the
 * chain says (`materialState(root).anchoredBlock`), with the tx that is on chain; each root is anchored once
 * and the member's Anchored events declare exactly the acknowledged leaves; the indexer rolled back (reorgs
 * >= 1) and its records and histories equal the chain's events; the service's anchored count equals the
 * acknowledged count (nothing counted twice).
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, Wallet } from "ethers";
import { LEDGER_ABI } from "../../node/src/core/chain.js";
import { getHistory, getMaterial, loadBundle, getBundle, queryMaterials, verify } from "@tongban/sdk";
import { CliqueNetwork, ensureGeth, rpc } from "../infra/clique.js";
import {
  BulkRegistrar,
  anchorAudit,
  deployOnClique,
  startMemberNode,
  waitFor,
  MEMBER_USCC,
  type CliqueConsortium,
  type MemberNode,
} from "./helpers/member-node.js";

const say = (m: string) => process.stdout.write(`      [reorg] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MATERIALS = 60;

interface Scenario {
  signers: number;
  /** free signers put on the minority side */
  minority: number;
  confirmations: number;
  /** spend the anchor tx's nonce on the majority side, so the dropped tx cannot be mined again */
  takeNonce: boolean;
}

const scenarios: Scenario[] = [
  { signers: 4, minority: 1, confirmations: 0, takeNonce: false },
  { signers: 5, minority: 2, confirmations: 1, takeNonce: true },
];

for (const sc of scenarios) {
  describe(`clique reorg: ${sc.signers} signers, ${sc.signers - sc.minority}|${sc.minority} partition, member node on the minority (confirmations ${sc.confirmations})`, function () {
    this.timeout(300_000);
    let net: CliqueNetwork | undefined;
    let c: CliqueConsortium | undefined;
    let node: MemberNode | undefined;

    before(async function () {
      const geth = ensureGeth({ build: true, log: say });
      if (!geth) {
        say("SKIPPED: no geth v1.13.15 found or buildable");
        this.skip();
      }
      net = await CliqueNetwork.start({ geth: geth!, signers: sc.signers });
      c = await deployOnClique(net, { via: 0 });
    });

    afterEach(async function () {
      if (this.currentTest?.state === "failed" && node) {
        const file = join(tmpdir(), `tongban-clique-reorg-node-${node.pid}.log`);
        writeFileSync(file, node.output());
        say(`node output kept in ${file}; last lines:\n${node.output().slice(-2500)}`);
      }
    });

    after(async () => {
      await node?.kill();
      await net?.stop();
      c?.close();
    });

    it("the node's RPC endpoint reorganises with the node's anchor in the dropped branch; anchorer and indexer end equal to the chain", async () => {
      const n = net!;
      // fix the head: nobody seals while the sides are chosen. miner_stop does not cancel a seal already in
      // flight (an out-of-turn signer waits up to period + wiggle, 2.5 s with 5 signers): freezeHead waits until
      // no block appears anywhere for 5 s (a fixed 1.5 s let a late block h+1 appear after h was read, so the
      // minority's first block was that empty one and the anchor landed in the branch's last block, which
      // nothing confirms: a CI flake on 4b513a0), and until every node is at the same height with the same
      // block (two late out-of-turn blocks at one height have equal difficulty and, with nobody sealing, the
      // nodes could stay split; freezeHead then has one signer seal one more block)
      const h = (await n.freezeHead({ quietMs: 5_000, timeoutMs: 90_000 })).number;
      const free = await n.freeSigners(h);
      expect(free.length, `free signers at ${h}`).to.be.at.least(sc.minority);
      const minority = free.slice(0, sc.minority);
      const majority = await n.partition(minority);
      const m0 = minority[0]!;
      const ledgerOn = (i: number) => new Contract(c!.ledgerAddress, LEDGER_ABI, n.provider(i));
      // the member node talks to the minority only (failover among the minority's endpoints): with a majority
      // URL in its list, a slow answer under load could move its indexer to the majority's chain, which never
      // holds the anchor, before it read the minority's branch (a CI flake, 2026-11-24)
      node = await startMemberNode(c!, { rpcUrls: minority.map((i) => n.rpcUrls[i]!), confirmations: sc.confirmations });
      say(`head ${h}; minority ${minority} (free signers), majority ${majority}; node up on ${n.rpcUrls[m0]}`);

      // 1. materials in; the anchor tx waits in the minority's pool (nobody seals yet). One request, so the
      // materials enter the anchorer together and make one batch (three requests spanning a 500 ms batch tick
      // made two anchor txs, and a second one sent after the minority's first block can never be confirmed)
      const reg = new BulkRegistrar(node.client, MATERIALS);
      await reg.register(0, MATERIALS, { parallel: 1 });
      const acked = [...reg.acked.keys()];
      expect(acked).to.have.length(MATERIALS);
      const nonceOf = (i: number, tag: string) => rpc<string>(n.rpcUrls[i]!, "eth_getTransactionCount", [c!.memberAddress, tag]).then(Number);
      const anchorNonce = await nonceOf(m0, "latest");
      // every material is in a batch: the distinct batches are the anchor txs to wait for
      let lastStates = "";
      const batches = await waitFor(async () => {
        const ms = await Promise.all(acked.map((id) => getMaterial(node!.client, { id }).then((m) => m as unknown as { state: string; batchId?: string })));
        lastStates = [...new Set(ms.map((m) => `${m.state}/${m.batchId?.slice(0, 10) ?? "-"}`))].join(", ");
        return ms.every((m) => m.state === "anchoring" && m.batchId) ? new Set(ms.map((m) => m.batchId!)).size : undefined;
      }, 60_000, "every material in a batch").catch((e: Error) => { throw new Error(`${e.message} (states seen: ${lastStates})`); });
      let nonces = "";
      await waitFor(async () => {
        const p = await nonceOf(m0, "pending");
        nonces = `latest ${anchorNonce}, pending ${p}`;
        return p >= anchorNonce + batches ? true : undefined;
      }, 60_000, `the node's ${batches} anchor tx(s) in the minority's pool`).catch((e: Error) => { throw new Error(`${e.message} (${nonces})`); });
      const pool = await rpc<{ pending: Record<string, Record<string, { hash: string }>> }>(n.rpcUrls[m0]!, "txpool_content");
      const mine = Object.entries(pool.pending).find(([a]) => a.toLowerCase() === c!.memberAddress.toLowerCase())?.[1] ?? {};
      const droppedTx = mine[String(anchorNonce)]?.hash;
      expect(droppedTx, "anchor tx at the member's next nonce").to.be.a("string");
      const anchorTxs = Object.values(mine).map((t) => t.hash);
      expect(anchorTxs, `the member's txs in the minority's pool (${batches} batch(es))`).to.have.length(batches);
      // every minority signer must hold them before sealing restarts: if one sealed the branch's first block
      // without it, the anchor landed in the branch's last block, which nothing confirms on the minority (the
      // indexer, confirmations 1, then never indexed it: a CI flake, 2026-11-24)
      let missingTx = "";
      await waitFor(async () => {
        const seen = await Promise.all(minority.flatMap((i) => anchorTxs.map(async (tx) => [i, tx, await rpc<unknown>(n.rpcUrls[i]!, "eth_getTransactionByHash", [tx])] as const)));
        missingTx = seen.filter(([, , t]) => t === null).map(([i, tx]) => `${tx.slice(0, 10)} on ${i}`).join(", ");
        return missingTx === "" ? true : undefined;
      }, 30_000, "the anchor tx(s) in every minority signer's pool").catch((e: Error) => { throw new Error(`${e.message} (missing ${missingTx})`); });
      let takenBy: string | undefined;
      if (sc.takeNonce) {
        // the member's key spends that nonce on the majority side: the dropped anchor can never be mined again
        const w = new Wallet(n.fundedKeys[1]!, n.provider(majority[0]!));
        expect(w.address.toLowerCase()).to.equal(c!.memberAddress.toLowerCase());
        takenBy = (await w.sendTransaction({ to: w.address, value: 0n, nonce: anchorNonce })).hash;
      }

      // 2. both sides seal; the minority's branch holds the anchor and stops, the majority goes on. The minority
      // signers start one at a time, each once the whole minority has the previous block: started together,
      // two out-of-turn signers could both seal block h+1 and the branch then stayed one block deep, which
      // nothing confirms (confirmations 1: the indexer never saw the anchor; a CI flake, 2026-11-24)
      const stillAtH = await Promise.all(minority.map((i) => n.blockNumber(i)));
      expect(stillAtH, `minority heads before sealing restarts (head was ${h})`).to.deep.equal(minority.map(() => h));
      await n.startSealing(majority);
      for (let k = 0; k < minority.length; k++) {
        await n.startSealing([minority[k]!]);
        await waitFor(async () => {
          const heads = await Promise.all(minority.map((i) => n.blockNumber(i)));
          return heads.every((b) => b >= h + 1 + k) ? true : undefined;
        }, 60_000, `minority block ${h + 1 + k} (signer ${minority[k]}) on every minority node`);
      }
      const anchoredBefore = await waitFor(async () => {
        const ms = await Promise.all(acked.map((id) => getMaterial(node!.client, { id })));
        return ms.every((m) => m.state === "anchored") ? ms : undefined;
      }, 90_000, "the node to report every material anchored on the minority's branch");
      const a0 = anchoredBefore[0]!.anchor!;
      expect(a0.txHash.toLowerCase()).to.equal(droppedTx!.toLowerCase());
      const droppedBlock = await n.block(a0.blockNumber, m0);
      // the minority stops after its branch (no new block on its head for 4 s)
      let minorityHead = await n.blockNumber(m0);
      for (let since = Date.now(); Date.now() - since < 4_000; await sleep(250)) {
        const hh = await n.blockNumber(m0);
        if (hh !== minorityHead) [minorityHead, since] = [hh, Date.now()];
      }
      expect(minorityHead - h, "the minority's branch").to.be.within(1, sc.minority);
      // the indexer has read the dropped block (its cursor is past it)
      const idxBefore = await waitFor(async () => {
        const h0 = await getHistory(node!.client, { id: acked[0]! });
        return h0.some((e) => e.event === "Anchored" && e.blockHash === droppedBlock.hash) ? h0 : undefined;
      }, 60_000, "the indexer to index the anchor on the minority's branch").catch(async (e: Error) => {
        // say where the indexer and the minority stood, so a failure can be told apart from a slow machine
        const metrics = await fetch(`${node!.url}/metrics`).then((r) => r.text(), () => "");
        const idx = metrics.split("\n").filter((l) => /^tongban_(indexer|rpc)_/.test(l)).join("; ");
        const heads = await Promise.all(minority.map(async (i) => `${i}: ${await n.blockNumber(i)} ${(await n.block(await n.blockNumber(i), i)).hash.slice(0, 10)}`));
        throw new Error(`${e.message}; anchor block ${a0.blockNumber} ${droppedBlock.hash.slice(0, 10)}; minority heads ${heads.join(", ")}; ${idx}`);
      });
      // the majority has gone on without it and is heavier
      await n.waitForBlock(minorityHead + 4, { node: majority[0] });
      const onMajority = await rpc<unknown>(n.rpcUrls[majority[0]!]!, "eth_getTransactionReceipt", [droppedTx]);
      expect(onMajority, "the anchor tx is not on the majority's chain").to.equal(null);
      say(`partition: minority sealed ${h + 1}..${minorityHead} (anchor tx ${droppedTx!.slice(0, 12)}… in block ${a0.blockNumber}, node: ${MATERIALS} anchored, indexer: ${idxBefore.length} event(s)); ` +
        `majority at ${await n.blockNumber(majority[0])}${takenBy ? `; nonce ${anchorNonce} taken on the majority by ${takenBy.slice(0, 12)}…` : ""}`);

      // 3. heal: the minority switches to the majority's chain
      const tHeal = Date.now();
      await n.heal();
      await n.waitForSameHead({ minBlock: (await n.maxHead()) + 1, timeoutMs: 90_000 });
      const healMs = Date.now() - tHeal;
      const after = await n.block(a0.blockNumber, m0);
      expect(after.hash, `block ${a0.blockNumber} on the node's endpoint after the heal`).to.not.equal(droppedBlock.hash);
      const depth = minorityHead - h;

      // 4. the node anchors them again (re-mined or re-sent) and its records follow the chain
      const tDrain = Date.now();
      const final = await waitFor(async () => {
        const r = await node!.readiness();
        if (r.service.pending || r.service.anchoring) return undefined;
        const ms = await Promise.all(acked.map((id) => getMaterial(node!.client, { id })));
        if (!ms.every((m) => m.state === "anchored")) return undefined;
        // the record must name the block the chain has now
        const a = ms[0]!.anchor!;
        const st = await ledgerOn(majority[0]!).materialState(a.root, acked[0]!, 1);
        return st.anchored && Number(st.anchoredBlock) === a.blockNumber ? ms : undefined;
      }, 120_000, "the node to anchor the materials again, on the chain after the heal");
      const reanchorMs = Date.now() - tDrain;
      const roots = new Set(final.map((m) => m.anchor!.root));
      for (const root of roots) {
        const m = final.find((x) => x.anchor!.root === root)!;
        for (let i = 0; i < n.size; i++) {
          // every node holds the anchor's block before it is asked (a node a block behind answered "not
          // anchored": a CI flake on 5b33cc1)
          await n.waitForBlock(m.anchor!.blockNumber, { node: i });
          const st = await ledgerOn(i).materialState(root, m.id, 1);
          expect(st.anchored, `root ${root} on node ${i}`).to.equal(true);
          expect(Number(st.anchoredBlock), `anchored block of ${root} on node ${i}`).to.equal(m.anchor!.blockNumber);
        }
        const rcpt = await rpc<{ blockNumber: string; status: string } | null>(n.rpcUrls[m0]!, "eth_getTransactionReceipt", [m.anchor!.txHash]);
        expect(rcpt && Number(rcpt.blockNumber), "the record's tx is the one on chain").to.equal(m.anchor!.blockNumber);
      }
      const a1 = final[0]!.anchor!;
      if (sc.takeNonce) {
        expect(a1.txHash.toLowerCase(), "a new anchor tx (the dropped one's nonce was taken)").to.not.equal(droppedTx!.toLowerCase());
        const taken = await rpc<{ status: string } | null>(n.rpcUrls[m0]!, "eth_getTransactionReceipt", [takenBy]);
        expect(taken, "the nonce-taking transfer is on the chain").to.not.equal(null);
      } else {
        expect(a1.txHash.toLowerCase(), "the dropped anchor tx, mined again").to.equal(droppedTx!.toLowerCase());
      }
      expect(a1.blockNumber).to.be.greaterThan(minorityHead - depth);

      // exactly once: each root once on chain, the member's Anchored events declare exactly the acknowledged leaves
      const audit = await anchorAudit(c!, node, acked, n.rpcUrls[majority[0]!]!, { sampleEvery: 1 });
      expect(audit.anchored).to.equal(MATERIALS);
      expect(audit.duplicateRoots).to.equal(0);
      expect(audit.declaredOnChain).to.equal(MATERIALS);
      const r = await node.readiness();
      expect(r.service.anchored, "service counters: each material counted once").to.equal(MATERIALS);
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      const reorgedCount = Number(/tongban_anchor_tx_total\{result="reorged"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      expect(reorgedCount, "batches the anchorer sent back to anchoring").to.be.at.least(1);

      // the indexer rolled back and now equals the chain
      const idx = await waitFor(async () => {
        const rr = await node!.readiness();
        if (!rr.indexer?.caughtUp) return undefined;
        const page = await queryMaterials(node!.client, { issuer: MEMBER_USCC, limit: 1000 });
        const ok = page.items.length === MATERIALS && page.items.every((it) => it.chain?.anchored && it.chain.root && roots.has(it.chain.root));
        return ok ? { rr, page } : undefined;
      }, 90_000, "the indexer to follow the chain after the heal");
      expect(idx.rr.indexer!.reorgs, "indexer rollbacks").to.be.at.least(1);
      expect(new Set(idx.page.items.map((it) => it.id)).size).to.equal(MATERIALS);
      for (const id of acked.filter((_, i) => i % 6 === 0)) {
        const hist = await getHistory(node.client, { id });
        const anchoredEv = hist.filter((e) => e.event === "Anchored");
        expect(anchoredEv, `history of ${id}`).to.have.length(1);
        expect(anchoredEv[0]!.blockNumber).to.equal(a1.blockNumber);
        expect(anchoredEv[0]!.blockHash).to.not.equal(droppedBlock.hash);
      }
      // a bundle made now verifies on every signer
      const bundle = loadBundle(await getBundle(node.client, { id: acked[0]! }));
      for (const url of n.rpcUrls) {
        const res = await verify({ contentHash: String(final[0]!.header!.contentHash) }, bundle, { provider: url, ledger: c!.ledgerAddress }).catch((e) => ({ ok: false, checks: String(e) }));
        expect(res.ok, `verify via ${url}: ${JSON.stringify(res.checks)}`).to.equal(true);
      }
      say(`${sc.signers} signers: reorg depth ${depth} on the node's endpoint (block ${a0.blockNumber} ${droppedBlock.hash.slice(0, 10)}… -> ${after.hash.slice(0, 10)}…); heal ${healMs} ms; ` +
        `re-anchored ${MATERIALS}/${MATERIALS} in block ${a1.blockNumber} by ${sc.takeNonce ? "a new tx" : "the same tx"} ${reanchorMs} ms after the heal; ` +
        `roots ${roots.size}, duplicates ${audit.duplicateLeaves}, anchorer reorged batches ${reorgedCount}, indexer reorgs ${idx.rr.indexer!.reorgs}`);
    });
  });
}
