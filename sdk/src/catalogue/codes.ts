/**
 * Stable numeric codes of the data catalogue (contracts/interfaces/IDataCatalogue.sol). The numbers are the
 * Solidity enum values: APPEND-ONLY, never renumber. 0 is "none"/invalid in every enum that has it.
 */
import { decodeBytes32String, encodeBytes32String } from "ethers";
import { TongbanError } from "../errors.js";
import { isBytes32 } from "../bytes.js";

/** Security grade (Data Security Law): 一般 / 重要 / 核心. */
export const DataGrade = { GENERAL: 1, IMPORTANT: 2, CORE: 3 } as const;
export type DataGradeName = keyof typeof DataGrade;

/** Government data sharing type: 无条件共享 / 有条件共享 / 不予共享. */
export const SharingType = { UNCONDITIONAL: 1, CONDITIONAL: 2, NOT_SHARED: 3 } as const;
export type SharingTypeName = keyof typeof SharingType;

/** Public-data open type: 无条件开放 / 有条件开放 / 不予开放. */
export const OpenType = { OPEN: 1, CONDITIONAL: 2, NOT_OPEN: 3 } as const;
export type OpenTypeName = keyof typeof OpenType;

/** Update cycle. */
export const UpdateCycle = { REAL_TIME: 1, DAILY: 2, WEEKLY: 3, MONTHLY: 4, QUARTERLY: 5, YEARLY: 6, IRREGULAR: 7 } as const;
export type UpdateCycleName = keyof typeof UpdateCycle;

/** Entry status on chain (pending review = ACTIVE with publishedVersion < version). */
export const EntryStatus = { NONE: 0, ACTIVE: 1, WITHDRAWN: 2 } as const;
export type EntryStatusName = keyof typeof EntryStatus;

/** Per (scenario, resource). */
export const DrawStatus = { NONE: 0, DRAWN: 1, APPROVED: 2, DENIED: 3 } as const;
export type DrawStatusName = keyof typeof DrawStatus;

/** Fields named by the contract's `InvalidEntryField(resourceCode, field)`. */
export const EntryField = {
  RESOURCE_CODE: 0, TITLE_HASH: 1, DESCRIPTION_HASH: 2, FIELDS_HASH: 3, STANDARD_HASH: 4, GRADE: 5, LEVEL: 6, SHARING: 7,
  OPEN: 8, UPDATE_CYCLE: 9, DATA_ITEM: 10, URI: 11,
} as const;
export type EntryFieldName = keyof typeof EntryField;

/** Reason codes of `canUse(scenarioId, resourceCode)`. APPEND-ONLY. */
export const UseReason = {
  OK: 0, UNKNOWN_SCENARIO: 1, SCENARIO_CLOSED: 2, CONSUMER_SUSPENDED: 3, RESOURCE_NOT_DRAWN: 4, RESOURCE_WITHDRAWN: 5,
  PROVIDER_SUSPENDED: 6, RESOURCE_NOT_PUBLISHED: 7, RESOURCE_NOT_SHARED: 8, APPROVAL_MISSING: 9, APPROVAL_DENIED: 10,
  APPROVAL_EXPIRED: 11,
} as const;
export type UseReasonName = keyof typeof UseReason;

/** A catalogue input is malformed; `details.field` names it. */
export class CatalogueInputError extends TongbanError<{ field: string; value?: unknown; reason?: string }> {
  override name = "CatalogueInputError" as const;
}

/**
 * The name of a numeric code in one of the enums above; throws {@link CatalogueInputError} for an unknown code.
 * @example codeName(SharingType, 2) // => "CONDITIONAL"
 */
export function codeName<T extends Record<string, number>>(table: T, code: number | bigint, field = "code"): keyof T & string {
  const n = Number(code);
  const name = (Object.keys(table) as (keyof T & string)[]).find((k) => table[k] === n);
  if (name === undefined) throw new CatalogueInputError(`unknown ${field} code ${n}`, { field, value: n });
  return name;
}

/**
 * The numeric code of a name; throws {@link CatalogueInputError} naming `field` for an unknown name.
 * @example codeOf(UpdateCycle, "DAILY", "updateCycle") // => 2
 */
export function codeOf<T extends Record<string, number>>(table: T, name: string, field: string): number {
  const v = Object.prototype.hasOwnProperty.call(table, name) ? table[name as keyof T] : undefined;
  if (v === undefined) throw new CatalogueInputError(`${field} must be one of ${Object.keys(table).join(", ")}`, { field, value: name });
  return v;
}

const CODE_RE = /^[\x21-\x7e]{1,31}$/;

/**
 * A catalogue code (resource, data item, duty, system, scenario) as bytes32: 1..31 printable ASCII characters
 * without spaces, right-padded with zeros (ethers `encodeBytes32String`). A 0x-hex bytes32 passes through
 * (lower-cased), so callers may hold either form.
 * @example catalogueCode("R310115-0001") // => "0x52333130...00"
 */
export function catalogueCode(code: string, field = "code"): string {
  if (isBytes32(code)) {
    if (/^0x0{64}$/.test(code)) throw new CatalogueInputError(`${field} must not be zero`, { field, value: code });
    return code.toLowerCase();
  }
  if (typeof code !== "string" || !CODE_RE.test(code)) {
    throw new CatalogueInputError(`${field} must be 1..31 printable ASCII characters without spaces`, { field, value: code });
  }
  return encodeBytes32String(code);
}

/**
 * The text of a bytes32 catalogue code, or the hex itself when it is not a padded string.
 * @example catalogueCodeText(catalogueCode("R310115-0001")) // => "R310115-0001"
 */
export function catalogueCodeText(b32: string): string {
  try {
    const s = decodeBytes32String(b32);
    return CODE_RE.test(s) ? s : b32;
  } catch {
    return b32;
  }
}
