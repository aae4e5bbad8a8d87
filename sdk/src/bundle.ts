/**
 * The proof bundle (DESIGN decision 3): a versioned, self-contained JSON document carrying what a verifier needs.
 * Schema: sdk/schema/proof-bundle.schema.json (`$id` urn:tongban:schema:proof-bundle:1).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ValidateFunction, ErrorObject } from "ajv";
import { TongbanError } from "./errors.js";
import { computeLeaf, type MaterialHeader } from "./leaf.js";
import { processProof, buildMerkleTree } from "./merkle/index.js";
import { isWellFormedBundle } from "./bundle-shape.js";

/** The bundle format identifier. */
export const PROOF_BUNDLE_VERSION = "tongban/proof-bundle@1" as const;

/** The header as JSON: uint64 fields are decimal strings, bytes are 0x-hex. */
export interface MaterialHeaderJson {
  typeCode: string;
  issuer: string;
  holderRef: string;
  contentHash: string;
  hashAlg: number;
  issuedAt: string;
  validFrom: string;
  validUntil: string;
  version: number;
  supersedes: string;
}

/** Issuer e-seal: EIP-712 (secp256k1) over `Material(bytes32 leaf)`. */
export interface Eip712Seal {
  scheme: "eip712-secp256k1";
  /** the address that signed */
  signer: string;
  /** 65-byte signature, 0x-hex */
  signature: string;
}

/** Issuer e-seal: SM2 with SM3 over the 32 leaf bytes. */
export interface Sm2Seal {
  scheme: "sm2-sm3";
  /** uncompressed SM2 public key, hex (04...) without 0x */
  publicKey: string;
  /** r || s, hex without 0x */
  signature: string;
  /** SM2 user id (default "1234567812345678") */
  userId?: string;
}

export type Seal = Eip712Seal | Sm2Seal;

/** Where the root is anchored. */
export interface BundleAnchor {
  /** EIP-155 chain id, decimal string */
  chainId: string;
  /** TongbanLedger address */
  contract: string;
  /** anchoring block, decimal string */
  blockNumber: string;
  txHash?: string;
}

/** Reserved for cross-chain verification (not verified by version 1). */
export interface BundleCheckpoint {
  chainId: string;
  contract: string;
  [k: string]: unknown;
}

/** A proof bundle, version 1. */
export interface ProofBundle {
  version: typeof PROOF_BUNDLE_VERSION;
  header: MaterialHeaderJson;
  leaf: string;
  proof: string[];
  root: string;
  anchor: BundleAnchor;
  seal?: Seal;
  checkpoints?: BundleCheckpoint[];
}

/** One problem found in a bundle: a JSON pointer into the document and what is wrong there. */
export interface BundleProblem {
  path: string;
  reason: string;
}

/** A bundle failed validation; `details.problems` lists every problem (path + reason). */
export class BundleValidationError extends TongbanError<{ problems: BundleProblem[]; leaf?: string }> {
  override name = "BundleValidationError" as const;
}

/** `buildBundle` was given inconsistent parts (the proof does not lead to the root, ...). */
export class BundleBuildError extends TongbanError<{ reason: string; leaf: string; root: string }> {
  override name = "BundleBuildError" as const;
}

/** 2^64 - 1 in decimal (20 digits) */
const MAX_UINT64 = ((1n << 64n) - 1n).toString();

/**
 * The header in its JSON form.
 * @example headerToJson(header).issuedAt // => "1767225600"
 */
export function headerToJson(h: MaterialHeader): MaterialHeaderJson {
  return {
    typeCode: h.typeCode.toLowerCase(), issuer: h.issuer.toLowerCase(), holderRef: h.holderRef.toLowerCase(),
    contentHash: h.contentHash.toLowerCase(), hashAlg: h.hashAlg, issuedAt: h.issuedAt.toString(),
    validFrom: h.validFrom.toString(), validUntil: h.validUntil.toString(), version: h.version,
    supersedes: h.supersedes.toLowerCase(),
  };
}

/**
 * The header from its JSON form (uint64 strings to bigint).
 * @example computeLeaf(headerFromJson(bundle.header)) === bundle.leaf
 */
