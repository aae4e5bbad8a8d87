/**
 * Explained verification of one e-material against its proof bundle (DESIGN decision 3). The result is data:
 * a list of checks, each VALID | INVALID | ERROR | SKIPPED with a stable numeric code (see {@link VerificationCode};
 * codes are append-only, never renumbered). Online mode makes exactly ONE eth_call per verification
 * (`materialState`), plus one eth_chainId per reader object, cached. Fail closed: any doubt about the chain is ERROR.
 */
import { TongbanError, MerkleError } from "./errors.js";
import { computeLeaf, encodeHeaderBytes } from "./leaf.js";
import { processProof } from "./merkle/index.js";
import { hashContent, hashAlgName } from "./content-hash.js";
import { headerFromJson, loadBundle, type ProofBundle } from "./bundle.js";
import { verifySeal, type SealVerifyOptions } from "./seal.js";
import {
  readMaterialState, chainIdOf, chainReaderFromUrl, ChainReadError, MaterialStatus, HashAlgStatus,
  type ChainReader, type MaterialState,
} from "./chain.js";

/** The checks, in the order they are reported. */
export const CHECKS = [
  "INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW", "HASH_ALGORITHM", "SIGNATURE", "CHECKPOINT",
] as const;
export type CheckName = (typeof CHECKS)[number];

export type CheckStatus = "VALID" | "INVALID" | "ERROR" | "SKIPPED";

/**
 * Stable numeric codes. NEVER change or reuse a value; only append. 1xx are shared by several checks,
 * then one hundred per check. (Pinned by test/sdk/verify.test.ts; table in sdk/README.md.)
 */
export const VerificationCode = {
  OFFLINE: 100,
  CHAIN_UNREACHABLE: 101,
  CHAIN_ID_MISMATCH: 102,
  BAD_CHAIN_RESPONSE: 103,
  UNTRUSTED_LEDGER: 104,
  NOT_ANCHORED: 105,
  NOT_PRESENT: 106,
  INTEGRITY_OK: 200,
  CONTENT_HASH_MISMATCH: 201,
  LEAF_MISMATCH: 202,
  PROOF_MISMATCH: 203,
  CONTENT_UNHASHABLE: 204,
  ANCHORED_OK: 300,
  ANCHOR_BLOCK_MISMATCH: 301,
  ISSUER_ENTITLED_OK: 400,
  ISSUER_MISMATCH: 401,
  TYPE_MISMATCH: 402,
  STATUS_ACTIVE: 500,
  REVOKED: 501,
  SUSPENDED: 502,
  SUPERSEDED: 503,
  WITHIN_VALIDITY: 600,
  NOT_YET_VALID: 601,
  EXPIRED: 602,
  INVALID_WINDOW: 603,
  HASH_ALG_ACTIVE: 700,
  HASH_ALG_RETIRED_AFTER_ANCHOR: 701,
  HASH_ALG_RETIRED_BEFORE_ANCHOR: 702,
  HASH_ALG_UNKNOWN: 703,
  SEAL_VALID: 800,
  SEAL_BAD_SIGNATURE: 801,
  SEAL_SIGNER_MISMATCH: 802,
  SEAL_MALFORMED: 803,
  SEAL_UNTRUSTED_SIGNER: 804,
  SEAL_REQUIRED: 805,
  CHECKPOINT_UNSUPPORTED: 901,
} as const;
export type VerificationCodeName = keyof typeof VerificationCode;

/** One check's outcome. */
export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  /** stable numeric code ({@link VerificationCode}) */
  code: number;
  /** the code's name */
  reason: VerificationCodeName;
  message: string;
  details: Record<string, unknown>;
}

/** The verdict: `ok` is true only if every check is VALID (SKIPPED tolerated only as described on {@link verify}). */
export interface VerificationResult {
  ok: boolean;
  leaf: string;
  mode: "online" | "offline";
  checks: CheckResult[];
}

