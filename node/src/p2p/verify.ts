/**
 * The requester's check of received content before its department sees it: the SDK's `verify` (content hash
 * vs header, header vs leaf, Merkle proof vs root, and one `materialState` eth_call: anchored, issuer
 * entitled, status, hash algorithm; plus the validity window), against the ledger this node trusts.
 *
 * Concurrent verifications are coalesced by default (SDK `coalescingChainReader`): one alone makes its own
 * `materialState` call; while one is in flight the next ones queue and leave as ONE `materialStates` eth_call.
 * Every verification still reads the chain after its content arrived; a failed batch is retried read by read,
 * and a read that still fails fails its verification (ERROR, never VALID). `coalesce: false`: one eth_call per
 * verification. The leaf is hashed with the native keccak (SDK `verify` option `keccak256`), the Merkle proof's
 * pairs with the SDK's WebAssembly keccak (option `proofHasher: "auto"`: ~0.8 µs per pair, the native add-on
 * ~2 µs, the portable JS ~2.3 µs; sdk/bench/verify.ts); an issuer's EIP-712 seal is recovered with the native
 * secp256k1 (option `ecrecover`: ~0.07 ms instead of ethers' 2-5 ms per sealed bundle; same outcome).
 *
 * With `cacheMs` > 0 the `materialState` answer for the same (root, leaf) is reused that long, and so is the
 * whole result for the same bundle and the same content bytes (SHA-256 compared): a revocation or suspension
 * of the material is then noticed up to `cacheMs` late by this requester (benchmarks; default 0).
 */
import { verify, coalescingChainReader, type BlockPinnedReader, type ChainReader, type CoalescerOptions, type CoalescingReaderStats, type ProofBundle, type VerificationResult } from "@tongban/sdk";
import { createHash } from "node:crypto";
import type { ChainRpc } from "./chain.js";
import { keccakBuf } from "../core/header.js";
import { ecrecoverAddress } from "./messages.js";

/**
 * native keccak (core/header.ts, the one the p2p messages use) for the SDK's leaf check: ~6 µs instead of ~40 µs
 * for its portable JS keccak. (For 64-byte pairs its three N-API calls cost ~2 µs: the SDK's WebAssembly keccak
 * does those.)
 */
export const nativeKeccak256 = (d: Uint8Array): Uint8Array => keccakBuf(Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length));

/** The verifier; `coalesced`: materialState batches sent and reads carried (undefined without coalescing). */
export type OnlineVerifier = ((content: Uint8Array, bundle: ProofBundle) => Promise<VerificationResult>) & {
  coalesced?: CoalescingReaderStats;
};

/**
 * `reuseWithinBlock` (default true, with coalescing): each batch reads the latest block's hash first and reuses
 * the answer of a read already made AT THAT BLOCK (SDK `coalescingChainReader`), asking the others pinned to
 * that block: the same answer an eth_call at "latest" gives at that moment (a block's state never changes), so a
 * revocation is seen by the first verification after its block, as without it. Costs a header read per batch.
 */
export function onlineVerifier(
  rpc: ChainRpc,
  ledger: string,
  opts: { cacheMs?: number; coalesce?: boolean | CoalescerOptions; reuseWithinBlock?: boolean } = {},
): OnlineVerifier {
  const cacheMs = opts.cacheMs ?? 0;
  const cache = new Map<string, { at: number; p: Promise<string> }>();
  const direct: BlockPinnedReader = {
    call: ({ to, data }) => rpc.call(to, data),
    callAtBlock: ({ to, data }, blockHash) => rpc.callAtBlock(to, data, blockHash),
    latestBlockHash: () => rpc.latestBlockHash(),
    getNetwork: async () => ({ chainId: BigInt(await rpc.chainId()) }),
  };
  // concurrent verifications share one materialStates eth_call (each still read after its content arrived)
  const chain =
    opts.coalesce === false
      ? direct
      : coalescingChainReader(direct, { ...(opts.coalesce === true || opts.coalesce === undefined ? {} : opts.coalesce), reuseWithinBlock: opts.reuseWithinBlock ?? true });
  const reader: ChainReader = {
    call: ({ to, data }) => {
      if (cacheMs <= 0) return chain.call({ to, data });
      const k = `${to}|${data}`;
      const hit = cache.get(k);
      const now = Date.now();
      if (hit && now - hit.at < cacheMs) return hit.p;
      const p = chain.call({ to, data });
      if (cache.size > 10_000) cache.clear();
      cache.set(k, { at: now, p });
      p.catch(() => cache.delete(k));
      return p;
    },
    getNetwork: async () => ({ chainId: BigInt(await rpc.chainId()) }),
  };
  const stats = "stats" in chain ? (chain.stats as CoalescingReaderStats) : undefined;
  // native keccak for the leaf and the seal's digest, WebAssembly keccak for the proof's pairs, native seal recovery
  const options = { provider: reader, ledger, keccak256: nativeKeccak256, proofHasher: "auto", ecrecover: ecrecoverAddress } as const;
  const withStats = (f: (content: Uint8Array, bundle: ProofBundle) => Promise<VerificationResult>): OnlineVerifier => Object.assign(f, stats ? { coalesced: stats } : {});
  if (cacheMs <= 0) return withStats((content, bundle) => verify({ content }, bundle, options));
  const results = new Map<string, { at: number; p: Promise<VerificationResult> }>();
  return withStats((content, bundle) => {
    const k = createHash("sha256").update(JSON.stringify(bundle)).update(content).digest("hex");
    const now = Date.now();
    const hit = results.get(k);
    if (hit && now - hit.at < cacheMs) return hit.p;
    const p = verify({ content }, bundle, options);
    if (results.size > 10_000) results.clear();
    results.set(k, { at: now, p });
    p.catch(() => results.delete(k));
    return p;
  });
}
