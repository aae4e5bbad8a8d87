/**
 * Holder references (DESIGN "Words"): never a plain ID number on chain, but
 *
 *   holderRef = HMAC-SHA256(consortiumKey, utf8(idType + "|" + canonicalIdNumber))     (0x-hex, 32 bytes)
 *
 * under a 32-byte consortium key that member nodes hold and the chain does not. Canonical forms:
 * - `RESIDENT_ID` (GB 11643): validated, trimmed, upper case (`x` -> `X`);
 * - `USCC` (GB 32100): validated, trimmed, upper case;
 * - any other type (e.g. `PASSPORT`, `HK_MACAO_PERMIT`): the type must match `^[A-Z][A-Z0-9_]{0,31}$`; the number
 *   is opaque: trimmed, non-empty, no `|` and no control characters, case kept.
 * Pinned by test/vectors/holder-ref.json.
 */
import { createHmac } from "node:crypto";
import { TongbanError } from "./errors.js";
import { hexToBytes } from "./bytes.js";
import { InvalidIdError, maskId, validateResidentId, validateUscc } from "./identity.js";

/** ID types with a validated canonical form; any other upper-case type name is opaque. */
export const IdType = { RESIDENT_ID: "RESIDENT_ID", USCC: "USCC" } as const;

/** A holder's identifier, before keyed hashing. */
export interface HolderId {
  /** `RESIDENT_ID`, `USCC`, or another upper-case type name (opaque number) */
  idType: string;
  idNumber: string;
}

/** The consortium key is not 32 bytes. */
export class InvalidConsortiumKeyError extends TongbanError<{ bytes: number }> {
  override name = "InvalidConsortiumKeyError" as const;
}

/**
 * The canonical `idType|idNumber` string that a holder reference hashes. Validates the number.
 * Throws {@link InvalidIdError}.
 * @example canonicalHolderId({ idType: "RESIDENT_ID", idNumber: "11010519491231002x" }) // => "RESIDENT_ID|11010519491231002X"
 */
export function canonicalHolderId(id: HolderId): string {
  const idType = String(id?.idType ?? "");
  if (idType === IdType.RESIDENT_ID) return `${idType}|${validateResidentId(id.idNumber)}`;
  if (idType === IdType.USCC) return `${idType}|${validateUscc(id.idNumber)}`;
  const number = String(id?.idNumber ?? "").trim();
  if (!/^[A-Z][A-Z0-9_]{0,31}$/.test(idType)) {
    throw new InvalidIdError(`ID type "${idType}" must match ^[A-Z][A-Z0-9_]{0,31}$`, { idType, reason: "ID_TYPE", masked: maskId(number) });
  }
  if (number === "") throw new InvalidIdError(`${idType} number is empty`, { idType, reason: "EMPTY", masked: "" });
  // eslint-disable-next-line no-control-regex
  if (/[|\u0000-\u001f\u007f]/.test(number)) {
    throw new InvalidIdError(`${idType} number contains "|" or a control character`, { idType, reason: "CHARSET", masked: maskId(number) });
  }
  return `${idType}|${number}`;
}

function keyBytes(key: Uint8Array | string): Uint8Array {
  const k = typeof key === "string" ? hexToBytes(key, "consortiumKey") : key;
  if (!(k instanceof Uint8Array) || k.length !== 32) {
    throw new InvalidConsortiumKeyError(`consortium key must be 32 bytes, got ${k?.length ?? 0}`, { bytes: k?.length ?? 0 });
  }
  return k;
}

/**
 * The holder reference: HMAC-SHA256 under the 32-byte consortium key over {@link canonicalHolderId}.
 * Throws {@link InvalidIdError} for a bad ID (naming the rule), {@link InvalidConsortiumKeyError} for a bad key.
 * @example
 * computeHolderRef({ idType: "USCC", idNumber: "91310104MA1K000018" }, consortiumKey) // => "0x..." (32 bytes)
 */
export function computeHolderRef(id: HolderId, consortiumKey: Uint8Array | string): string {
  const k = keyBytes(consortiumKey);
  return "0x" + createHmac("sha256", k).update(canonicalHolderId(id), "utf8").digest("hex");
}