/** What is verified: the content itself, or its hash (under the header's algorithm). */
export type VerifyInput = { content: Uint8Array | string } | { contentHash: string };

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** A chain to ask (ethers provider, any {@link ChainReader}, or a JSON-RPC URL). Absent = offline. */
  provider?: ChainReader | string;
  /** Declare offline mode: checks needing the chain are SKIPPED and tolerated in `ok`. */
  offline?: boolean;
  /** The moment to judge the validity window at (Date, or unix seconds); default now. */
  at?: Date | number | bigint;
  /** The ledger address the verifier trusts; a bundle naming another contract fails ANCHORED (UNTRUSTED_LEDGER). */
  ledger?: string;
  /** Make a missing seal INVALID instead of SKIPPED. */
  requireSeal?: boolean;
  /** Accept seals only from these signers (addresses for EIP-712, public keys for SM2). */
  trustedSealSigners?: readonly string[];
  /**
   * A keccak-256 for the leaf (the header's 320-byte encoding) and, unless `proofHasher` is given, for every pair
   * of the Merkle proof (64 bytes), e.g. a native one: the SDK's portable JS keccak costs ~40 µs per leaf and
   * ~2.3 µs per pair, the `keccak` npm package's ~6 µs and ~2 µs (measured: sdk/bench/verify.ts). Must return
   * the 32-byte digest; a wrong one fails INTEGRITY (LEAF_MISMATCH, or PROOF_MISMATCH), never passes it.
   */
  keccak256?: (data: Uint8Array) => Uint8Array;
  /**
   * Hash the Merkle proof's pairs with the SDK's own keccak256 of 64 bytes instead: "auto" = WebAssembly when
   * available (~0.8 µs per proof element: cheaper than a native add-on's ~2 µs per call, all N-API crossings),
   * "js" = the portable JS one. Takes precedence over `keccak256` for the pairs (the leaf still uses
   * `keccak256`). Default: `keccak256` if given, else the portable JS keccak. Same result either way.
   */
  proofHasher?: "auto" | "js";
  /**
   * A native secp256k1 recovery for EIP-712 seals (with `keccak256`, see {@link SealVerifyOptions}): ~0.07 ms
   * instead of ethers' ~2-5 ms per sealed bundle. Same outcome: what it does not cover exactly goes to ethers.
   */
  ecrecover?: SealVerifyOptions["ecrecover"];
}

const ZERO32 = "0x" + "0".repeat(64);

function result(check: CheckName, status: CheckStatus, reason: VerificationCodeName, message: string, details: Record<string, unknown> = {}): CheckResult {
  return { check, status, code: VerificationCode[reason], reason, message, details };
}

/** A verification option is malformed (e.g. `at` is not a valid time). */
export class InvalidVerifyOptionError extends TongbanError<{ option: string; value: string }> {
  override name = "InvalidVerifyOptionError" as const;
}

function seconds(at: VerifyOptions["at"]): bigint {
  if (at === undefined) return BigInt(Math.floor(Date.now() / 1000));
  const n = at instanceof Date ? at.getTime() / 1000 : at;
  if (typeof n === "bigint") return n;
  if (!Number.isFinite(n)) throw new InvalidVerifyOptionError(`options.at is not a valid time`, { option: "at", value: String(at) });
  return BigInt(Math.floor(n));
}

function leafWith(keccak256: (data: Uint8Array) => Uint8Array, h: ReturnType<typeof headerFromJson>): string {
  const d = keccak256(encodeHeaderBytes(h));
  if (!(d instanceof Uint8Array) || d.length !== 32) return "0x"; // matches no leaf: INTEGRITY fails closed
  return "0x" + Buffer.from(d.buffer, d.byteOffset, d.length).toString("hex");
}

function reachedRoot(leaf: string, proof: readonly string[], options: VerifyOptions): string {
  if (options.proofHasher !== undefined) return processProof(leaf, proof, { hasher: options.proofHasher });
  if (options.keccak256 === undefined) return processProof(leaf, proof);
  try {
    return processProof(leaf, proof, { keccak256: options.keccak256 });
  } catch (e) {
    if (e instanceof MerkleError && e.details.reason === "BAD_DIGEST") return "0x"; // reaches no root: INTEGRITY fails closed
    throw e;
  }
}

