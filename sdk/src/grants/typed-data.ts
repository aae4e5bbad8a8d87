/**
 * Grants (授权调证) on chain — the EIP-712 typed data of contracts/interfaces/IAuthorisations.sol, the grant id
 * rule, and holder signatures. Pinned by test/vectors/grant.json.
 *
 *   domain   = { name: "TongbanAuthorisations", version: "1", chainId, verifyingContract }
 *   GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,
 *              uint64 notBefore,uint64 notAfter,uint32 maxUses)
 *   HolderGrant(GrantTerms terms,uint256 nonce,uint256 deadline)
 *   HolderRevoke(bytes32 grantId,uint256 nonce,uint256 deadline)
 *   GranteeDelegation(bytes32 parentId,GrantTerms terms,uint256 nonce,uint256 deadline)
 *   grantId  = keccak256(abi.encode(domainSeparator, parentId, uint8 origin, hashStruct(GrantTerms), salt))
 *              salt = bytes32(holder nonce) for a holder-signed grant, bytes32(delegation nonce) for a grantee's
 *              signed delegation, the caller's salt otherwise
 */
import { AbiCoder, SigningKey, TypedDataEncoder, keccak256, recoverAddress, toBeHex, type TypedDataDomain, type TypedDataField } from "ethers";
import { TongbanError } from "../errors.js";
import { isBytes32 } from "../bytes.js";

export const GRANT_DOMAIN_NAME = "TongbanAuthorisations";
export const GRANT_DOMAIN_VERSION = "1";
/** Maximum delegation depth below a root grant and maximum scope items (contract constants). */
export const GRANT_MAX_DEPTH = 2;
export const GRANT_MAX_SCOPE_ITEMS = 16;

/** What the holder allows (IAuthorisations.GrantTerms). bytes32 fields are 0x-hex. */
export interface GrantTerms {
  holderRef: string;
  /** grantee member id (encodeBytes32String of its unified social credit code) */
  grantee: string;
  /** matter (事项) code as bytes32 */
  matter: string;
  typeCodes: string[];
  leaves: string[];
  /** unix seconds, inclusive */
  notBefore: bigint;
  notAfter: bigint;
  maxUses: number;
}

/** How a grant was created (IAuthorisations.Origin; stable codes). */
export const GrantOrigin = { NONE: 0, HOLDER_SIGNATURE: 1, IDENTITY_PROVIDER: 2, DELEGATION: 3 } as const;
export type GrantOriginName = keyof typeof GrantOrigin;

/** A grant's terms are malformed (names the field). */
export class InvalidGrantTermsError extends TongbanError<{ field: string; value?: unknown }> {
  override name = "InvalidGrantTermsError" as const;
}

export const GRANT_TERMS_TYPE: TypedDataField[] = [
  { name: "holderRef", type: "bytes32" },
  { name: "grantee", type: "bytes32" },
  { name: "matter", type: "bytes32" },
  { name: "typeCodes", type: "bytes32[]" },
  { name: "leaves", type: "bytes32[]" },
  { name: "notBefore", type: "uint64" },
  { name: "notAfter", type: "uint64" },
  { name: "maxUses", type: "uint32" },
];

