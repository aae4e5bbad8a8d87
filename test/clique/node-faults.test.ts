/**
 * The member node on the real 4-signer geth Clique network (docs/clique.md, "Node fault tests").
 *
 * One network, one consortium deployed with `deployConsortium`, and the full member node (core + indexer +
 * HTTP API) running AS A SEPARATE PROCESS with `rpcUrls` = the 4 validators' endpoints (failover order 0, 1, 2,
 * 3) and `confirmations: 2`. Materials go in over HTTP (`POST /v1/materials/bulk`); a material counts as
 * acknowledged only once the node answered 202. Then, in order:
 *
 *  - register -> anchored -> bundle -> SDK `verify` all VALID against a Clique RPC; revoke -> STATUS INVALID;
 *  - kill one signer (SIGKILL) during a bulk registration: the chain goes on, every acknowledged material is
 *    anchored exactly once; the signer restarts and reaches the same head;
 *  - kill two signers: no new blocks, registrations still acknowledged and queued; restart one: the queue
 *    drains, every acknowledged material anchored exactly once;
 *  - kill the validator the node is using (its first RPC URL) during a registration: the node fails over and
 *    keeps anchoring;
 *  - after the kill/restart cycles the node's indexer holds each acknowledged material once, with the root
 *    the chain's events give (no duplicate or missing records).
 *
 * Assertions are on counts; timings are measured and printed (one summary line per fault test).
 * NODE_FAULT_BULK (default 4000) sets the size of the first bulk registration.
 */
import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verify, loadBundle, getBundle, registerMaterials, waitForAnchored, revokeMaterial, getOp, getHistory, queryMaterials, getMaterial } from "@tongban/sdk";
import { CliqueNetwork, ensureGeth, rpc } from "../infra/clique.js";
import { LEDGER_ABI } from "../../node/src/core/chain.js";
import {
  BulkRegistrar,
  anchorAudit,
  deployOnClique,
  startMemberNode,
  waitFor,
  pool,
  TYPE,
  JUR,
  T0,
  MEMBER_USCC,
  type CliqueConsortium,
  type MemberNode,
  type AnchorAudit,
} from "./helpers/member-node.js";

const BULK = Number(process.env.NODE_FAULT_BULK ?? 4000);
const SMALL = 1000;
const say = (m: string) => process.stdout.write(`      [node-faults] ${m}\n`);
const enc = new TextEncoder();

