/**
 * Identifiers accepted at the edge: member ids as an 18-character unified social credit code or bytes32 hex,
 * material types as a catalogue code or bytes32 hex.
 */
import { encodeBytes32String, isHexString } from "ethers";
import { ApiError, ApiErrorCode } from "./errors.js";

/** bytes32 member id (lower-case hex) from a USCC or a bytes32 hex string. */
export function toBytes32Id(v: string): string {
  if (isHexString(v, 32)) return v.toLowerCase();
  if (v.length === 18) return encodeBytes32String(v.toUpperCase()).toLowerCase();
  throw new ApiError(400, ApiErrorCode.VALIDATION, `member id ${v} is neither a USCC nor bytes32`, { path: "issuer", value: v });
}

/** bytes32 type code (lower-case hex) from a catalogue code or a bytes32 hex string. */
export function toTypeCode(v: string): string {
  if (isHexString(v, 32)) return v.toLowerCase();
  if (v.length > 31 || !/^[\x21-\x7e]+$/.test(v)) {
    throw new ApiError(400, ApiErrorCode.VALIDATION, `type ${v} is not a catalogue code (<= 31 printable ASCII)`, { path: "querystring/type", value: v });
  }
  return encodeBytes32String(v).toLowerCase();
}