function integrity(input: VerifyInput, b: ProofBundle, options: VerifyOptions): CheckResult {
  const keccak256 = options.keccak256;
  const h = headerFromJson(b.header);
  // header -> leaf -> root first: a tampered header is reported as such even when its algorithm is unknown
  const leaf = keccak256 ? leafWith(keccak256, h) : computeLeaf(h);
  if (leaf !== b.leaf.toLowerCase()) {
    return result("INTEGRITY", "INVALID", "LEAF_MISMATCH", "the header does not hash to the bundle's leaf", { expected: b.leaf, actual: leaf });
  }
  const reached = reachedRoot(leaf, b.proof, options);
  if (reached !== b.root.toLowerCase()) {
    return result("INTEGRITY", "INVALID", "PROOF_MISMATCH", "the Merkle proof does not lead from the leaf to the root", { root: b.root, reached });
  }
  let contentHash: string;
  if ("content" in input) {
    try {
      contentHash = hashContent(input.content, h.hashAlg);
    } catch (e) {
      return result("INTEGRITY", "ERROR", "CONTENT_UNHASHABLE", `cannot hash content under ${hashAlgName(h.hashAlg)}`, { hashAlg: h.hashAlg, error: (e as Error).message });
    }
  } else {
    contentHash = String(input.contentHash).toLowerCase();
  }
  if (contentHash !== b.header.contentHash.toLowerCase()) {
    return result("INTEGRITY", "INVALID", "CONTENT_HASH_MISMATCH", `content ${hashAlgName(h.hashAlg)} does not match the header`, { expected: b.header.contentHash, actual: contentHash });
  }
  return result("INTEGRITY", "VALID", "INTEGRITY_OK", `content, header, leaf and proof agree (${hashAlgName(h.hashAlg)})`, { leaf, root: b.root, contentHash });
}

function validityWindow(b: ProofBundle, at: bigint): CheckResult {
  const from = BigInt(b.header.validFrom), until = BigInt(b.header.validUntil);
  const d = { at: at.toString(), validFrom: from.toString(), validUntil: until.toString() };
  if (until !== 0n && until < from) return result("VALIDITY_WINDOW", "INVALID", "INVALID_WINDOW", "validUntil is before validFrom", d);
  if (at < from) return result("VALIDITY_WINDOW", "INVALID", "NOT_YET_VALID", `not valid before ${new Date(Number(from) * 1000).toISOString()}`, d);
  if (until !== 0n && at > until) return result("VALIDITY_WINDOW", "INVALID", "EXPIRED", `expired at ${new Date(Number(until) * 1000).toISOString()}`, d);
  return result("VALIDITY_WINDOW", "VALID", "WITHIN_VALIDITY", until === 0n ? "valid, no end date" : "within its validity window", d);
}

function signature(b: ProofBundle, options: VerifyOptions): CheckResult {
  if (!b.seal) {
    return options.requireSeal
      ? result("SIGNATURE", "INVALID", "SEAL_REQUIRED", "an issuer e-seal is required but the bundle has none")
      : result("SIGNATURE", "SKIPPED", "NOT_PRESENT", "no issuer e-seal in the bundle");
  }
  const v = verifySeal(b.seal, b.leaf, { chainId: b.anchor.chainId, ledger: b.anchor.contract }, { keccak256: options.keccak256, ecrecover: options.ecrecover });
  if (!v.valid) {
    const reason = v.reason === "BAD_SIGNATURE" ? "SEAL_BAD_SIGNATURE" : v.reason === "SIGNER_MISMATCH" ? "SEAL_SIGNER_MISMATCH" : "SEAL_MALFORMED";
    return result("SIGNATURE", "INVALID", reason, v.message, { scheme: v.scheme, ...(v.signer ? { signer: v.signer } : {}) });
  }
  if (options.trustedSealSigners) {
    const trusted = options.trustedSealSigners.some((s) => s.toLowerCase() === v.signer.toLowerCase());
    if (!trusted) return result("SIGNATURE", "INVALID", "SEAL_UNTRUSTED_SIGNER", `seal signer ${v.signer} is not trusted`, { scheme: v.scheme, signer: v.signer });
  }
  return result("SIGNATURE", "VALID", "SEAL_VALID", `${v.scheme} seal by ${v.signer}`, { scheme: v.scheme, signer: v.signer });
}

function checkpoint(b: ProofBundle): CheckResult {
  if (!b.checkpoints || b.checkpoints.length === 0) return result("CHECKPOINT", "SKIPPED", "NOT_PRESENT", "same-chain material, no checkpoint path");
  return result("CHECKPOINT", "ERROR", "CHECKPOINT_UNSUPPORTED", "cross-chain checkpoint paths are not verified by this SDK version", { hops: b.checkpoints.length });
}

