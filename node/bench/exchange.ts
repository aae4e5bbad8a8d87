/**
 * Exchange benchmark: authorised fetches/s of 10 KiB materials between two member-node processes (A serves,
 * B fetches) over libp2p on loopback, against a hardhat node with the ledger and the authorisations
 * contract. Every fetch is a real one: EIP-712 request signed by B, checked by A (signature, member, peer,
 * nonce, checkGrant), SERVED record fsynced (group commit) before the answer, content sealed to B's key,
 * opened and verified by B with the SDK, RECEIVED record written. Prints figures; not a test.
 *
 *   npx tsx node/bench/exchange.ts [fetches=2000] [concurrency=64]
 *
 * Scenarios: 0 one multiplexed stream, exact: every fetch's checkGrant and materialState read from the chain
 * after its request arrived, concurrent reads coalesced into checkGrants / materialStates calls (the default);
 * 1 the same with both chain answers cached for 1 s; 2 a new stream per request with the caches; 3 exact with
 * one checkGrant + one materialState eth_call per fetch (no coalescing: the previous default); 4 as 0 with every
 * request signed alone (version 1.0's signing; 0-3 sign the requests of one turn as one batch, exchange 1.1).
 * Prints fetches/s, latency, CPU per fetch of each node and of the chain node (from /proc), reads per call.
 * The hardhat node's request logging is turned off (hardhat_setLoggingEnabled false; BENCH_CHAIN_LOG=1 keeps it).
 * Env: BENCH_MATERIALS=N (fetch N distinct materials in turn, default 1: with N > concurrency no two reads of
 * one coalesced batch are identical, so none is de-duplicated), BENCH_INFLIGHT=k (coalesced calls in flight per
 * side, default run.ts's: 4 since 2026-11-25, 1 before), BENCH_REUSE=0 (neither side reuses a checkGrant / materialState answer read at the same block),
 * BENCH_BLOCK_MS=ms (mine a block that often during each run, as a real chain seals every period), BENCH_SCENARIO=0,4,... (these scenarios, in this order: e.g. 0,4,0,4 alternates batch and single signing), BENCH_SYNC=0 (no fsync), TONGBAN_P2P_RUN=<path of another run.ts>
 * (compare another version of node/src/p2p in the same conditions), TONGBAN_P2P_EXEC_ARGV="--cpu-prof
 * --cpu-prof-dir=DIR" (profile both node processes). Figures: node/src/p2p/README.md.
 */
import "../src/polyfill.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { Wallet, encodeBytes32String, ZeroHash, type Contract } from "ethers";
import { buildMerkleTree, buildBundle, computeLeaf, usccCheckChar, type MaterialHeader } from "@tongban/sdk";
import { startChain, deployLedger, bootstrap, devWallet, rpc } from "../../test/node/helpers/chain.js";
import { NodeProcess, deployAuthorisations, runConfig } from "../../test/node/p2p/fixture.js";

const COUNT = Number(process.argv[2] ?? 2000);

/** CPU ms (user + system) a local process has used so far, from /proc (NaN when not readable, e.g. a remote chain). */
function chainCpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}
const CONC = Number(process.argv[3] ?? 64);
/** distinct materials fetched in turn (BENCH_MATERIALS, default 1: every fetch asks for the same one) */
const MATERIALS = Math.max(1, Number(process.env.BENCH_MATERIALS ?? 1));
/** a block every BENCH_BLOCK_MS during each timed run (default 0: only the bench's own transactions make blocks) */
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 0);
/**
 * distinct holders (BENCH_HOLDERS, default 1): material i belongs to holder i % HOLDERS and each holder grants B
 * on its own, so fetches of different holders' materials need different grant checks (no answer shared)
 */
const HOLDERS = Math.min(MATERIALS, Math.max(1, Number(process.env.BENCH_HOLDERS ?? 1)));
const uscc = (first17: string) => first17 + usccCheckChar(first17);
const id = (u: string) => encodeBytes32String(u).toLowerCase();

