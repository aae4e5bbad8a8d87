/**
 * Decoding the Authorisations views (`getGrant`, `checkGrant`, `useLogHead`) into typed values with stable
 * codes, and contract reverts into a typed error. Codes mirror the contract enums and are append-only.
 */
import { Interface, isCallException } from "ethers";
import { TongbanError } from "../errors.js";
import { Authorisations__factory } from "../contracts/types/factories/contracts/Authorisations__factory.js";
import { GrantOrigin, type GrantOriginName, type GrantTerms } from "./typed-data.js";

/** IAuthorisations.GrantStatus. NEVER change a value; append only. */
export const GrantStatusCode = {
  UNKNOWN: 0,
  ACTIVE: 1,
  NOT_YET_VALID: 2,
  EXPIRED: 3,
  REVOKED: 4,
  ANCESTOR_REVOKED: 5,
  EXHAUSTED: 6,
  GRANTEE_INACTIVE: 7,
} as const;
export type GrantStatusName = keyof typeof GrantStatusCode;

/** IAuthorisations.UseVerdict (0..7 mirror GrantStatus, ACTIVE -> ALLOWED). NEVER change a value; append only. */
export const UseVerdictCode = {
  UNKNOWN: 0,
  ALLOWED: 1,
  NOT_YET_VALID: 2,
  EXPIRED: 3,
  REVOKED: 4,
  ANCESTOR_REVOKED: 5,
  EXHAUSTED: 6,
  GRANTEE_INACTIVE: 7,
  WRONG_GRANTEE: 8,
  WRONG_MATTER: 9,
  OUT_OF_SCOPE: 10,
} as const;
export type UseVerdictName = keyof typeof UseVerdictCode;

/** IAuthorisations.Revoker. */
export const GrantRevoker = { NONE: 0, GRANTOR: 1, HOLDER_SIGNATURE: 2, IDENTITY_PROVIDER: 3 } as const;
export type GrantRevokerName = keyof typeof GrantRevoker;

/** A grant's status: code, name and whether it may be used now. */
export interface GrantStatus {
  code: (typeof GrantStatusCode)[GrantStatusName];
  name: GrantStatusName;
  usable: boolean;
}

/** The decoded `GrantView`. */
export interface GrantInfo {
  grantId: string;
  status: GrantStatus;
  terms: GrantTerms;
  parentId: string;
  rootId: string;
  grantor: string;
  origin: GrantOriginName;
  depth: number;
  createdAt: bigint;
  revokedAt: bigint;
  revokedBy: GrantRevokerName;
  used: number;
  usesLeft: number;
}

/** The decoded answer of `checkGrant`. */
export interface UseCheck {
  verdict: { code: (typeof UseVerdictCode)[UseVerdictName]; name: UseVerdictName; allowed: boolean };
  grant: GrantInfo;
}

/** An anchored use-log head. */
export interface UseLogHeadInfo {
  treeSize: bigint;
  anchoredAt: bigint;
  anchoredBlock: bigint;
  rootHash: string;
}

/** A view result could not be decoded (wrong shape, unknown enum code). */
export class GrantDecodeError extends TongbanError<{ field: string; value?: unknown }> {
  override name = "GrantDecodeError" as const;
}

const nameOf = <T extends Record<string, number>>(table: T, code: unknown, field: string): keyof T & string => {
  const n = Number(code);
  const name = (Object.keys(table) as (keyof T & string)[]).find((k) => table[k] === n);
  if (name === undefined) throw new GrantDecodeError(`unknown ${field} code ${String(code)}`, { field, value: code });
  return name;
};

/** Reads a struct field by name (ethers Result / plain object) or position (array). */
type Raw = Record<string, unknown> & { [index: number]: unknown };
const at = (raw: Raw, name: string, index: number): unknown => {
  const v = raw?.[name];
  return v !== undefined ? v : raw?.[index];
};

/**
 * A GrantStatus from its numeric code.
 * @example grantStatusOf(4) // => { code: 4, name: "REVOKED", usable: false }
 */