const CHAIN_CHECKS = ["ANCHORED", "ISSUER_ENTITLED", "STATUS", "HASH_ALGORITHM"] as const;

function chainFailure(status: CheckStatus, reason: VerificationCodeName, message: string, details: Record<string, unknown> = {}): CheckResult[] {
  return CHAIN_CHECKS.map((c) => result(c, status, reason, message, details));
}

function fromState(b: ProofBundle, s: MaterialState): CheckResult[] {
  const out: CheckResult[] = [];
  if (!s.anchored) return chainFailure("INVALID", "NOT_ANCHORED", `root ${b.root} is not anchored on the ledger`, { root: b.root });
  const anchorDetails = { root: b.root, block: s.anchoredBlock.toString(), anchoredAt: s.anchoredAt.toString(), jurisdiction: s.jurisdiction, count: s.count };
  out.push(BigInt(b.anchor.blockNumber) !== s.anchoredBlock
    ? result("ANCHORED", "INVALID", "ANCHOR_BLOCK_MISMATCH", `the root was anchored in block ${s.anchoredBlock}, the bundle says ${b.anchor.blockNumber}`, { ...anchorDetails, bundleBlock: b.anchor.blockNumber })
    : result("ANCHORED", "VALID", "ANCHORED_OK", `anchored in block ${s.anchoredBlock}`, anchorDetails));

  const issuerDetails = { anchorIssuer: s.issuer, anchorTypeCode: s.typeCode, jurisdiction: s.jurisdiction, issuerActiveNow: s.issuerActiveNow };
  if (s.issuer.toLowerCase() !== b.header.issuer.toLowerCase()) {
    out.push(result("ISSUER_ENTITLED", "INVALID", "ISSUER_MISMATCH", "the root was anchored by another member than the header's issuer", { ...issuerDetails, headerIssuer: b.header.issuer }));
  } else if (s.typeCode.toLowerCase() !== b.header.typeCode.toLowerCase()) {
    out.push(result("ISSUER_ENTITLED", "INVALID", "TYPE_MISMATCH", "the root was anchored for another material type than the header's", { ...issuerDetails, headerTypeCode: b.header.typeCode }));
  } else {
    out.push(result("ISSUER_ENTITLED", "VALID", "ISSUER_ENTITLED_OK", `issuer was entitled for this type in jurisdiction ${s.jurisdiction} when anchoring`, issuerDetails));
  }

  const statusDetails = { reasonCode: s.reason, by: s.statusBy, block: s.statusBlock.toString(), at: s.statusAt.toString() };
  if (s.status === MaterialStatus.Revoked) out.push(result("STATUS", "INVALID", "REVOKED", "revoked", statusDetails));
  else if (s.status === MaterialStatus.Suspended) out.push(result("STATUS", "INVALID", "SUSPENDED", "suspended (reversible)", statusDetails));
  else if (s.supersededBy !== ZERO32) out.push(result("STATUS", "INVALID", "SUPERSEDED", `superseded by ${s.supersededBy}`, { successor: s.supersededBy }));
  else out.push(result("STATUS", "VALID", "STATUS_ACTIVE", "active", { supersedes: s.supersedes }));

  const algDetails = { hashAlg: b.header.hashAlg, name: hashAlgName(b.header.hashAlg), retiredAt: s.hashAlgRetiredAt.toString(), anchoredAt: s.anchoredAt.toString() };
  if (s.hashAlgStatus === HashAlgStatus.Active) out.push(result("HASH_ALGORITHM", "VALID", "HASH_ALG_ACTIVE", `${algDetails.name} is active`, algDetails));
  else if (s.hashAlgStatus === HashAlgStatus.Retired) {
    out.push(s.anchoredAt < s.hashAlgRetiredAt
      ? result("HASH_ALGORITHM", "VALID", "HASH_ALG_RETIRED_AFTER_ANCHOR", `${algDetails.name} was retired after this material was anchored`, algDetails)
      : result("HASH_ALGORITHM", "INVALID", "HASH_ALG_RETIRED_BEFORE_ANCHOR", `${algDetails.name} was already retired when this material was anchored`, algDetails));
  } else out.push(result("HASH_ALGORITHM", "INVALID", "HASH_ALG_UNKNOWN", `hash algorithm ${b.header.hashAlg} is not in the ledger's list`, algDetails));
  return out;
}

