/**
 * Typed SDK errors for every custom error of the TongbanLedger contract. A revert is decoded (ethers v6
 * `isCallException(e)` -> `e.revert.name/args`, or raw revert data parsed with the ledger ABI) into an instance
 * of the class mapped to its name, carrying the revert's arguments by name in `details.args`. `kind` sorts
 * errors for callers (an HTTP API maps NOT_FOUND to 404, FORBIDDEN to 403, CONFLICT to 409, INVALID to 400).
 * test/sdk/contract-errors.test.ts fails if any error in the ledger ABI has no mapping here.
 */
import { isCallException, type Interface } from "ethers";
import { TongbanError } from "./errors.js";
import { TongbanLedger__factory } from "./contracts/types/factories/contracts/TongbanLedger__factory.js";

/** How a caller should treat a revert. */
export type LedgerErrorKind = "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "INVALID" | "INTERNAL";

/** Details of a decoded ledger revert. */
export interface LedgerErrorDetails extends Record<string, unknown> {
  /** the Solidity error name */
  error: string;
  /** its arguments by name (bigints for integers, 0x-hex for bytes32/address) */
  args: Record<string, unknown>;
  kind: LedgerErrorKind;
  /** 4-byte selector */
  selector?: string;
}

/** Base of every decoded ledger revert. */
export class LedgerRevertError extends TongbanError<LedgerErrorDetails> {
  override name: string = "LedgerRevertError";
  static readonly kind: LedgerErrorKind = "INTERNAL";
}

const k = (kind: LedgerErrorKind) => kind;