async function main(): Promise<void> {
  const chain = await startChain();
  const dirs: string[] = [];
  const nodes: NodeProcess[] = [];
  try {
    // `hardhat node` prints (and traces for printing) every JSON-RPC request: chain CPU a real chain does not spend
    if (process.env.BENCH_CHAIN_LOG !== "1") await rpc(chain.url, "hardhat_setLoggingEnabled", [false]).catch(() => undefined);
    const { ledger, address: ledgerAddr, admin } = await deployLedger(chain);
    const auth = await deployAuthorisations(admin, ledgerAddr);
    const authAddr = (await auth.getAddress()).toLowerCase();
    const U = { A: uscc("11310104MB2F00001"), B: uscc("11310115MB2F00002"), C: uscc("12310000MB2F00003") };
    const w = { A: devWallet(3), B: devWallet(4), C: devWallet(5) };
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [310104, 310000], [310115, 310000]],
      types: ["BIZ_LICENCE"],
      members: [
        { uscc: U.A, jurisdiction: 310104, accounts: [w.A.address], entitlements: [["BIZ_LICENCE", 310104]] },
        { uscc: U.B, jurisdiction: 310115, accounts: [w.B.address] },
        { uscc: U.C, jurisdiction: 310000, accounts: [w.C.address], roles: [1] },
      ],
    });
    const TYPE = encodeBytes32String("BIZ_LICENCE");
    const MATTER = encodeBytes32String("ENTERPRISE_CHANGE_REG");
    const now = Number((await rpc<{ timestamp: string }>(chain.url, "eth_getBlockByNumber", ["latest", false])).timestamp);
    // MATERIALS distinct 10 KiB materials of one holder, anchored as one batch; fetch i asks for material i % MATERIALS
    const contents = Array.from({ length: MATERIALS }, () => randomBytes(10 * 1024));
    const holderRefs = Array.from({ length: HOLDERS }, () => "0x" + randomBytes(32).toString("hex"));
    const headers: MaterialHeader[] = contents.map((content, i) => ({
      typeCode: TYPE,
      issuer: id(U.A),
      holderRef: holderRefs[i % HOLDERS]!,
      contentHash: "0x" + createHash("sha256").update(content).digest("hex"),
      hashAlg: 1,
      issuedAt: BigInt(now),
      validFrom: BigInt(now - 10),
      validUntil: 0n,
      version: 1,
      supersedes: ZeroHash,
    }));
    const tree = buildMerkleTree(headers.map(computeLeaf));
    const rc = await (await ledger.connect(new Wallet(w.A.privateKey, chain.provider)).anchor(tree.root, TYPE, 310104, MATERIALS)).wait();
    const chainIdNum = Number((await chain.provider.getNetwork()).chainId);
    const bundles = headers.map((header, i) => buildBundle({ header, proof: tree.getProof(i), root: tree.root, chainId: chainIdNum, contract: ledgerAddr, blockNumber: rc!.blockNumber }));
    const bundle = bundles[0]!;
    const asC = auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract;
    // one grant per holder (the identity provider C on the holder's behalf), to B for the matter
    const holderGrants: string[] = [];
    for (const holderRef of holderRefs) {
      const grc = await (
        await asC.grantByIdentityProvider(
          { holderRef, grantee: id(U.B), matter: MATTER, typeCodes: [TYPE], leaves: [], notBefore: now - 60, notAfter: now + 86_400, maxUses: 4_000_000_000 },
          "0x" + randomBytes(32).toString("hex"),
          "0x" + randomBytes(32).toString("hex"),
        )
      ).wait();
      holderGrants.push(String(grc.logs.map((l: { topics: string[]; data: string }) => auth.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "GrantCreated")!.args.grantId));
    }
    const grantId = holderGrants[0]!;
    // the grant of material i's holder
    const grants = HOLDERS > 1 ? headers.map((_, i) => holderGrants[i % HOLDERS]!) : undefined;

    const scenarios = [
      { label: "multiplexed stream, exact, reads coalesced", mode: "multiplexed", cacheMs: 0, coalesce: true, batchSign: true },
      { label: "multiplexed stream, chain answers cached 1 s", mode: "multiplexed", cacheMs: 1000, coalesce: true, batchSign: true },
      { label: "stream per request, chain answers cached 1 s", mode: "stream-per-request", cacheMs: 1000, coalesce: true, batchSign: true },
      { label: "multiplexed stream, exact, 2 eth_calls per fetch", mode: "multiplexed", cacheMs: 0, coalesce: false, batchSign: true },
      { label: "as 0, each request signed alone (1.0 signing)", mode: "multiplexed", cacheMs: 0, coalesce: true, batchSign: false },
    ] as const;
    const only = process.env.BENCH_SCENARIO ? process.env.BENCH_SCENARIO.split(",").map(Number) : scenarios.map((_, i) => i);
    console.log(`exchange bench: ${COUNT} fetches of 10 KiB per scenario, ${MATERIALS} distinct material(s) in turn of ${HOLDERS} holder(s), one grant each (at most 1,000 for the uncoalesced exact one), ${CONC} in flight, use-log fsync ${process.env.BENCH_SYNC !== "0" ? "on" : "off"}${BLOCK_MS > 0 ? `, a block every ${BLOCK_MS} ms` : ""}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    for (const s of only.map((i) => scenarios[i]!).filter(Boolean)) {
      const mk = (k: "A" | "B") => {
        const d = mkdtempSync(join(tmpdir(), "xbench-"));
        dirs.push(d);
        return runConfig(chain, ledgerAddr, authAddr, id(U[k]), w[k].privateKey, d, { grantCacheMs: s.cacheMs, verifyCacheMs: s.cacheMs, chainCoalesce: s.coalesce && process.env.BENCH_INFLIGHT ? { maxInFlight: Number(process.env.BENCH_INFLIGHT) } : s.coalesce, syncWrites: process.env.BENCH_SYNC !== "0", directoryRefreshMs: 2000, reuseWithinBlock: process.env.BENCH_REUSE !== "0", batchSign: s.batchSign });
      };
      const [A, B] = await Promise.all([NodeProcess.start(mk("A")), NodeProcess.start(mk("B"))]);
      nodes.push(A, B);
      for (let i = 0; i < MATERIALS; i++) await A.call("putMaterial", { bundle: bundles[i], content: contents[i]!.toString("base64") });
      const leaves = bundles.map((b) => b.leaf);
      // both directories must know both peers (each node published its own at start): otherwise A's gater
      // refuses B's connection until A's next refresh and the first fetches fail with TRANSPORT
      await Promise.all([A.call("refresh"), B.call("refresh")]);
      const params = { custodian: id(U.A), leaf: bundle.leaf, grantId, matter: MATTER, mode: s.mode, timeoutMs: 60_000 };
      const warm = await B.call<{ codes: Record<string, number>; samples: Record<string, string> }>("bench", { params, count: Math.min(200, COUNT), concurrency: CONC, leaves, grants }); // warm-up
      if (Object.keys(warm.codes).some((c) => c !== "OK")) console.log(`    warm-up codes ${JSON.stringify(warm.codes)} ${JSON.stringify(warm.samples)}`);
      type Info = { grantCalls: number; logSize: number; cpuMs: number; batchSigned: { requests: number; signatures: number } | null; coalesced: Record<string, { batches: number; queries: number; asked: number; largest: number; reused?: number } | null> };
      const [a0, b0] = await Promise.all([A.call<Info>("info"), B.call<Info>("info")]);
      const chain0 = chainCpuMs(chain.pid);
      const n = s.cacheMs === 0 && !s.coalesce ? Math.min(COUNT, 1000) : COUNT; // bounded by the hardhat node
      // BENCH_BLOCK_MS: a block every that many ms during the run (hardhat mines only per transaction; a real
      // chain seals every period), so answers reused within a block are measured with blocks arriving
      const miner = BLOCK_MS > 0 ? setInterval(() => void rpc(chain.url, "evm_mine", []).catch(() => undefined), BLOCK_MS) : undefined;
      const r = await B.call<{ perSec: number; ms: number; codes: Record<string, number>; samples: Record<string, string>; p50: number; p95: number; cpuMsPerFetch: number }>("bench", { params, count: n, concurrency: CONC, leaves, grants }).finally(() => clearInterval(miner));
      const chainMs = chainCpuMs(chain.pid) - chain0;
      const [a, b] = await Promise.all([A.call<Info>("info"), B.call<Info>("info")]);
      const per = (x: Info, x0: Info, k: string) => {
        const c = x.coalesced[k], c0 = x0.coalesced[k];
        if (!c || !c0 || c.batches <= c0.batches) return "1 per call";
        const b = c.batches - c0.batches;
        const reused = (c.reused ?? 0) - (c0.reused ?? 0);
        return `${((c.queries - c0.queries) / b).toFixed(1)} per batch, ${((c.asked - c0.asked) / b).toFixed(1)} distinct${c.reused !== undefined ? `, ${((c.asked - c0.asked - reused) / b).toFixed(1)} read at the block` : ""}`;
      };
      console.log(
        `${s.label.padEnd(52)} ${r.perSec.toFixed(0).padStart(6)} fetches/s  (p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, codes ${JSON.stringify(r.codes)}, custodian checkGrant calls ${a.grantCalls - a0.grantCalls} (${per(a, a0, "checkGrant")}), materialState reads ${per(b, b0, "materialState")}, custodian log ${a.logSize} records, ${b.batchSigned && b0.batchSigned && b.batchSigned.signatures > b0.batchSigned.signatures ? `${((b.batchSigned.requests - b0.batchSigned.requests) / (b.batchSigned.signatures - b0.batchSigned.signatures)).toFixed(1)} requests per signature` : "one signature per request"}; CPU per fetch: requester ${r.cpuMsPerFetch.toFixed(2)} ms, custodian ${((a.cpuMs - a0.cpuMs) / n).toFixed(2)} ms, chain node ${Number.isFinite(chainMs) ? (chainMs / n).toFixed(2) + " ms" : "n/a"})`,
      );
      const cust = (a.cpuMs - a0.cpuMs) / n;
      if (s.cacheMs > 0) console.log(`    CPU-bound rate with one dedicated core per node: ${(1000 / Math.max(r.cpuMsPerFetch, cust)).toFixed(0)} fetches/s (1000 / the slower side's CPU ms per fetch; load-independent, the chain idle in this scenario)`);
      for (const [code, msg] of Object.entries(r.samples)) console.log(`    e.g. ${code}: ${msg}`);
      await A.stop();
      await B.stop();
    }
  } finally {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await chain.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
