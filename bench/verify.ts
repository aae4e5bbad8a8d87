/**
 * Verification latency of one material, offline and with the chain (p50/p95 per round, rounds repeated):
 *  - ours: SDK verify({content}, bundle, {offline: true}) and verify(..., {provider, ledger}) (one eth_call);
 *  - OpenAttestation: open-attestation verifySignature(wrapped) offline (integrity: salted fields -> target
 *    hash -> proof -> merkle root); online, oa-verify's own verifier built with its openAttestationHash +
 *    openAttestationEthereumDocumentStoreStatus fragments and a provider pointed at the same local chain
 *    (its DNS-TXT issuer-identity fragment is left out: it needs the internet).
 * Both batches hold 1,000 materials (proof of 10 hashes), the verified content is the same record.
 */
import { createRequire } from "node:module";
import { verifySignature, wrapDocuments } from "@govtechsg/open-attestation";
import { buildBundle, buildMerkleTree, chainReaderFromUrl, computeLeaf, typeCodeToBytes32, verify } from "../sdk/src/index.js";
import { startRpcFilter } from "../test/node/helpers/chain.js";
import { anchoredTarget, findGeth, rawCaller, startGethDev } from "../sdk/bench/online.js";
import { contentOf, headerOf, licenceRecords, oaDocumentOf, TYPE, JURISDICTION } from "./lib/documents.js";
import type { Deployed } from "./lib/contracts.js";
import { pct, spread, type Spread } from "./lib/stats.js";

const require = createRequire(import.meta.url);
const oaVerify = require("@govtechsg/oa-verify") as {
  verificationBuilder: (verifiers: unknown[], opts: { provider: unknown }) => (doc: unknown) => Promise<{ name: string; status: string }[]>;
  openAttestationHash: unknown;
  openAttestationEthereumDocumentStoreStatus: unknown;
};
// oa-verify is built on ethers v5 (its own nested copy); its provider type must come from there.
const ethers5 = createRequire(require.resolve("@govtechsg/oa-verify"))("ethers") as {
  providers: { StaticJsonRpcProvider: new (url: string, network: { name: string; chainId: number }) => unknown };
  version: string;
};

export interface LatencyCell {
  p50: Spread;
  p95: Spread;
  perRound: number;
  rpcPerVerification: Record<string, number>;
}
export interface VerifyResult {
  batch: number;
  ours: { offline: LatencyCell; online: LatencyCell };
  oa: { offline: LatencyCell; online: LatencyCell };
  /** the floor on the same hardhat node: a pre-encoded materialState eth_call over a keep-alive node:http agent */
  floor?: LatencyCell;
  /** the same online verification (and floor) against a single geth --dev process, the engine family of a deployment */
  geth?: { engine: string; batch: number; ours: LatencyCell; floor: LatencyCell } | { engine: string; skipped: string };
  ethers5: string;
  notes: string[];
}

const log = (s: string) => process.stdout.write(`  [verify] ${s}\n`);

/**
 * Rounds of sequential timed calls, the functions interleaved round by round (round r of every function before
 * round r+1 of any), so that functions compared with each other see the same load; each round's p50 and p95.
 */
async function interleaved(fns: (() => Promise<void>)[], rounds: number, perRound: number[], warm: number): Promise<{ p50: Spread; p95: Spread }[]> {
  for (const fn of fns) for (let i = 0; i < warm; i++) await fn();
  const p50 = fns.map(() => [] as number[]);
  const p95 = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let f = 0; f < fns.length; f++) {
      const ts: number[] = [];
      for (let i = 0; i < perRound[f]!; i++) {
        const t = performance.now();
        await fns[f]!();
        ts.push(performance.now() - t);
      }
      p50[f]!.push(pct(ts, 50));
      p95[f]!.push(pct(ts, 95));
    }
  }
  return fns.map((_, f) => ({ p50: spread(p50[f]!), p95: spread(p95[f]!) }));
}