describe("clique: the member node (separate process, 4 RPC URLs, 2 confirmations) under signer faults", function () {
  this.timeout(420_000);
  let net: CliqueNetwork | undefined;
  let c: CliqueConsortium | undefined;
  let node: MemberNode | undefined;
  let reg: BulkRegistrar;
  /** every material this file had acknowledged (bulk + single), for the cumulative chain check */
  const allAcked = new Set<string>();
  let revokedId = "";
  let firstBundle: ReturnType<typeof loadBundle> | undefined;
  let lastAudit: AnchorAudit | undefined;
  /** leaf -> root of records already checked anchored (node record + proof) */
  const known = new Map<string, string>();

  before(async function () {
    const geth = ensureGeth({ build: true, log: say });
    if (!geth) {
      say("SKIPPED: no geth v1.13.15 found or buildable");
      this.skip();
    }
    const t0 = Date.now();
    net = await CliqueNetwork.start({ geth: geth! });
    const t1 = Date.now();
    c = await deployOnClique(net, { via: 1 });
    const t2 = Date.now();
    node = await startMemberNode(c, { rpcUrls: net.rpcUrls, confirmations: 2 });
    reg = new BulkRegistrar(node.client, 200);
    say(`network ${t1 - t0} ms, deploy + bootstrap ${t2 - t1} ms (ledger ${c.ledgerAddress} at block ${c.deployBlock}), node process up ${Date.now() - t2} ms`);
  });

  // a failed case keeps the node's output and must not leave the next one with signers down
  afterEach(async function () {
    if (!net || this.currentTest?.state !== "failed") return;
    if (node) {
      const file = join(tmpdir(), `tongban-clique-node-${node.pid}.log`);
      writeFileSync(file, node.output());
      say(`node output kept in ${file}; last lines:\n${node.output().slice(-2500)}`);
    }
    for (let i = 0; i < net.size; i++) {
      if (!net.alive().includes(i)) await net.restartSigner(i, 120_000).catch((e) => say(`restart ${i}: ${String(e)}`));
    }
  });

  after(async () => {
    await node?.kill();
    await net?.stop();
    c?.close();
  });

  /**
   * Exactly-once check over everything acknowledged so far, reading events from `url`. That node must first
   * hold every block any live node has: the member node confirmed its anchors through another endpoint, and
   * the last anchor's block can reach `url` a moment later (a node a block behind misses its Anchored event).
   */
  async function auditAll(url: string): Promise<AnchorAudit> {
    const i = net!.rpcUrls.indexOf(url);
    await net!.waitForNodesAt(await net!.maxHead(), [i]);
    const audit = await anchorAudit(c!, node!, allAcked, url, { known });
    expect(audit.duplicateRoots, "roots anchored twice").to.equal(0);
    expect(audit.anchored, "acknowledged materials anchored (node record + proof + root on chain)").to.equal(allAcked.size);
    expect(audit.declaredOnChain, "leaves declared by the member's Anchored events == distinct acknowledged").to.equal(allAcked.size);
    expect(audit.duplicateLeaves).to.equal(0);
    lastAudit = audit;
    return audit;
  }

  /**
   * waitDrained; on a timeout, say where every acknowledged material stands (state x batch, and each batch's
   * root on chain or not) before failing, so a stuck queue can be diagnosed from the log.
   */
  async function drainOrExplain(timeoutMs: number) {
    try {
      return await node!.waitDrained(timeoutMs);
    } catch (e) {
      const byBatch = new Map<string, number>();
      await pool([...reg.acked.keys()], 12, async (id) => {
        const m = await getMaterial(node!.client, { id }).catch(() => undefined);
        const k = `${m?.state ?? "?"} ${(m as { batchId?: string } | undefined)?.batchId ?? "-"}`;
        byBatch.set(k, (byBatch.get(k) ?? 0) + 1);
      });
      const p = c!.provider(net!.rpcUrls.find((_, i) => net!.alive().includes(i))!);
      const lines: string[] = [];
      for (const [k, n] of byBatch) {
        if (k.startsWith("anchored ")) continue;
        const root = k.split(" ")[1]!;
        let onChain = "?";
        if (root.startsWith("0x")) {
          const st = await new (await import("ethers")).Contract(c!.ledgerAddress, LEDGER_ABI, p).materialState(root, root, 1).catch(() => undefined);
          onChain = st ? `anchored on chain: ${st.anchored} (count ${st.count}, block ${st.anchoredBlock})` : "?";
        }
        lines.push(`${n} x ${k} ${onChain}`);
      }
      say(`NOT DRAINED: ${JSON.stringify(await node!.readiness().catch(() => null))}; not anchored by state/batch: ${lines.join("; ")}`);
      throw e;
    }
  }

  const addAcked = () => {
    for (const id of reg.acked.keys()) allAcked.add(id);
  };

  it("register -> anchored (2 confirmations) -> bundle -> SDK verify VALID on Clique; revoke -> STATUS INVALID", async () => {
    const holder = { idType: "RESIDENT_ID", idNumber: "31010419900307123X" };
    const mk = (text: string) => ({ typeCode: TYPE, jurisdiction: JUR, content: enc.encode(text), holder, issuedAt: T0, validFrom: T0 });
    const [a, b] = await registerMaterials(node!.client, { materials: [mk("clique licence A"), mk("clique licence B")] });
    allAcked.add(a!.id);
    allAcked.add(b!.id);
    const t0 = Date.now();
    const m = await waitForAnchored(node!.client, { id: a!.id, timeoutMs: 90_000 });
    const ackToAnchored = Date.now() - t0;
    // 2 confirmations when the node says anchored (the anchoring block is the first)
    const head = await net!.maxHead();
    expect(head - m.anchor!.blockNumber + 1, "confirmations seen").to.be.at.least(2);
    expect(m.anchor!.chainId).to.equal(net!.chainId);
    const bundle = loadBundle(await getBundle(node!.client, { id: a!.id }));
    firstBundle = bundle;
    // the member node saw the anchor through its own endpoint; the verifiers' nodes may import it a moment later
    await net!.waitForNodesAt(m.anchor!.blockNumber);
    // the verifier uses its own Clique endpoint (node 2), not the member node
    const res = await verify({ content: enc.encode("clique licence A") }, bundle, { provider: net!.rpcUrls[2], ledger: c!.ledgerAddress });
    expect(res.ok, JSON.stringify(res.checks)).to.equal(true);
    expect(res.checks.filter((x) => x.status === "VALID").map((x) => x.check)).to.include.members(["INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW"]);
    const tampered = await verify({ content: enc.encode("clique licence A'") }, bundle, { provider: net!.rpcUrls[3], ledger: c!.ledgerAddress });
    expect(tampered.ok).to.equal(false);
    expect(tampered.checks.find((x) => x.check === "INTEGRITY")!.status).to.equal("INVALID");

    await waitForAnchored(node!.client, { id: b!.id, timeoutMs: 90_000 });
    const op = await revokeMaterial(node!.client, { id: b!.id, reason: 4 });
    const t1 = Date.now();
    let opSeen = "";
    const done = await waitFor(async () => {
      const o = await getOp(node!.client, { opId: op.opId });
      opSeen = `${o.state}${o.blockNumber ? ` in block ${o.blockNumber}` : ""}${o.error ? ` ${o.error.code}` : ""}`;
      return o.state === "done" ? o : undefined;
    }, 90_000, "revoke op done").catch((e: Error) => { throw new Error(`${e.message} (op ${opSeen})`); });
    const revokeMs = Date.now() - t1;
    revokedId = b!.id;
    // node 1 (the verifier's endpoint below) may import the revocation's block a moment after the member's node
    expect(done.blockNumber, "the revoke op names its block").to.be.a("number");
    await net!.waitForNodesAt(done.blockNumber!);
    const rb = loadBundle(await getBundle(node!.client, { id: b!.id }));
    const rv = await verify({ content: enc.encode("clique licence B") }, rb, { provider: net!.rpcUrls[1], ledger: c!.ledgerAddress });
    expect(rv.ok).to.equal(false);
    const status = rv.checks.find((x) => x.check === "STATUS")!;
    expect(status.status).to.equal("INVALID");
    expect(status.reason).to.equal("REVOKED");
    // the node's indexer (2 confirmations behind) sees the anchor and the revocation
    const hist = await waitFor(async () => {
      const h = await getHistory(node!.client, { id: b!.id });
      return h.length === 2 ? h : undefined;
    }, 60_000, "indexer history of the revoked material");
    expect(hist.map((e) => e.event)).to.deep.equal(["Anchored", "MaterialRevoked"]);
    say(`e2e: ack -> anchored (2 confirmations) ${ackToAnchored} ms; revoke -> done ${revokeMs} ms; verify VALID via node 2, REVOKED via node 1`);
  });

  it(`kill 1 of 4 signers during a bulk registration of ${BULK}: every acknowledged material anchored exactly once; the signer catches up`, async () => {
    const before = allAcked.size;
    let killed: Promise<void> | undefined;
    let killedAtAcked = 0;
    const t0 = Date.now();
    await reg.register(0, BULK, {
      parallel: 2,
      onAck: (n) => {
        if (!killed && n >= BULK * 0.3) {
          killedAtAcked = n;
          killed = net!.killSigner(3, "SIGKILL");
        }
      },
    });
    const registerMs = Date.now() - t0;
    await killed;
    expect(net!.alive()).to.deep.equal([0, 1, 2]);
    addAcked();
    expect(allAcked.size - before).to.equal(BULK);
    const headAtKill = await net!.maxHead();
    const drained = await drainOrExplain(300_000);
    const drainMs = Date.now() - t0;
    // the chain went on with 3 signers
    expect(await net!.maxHead()).to.be.greaterThan(headAtKill);
    expect(drained.service.failed).to.equal(0);
    const audit = await auditAll(net!.rpcUrls[1]);
    const { catchUpMs, head } = await net!.restartSigner(3, 120_000);
    const same = await net!.waitForSameHead({ nodes: [0, 1, 2, 3], minBlock: head, timeoutMs: 60_000 });
    // the restarted node has every anchor too
    const audit3 = await anchorAudit(c!, node!, allAcked, net!.rpcUrls[3], { known });
    expect(audit3.declaredOnChain).to.equal(allAcked.size);
    say(`kill 1 signer: acknowledged ${allAcked.size - before} (killed at ${killedAtAcked}), anchored ${audit.anchored - before} (cumulative ${audit.anchored}/${allAcked.size}), ` +
      `duplicates ${audit.duplicateLeaves}, roots ${audit.roots}; register ${registerMs} ms, all anchored ${drainMs} ms; restarted signer caught up in ${catchUpMs} ms, all 4 at block ${same.number}`);
  });

  it(`kill 2 of 4 signers: no blocks, ${SMALL} registrations still acknowledged and queued; restart one: the queue drains, exactly once`, async () => {
    const before = allAcked.size;
    const tKill = Date.now();
    await net!.killSigner(2, "SIGKILL");
    await net!.killSigner(3, "SIGKILL");
    const stalledAt = await net!.waitForStall({ quietMs: 5_000, timeoutMs: 60_000 });
    const r0 = await node!.readiness();
    // requests during the stall are acknowledged (persisted) ...
    await reg.register(BULK, BULK + SMALL, { parallel: 2 });
    addAcked();
    expect(allAcked.size - before).to.equal(SMALL);
    // ... the node batches and sends them, but nothing is mined
    // (`batchesSent` counts confirmed batches; a sent one shows as a pending nonce of the member's account)
    const nonceOf = (tag: string) => rpc<string>(net!.rpcUrls[0], "eth_getTransactionCount", [c!.memberAddress, tag]).then(Number);
    const sentWaiting = await waitFor(async () => {
      const [p, l] = [await nonceOf("pending"), await nonceOf("latest")];
      return p > l ? p - l : undefined;
    }, 60_000, "an anchor tx sent during the stall");
    const during = await node!.readiness();
    expect(await net!.maxHead(), "no new block while 2 of 4 signers are down").to.equal(stalledAt);
    expect(during.service.pending + during.service.anchoring, "queued, not anchored").to.equal(SMALL);
    expect(during.service.anchored).to.equal(r0.service.anchored);
    const sample = [...reg.acked.entries()].filter(([, i]) => i >= BULK).slice(0, 50).map(([id]) => id);
    await pool(sample, 8, async (id) => {
      const m = await getMaterial(node!.client, { id });
      expect(["pending", "anchoring"], `material ${id} during the stall`).to.include(m.state);
    });
    // restart one signer: 3 of 4 seal again
    const tRestart = Date.now();
    const stallMs = tRestart - tKill;
    const { catchUpMs } = await net!.restartSigner(3, 120_000);
    const drained = await drainOrExplain(300_000);
    const drainMs = Date.now() - tRestart;
    expect(drained.service.failed).to.equal(0);
    expect(await net!.maxHead()).to.be.greaterThan(stalledAt);
    const audit = await auditAll(net!.rpcUrls[0]);
    const { catchUpMs: catchUp2 } = await net!.restartSigner(2, 120_000);
    await net!.waitForSameHead({ nodes: [0, 1, 2, 3], timeoutMs: 60_000 });
    say(`kill 2 signers: stalled at block ${stalledAt}; acknowledged during the stall ${SMALL}, queued ${during.service.pending + during.service.anchoring} (${sentWaiting} anchor tx waiting in the pool), anchored then ${during.service.anchored - r0.service.anchored}; ` +
      `stall ${stallMs} ms; after restart: catch-up ${catchUpMs} ms, drained (all anchored) ${drainMs} ms; anchored ${audit.anchored}/${allAcked.size} cumulative, duplicates ${audit.duplicateLeaves}; 4th signer back in ${catchUp2} ms`);
  });

  it(`kill the validator the node uses (its first RPC URL) during a registration of ${SMALL}: the node fails over and keeps anchoring`, async () => {
    const before = allAcked.size;
    const metricsOf = async () => (await (await fetch(`${node!.url}/metrics`)).text());
    const errorsOn = (text: string, url: string) => {
      const m = new RegExp(`tongban_rpc_errors_total\\{url="${url.replace(/[.:/]/g, "\\$&")}"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const url0 = net!.rpcUrls[0];
    const errorsBefore = errorsOn(await metricsOf(), url0);
    const failoverLinesBefore = (node!.output().match(/rpc failover/g) ?? []).length;
    let tKill = 0;
    let anchoredAtKill = 0;
    let killed: Promise<void> | undefined;
    let firstAnchorAfterKill = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if (tKill && !firstAnchorAfterKill) {
          const r = await node!.readiness().catch(() => undefined);
          if (r && r.service.anchored > anchoredAtKill) firstAnchorAfterKill = Date.now();
        }
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    try {
      await reg.register(BULK + SMALL, BULK + 2 * SMALL, {
        parallel: 1,
        onAck: async (n) => {
          if (!killed && n - before >= SMALL * 0.3) {
            anchoredAtKill = (await node!.readiness()).service.anchored;
            tKill = Date.now();
            killed = net!.killSigner(0, "SIGKILL");
            await killed;
          }
        },
      });
      await killed;
      addAcked();
      expect(allAcked.size - before).to.equal(SMALL);
      const drained = await drainOrExplain(300_000);
      const drainMs = Date.now() - tKill;
      await waitFor(async () => firstAnchorAfterKill > 0, 30_000, "an anchor confirmed after the kill");
      // the watcher polls every 100 ms: the drain, if seen first, bounds the first anchor
      const firstAnchorMs = Math.min(firstAnchorAfterKill - tKill, drainMs);
      expect(drained.service.failed).to.equal(0);
      expect(drained.service.anchored).to.be.greaterThan(anchoredAtKill);
      const metrics = await metricsOf();
      expect(errorsOn(metrics, url0), "RPC errors counted on the dead URL").to.be.greaterThan(errorsBefore);
      const failovers = (node!.output().match(/rpc failover/g) ?? []).length - failoverLinesBefore;
      expect(failovers, "the node logged a failover").to.be.at.least(1);
      const r = await node!.readiness();
      expect(r.chain?.ok, "chain reachable through another URL").to.equal(true);
      const audit = await auditAll(net!.rpcUrls[2]);
      const { catchUpMs } = await net!.restartSigner(0, 120_000);
      await net!.waitForSameHead({ nodes: [0, 1, 2, 3], timeoutMs: 60_000 });
      say(`kill the node's RPC (validator 0): acknowledged ${SMALL}, anchored ${audit.anchored}/${allAcked.size} cumulative, duplicates ${audit.duplicateLeaves}; ` +
        `failover logged ${failovers}x, first anchor after the kill ${firstAnchorMs} ms, all anchored ${drainMs} ms after the kill; validator 0 back in ${catchUpMs} ms`);
    } finally {
      watching = false;
      await watcher;
    }
  });

  it("after the kill/restart cycles the indexer holds every acknowledged material once, as the chain's events say", async () => {
    expect(lastAudit, "previous tests ran").to.not.equal(undefined);
    const audit = await auditAll(net!.rpcUrls[3]);
    const t0 = Date.now();
    const collect = async () => {
      const seen = new Map<string, number>();
      const items: { id: string; root: string | null; anchored: boolean; status: string }[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await queryMaterials(node!.client, { issuer: MEMBER_USCC, limit: 1000, ...(after ? { after } : {}) });
        for (const it of page.items) {
          seen.set(it.id, (seen.get(it.id) ?? 0) + 1);
          items.push({ id: it.id, root: it.chain?.root ?? null, anchored: !!it.chain?.anchored, status: it.chain?.status ?? "?" });
        }
        if (!page.next) break;
        after = page.next;
      }
      return { seen, items };
    };
    let lastSeen = "";
    const { seen, items } = await waitFor(async () => {
      const r = await node!.readiness();
      lastSeen = `indexer ${JSON.stringify(r.indexer)}`;
      if (!r.indexer?.caughtUp) return undefined;
      const got = await collect();
      const n = got.items.filter((x) => x.anchored).length;
      lastSeen += `; ${got.items.length} records, ${n} anchored of ${allAcked.size}`;
      return n >= allAcked.size ? got : undefined;
    }, 120_000, "the indexer to hold every acknowledged material", 1000).catch((e) => {
      throw new Error(`${String(e)} (last: ${lastSeen})`);
    });
    const indexMs = Date.now() - t0;
    const dup = [...seen.values()].filter((n) => n > 1).length;
    expect(dup, "records listed twice").to.equal(0);
    const ids = new Set(items.map((x) => x.id.toLowerCase()));
    const missing = [...allAcked].filter((id) => !ids.has(id.toLowerCase()));
    const extra = [...ids].filter((id) => !allAcked.has(id));
    expect(missing, "acknowledged but not indexed").to.deep.equal([]);
    expect(extra, "indexed but never acknowledged").to.deep.equal([]);
    let rootMismatch = 0;
    for (const x of items) {
      if (!x.anchored || x.root?.toLowerCase() !== audit.leafRoot.get(x.id.toLowerCase())) rootMismatch++;
    }
    expect(rootMismatch, "indexed root != the root anchored on chain").to.equal(0);
    expect(items.filter((x) => x.status === "revoked").map((x) => x.id)).to.deep.equal([revokedId]);
    // per-leaf history from the index: exactly one Anchored event each (sample)
    const sample = items.filter((_, i) => i % 97 === 0).map((x) => x.id);
    await pool(sample, 6, async (id) => {
      const h = await getHistory(node!.client, { id });
      expect(h.filter((e) => e.event === "Anchored"), `history of ${id}`).to.have.length(1);
    });
    // the bundle made before the faults still verifies on every validator, including the restarted ones
    for (const [i, url] of net!.rpcUrls.entries()) {
      const res = await verify({ content: enc.encode("clique licence A") }, firstBundle!, { provider: url, ledger: c!.ledgerAddress });
      expect(res.ok, `verify via node ${i}: ${JSON.stringify(res.checks)}`).to.equal(true);
    }
    const r = await node!.readiness();
    say(`indexer after the cycles: ${items.length} records for ${allAcked.size} acknowledged, duplicates ${dup}, missing ${missing.length}, root mismatches ${rootMismatch}, ` +
      `reorgs seen ${r.indexer?.reorgs ?? "?"}; caught up ${indexMs} ms after the audit; sample histories ${sample.length}, bundle VALID on all 4 validators`);
  });
});