/* Membership and governance (IConsortium) */
export class AccountAlreadyUsedError extends LedgerRevertError { override name = "AccountAlreadyUsedError" as const; static override readonly kind = k("CONFLICT"); }
export class AccountNotMemberError extends LedgerRevertError { override name = "AccountNotMemberError" as const; static override readonly kind = k("FORBIDDEN"); }
export class AccountNotOfMemberError extends LedgerRevertError { override name = "AccountNotOfMemberError" as const; static override readonly kind = k("INVALID"); }
export class ConsortiumBootstrapClosedError extends LedgerRevertError { override name = "ConsortiumBootstrapClosedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ConsortiumInvalidProposalLifetimeError extends LedgerRevertError { override name = "ConsortiumInvalidProposalLifetimeError" as const; static override readonly kind = k("INVALID"); }
export class ConsortiumInvalidThresholdError extends LedgerRevertError { override name = "ConsortiumInvalidThresholdError" as const; static override readonly kind = k("INVALID"); }
export class ConsortiumUnauthorizedCallerError extends LedgerRevertError { override name = "ConsortiumUnauthorizedCallerError" as const; static override readonly kind = k("FORBIDDEN"); }
export class InvalidAccountError extends LedgerRevertError { override name = "InvalidAccountError" as const; static override readonly kind = k("INVALID"); }
export class InvalidJurisdictionError extends LedgerRevertError { override name = "InvalidJurisdictionError" as const; static override readonly kind = k("INVALID"); }
export class InvalidMaterialTypeError extends LedgerRevertError { override name = "InvalidMaterialTypeError" as const; static override readonly kind = k("INVALID"); }
export class InvalidMemberIdError extends LedgerRevertError { override name = "InvalidMemberIdError" as const; static override readonly kind = k("INVALID"); }
export class InvalidProposalActionError extends LedgerRevertError { override name = "InvalidProposalActionError" as const; static override readonly kind = k("INVALID"); }
export class JurisdictionAlreadyRegisteredError extends LedgerRevertError { override name = "JurisdictionAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class MaterialTypeAlreadyRegisteredError extends LedgerRevertError { override name = "MaterialTypeAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class MemberAlreadyExistsError extends LedgerRevertError { override name = "MemberAlreadyExistsError" as const; static override readonly kind = k("CONFLICT"); }
export class MemberNotActiveError extends LedgerRevertError { override name = "MemberNotActiveError" as const; static override readonly kind = k("FORBIDDEN"); }
export class MemberNotSuspendedError extends LedgerRevertError { override name = "MemberNotSuspendedError" as const; static override readonly kind = k("CONFLICT"); }
export class MissingRoleError extends LedgerRevertError { override name = "MissingRoleError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ProposalAlreadyApprovedError extends LedgerRevertError { override name = "ProposalAlreadyApprovedError" as const; static override readonly kind = k("CONFLICT"); }
export class ProposalAlreadyExecutedError extends LedgerRevertError { override name = "ProposalAlreadyExecutedError" as const; static override readonly kind = k("CONFLICT"); }
export class ProposalExpiredError extends LedgerRevertError { override name = "ProposalExpiredError" as const; static override readonly kind = k("CONFLICT"); }
export class ProposalThresholdNotMetError extends LedgerRevertError { override name = "ProposalThresholdNotMetError" as const; static override readonly kind = k("CONFLICT"); }
export class TooManyPeersError extends LedgerRevertError { override name = "TooManyPeersError" as const; static override readonly kind = k("INVALID"); }
export class UnknownJurisdictionError extends LedgerRevertError { override name = "UnknownJurisdictionError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownMaterialTypeError extends LedgerRevertError { override name = "UnknownMaterialTypeError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownMemberError extends LedgerRevertError { override name = "UnknownMemberError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownProposalError extends LedgerRevertError { override name = "UnknownProposalError" as const; static override readonly kind = k("NOT_FOUND"); }

/* Material registry (IMaterialRegistry) */
export class HashAlgAlreadyRegisteredError extends LedgerRevertError { override name = "HashAlgAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class HashAlgAlreadyRetiredError extends LedgerRevertError { override name = "HashAlgAlreadyRetiredError" as const; static override readonly kind = k("CONFLICT"); }
export class InvalidBatchCountError extends LedgerRevertError { override name = "InvalidBatchCountError" as const; static override readonly kind = k("INVALID"); }
export class InvalidHashAlgError extends LedgerRevertError { override name = "InvalidHashAlgError" as const; static override readonly kind = k("INVALID"); }
export class InvalidMerkleProofError extends LedgerRevertError { override name = "InvalidMerkleProofError" as const; static override readonly kind = k("INVALID"); }
export class InvalidRootError extends LedgerRevertError { override name = "InvalidRootError" as const; static override readonly kind = k("INVALID"); }
export class InvalidSupersessionError extends LedgerRevertError { override name = "InvalidSupersessionError" as const; static override readonly kind = k("INVALID"); }
export class MaterialAlreadyRevokedError extends LedgerRevertError { override name = "MaterialAlreadyRevokedError" as const; static override readonly kind = k("CONFLICT"); }
export class MaterialAlreadySupersededError extends LedgerRevertError { override name = "MaterialAlreadySupersededError" as const; static override readonly kind = k("CONFLICT"); }
export class MaterialAlreadySupersedesError extends LedgerRevertError { override name = "MaterialAlreadySupersedesError" as const; static override readonly kind = k("CONFLICT"); }
export class MaterialAlreadySuspendedError extends LedgerRevertError { override name = "MaterialAlreadySuspendedError" as const; static override readonly kind = k("CONFLICT"); }
export class MaterialNotSuspendedError extends LedgerRevertError { override name = "MaterialNotSuspendedError" as const; static override readonly kind = k("CONFLICT"); }
export class NotEntitledError extends LedgerRevertError { override name = "NotEntitledError" as const; static override readonly kind = k("FORBIDDEN"); }
export class NotRevocationAuthorityError extends LedgerRevertError { override name = "NotRevocationAuthorityError" as const; static override readonly kind = k("FORBIDDEN"); }
export class RootAlreadyAnchoredError extends LedgerRevertError { override name = "RootAlreadyAnchoredError" as const; static override readonly kind = k("CONFLICT"); }
export class RootIssuerMismatchError extends LedgerRevertError { override name = "RootIssuerMismatchError" as const; static override readonly kind = k("FORBIDDEN"); }
export class RootNotAnchoredError extends LedgerRevertError { override name = "RootNotAnchoredError" as const; static override readonly kind = k("NOT_FOUND"); }
export class SuspensionHeldByError extends LedgerRevertError { override name = "SuspensionHeldByError" as const; static override readonly kind = k("FORBIDDEN"); }
export class UnknownHashAlgRevertError extends LedgerRevertError { override name = "UnknownHashAlgRevertError" as const; static override readonly kind = k("NOT_FOUND"); }

/* OpenZeppelin library errors reachable through the ledger (Address / Multicall) */
export class AddressEmptyCodeError extends LedgerRevertError { override name = "AddressEmptyCodeError" as const; static override readonly kind = k("INTERNAL"); }
export class FailedCallError extends LedgerRevertError { override name = "FailedCallError" as const; static override readonly kind = k("INTERNAL"); }
export class InsufficientBalanceError extends LedgerRevertError { override name = "InsufficientBalanceError" as const; static override readonly kind = k("INTERNAL"); }

type LedgerErrorClass = (new (message: string, details: LedgerErrorDetails, options?: { cause?: unknown }) => LedgerRevertError) & { kind: LedgerErrorKind };

/** Solidity error name -> SDK error class. Append a line here for every new contract error. */
export const LEDGER_ERRORS: Readonly<Record<string, LedgerErrorClass>> = {
  AccountAlreadyUsed: AccountAlreadyUsedError,
  AccountNotMember: AccountNotMemberError,
  AccountNotOfMember: AccountNotOfMemberError,
  AddressEmptyCode: AddressEmptyCodeError,
  ConsortiumBootstrapClosed: ConsortiumBootstrapClosedError,
  ConsortiumInvalidProposalLifetime: ConsortiumInvalidProposalLifetimeError,
  ConsortiumInvalidThreshold: ConsortiumInvalidThresholdError,
  ConsortiumUnauthorizedCaller: ConsortiumUnauthorizedCallerError,
  FailedCall: FailedCallError,
  HashAlgAlreadyRegistered: HashAlgAlreadyRegisteredError,
  HashAlgAlreadyRetired: HashAlgAlreadyRetiredError,
  InsufficientBalance: InsufficientBalanceError,
  InvalidAccount: InvalidAccountError,
  InvalidBatchCount: InvalidBatchCountError,
  InvalidHashAlg: InvalidHashAlgError,
  InvalidJurisdiction: InvalidJurisdictionError,
  InvalidMaterialType: InvalidMaterialTypeError,
  InvalidMemberId: InvalidMemberIdError,
  InvalidMerkleProof: InvalidMerkleProofError,
  InvalidProposalAction: InvalidProposalActionError,
  InvalidRoot: InvalidRootError,
  InvalidSupersession: InvalidSupersessionError,
  JurisdictionAlreadyRegistered: JurisdictionAlreadyRegisteredError,
  MaterialAlreadyRevoked: MaterialAlreadyRevokedError,
  MaterialAlreadySuperseded: MaterialAlreadySupersededError,
  MaterialAlreadySupersedes: MaterialAlreadySupersedesError,
  MaterialAlreadySuspended: MaterialAlreadySuspendedError,
  MaterialNotSuspended: MaterialNotSuspendedError,
  MaterialTypeAlreadyRegistered: MaterialTypeAlreadyRegisteredError,
  MemberAlreadyExists: MemberAlreadyExistsError,
  MemberNotActive: MemberNotActiveError,
  MemberNotSuspended: MemberNotSuspendedError,
  MissingRole: MissingRoleError,
  NotEntitled: NotEntitledError,
  NotRevocationAuthority: NotRevocationAuthorityError,
  ProposalAlreadyApproved: ProposalAlreadyApprovedError,
  ProposalAlreadyExecuted: ProposalAlreadyExecutedError,
  ProposalExpired: ProposalExpiredError,
  ProposalThresholdNotMet: ProposalThresholdNotMetError,
  RootAlreadyAnchored: RootAlreadyAnchoredError,
  RootIssuerMismatch: RootIssuerMismatchError,
  RootNotAnchored: RootNotAnchoredError,
  SuspensionHeldBy: SuspensionHeldByError,
  TooManyPeers: TooManyPeersError,
  UnknownHashAlg: UnknownHashAlgRevertError,
  UnknownJurisdiction: UnknownJurisdictionError,
  UnknownMaterialType: UnknownMaterialTypeError,
  UnknownMember: UnknownMemberError,
  UnknownProposal: UnknownProposalError,
};

let ledgerIface: Interface | undefined;
/**
 * The ledger's ABI interface (typechain).
 * @example ledgerInterface().encodeFunctionData("materialState", [root, leaf, 1])
 */
export function ledgerInterface(): Interface {
  ledgerIface ??= TongbanLedger__factory.createInterface() as unknown as Interface;
  return ledgerIface;
}

function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function build(name: string, rawArgs: readonly unknown[], selector: string | undefined, cause: unknown): LedgerRevertError {
  const fragment = ledgerInterface().getError(name);
  const args: Record<string, unknown> = {};
  fragment?.inputs.forEach((input, i) => { args[input.name || String(i)] = plain(rawArgs[i]); });
  const Cls = LEDGER_ERRORS[name];
  const kind = Cls?.kind ?? "INTERNAL";
  const argText = Object.entries(args).map(([key, v]) => `${key}=${String(v)}`).join(", ");
  const details: LedgerErrorDetails = { error: name, args, kind, ...(selector ? { selector } : {}) };
  const message = `ledger reverted ${name}(${argText})`;
  return Cls ? new Cls(message, details, { cause }) : new LedgerRevertError(message, details, { cause });
}

/**
 * Decodes a ledger revert (an ethers CALL_EXCEPTION, or raw revert data as 0x-hex) into its typed SDK error.
 * Returns undefined when `e` is not a decodable ledger revert.
 * @example
 * try { await ledger.anchor(root, type, 310115, 100); }
 * catch (e) { const err = decodeLedgerError(e); if (err instanceof NotEntitledError) ... ; throw err ?? e; }
 */
export function decodeLedgerError(e: unknown): LedgerRevertError | undefined {
  if (typeof e === "string") {
    try {
      const parsed = ledgerInterface().parseError(e);
      return parsed ? build(parsed.name, [...parsed.args], parsed.selector, undefined) : undefined;
    } catch { return undefined; }
  }
  if (isCallException(e)) {
    if (e.revert) return build(e.revert.name, [...e.revert.args], e.revert.signature ? ledgerInterface().getError(e.revert.name)?.selector : undefined, e);
    if (typeof e.data === "string" && e.data.length >= 10) {
      try {
        const parsed = ledgerInterface().parseError(e.data);
        if (parsed) return build(parsed.name, [...parsed.args], parsed.selector, e);
      } catch { /* not a ledger error */ }
    }
  }
  const data = (e as { data?: unknown; error?: { data?: unknown } } | null)?.data ?? (e as { error?: { data?: unknown } } | null)?.error?.data;
  if (typeof data === "string" && data.length >= 10) {
    try {
      const parsed = ledgerInterface().parseError(data);
      if (parsed) return build(parsed.name, [...parsed.args], parsed.selector, e);
    } catch { /* not a ledger error */ }
  }
  return undefined;
}

/**
 * Runs a ledger call and rethrows a revert as its typed SDK error (other failures unchanged).
 * @example await withLedgerErrors(() => ledger.revokeMaterial(leaf, 3))
 */
export async function withLedgerErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw decodeLedgerError(e) ?? e;
  }
}
