/**
 * Exchange benchmark: authorised fetches/s of 10 KiB materials between two member-node processes (A serves,
 * B fetches) over libp2p on loopback, against a hardhat node with the ledger and the authorisations
 * contract. Every fetch is a real one: EIP-712 request signed by B, checked by A (signature, member, peer,
 * nonce, checkGrant), SERVED record fsynced (group commit) before the answer, content sealed to B's key,
 * opened and verified by B with the SDK, RECEIVED record written. Prints figures; not a test.
 *
 *   npx tsx node/bench/exchange.ts [fetches=2000] [concurrency=64]
 *
 * Scenarios: one multiplexed stream, exact (one checkGrant + one materialState eth_call per fetch); the same
 * with both chain answers cached for 1 s; a new stream per request with the caches.
 * Env: BENCH_SCENARIO=0|1|2 (one scenario), BENCH_SYNC=0 (no fsync), TONGBAN_P2P_RUN=<path of another run.ts>
 * (compare another version of node/src/p2p in the same conditions), TONGBAN_P2P_EXEC_ARGV="--cpu-prof
 * --cpu-prof-dir=DIR" (profile both node processes). Figures: node/src/p2p/README.md.
 */
import "../src/polyfill.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { Wallet, encodeBytes32String, ZeroHash, type Contract } from "ethers";
import { buildMerkleTree, buildBundle, computeLeaf, usccCheckChar, type MaterialHeader } from "@tongban/sdk";
import { startChain, deployLedger, bootstrap, devWallet, rpc } from "../../test/node/helpers/chain.js";
import { NodeProcess, deployAuthorisations, runConfig } from "../../test/node/p2p/fixture.js";

const COUNT = Number(process.argv[2] ?? 2000);
const CONC = Number(process.argv[3] ?? 64);
const uscc = (first17: string) => first17 + usccCheckChar(first17);
const id = (u: string) => encodeBytes32String(u).toLowerCase();

async function main(): Promise<void> {
  const chain = await startChain();
  const dirs: string[] = [];
  const nodes: NodeProcess[] = [];
  try {
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
    const content = randomBytes(10 * 1024);
    const holderRef = "0x" + randomBytes(32).toString("hex");
    const header: MaterialHeader = {
      typeCode: TYPE,
      issuer: id(U.A),
      holderRef,
      contentHash: "0x" + createHash("sha256").update(content).digest("hex"),
      hashAlg: 1,
      issuedAt: BigInt(now),
      validFrom: BigInt(now - 10),
      validUntil: 0n,
      version: 1,
      supersedes: ZeroHash,
    };
    const tree = buildMerkleTree([computeLeaf(header)]);
    const rc = await (await ledger.connect(new Wallet(w.A.privateKey, chain.provider)).anchor(tree.root, TYPE, 310104, 1)).wait();
    const bundle = buildBundle({ header, proof: tree.getProof(0), root: tree.root, chainId: Number((await chain.provider.getNetwork()).chainId), contract: ledgerAddr, blockNumber: rc!.blockNumber });
    const asC = auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract;
    const grc = await (
      await asC.grantByIdentityProvider(
        { holderRef, grantee: id(U.B), matter: MATTER, typeCodes: [TYPE], leaves: [], notBefore: now - 60, notAfter: now + 86_400, maxUses: 4_000_000_000 },
        "0x" + randomBytes(32).toString("hex"),
        "0x" + randomBytes(32).toString("hex"),
      )
    ).wait();
    const grantId = String(grc.logs.map((l: { topics: string[]; data: string }) => auth.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "GrantCreated")!.args.grantId);

    const scenarios = [
      { label: "multiplexed stream, exact (2 eth_calls per fetch)", mode: "multiplexed", cacheMs: 0 },
      { label: "multiplexed stream, chain answers cached 1 s", mode: "multiplexed", cacheMs: 1000 },
      { label: "stream per request, chain answers cached 1 s", mode: "stream-per-request", cacheMs: 1000 },
    ] as const;
    const only = process.env.BENCH_SCENARIO ? [Number(process.env.BENCH_SCENARIO)] : scenarios.map((_, i) => i);
    console.log(`exchange bench: ${COUNT} fetches of 10 KiB per scenario (at most 1,000 for the exact one), ${CONC} in flight, use-log fsync ${process.env.BENCH_SYNC !== "0" ? "on" : "off"}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    for (const s of scenarios.filter((_, i) => only.includes(i))) {
      const mk = (k: "A" | "B") => {
        const d = mkdtempSync(join(tmpdir(), "xbench-"));
        dirs.push(d);
        return runConfig(chain, ledgerAddr, authAddr, id(U[k]), w[k].privateKey, d, { grantCacheMs: s.cacheMs, verifyCacheMs: s.cacheMs, syncWrites: process.env.BENCH_SYNC !== "0", directoryRefreshMs: 2000 });
      };
      const [A, B] = await Promise.all([NodeProcess.start(mk("A")), NodeProcess.start(mk("B"))]);
      nodes.push(A, B);
      await A.call("putMaterial", { bundle, content: content.toString("base64") });
      // both directories must know both peers (each node published its own at start): otherwise A's gater
      // refuses B's connection until A's next refresh and the first fetches fail with TRANSPORT
      await Promise.all([A.call("refresh"), B.call("refresh")]);
      const params = { custodian: id(U.A), leaf: bundle.leaf, grantId, matter: MATTER, mode: s.mode, timeoutMs: 60_000 };
      const warm = await B.call<{ codes: Record<string, number>; samples: Record<string, string> }>("bench", { params, count: Math.min(200, COUNT), concurrency: CONC }); // warm-up
      if (Object.keys(warm.codes).some((c) => c !== "OK")) console.log(`    warm-up codes ${JSON.stringify(warm.codes)} ${JSON.stringify(warm.samples)}`);
      const a0 = await A.call<{ cpuMs: number }>("info");
      const n = s.cacheMs === 0 ? Math.min(COUNT, 1000) : COUNT; // the exact scenario is bounded by the hardhat node
      const r = await B.call<{ perSec: number; ms: number; codes: Record<string, number>; samples: Record<string, string>; p50: number; p95: number; cpuMsPerFetch: number }>("bench", { params, count: n, concurrency: CONC });
      const a = await A.call<{ grantCalls: number; logSize: number; cpuMs: number }>("info");
      console.log(
        `${s.label.padEnd(52)} ${r.perSec.toFixed(0).padStart(6)} fetches/s  (p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, codes ${JSON.stringify(r.codes)}, custodian checkGrant calls ${a.grantCalls}, custodian log ${a.logSize} records; CPU per fetch: requester ${r.cpuMsPerFetch.toFixed(2)} ms, custodian ${((a.cpuMs - a0.cpuMs) / n).toFixed(2)} ms)`,
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