export function headerFromJson(j: MaterialHeaderJson): MaterialHeader {
  return {
    typeCode: j.typeCode, issuer: j.issuer, holderRef: j.holderRef, contentHash: j.contentHash, hashAlg: j.hashAlg,
    issuedAt: BigInt(j.issuedAt), validFrom: BigInt(j.validFrom), validUntil: BigInt(j.validUntil),
    version: j.version, supersedes: j.supersedes,
  };
}

let validator: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  if (validator) return validator;
  const require = createRequire(import.meta.url);
  const AjvCtor = require("ajv").default as typeof import("ajv").default;
  const ajv = new AjvCtor({ allErrors: true, strict: true });
  validator = ajv.compile(loadBundleSchema());
  return validator;
}

/**
 * The published JSON Schema of the bundle (sdk/schema/proof-bundle.schema.json), parsed.
 * @example new Ajv().compile(loadBundleSchema())
 */
export function loadBundleSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL("../schema/proof-bundle.schema.json", import.meta.url), "utf8"));
}

function describe(e: ErrorObject): BundleProblem {
  const path = e.instancePath || "/";
  if (e.keyword === "additionalProperties") return { path, reason: `unexpected property "${(e.params as { additionalProperty: string }).additionalProperty}"` };
  if (e.keyword === "required") return { path, reason: `missing property "${(e.params as { missingProperty: string }).missingProperty}"` };
  if (e.keyword === "const") return { path, reason: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}` };
  if (e.keyword === "pattern") return { path, reason: `does not match ${(e.params as { pattern: string }).pattern}` };
  return { path, reason: e.message ?? e.keyword };
}

/**
 * Parses and validates a bundle (JSON text or an already parsed object) against the schema and the uint64
 * ranges. Throws {@link BundleValidationError} listing every problem as { path, reason }. Consistency (header
 * hashes to the leaf, proof reaches the root) is NOT a format matter: a tampered but well-formed bundle loads,
 * and {@link verify} reports it as INTEGRITY INVALID.
 * @example
 * const bundle = loadBundle(readFileSync("bundle.json", "utf8"));
 */
export function loadBundle(json: string | unknown): ProofBundle {
  let doc: unknown = json;
  if (typeof json === "string") {
    try {
      doc = JSON.parse(json);
    } catch (e) {
      throw new BundleValidationError("bundle is not valid JSON", { problems: [{ path: "/", reason: (e as Error).message }] }, { cause: e });
    }
  }
  // the hand-written check (bundle-shape.ts) only ever says "valid" when the schema does; otherwise ajv judges
  // and lists the problems (ajv is loaded and compiled on the first bundle that needs it)
  if (!isWellFormedBundle(doc)) {
    const validate = schemaValidator();
    if (!validate(doc)) {
      const problems = (validate.errors ?? []).map(describe);
      // oneOf on `seal` reports every branch; keep the list short and unique
      const unique = [...new Map(problems.map((p) => [`${p.path} ${p.reason}`, p])).values()];
      throw new BundleValidationError(`bundle is invalid: ${unique.map((p) => `${p.path} ${p.reason}`).join("; ")}`, { problems: unique });
    }
  }
  const b = doc as ProofBundle;
  const problems: BundleProblem[] = [];
  for (const f of ["issuedAt", "validFrom", "validUntil"] as const) {
    // the schema allows 1-20 decimal digits without a leading zero: only 20 digits can exceed 2^64 - 1, and
    // among equally long digit strings the text order is the numeric order
    const v = b.header[f];
    if (v.length === 20 && v > MAX_UINT64) problems.push({ path: `/header/${f}`, reason: "exceeds uint64" });
  }
  if (problems.length) {
    throw new BundleValidationError(`bundle for leaf ${b.leaf} is invalid: ${problems.map((p) => `${p.path} ${p.reason}`).join("; ")}`, { problems, leaf: b.leaf });
  }
  return b;
}

/** Parameters of {@link buildBundle}. */
export interface BuildBundleParameters {
  header: MaterialHeader;
  proof: readonly string[];
  root: string;
  chainId: bigint | number | string;
  contract: string;
  blockNumber: bigint | number | string;
  txHash?: string;
  seal?: Seal;
  checkpoints?: BundleCheckpoint[];
}

/**
 * Builds a bundle for one material of an anchored batch (for nodes). Computes the leaf from the header and
 * refuses (throws {@link BundleBuildError}) when the proof does not lead to the root; the result is validated
 * against the schema ({@link BundleValidationError}).
 * @example
 * const tree = buildMerkleTree(headers.map(computeLeaf));
 * const bundle = buildBundle({ header: headers[3], proof: tree.getProof(3), root: tree.root,
 *   chainId: 31337n, contract: ledgerAddress, blockNumber: receipt.blockNumber, txHash: receipt.hash });
 */
export function buildBundle(p: BuildBundleParameters): ProofBundle {
  const leaf = computeLeaf(p.header);
  const root = p.root.toLowerCase();
  if (processProof(leaf, p.proof) !== root) {
    throw new BundleBuildError(`proof of leaf ${leaf} does not lead to root ${root}`, { reason: "PROOF_MISMATCH", leaf, root });
  }
  const bundle: ProofBundle = {
    version: PROOF_BUNDLE_VERSION,
    header: headerToJson(p.header),
    leaf,
    proof: p.proof.map((x) => x.toLowerCase()),
    root,
    anchor: {
      chainId: BigInt(p.chainId).toString(),
      contract: p.contract,
      blockNumber: BigInt(p.blockNumber).toString(),
      ...(p.txHash ? { txHash: p.txHash.toLowerCase() } : {}),
    },
    ...(p.seal ? { seal: p.seal } : {}),
    ...(p.checkpoints ? { checkpoints: p.checkpoints } : {}),
  };
  return loadBundle(bundle);
}

/** Parameters of {@link buildBundles}. */
export interface BuildBundlesParameters {
  /** the batch's headers, in leaf order (the tree is built over their leaves) */
  headers: readonly MaterialHeader[];
  /** the anchored root: must equal the root of the headers' tree */
  root: string;
  chainId: bigint | number | string;
  contract: string;
  blockNumber: bigint | number | string;
  txHash?: string;
}

/**
 * Bundles for every material of an anchored batch at once (for nodes): builds the tree once and takes each
 * proof from it, so no per-material proof check or schema pass is needed (the output is the same as
 * {@link buildBundle}'s). Throws {@link BundleBuildError} if the headers' root is not `root`.
 * @example
 * const bundles = buildBundles({ headers, root, chainId: 31337n, contract: ledger, blockNumber: receipt.blockNumber });
 */
export function buildBundles(p: BuildBundlesParameters): ProofBundle[] {
  const leaves = p.headers.map(computeLeaf);
  const tree = buildMerkleTree(leaves);
  const root = p.root.toLowerCase();
  if (tree.root !== root) {
    throw new BundleBuildError(`the batch's ${leaves.length} headers have root ${tree.root}, not ${root}`, { reason: "ROOT_MISMATCH", leaf: leaves[0] ?? "", root });
  }
  const anchor: BundleAnchor = {
    chainId: BigInt(p.chainId).toString(),
    contract: p.contract,
    blockNumber: BigInt(p.blockNumber).toString(),
    ...(p.txHash ? { txHash: p.txHash.toLowerCase() } : {}),
  };
  if (!/^0x[0-9a-fA-F]{40}$/.test(anchor.contract)) {
    throw new BundleValidationError(`contract ${anchor.contract} is not an address`, { problems: [{ path: "/anchor/contract", reason: "is not a 20-byte 0x-hex address" }] });
  }
  if (anchor.txHash !== undefined && !/^0x[0-9a-f]{64}$/.test(anchor.txHash)) {
    throw new BundleValidationError(`txHash ${anchor.txHash} is not 32-byte hex`, { problems: [{ path: "/anchor/txHash", reason: "is not 32-byte 0x-hex" }] });
  }
  return p.headers.map((header, i) => ({
    version: PROOF_BUNDLE_VERSION,
    header: headerToJson(header),
    leaf: leaves[i]!,
    proof: tree.getProof(i),
    root,
    anchor: { ...anchor },
  }));
}