export function grantStatusOf(code: number | bigint): GrantStatus {
  const name = nameOf(GrantStatusCode, code, "status") as GrantStatusName;
  return { code: GrantStatusCode[name], name, usable: name === "ACTIVE" };
}

/**
 * Decodes a `getGrant` result (ethers Result, typechain struct output or plain object).
 * @example decodeGrantView(await authorisations.getGrant(grantId, 0)).status.name // => "ACTIVE"
 */
export function decodeGrantView(raw: unknown): GrantInfo {
  const r = raw as Raw;
  if (r === null || typeof r !== "object") throw new GrantDecodeError("not a GrantView", { field: "grant", value: raw });
  const t = at(r, "terms", 2) as Raw;
  const list = (v: unknown): string[] => Array.from((v ?? []) as ArrayLike<string>, (x) => String(x));
  return {
    grantId: String(at(r, "grantId", 0)),
    status: grantStatusOf(Number(at(r, "status", 1))),
    terms: {
      holderRef: String(at(t, "holderRef", 0)),
      grantee: String(at(t, "grantee", 1)),
      matter: String(at(t, "matter", 2)),
      typeCodes: list(at(t, "typeCodes", 3)),
      leaves: list(at(t, "leaves", 4)),
      notBefore: BigInt(at(t, "notBefore", 5) as bigint),
      notAfter: BigInt(at(t, "notAfter", 6) as bigint),
      maxUses: Number(at(t, "maxUses", 7)),
    },
    parentId: String(at(r, "parentId", 3)),
    rootId: String(at(r, "rootId", 4)),
    grantor: String(at(r, "grantor", 5)),
    origin: nameOf(GrantOrigin, at(r, "origin", 6), "origin") as GrantOriginName,
    depth: Number(at(r, "depth", 7)),
    createdAt: BigInt(at(r, "createdAt", 8) as bigint),
    revokedAt: BigInt(at(r, "revokedAt", 9) as bigint),
    revokedBy: nameOf(GrantRevoker, at(r, "revokedBy", 10), "revokedBy") as GrantRevokerName,
    used: Number(at(r, "used", 11)),
    usesLeft: Number(at(r, "usesLeft", 12)),
  };
}

/**
 * Decodes a `checkGrant` result `[verdict, grant]`.
 * @example const { verdict } = decodeUseCheck(await authorisations.checkGrant(id, me, matter, type, leaf, 0));
 * if (!verdict.allowed) return { status: "FORBIDDEN", code: verdict.name };
 */
export function decodeUseCheck(raw: unknown): UseCheck {
  const r = raw as Raw;
  const name = nameOf(UseVerdictCode, at(r, "verdict", 0), "verdict") as UseVerdictName;
  return {
    verdict: { code: UseVerdictCode[name], name, allowed: name === "ALLOWED" },
    grant: decodeGrantView(at(r, "grant", 1)),
  };
}

/**
 * Decodes a `useLogHead` / `latestUseLogHead` result.
 * @example decodeUseLogHead(await authorisations.latestUseLogHead(custodian)).treeSize
 */
export function decodeUseLogHead(raw: unknown): UseLogHeadInfo {
  const r = raw as Raw;
  return {
    treeSize: BigInt(at(r, "treeSize", 0) as bigint),
    anchoredAt: BigInt(at(r, "anchoredAt", 1) as bigint),
    anchoredBlock: BigInt(at(r, "anchoredBlock", 2) as bigint),
    rootHash: String(at(r, "rootHash", 3)),
  };
}

// ------------------------------------------------------------------------------------------------ reverts

/** How a caller should treat a revert (same kinds as the ledger's errors). */
export type AuthorisationsErrorKind = "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "INVALID" | "INTERNAL";