/** JSON-RPC methods one call of `fn` makes, counted through a recording proxy (average over k calls). */
async function rpcCount(url: string, k: number, make: (proxyUrl: string) => () => Promise<void>): Promise<Record<string, number>> {
  const proxy = await startRpcFilter(url);
  try {
    const fn = make(proxy.url);
    await fn(); // first call may fetch the chain id (cached afterwards by both libraries)
    proxy.seen.length = 0;
    for (let i = 0; i < k; i++) await fn();
    const counts: Record<string, number> = {};
    for (const m of proxy.seen) counts[m] = (counts[m] ?? 0) + 1;
    for (const m of Object.keys(counts)) counts[m] = Math.round((counts[m]! / k) * 100) / 100;
    return counts;
  } finally {
    await proxy.close();
  }
}

export async function verifyBench(d: Deployed, opts: { rounds: number; perRound: number; perRoundOnline: number; perRoundOnlineOa: number }): Promise<VerifyResult> {
  const N = 1000;
  const records = licenceRecords(N, 42);
  const url = d.chain.url;

  // ours: anchor the batch, bundle of material 0
  const headers = records.map((r) => headerOf(r));
  const tree = buildMerkleTree(headers.map(computeLeaf));
  const rc = await (await d.ledger.anchor(tree.root, typeCodeToBytes32(TYPE), JURISDICTION, N)).wait();
  const bundle = buildBundle({ header: headers[0]!, proof: tree.getProof(0), root: tree.root, chainId: d.chainId, contract: d.ledgerAddress, blockNumber: BigInt(rc!.blockNumber), txHash: rc!.hash });
  const content = contentOf(records[0]!);

  // OpenAttestation: wrap the same records, issue the merkle root on the DocumentStore
  const wrapped = wrapDocuments(records.map((r) => oaDocumentOf(r, d.documentStoreAddress)) as never) as unknown as { signature: { merkleRoot: string; proof: string[] } }[];
  const doc = wrapped[0]!;
  await (await d.documentStore.getFunction("issue")("0x" + doc.signature.merkleRoot)).wait();

  const oursOffline = async () => { const r = await verify({ content }, bundle, { offline: true }); if (!r.ok) throw new Error("ours offline did not verify"); };
  const reader = chainReaderFromUrl(url);
  const oursOnlineWith = (u: string) => { const rd = u === url ? reader : chainReaderFromUrl(u); return async () => { const r = await verify({ content }, bundle, { provider: rd, ledger: d.ledgerAddress }); if (!r.ok) throw new Error("ours online did not verify: " + JSON.stringify(r.checks.filter((c) => c.status !== "VALID"))); }; };
  const oaOffline = async () => { if (!verifySignature(doc as never)) throw new Error("OA offline did not verify"); };
  const oaOnlineWith = (u: string) => {
    const provider = new ethers5.providers.StaticJsonRpcProvider(u, { name: "tongban-bench", chainId: Number(d.chainId) });
    const v = oaVerify.verificationBuilder([oaVerify.openAttestationHash, oaVerify.openAttestationEthereumDocumentStoreStatus], { provider });
    return async () => {
      const frags = await v(doc);
      if (frags.some((f) => f.status !== "VALID")) throw new Error("OA online did not verify: " + JSON.stringify(frags));
    };
  };

  const oursOnRpc = await rpcCount(url, 5, oursOnlineWith);
  const oaOnRpc = await rpcCount(url, 5, oaOnlineWith);
  log(`RPC per verification: ours ${JSON.stringify(oursOnRpc)}, OA ${JSON.stringify(oaOnRpc)}`);

  const R = opts.rounds;
  const [a, b] = await interleaved([oursOffline, oaOffline], R, [opts.perRound, opts.perRound], 50);
  log(`offline p50: ours ${a!.p50.median.toFixed(3)} ms, OA ${b!.p50.median.toFixed(3)} ms`);
  const stateCall = d.ledger.interface.encodeFunctionData("materialState", [bundle.root, bundle.leaf, bundle.header.hashAlg]);
  const [c, fl, e] = await interleaved([oursOnlineWith(url), rawCaller(url, stateCall, d.ledgerAddress), oaOnlineWith(url)], R, [opts.perRoundOnline, opts.perRoundOnline, opts.perRoundOnlineOa], 30);
  log(`online: ours p50 ${c!.p50.median.toFixed(3)} p95 ${c!.p95.median.toFixed(3)} ms; raw eth_call floor p50 ${fl!.p50.median.toFixed(3)} p95 ${fl!.p95.median.toFixed(3)} ms; OA p50 ${e!.p50.median.toFixed(3)} ms`);

  // the same against geth --dev (a deployment runs geth/besu, not the hardhat JS node)
  let geth: VerifyResult["geth"];
  const gethBin = findGeth();
  if (!gethBin) geth = { engine: "geth --dev", skipped: "no geth binary ($GETH, ~/.cache/tongban/bin/geth, /work/tools/bin/geth)" };
  else {
    const g = await startGethDev(gethBin);
    try {
      const t = await anchoredTarget(g);
      const rd = chainReaderFromUrl(g.url);
      const gethOurs = async () => { const r = await verify({ content: t.content }, t.bundle, { provider: rd, ledger: t.contract }); if (!r.ok) throw new Error("geth: did not verify"); };
      const [gv, gf] = (await interleaved([gethOurs, rawCaller(g.url, t.data, t.contract)], R, [opts.perRoundOnline, opts.perRoundOnline], 50)) as [{ p50: Spread; p95: Spread }, { p50: Spread; p95: Spread }];
      geth = { engine: "geth 1.13.15 --dev (one process, a block per second)", batch: 100, ours: { ...gv, perRound: opts.perRoundOnline, rpcPerVerification: oursOnRpc }, floor: { ...gf, perRound: opts.perRoundOnline, rpcPerVerification: { eth_call: 1 } } };
      log(`geth: ours online p50 ${gv.p50.median.toFixed(3)} p95 ${gv.p95.median.toFixed(3)} ms; floor p50 ${gf.p50.median.toFixed(3)} p95 ${gf.p95.median.toFixed(3)} ms`);
    } finally {
      await g.stop();
    }
  }
  return {
    batch: N,
    ours: { offline: { ...a!, perRound: opts.perRound, rpcPerVerification: {} }, online: { ...c, perRound: opts.perRoundOnline, rpcPerVerification: oursOnRpc } },
    oa: { offline: { ...b, perRound: opts.perRound, rpcPerVerification: {} }, online: { ...e, perRound: opts.perRoundOnlineOa, rpcPerVerification: oaOnRpc } },
    floor: { ...fl, perRound: opts.perRoundOnline, rpcPerVerification: { eth_call: 1 } },
    geth,
    ethers5: ethers5.version,
    notes: [
      "Ours checks more than OpenAttestation online: integrity, anchoring block, issuer entitlement, per-leaf status, validity window, hash algorithm (one eth_call, materialState). oa-verify's document-store fragment checks issued (root) and revoked (target hash and proof nodes) with one eth_call each.",
      "Offline, ours hashes the content bytes (SHA-256) and checks header -> leaf -> proof -> root; OpenAttestation checks its salted fields -> target hash -> proof -> merkle root.",
      "The floor is the transport and the chain alone: the same materialState eth_call, pre-encoded, over a keep-alive node:http agent, answer not decoded. Ours minus the floor is what the SDK adds (hashing, proof, codec, checks).",
      "hardhat node runs with its per-request console logging off (hardhat_setLoggingEnabled false): with it on, each eth_call costs the chain ~0.4 ms more CPU and the tail grows (sdk/bench/online.ts).",
    ],
  };
}
