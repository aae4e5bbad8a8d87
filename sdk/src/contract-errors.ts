/**
 * Typed SDK errors for every custom error of the deployable contracts (TongbanLedger, Authorisations,
 * DataCatalogue). A revert is decoded (ethers v6
 * `isCallException(e)` -> `e.revert.name/args`, or raw revert data parsed with the ledger ABI) into an instance
 * of the class mapped to its name, carrying the revert's arguments by name in `details.args`. `kind` sorts
 * errors for callers (an HTTP API maps NOT_FOUND to 404, FORBIDDEN to 403, CONFLICT to 409, INVALID to 400).
 * test/sdk/contract-errors.test.ts fails if any error in those ABIs has no mapping here.
 */
import { isCallException, Interface, type InterfaceAbi } from "ethers";
import { TongbanError } from "./errors.js";
import { TongbanLedger__factory } from "./contracts/types/factories/contracts/TongbanLedger__factory.js";
import { Authorisations__factory } from "./contracts/types/factories/contracts/Authorisations__factory.js";
import { DataCatalogue__factory } from "./contracts/types/factories/contracts/DataCatalogue__factory.js";

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

/* Authorisations contract (IAuthorisations) */
export class DelegationHolderMismatchError extends LedgerRevertError { override name = "DelegationHolderMismatchError" as const; static override readonly kind = k("INVALID"); }
export class DelegationMatterMismatchError extends LedgerRevertError { override name = "DelegationMatterMismatchError" as const; static override readonly kind = k("INVALID"); }
export class DelegationOutOfScopeError extends LedgerRevertError { override name = "DelegationOutOfScopeError" as const; static override readonly kind = k("FORBIDDEN"); }
export class DelegationTooDeepError extends LedgerRevertError { override name = "DelegationTooDeepError" as const; static override readonly kind = k("CONFLICT"); }
export class DelegationUsesExceededError extends LedgerRevertError { override name = "DelegationUsesExceededError" as const; static override readonly kind = k("CONFLICT"); }
export class DelegationWindowExceededError extends LedgerRevertError { override name = "DelegationWindowExceededError" as const; static override readonly kind = k("CONFLICT"); }
export class DelegationSignatureExpiredError extends LedgerRevertError { override name = "DelegationSignatureExpiredError" as const; static override readonly kind = k("FORBIDDEN"); }
export class DelegationSignerNotGranteeError extends LedgerRevertError { override name = "DelegationSignerNotGranteeError" as const; static override readonly kind = k("FORBIDDEN"); }
export class InvalidDelegationNonceError extends LedgerRevertError { override name = "InvalidDelegationNonceError" as const; static override readonly kind = k("CONFLICT"); }
export class InvalidDelegationSignatureError extends LedgerRevertError { override name = "InvalidDelegationSignatureError" as const; static override readonly kind = k("FORBIDDEN"); }
export class GrantAlreadyExistsError extends LedgerRevertError { override name = "GrantAlreadyExistsError" as const; static override readonly kind = k("CONFLICT"); }
export class GrantAlreadyRevokedError extends LedgerRevertError { override name = "GrantAlreadyRevokedError" as const; static override readonly kind = k("CONFLICT"); }
export class GrantNotUsableError extends LedgerRevertError { override name = "GrantNotUsableError" as const; static override readonly kind = k("FORBIDDEN"); }
export class HolderKeyAlreadyBoundError extends LedgerRevertError { override name = "HolderKeyAlreadyBoundError" as const; static override readonly kind = k("CONFLICT"); }
export class HolderKeyNotBoundError extends LedgerRevertError { override name = "HolderKeyNotBoundError" as const; static override readonly kind = k("NOT_FOUND"); }
export class InvalidEvidenceError extends LedgerRevertError { override name = "InvalidEvidenceError" as const; static override readonly kind = k("INVALID"); }
export class InvalidGranteeError extends LedgerRevertError { override name = "InvalidGranteeError" as const; static override readonly kind = k("INVALID"); }
export class InvalidHolderKeyError extends LedgerRevertError { override name = "InvalidHolderKeyError" as const; static override readonly kind = k("INVALID"); }
export class InvalidHolderNonceError extends LedgerRevertError { override name = "InvalidHolderNonceError" as const; static override readonly kind = k("CONFLICT"); }
export class InvalidHolderRefError extends LedgerRevertError { override name = "InvalidHolderRefError" as const; static override readonly kind = k("INVALID"); }
export class InvalidHolderSignatureError extends LedgerRevertError { override name = "InvalidHolderSignatureError" as const; static override readonly kind = k("FORBIDDEN"); }
export class InvalidMatterError extends LedgerRevertError { override name = "InvalidMatterError" as const; static override readonly kind = k("INVALID"); }
export class InvalidMaxUsesError extends LedgerRevertError { override name = "InvalidMaxUsesError" as const; static override readonly kind = k("INVALID"); }
export class InvalidScopeError extends LedgerRevertError { override name = "InvalidScopeError" as const; static override readonly kind = k("INVALID"); }
export class InvalidShortStringError extends LedgerRevertError { override name = "InvalidShortStringError" as const; static override readonly kind = k("INVALID"); }
export class InvalidUseCountError extends LedgerRevertError { override name = "InvalidUseCountError" as const; static override readonly kind = k("INVALID"); }
export class InvalidUseLogRootError extends LedgerRevertError { override name = "InvalidUseLogRootError" as const; static override readonly kind = k("INVALID"); }
export class InvalidWindowError extends LedgerRevertError { override name = "InvalidWindowError" as const; static override readonly kind = k("INVALID"); }
export class NotGranteeError extends LedgerRevertError { override name = "NotGranteeError" as const; static override readonly kind = k("FORBIDDEN"); }
export class NotGrantorError extends LedgerRevertError { override name = "NotGrantorError" as const; static override readonly kind = k("FORBIDDEN"); }
export class SignatureExpiredError extends LedgerRevertError { override name = "SignatureExpiredError" as const; static override readonly kind = k("FORBIDDEN"); }
export class StringTooLongError extends LedgerRevertError { override name = "StringTooLongError" as const; static override readonly kind = k("INVALID"); }
export class UnknownGrantError extends LedgerRevertError { override name = "UnknownGrantError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownUseLogHeadError extends LedgerRevertError { override name = "UnknownUseLogHeadError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UseCountsExceedRecordsError extends LedgerRevertError { override name = "UseCountsExceedRecordsError" as const; static override readonly kind = k("CONFLICT"); }
export class UseLogNotAdvancingError extends LedgerRevertError { override name = "UseLogNotAdvancingError" as const; static override readonly kind = k("CONFLICT"); }

/* Data catalogue (IDataCatalogue) */
export class ApprovalDeniedError extends LedgerRevertError { override name = "ApprovalDeniedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ApprovalExpiredError extends LedgerRevertError { override name = "ApprovalExpiredError" as const; static override readonly kind = k("CONFLICT"); }
export class ApprovalMissingError extends LedgerRevertError { override name = "ApprovalMissingError" as const; static override readonly kind = k("NOT_FOUND"); }
export class ApprovalNotNeededError extends LedgerRevertError { override name = "ApprovalNotNeededError" as const; static override readonly kind = k("CONFLICT"); }
export class ConsumerSuspendedError extends LedgerRevertError { override name = "ConsumerSuspendedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class DataItemAlreadyProvidedError extends LedgerRevertError { override name = "DataItemAlreadyProvidedError" as const; static override readonly kind = k("CONFLICT"); }
export class DutyAlreadyRegisteredError extends LedgerRevertError { override name = "DutyAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class DutyInUseError extends LedgerRevertError { override name = "DutyInUseError" as const; static override readonly kind = k("CONFLICT"); }
export class EntryAlreadyPublishedError extends LedgerRevertError { override name = "EntryAlreadyPublishedError" as const; static override readonly kind = k("CONFLICT"); }
export class EntryVersionMismatchError extends LedgerRevertError { override name = "EntryVersionMismatchError" as const; static override readonly kind = k("CONFLICT"); }
export class InconsistentClassificationError extends LedgerRevertError { override name = "InconsistentClassificationError" as const; static override readonly kind = k("INVALID"); }
export class InvalidApprovalExpiryError extends LedgerRevertError { override name = "InvalidApprovalExpiryError" as const; static override readonly kind = k("INVALID"); }
export class InvalidDutyCodeError extends LedgerRevertError { override name = "InvalidDutyCodeError" as const; static override readonly kind = k("INVALID"); }
export class InvalidEntryFieldError extends LedgerRevertError { override name = "InvalidEntryFieldError" as const; static override readonly kind = k("INVALID"); }
export class InvalidLedgerError extends LedgerRevertError { override name = "InvalidLedgerError" as const; static override readonly kind = k("INVALID"); }
export class InvalidScenarioIdError extends LedgerRevertError { override name = "InvalidScenarioIdError" as const; static override readonly kind = k("INVALID"); }
export class InvalidSystemCodeError extends LedgerRevertError { override name = "InvalidSystemCodeError" as const; static override readonly kind = k("INVALID"); }
export class NotConsumerError extends LedgerRevertError { override name = "NotConsumerError" as const; static override readonly kind = k("FORBIDDEN"); }
export class NotProviderError extends LedgerRevertError { override name = "NotProviderError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ProviderSuspendedError extends LedgerRevertError { override name = "ProviderSuspendedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ResourceAlreadyDrawnError extends LedgerRevertError { override name = "ResourceAlreadyDrawnError" as const; static override readonly kind = k("CONFLICT"); }
export class ResourceAlreadyRegisteredError extends LedgerRevertError { override name = "ResourceAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class ResourceNotDrawnError extends LedgerRevertError { override name = "ResourceNotDrawnError" as const; static override readonly kind = k("NOT_FOUND"); }
export class ResourceNotPublishedError extends LedgerRevertError { override name = "ResourceNotPublishedError" as const; static override readonly kind = k("NOT_FOUND"); }
export class ResourceNotSharedError extends LedgerRevertError { override name = "ResourceNotSharedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class ResourceWithdrawnError extends LedgerRevertError { override name = "ResourceWithdrawnError" as const; static override readonly kind = k("CONFLICT"); }
export class ScenarioAlreadyRegisteredError extends LedgerRevertError { override name = "ScenarioAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class ScenarioIsClosedError extends LedgerRevertError { override name = "ScenarioIsClosedError" as const; static override readonly kind = k("CONFLICT"); }
export class SystemAlreadyRegisteredError extends LedgerRevertError { override name = "SystemAlreadyRegisteredError" as const; static override readonly kind = k("CONFLICT"); }
export class SystemInUseError extends LedgerRevertError { override name = "SystemInUseError" as const; static override readonly kind = k("CONFLICT"); }
export class SystemNotOwnedError extends LedgerRevertError { override name = "SystemNotOwnedError" as const; static override readonly kind = k("FORBIDDEN"); }
export class TooManyItemsError extends LedgerRevertError { override name = "TooManyItemsError" as const; static override readonly kind = k("INVALID"); }
export class UnknownDutyError extends LedgerRevertError { override name = "UnknownDutyError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownResourceError extends LedgerRevertError { override name = "UnknownResourceError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownScenarioError extends LedgerRevertError { override name = "UnknownScenarioError" as const; static override readonly kind = k("NOT_FOUND"); }
export class UnknownSystemError extends LedgerRevertError { override name = "UnknownSystemError" as const; static override readonly kind = k("NOT_FOUND"); }

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
  // Authorisations (IAuthorisations)
  DelegationHolderMismatch: DelegationHolderMismatchError,
  DelegationMatterMismatch: DelegationMatterMismatchError,
  DelegationOutOfScope: DelegationOutOfScopeError,
  DelegationTooDeep: DelegationTooDeepError,
  DelegationUsesExceeded: DelegationUsesExceededError,
  DelegationWindowExceeded: DelegationWindowExceededError,
  DelegationSignatureExpired: DelegationSignatureExpiredError,
  DelegationSignerNotGrantee: DelegationSignerNotGranteeError,
  InvalidDelegationNonce: InvalidDelegationNonceError,
  InvalidDelegationSignature: InvalidDelegationSignatureError,
  GrantAlreadyExists: GrantAlreadyExistsError,
  GrantAlreadyRevoked: GrantAlreadyRevokedError,
  GrantNotUsable: GrantNotUsableError,
  HolderKeyAlreadyBound: HolderKeyAlreadyBoundError,
  HolderKeyNotBound: HolderKeyNotBoundError,
  InvalidEvidence: InvalidEvidenceError,
  InvalidGrantee: InvalidGranteeError,
  InvalidHolderKey: InvalidHolderKeyError,
  InvalidHolderNonce: InvalidHolderNonceError,
  InvalidHolderRef: InvalidHolderRefError,
  InvalidHolderSignature: InvalidHolderSignatureError,
  InvalidMatter: InvalidMatterError,
  InvalidMaxUses: InvalidMaxUsesError,
  InvalidScope: InvalidScopeError,
  InvalidShortString: InvalidShortStringError,
  InvalidUseCount: InvalidUseCountError,
  InvalidUseLogRoot: InvalidUseLogRootError,
  InvalidWindow: InvalidWindowError,
  NotGrantee: NotGranteeError,
  NotGrantor: NotGrantorError,
  SignatureExpired: SignatureExpiredError,
  StringTooLong: StringTooLongError,
  UnknownGrant: UnknownGrantError,
  UnknownUseLogHead: UnknownUseLogHeadError,
  UseCountsExceedRecords: UseCountsExceedRecordsError,
  UseLogNotAdvancing: UseLogNotAdvancingError,
  // Data catalogue (IDataCatalogue)
  ApprovalDenied: ApprovalDeniedError,
  ApprovalExpired: ApprovalExpiredError,
  ApprovalMissing: ApprovalMissingError,
  ApprovalNotNeeded: ApprovalNotNeededError,
  ConsumerSuspended: ConsumerSuspendedError,
  DataItemAlreadyProvided: DataItemAlreadyProvidedError,
  DutyAlreadyRegistered: DutyAlreadyRegisteredError,
  DutyInUse: DutyInUseError,
  EntryAlreadyPublished: EntryAlreadyPublishedError,
  EntryVersionMismatch: EntryVersionMismatchError,
  InconsistentClassification: InconsistentClassificationError,
  InvalidApprovalExpiry: InvalidApprovalExpiryError,
  InvalidDutyCode: InvalidDutyCodeError,
  InvalidEntryField: InvalidEntryFieldError,
  InvalidLedger: InvalidLedgerError,
  InvalidScenarioId: InvalidScenarioIdError,
  InvalidSystemCode: InvalidSystemCodeError,
  NotConsumer: NotConsumerError,
  NotProvider: NotProviderError,
  ProviderSuspended: ProviderSuspendedError,
  ResourceAlreadyDrawn: ResourceAlreadyDrawnError,
  ResourceAlreadyRegistered: ResourceAlreadyRegisteredError,
  ResourceNotDrawn: ResourceNotDrawnError,
  ResourceNotPublished: ResourceNotPublishedError,
  ResourceNotShared: ResourceNotSharedError,
  ResourceWithdrawn: ResourceWithdrawnError,
  ScenarioAlreadyRegistered: ScenarioAlreadyRegisteredError,
  ScenarioIsClosed: ScenarioIsClosedError,
  SystemAlreadyRegistered: SystemAlreadyRegisteredError,
  SystemInUse: SystemInUseError,
  SystemNotOwned: SystemNotOwnedError,
  TooManyItems: TooManyItemsError,
  UnknownDuty: UnknownDutyError,
  UnknownResource: UnknownResourceError,
  UnknownScenario: UnknownScenarioError,
  UnknownSystem: UnknownSystemError,
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

let errorsIface: Interface | undefined;
/** One Interface holding the custom errors of every deployable contract (TongbanLedger, Authorisations, DataCatalogue). */
function errorInterface(): Interface {
  if (!errorsIface) {
    const seen = new Set<string>();
    const fragments: unknown[] = [];
    for (const abi of [TongbanLedger__factory.abi, Authorisations__factory.abi, DataCatalogue__factory.abi] as unknown as { type: string; name?: string }[][]) {
      for (const f of abi) {
        if (f.type === "error" && !seen.has(f.name!)) { seen.add(f.name!); fragments.push(f); }
      }
    }
    errorsIface = new Interface(fragments as InterfaceAbi);
  }
  return errorsIface;
}

function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function build(name: string, rawArgs: readonly unknown[], selector: string | undefined, cause: unknown): LedgerRevertError {
  const fragment = errorInterface().getError(name);
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
      const parsed = errorInterface().parseError(e);
      return parsed ? build(parsed.name, [...parsed.args], parsed.selector, undefined) : undefined;
    } catch { return undefined; }
  }
  if (isCallException(e)) {
    if (e.revert) return build(e.revert.name, [...e.revert.args], errorInterface().getError(e.revert.name)?.selector, e);
    if (typeof e.data === "string" && e.data.length >= 10) {
      try {
        const parsed = errorInterface().parseError(e.data);
        if (parsed) return build(parsed.name, [...parsed.args], parsed.selector, e);
      } catch { /* not a ledger error */ }
    }
  }
  const data = (e as { data?: unknown; error?: { data?: unknown } } | null)?.data ?? (e as { error?: { data?: unknown } } | null)?.error?.data;
  if (typeof data === "string" && data.length >= 10) {
    try {
      const parsed = errorInterface().parseError(data);
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