async function chainChecks(b: ProofBundle, options: VerifyOptions): Promise<{ checks: CheckResult[]; online: boolean }> {
  if (options.provider === undefined) {
    return { checks: chainFailure("SKIPPED", "OFFLINE", "offline: the chain was not asked"), online: false };
  }
  if (options.ledger !== undefined && options.ledger.toLowerCase() !== b.anchor.contract.toLowerCase()) {
    return {
      checks: chainFailure("INVALID", "UNTRUSTED_LEDGER", `the bundle names contract ${b.anchor.contract}, not the trusted ledger ${options.ledger}`, { bundleContract: b.anchor.contract, trusted: options.ledger }),
      online: true,
    };
  }
  const reader = typeof options.provider === "string" ? chainReaderFromUrl(options.provider) : options.provider;
  try {
    const [chainId, state] = await Promise.all([
      chainIdOf(reader),
      readMaterialState(reader, b.anchor.contract, { root: b.root, leaf: b.leaf, hashAlg: b.header.hashAlg }),
    ]);
    if (chainId !== BigInt(b.anchor.chainId)) {
      return { checks: chainFailure("ERROR", "CHAIN_ID_MISMATCH", `the provider is on chain ${chainId}, the bundle's ledger on chain ${b.anchor.chainId}`, { providerChainId: chainId.toString(), bundleChainId: b.anchor.chainId }), online: true };
    }
    return { checks: fromState(b, state), online: true };
  } catch (e) {
    if (e instanceof ChainReadError && e.details.reason === "BAD_RESPONSE") {
      return { checks: chainFailure("ERROR", "BAD_CHAIN_RESPONSE", e.message, { contract: b.anchor.contract }), online: true };
    }
    return { checks: chainFailure("ERROR", "CHAIN_UNREACHABLE", `could not read the ledger: ${String((e as Error)?.message ?? e).slice(0, 200)}`, { contract: b.anchor.contract }), online: true };
  }
}

/**
 * Verifies a material (its content, or content hash) against a proof bundle from {@link loadBundle} /
 * {@link buildBundle}. Checks: INTEGRITY, ANCHORED, ISSUER_ENTITLED, STATUS, VALIDITY_WINDOW, HASH_ALGORITHM,
 * SIGNATURE, CHECKPOINT. `ok` is true only when every check is VALID, except that SKIPPED is tolerated
 * (a) for an optional element the bundle does not carry (code NOT_PRESENT: no seal, no checkpoint path) and
 * (b) for chain checks when `options.offline` is true. Without a provider and without `offline: true`, `ok` is false.
 * Never throws for a bad material (returns checks); throws {@link BundleValidationError} if `bundle` is not a
 * well-formed bundle (validate untrusted JSON with {@link loadBundle} first to get the problem list).
 * @example
 * const r = await verify({ content: pdfBytes }, bundle, { provider: "http://127.0.0.1:8545" });
 * if (!r.ok) console.log(r.checks.filter((c) => c.status !== "VALID"));
 */
export async function verify(input: VerifyInput, bundle: ProofBundle, options: VerifyOptions = {}): Promise<VerificationResult> {
  loadBundle(bundle); // format only (throws BundleValidationError); consistency is judged below
  const chainPromise = chainChecks(bundle, options);
  const at = seconds(options.at);
  const local = {
    INTEGRITY: integrity(input, bundle, options),
    VALIDITY_WINDOW: validityWindow(bundle, at),
    SIGNATURE: signature(bundle, options),
    CHECKPOINT: checkpoint(bundle),
  };
  const { checks: chain, online } = await chainPromise;
  // (a look-up in the eight results, not a Map built from pairs: that line was ~2% of a verification's CPU)
  const all = [local.INTEGRITY, local.VALIDITY_WINDOW, local.SIGNATURE, local.CHECKPOINT, ...chain];
  const checks = CHECKS.map((name) => all.find((c) => c.check === name)!);
  const ok = checks.every((c) =>
    c.status === "VALID"
    || (c.status === "SKIPPED" && c.reason === "NOT_PRESENT")
    || (c.status === "SKIPPED" && c.reason === "OFFLINE" && options.offline === true));
  return { ok, leaf: bundle.leaf, mode: online ? "online" : "offline", checks };
}
