/**
 * Decoded reverts of the DataCatalogue contract. Every custom error of its ABI has a kind here
 * (test/sdk/catalogue/catalogue.test.ts fails otherwise); `kind` sorts errors for callers (an HTTP API maps
 * NOT_FOUND to 404, FORBIDDEN to 403, CONFLICT to 409, INVALID to 400).
 */
import { isCallException, type Interface } from "ethers";
import { TongbanError } from "../errors.js";
import { DataCatalogue__factory } from "../contracts/types/factories/contracts/DataCatalogue__factory.js";
import type { LedgerErrorKind } from "../contract-errors.js";

/** Solidity error name -> kind. Append a line for every new error of IDataCatalogue. */
export const CATALOGUE_ERROR_KINDS = {
  AccountNotMember: "FORBIDDEN",
  MemberNotActive: "FORBIDDEN",
  MissingRole: "FORBIDDEN",
  InvalidLedger: "INVALID",
  InvalidEntryField: "INVALID",
  InconsistentClassification: "INVALID",
  TooManyItems: "INVALID",
  InvalidDutyCode: "INVALID",
  DutyAlreadyRegistered: "CONFLICT",
  UnknownDuty: "NOT_FOUND",
  DutyInUse: "CONFLICT",
  InvalidSystemCode: "INVALID",
  SystemAlreadyRegistered: "CONFLICT",
  UnknownSystem: "NOT_FOUND",
  SystemNotOwned: "FORBIDDEN",
  SystemInUse: "CONFLICT",
  ResourceAlreadyRegistered: "CONFLICT",
  DataItemAlreadyProvided: "CONFLICT",
  UnknownResource: "NOT_FOUND",
  NotProvider: "FORBIDDEN",
  ResourceWithdrawn: "CONFLICT",
  EntryVersionMismatch: "CONFLICT",
  EntryAlreadyPublished: "CONFLICT",
  ResourceNotPublished: "CONFLICT",
  ResourceNotShared: "FORBIDDEN",
  InvalidScenarioId: "INVALID",
  ScenarioAlreadyRegistered: "CONFLICT",
  UnknownScenario: "NOT_FOUND",
  NotConsumer: "FORBIDDEN",
  ScenarioIsClosed: "CONFLICT",
  ResourceAlreadyDrawn: "CONFLICT",
  ResourceNotDrawn: "NOT_FOUND",
  ApprovalNotNeeded: "CONFLICT",
  InvalidApprovalExpiry: "INVALID",
  ConsumerSuspended: "FORBIDDEN",
  ProviderSuspended: "FORBIDDEN",
  ApprovalMissing: "FORBIDDEN",
  ApprovalDenied: "FORBIDDEN",
  ApprovalExpired: "FORBIDDEN",
} as const satisfies Record<string, LedgerErrorKind>;
export type CatalogueErrorName = keyof typeof CATALOGUE_ERROR_KINDS;

export interface CatalogueRevertDetails extends Record<string, unknown> {
  /** the Solidity error name */
  error: CatalogueErrorName | string;
  /** its arguments by name (bigints for integers, 0x-hex for bytes32/address) */
  args: Record<string, unknown>;
  kind: LedgerErrorKind;
  selector?: string;
}

/** A DataCatalogue revert, decoded. `details.error` names the Solidity error. */
export class CatalogueRevertError extends TongbanError<CatalogueRevertDetails> {
  override name = "CatalogueRevertError" as const;
}

let iface: Interface | undefined;
/**
 * The DataCatalogue ABI interface (typechain).
 * @example catalogueInterface().parseLog(log)?.name // => "EntryRegistered"
 */
export function catalogueInterface(): Interface {
  iface ??= DataCatalogue__factory.createInterface() as unknown as Interface;
  return iface;
}

function fromData(data: unknown, cause: unknown): CatalogueRevertError | undefined {
  if (typeof data !== "string" || data.length < 10) return undefined;
  try {
    const p = catalogueInterface().parseError(data);
    if (!p) return undefined;
    const args: Record<string, unknown> = {};
    p.fragment.inputs.forEach((input, i) => { args[input.name || String(i)] = p.args[i]; });
    const kind: LedgerErrorKind = (CATALOGUE_ERROR_KINDS as Record<string, LedgerErrorKind>)[p.name] ?? "INTERNAL";
    const text = Object.entries(args).map(([k, v]) => `${k}=${String(v)}`).join(", ");
    return new CatalogueRevertError(`catalogue reverted ${p.name}(${text})`, { error: p.name, args, kind, selector: p.selector }, { cause });
  } catch {
    return undefined;
  }
}

/**
 * Decodes a DataCatalogue revert (ethers CALL_EXCEPTION or raw 0x revert data); undefined if it is not one.
 * @example
 * try { await catalogue.registerEntry(input); }
 * catch (e) { const err = decodeCatalogueError(e); if (err?.details.error === "DataItemAlreadyProvided") ...; throw err ?? e; }
 */
export function decodeCatalogueError(e: unknown): CatalogueRevertError | undefined {
  if (typeof e === "string") return fromData(e, undefined);
  if (isCallException(e) && typeof e.data === "string") return fromData(e.data, e);
  const x = e as { data?: unknown; error?: { data?: unknown }; info?: { error?: { data?: unknown } } } | null;
  return fromData(x?.data ?? x?.error?.data ?? x?.info?.error?.data, e);
}