/** Kind of every custom error of IAuthorisations (a test fails if one is missing). */
export const AUTHORISATIONS_ERROR_KINDS: Record<string, AuthorisationsErrorKind> = {
  AccountNotMember: "FORBIDDEN",
  MemberNotActive: "FORBIDDEN",
  MissingRole: "FORBIDDEN",
  NotGrantee: "FORBIDDEN",
  NotGrantor: "FORBIDDEN",
  InvalidHolderSignature: "FORBIDDEN",
  DelegationSignerNotGrantee: "FORBIDDEN",
  InvalidDelegationSignature: "FORBIDDEN",
  HolderKeyNotBound: "FORBIDDEN",
  SignatureExpired: "CONFLICT",
  InvalidHolderNonce: "CONFLICT",
  DelegationSignatureExpired: "CONFLICT",
  InvalidDelegationNonce: "CONFLICT",
  HolderKeyAlreadyBound: "CONFLICT",
  GrantAlreadyExists: "CONFLICT",
  GrantAlreadyRevoked: "CONFLICT",
  GrantNotUsable: "CONFLICT",
  UseLogNotAdvancing: "CONFLICT",
  UnknownGrant: "NOT_FOUND",
  UnknownUseLogHead: "NOT_FOUND",
  UnknownMaterialType: "NOT_FOUND",
  InvalidHolderRef: "INVALID",
  InvalidHolderKey: "INVALID",
  InvalidEvidence: "INVALID",
  InvalidGrantee: "INVALID",
  InvalidMatter: "INVALID",
  InvalidScope: "INVALID",
  InvalidWindow: "INVALID",
  InvalidMaxUses: "INVALID",
  DelegationTooDeep: "INVALID",
  DelegationHolderMismatch: "INVALID",
  DelegationMatterMismatch: "INVALID",
  DelegationOutOfScope: "INVALID",
  DelegationWindowExceeded: "INVALID",
  DelegationUsesExceeded: "INVALID",
  InvalidUseLogRoot: "INVALID",
  InvalidUseCount: "INVALID",
  UseCountsExceedRecords: "INVALID",
  ECDSAInvalidSignature: "FORBIDDEN",
  ECDSAInvalidSignatureLength: "INVALID",
  ECDSAInvalidSignatureS: "INVALID",
  InvalidShortString: "INTERNAL",
  StringTooLong: "INTERNAL",
};

/** A decoded revert of the Authorisations contract: `details.error` is the Solidity name, `details.args` its arguments. */
export class AuthorisationsRevertError extends TongbanError<{
  error: string; args: Record<string, unknown>; kind: AuthorisationsErrorKind; selector?: string;
}> {
  override name = "AuthorisationsRevertError" as const;
}

let iface: Interface | undefined;
/**
 * The contract's ABI interface.
 * @example authorisationsInterface().encodeFunctionData("revokeGrant", [grantId])
 */
export function authorisationsInterface(): Interface {
  return (iface ??= Authorisations__factory.createInterface() as unknown as Interface);
}

/**
 * Maps an ethers call exception or raw revert data from the Authorisations contract to
 * {@link AuthorisationsRevertError}; returns `undefined` if it is not one of its errors.
 * @example try { await a.delegateGrant(...) } catch (e) { const err = decodeAuthorisationsError(e); if (err?.details.error === "NotGrantee") ... }
 */
export function decodeAuthorisationsError(e: unknown): AuthorisationsRevertError | undefined {
  let data: string | undefined;
  if (typeof e === "string") data = e;
  else if (isCallException(e)) data = e.data ?? undefined;
  else if (e && typeof e === "object" && typeof (e as { data?: unknown }).data === "string") data = (e as { data: string }).data;
  if (!data || data.length < 10) return undefined;
  const parsed = authorisationsInterface().parseError(data);
  if (!parsed) return undefined;
  const args: Record<string, unknown> = {};
  parsed.fragment.inputs.forEach((input, i) => { args[input.name || String(i)] = parsed.args[i]; });
  const kind = AUTHORISATIONS_ERROR_KINDS[parsed.name] ?? "INTERNAL";
  return new AuthorisationsRevertError(`${parsed.name}(${parsed.args.map(String).join(", ")})`, {
    error: parsed.name, args, kind, selector: parsed.selector,
  }, { cause: e });
}