/** EIP-712 types of a holder's grant signature (primary type HolderGrant). */
export const HOLDER_GRANT_TYPES: Record<string, TypedDataField[]> = {
  HolderGrant: [
    { name: "terms", type: "GrantTerms" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  GrantTerms: GRANT_TERMS_TYPE,
};

/** EIP-712 types of a holder's revocation signature (primary type HolderRevoke). */
export const HOLDER_REVOKE_TYPES: Record<string, TypedDataField[]> = {
  HolderRevoke: [
    { name: "grantId", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** EIP-712 types of a grantee's signed delegation (primary type GranteeDelegation; `delegateGrantBySignature`). */
export const GRANTEE_DELEGATION_TYPES: Record<string, TypedDataField[]> = {
  GranteeDelegation: [
    { name: "parentId", type: "bytes32" },
    { name: "terms", type: "GrantTerms" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  GrantTerms: GRANT_TERMS_TYPE,
};

/**
 * The EIP-712 domain of an Authorisations contract.
 * @example grantDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
 */
export function grantDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: GRANT_DOMAIN_NAME, version: GRANT_DOMAIN_VERSION, chainId: BigInt(chainId), verifyingContract };
}

/**
 * The domain separator (as the contract's `domainSeparator()`).
 * @example grantDomainSeparator(grantDomain(31337n, address)) === await authorisations.domainSeparator()
 */
export function grantDomainSeparator(domain: TypedDataDomain): string {
  return TypedDataEncoder.hashDomain(domain);
}

function checkTerms(t: GrantTerms): Record<string, unknown> {
  for (const f of ["holderRef", "grantee", "matter"] as const) {
    if (!isBytes32(t?.[f])) throw new InvalidGrantTermsError(`${f} must be bytes32 0x-hex`, { field: f, value: t?.[f] });
  }
  for (const f of ["typeCodes", "leaves"] as const) {
    if (!Array.isArray(t[f]) || !t[f].every(isBytes32)) throw new InvalidGrantTermsError(`${f} must be a list of bytes32`, { field: f, value: t[f] });
  }
  const max64 = (1n << 64n) - 1n;
  for (const f of ["notBefore", "notAfter"] as const) {
    const v = t[f];
    if (typeof v !== "bigint" || v < 0n || v > max64) throw new InvalidGrantTermsError(`${f} must be a uint64 bigint`, { field: f, value: v });
  }
  if (!Number.isInteger(t.maxUses) || t.maxUses < 0 || t.maxUses > 0xffffffff) {
    throw new InvalidGrantTermsError("maxUses must be a uint32", { field: "maxUses", value: t.maxUses });
  }
  return { ...t };
}

/**
 * hashStruct(GrantTerms) — the contract's `hashGrantTerms(terms)`.
 * @example hashGrantTerms(terms) === await authorisations.hashGrantTerms(terms)
 */
export function hashGrantTerms(terms: GrantTerms): string {
  return TypedDataEncoder.hashStruct("GrantTerms", { GrantTerms: GRANT_TERMS_TYPE }, checkTerms(terms));
}

/** Parameters of {@link computeGrantId}. */
export interface GrantIdParameters {
  /** the domain, or its separator (0x-hex) */
  domain: TypedDataDomain | string;
  /** 0x00..00 for a root grant */
  parentId?: string;
  origin: GrantOriginName;
  terms: GrantTerms;
  /** bytes32, or the holder nonce (a number/bigint) for HOLDER_SIGNATURE */
  salt: string | bigint | number;
}

const ZERO32 = "0x" + "00".repeat(32);

/**
 * A salt as bytes32: a nonce becomes its 32-byte big-endian form.
 * @example grantSalt(5n) // => "0x00...05"
 */
export function grantSalt(salt: string | bigint | number): string {
  if (typeof salt === "string") {
    if (!isBytes32(salt)) throw new InvalidGrantTermsError("salt must be bytes32 0x-hex", { field: "salt", value: salt });
    return salt.toLowerCase();
  }
  return toBeHex(BigInt(salt), 32);
}

/**
 * The id the contract gives a grant (identical to `grantIdOf`).
 * @example computeGrantId({ domain, origin: "HOLDER_SIGNATURE", terms, salt: 0n })
 */
export function computeGrantId(p: GrantIdParameters): string {
  const sep = typeof p.domain === "string" ? p.domain : grantDomainSeparator(p.domain);
  return keccak256(AbiCoder.defaultAbiCoder().encode(
    ["bytes32", "bytes32", "uint8", "bytes32", "bytes32"],
    [sep, p.parentId ?? ZERO32, GrantOrigin[p.origin], hashGrantTerms(p.terms), grantSalt(p.salt)],
  ));
}

/**
 * The EIP-712 digest a holder signs to create a grant.
 * @example recoverAddress(holderGrantDigest(domain, terms, nonce, deadline), signature) // => the holder's key
 */
export function holderGrantDigest(domain: TypedDataDomain, terms: GrantTerms, nonce: bigint, deadline: bigint): string {
  return TypedDataEncoder.hash(domain, HOLDER_GRANT_TYPES, { terms: checkTerms(terms), nonce, deadline });
}

/**
 * The EIP-712 digest a holder signs to revoke a grant.
 * @example recoverAddress(holderRevokeDigest(domain, grantId, nonce, deadline), signature)
 */
export function holderRevokeDigest(domain: TypedDataDomain, grantId: string, nonce: bigint, deadline: bigint): string {
  return TypedDataEncoder.hash(domain, HOLDER_REVOKE_TYPES, { grantId, nonce, deadline });
}

/** Anything that signs EIP-712 typed data (an ethers Wallet or JsonRpcSigner, a wallet adapter). */
export interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/** A signer: a 32-byte private key (0x-hex) or a {@link TypedDataSigner}. */
export type HolderSigner = string | TypedDataSigner;

/**
 * The holder's signature over a grant (pass it with `nonce`, `deadline` and the signer's address to
 * `grantBySignature`). `nonce` must be the contract's current `holderNonce(holderRef)`.
 * @example const sig = await signGrant(holderKey, grantDomain(chainId, authorisations), terms, 0n, deadline)
 */
export async function signGrant(
  signer: HolderSigner, domain: TypedDataDomain, terms: GrantTerms, nonce: bigint, deadline: bigint,
): Promise<string> {
  if (typeof signer === "string") return new SigningKey(signer).sign(holderGrantDigest(domain, terms, nonce, deadline)).serialized;
  return signer.signTypedData(domain, HOLDER_GRANT_TYPES, { terms: checkTerms(terms), nonce, deadline });
}

/**
 * The holder's signature revoking `grantId` (for `revokeGrantBySignature`), with the holder's current nonce.
 * @example await signGrantRevocation(holderKey, domain, grantId, 1n, deadline)
 */
export async function signGrantRevocation(
  signer: HolderSigner, domain: TypedDataDomain, grantId: string, nonce: bigint, deadline: bigint,
): Promise<string> {
  if (typeof signer === "string") return new SigningKey(signer).sign(holderRevokeDigest(domain, grantId, nonce, deadline)).serialized;
  return signer.signTypedData(domain, HOLDER_REVOKE_TYPES, { grantId, nonce, deadline });
}

/** What the parent's grantee signs to delegate (`delegateGrantBySignature`). */
export interface GranteeDelegation {
  /** the parent grant (its grantee signs) */
  parentId: string;
  /** the child's terms: the parent's holderRef and matter, scope/window/uses within the parent's */
  terms: GrantTerms;
  /** the grantee member's current `delegationNonce(memberId)` */
  nonce: bigint;
  /** unix seconds; the submission must be mined at or before it */
  deadline: bigint;
}

function checkDelegation(d: GranteeDelegation): Record<string, unknown> {
  if (!isBytes32(d?.parentId)) throw new InvalidGrantTermsError("parentId must be bytes32 0x-hex", { field: "parentId", value: d?.parentId });
  const max256 = (1n << 256n) - 1n;
  for (const f of ["nonce", "deadline"] as const) {
    const v = d[f];
    if (typeof v !== "bigint" || v < 0n || v > max256) throw new InvalidGrantTermsError(`${f} must be a uint256 bigint`, { field: f, value: v });
  }
  return { parentId: d.parentId, terms: checkTerms(d.terms), nonce: d.nonce, deadline: d.deadline };
}

/** EIP-712 typed data ready for a wallet (`eth_signTypedData_v4`) or `signer.signTypedData(domain, types, message)`. */
export interface DelegationTypedData {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: "GranteeDelegation";
  message: Record<string, unknown>;
}

/**
 * The typed data the parent's grantee signs to delegate (checked: bytes32 fields, uint ranges).
 * @example const td = delegationTypedData(domain, { parentId, terms, nonce, deadline }); await wallet.signTypedData(td.domain, td.types, td.message)
 */
export function delegationTypedData(domain: TypedDataDomain, d: GranteeDelegation): DelegationTypedData {
  return { domain, types: GRANTEE_DELEGATION_TYPES, primaryType: "GranteeDelegation", message: checkDelegation(d) };
}

/**
 * The EIP-712 digest the parent's grantee signs to delegate.
 * @example recoverAddress(granteeDelegationDigest(domain, delegation), signature) // => an account of the parent's grantee
 */
export function granteeDelegationDigest(domain: TypedDataDomain, d: GranteeDelegation): string {
  return TypedDataEncoder.hash(domain, GRANTEE_DELEGATION_TYPES, checkDelegation(d));
}

/**
 * The address that signed a delegation (to check at the edge before submitting; the contract checks it is an
 * account of the parent's grantee). Throws InvalidGrantTermsError (field "signature") for a malformed signature.
 * @example recoverDelegationSigner(domain, delegation, signature) === agentAccount
 */
export function recoverDelegationSigner(domain: TypedDataDomain, d: GranteeDelegation, signature: string): string {
  const digest = granteeDelegationDigest(domain, d);
  try {
    return recoverAddress(digest, signature);
  } catch (e) {
    throw new InvalidGrantTermsError("signature is not a 65-byte secp256k1 signature", { field: "signature", value: signature }, { cause: e });
  }
}

/**
 * The parent's grantee's signature over a delegation (pass it with the same values and the signing account's
 * address to `delegateGrantBySignature`; any member may submit it). The signer must be a current account of
 * the parent's grantee member; the child's id is `computeGrantId({ domain, parentId, origin: "DELEGATION",
 * terms, salt: nonce })`.
 * @example const sig = await signDelegation(agentWalletOrKey, grantDomain(chainId, authorisations), { parentId, terms, nonce, deadline })
 */
export async function signDelegation(signer: HolderSigner, domain: TypedDataDomain, d: GranteeDelegation): Promise<string> {
  if (typeof signer === "string") return new SigningKey(signer).sign(granteeDelegationDigest(domain, d)).serialized;
  const td = delegationTypedData(domain, d);
  return signer.signTypedData(td.domain, td.types, td.message);
}
