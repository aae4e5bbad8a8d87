/**
 * Use records as the node's log keeps them. The canonical encoding is the SDK's, used as is (`sdk/src/audit/record.ts`,
 * 235 bytes: version, direction, basis, time (unix s), requestId, grantId, matter, requester, custodian,
 * typeCode, leaf); the log leaf is SHA-256(0x00 || encoding). This module adds what the node indexes beside
 * the record without committing to it in the leaf: the material's holder reference (from its anchored header,
 * so an auditor re-derives it from the leaf) for holder history queries.
 *
 * The custodian's SERVED record and the requester's RECEIVED record of one exchange are equal except for the
 * direction; `requestId` is the requester's random nonce of the signed request.
 *
 * Basis (byte 2 of the encoding): GRANT (1) for a material use under an authorisation, SCENARIO (2) for a data
 * use under an application scenario of the data catalogue (grantId = scenario id, typeCode = resource code,
 * leaf = digest of the query / served result; see sdk/src/catalogue/data-use.ts). `basis` is optional on
 * input (default GRANT, so existing callers are unchanged) and always present when decoded. A scenario use has
 * no material, so no holder reference.
 */
import { encodeUseRecord as sdkEncode, decodeUseRecord as sdkDecode, USE_RECORD_BYTES, USE_RECORD_VERSION } from "@tongban/sdk";
import type { UseDirectionName, UseBasisName, UseRecord as SdkUseRecord } from "@tongban/sdk";

export type Direction = UseDirectionName;
/** The SDK's bases without its deprecated input alias SHARING_APPROVAL. */
export type Basis = Exclude<UseBasisName, "SHARING_APPROVAL">;

/**
 * A record to append: the SDK's `UseRecord` fields (bytes32 0x-hex: `requestId` = the requester's nonce of the
 * signed request, `matter` = matter (事项) code, `requester`/`custodian` = member ids, `typeCode` and `leaf` of
 * the material) with a JSON-safe `time`, an optional `basis` and the index-only `holderRef`.
 */
export interface UseRecordInput extends Omit<SdkUseRecord, "time" | "basis"> {
  /** default GRANT */
  basis?: Basis;
  /** unix seconds: the time the custodian judged the request at (the requester logs the same value) */
  time: number;
  /** index-only: holder reference of the material (from its header); not part of the encoding. Required for
   *  GRANT records, absent for SCENARIO records */
  holderRef?: string;
}

export interface UseRecord extends Omit<UseRecordInput, "holderRef" | "basis"> {
  basis: Basis;
  /** position in the log (leaf index) */
  seq: number;
}

/** Byte offset of the basis code in the encoding (1 GRANT, 2 SCENARIO). */
export const BASIS_OFFSET = 2;
export const BASIS_CODE = { GRANT: 1, SCENARIO: 2 } as const;

export const RECORD_VERSION = USE_RECORD_VERSION;
export const RECORD_BYTES = USE_RECORD_BYTES;

/** Byte offsets of the 32-byte fields in the SDK layout (index keys are sliced straight from the encoding). */
export const FIELD_OFFSET = { requestId: 11, grantId: 43, matter: 75, requester: 107, custodian: 139, typeCode: 171, leaf: 203 } as const;

const B32_FIELDS = ["requestId", "grantId", "matter", "requester", "custodian", "typeCode", "leaf"] as const;
const B32_RE = /^0x[0-9a-fA-F]{64}$/;
const DIRECTION_CODE = { SERVED: 1, RECEIVED: 2 } as const;

/**
 * Canonical encoding: the SDK's `encodeUseRecord` (basis default GRANT), byte for byte. Well-formed input (the
 * append path's) is written straight into one buffer (hex decoded in place: the SDK's per-field
 * `hexToBytes` copies were ~10 % of an append's CPU); anything else goes through the SDK, which throws its
 * UseRecordError naming the field. test/node/audit/use-log.test.ts checks both against the SDK.
 * @throws UseRecordError naming the field
 */
export function encodeUseRecord(r: Omit<UseRecordInput, "holderRef"> & { holderRef?: string }): Buffer {
  if (!Number.isSafeInteger(r.time) || r.time < 0) throw new TypeError("use record time must be unix seconds");
  const basis = r.basis ?? "GRANT";
  const dir = r.direction === "SERVED" || r.direction === "RECEIVED" ? DIRECTION_CODE[r.direction] : undefined;
  if (dir !== undefined && (basis === "GRANT" || basis === "SCENARIO") && B32_FIELDS.every((f) => typeof r[f] === "string" && B32_RE.test(r[f]))) {
    const out = Buffer.allocUnsafe(USE_RECORD_BYTES);
    out[0] = USE_RECORD_VERSION;
    out[1] = dir;
    out[2] = BASIS_CODE[basis];
    out.writeUInt32BE(Math.floor(r.time / 2 ** 32), 3);
    out.writeUInt32BE(r.time >>> 0, 7);
    for (const f of B32_FIELDS) out.write(r[f].slice(2), FIELD_OFFSET[f], 32, "hex");
    return out;
  }
  const b = sdkEncode({
    direction: r.direction,
    basis,
    time: BigInt(r.time),
    requestId: r.requestId,
    grantId: r.grantId,
    matter: r.matter,
    requester: r.requester,
    custodian: r.custodian,
    typeCode: r.typeCode,
    leaf: r.leaf,
  });
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decode a canonical record (SDK `decodeUseRecord`) with its log position. @throws UseRecordError */
export function decodeUseRecord(b: Uint8Array, seq: number): UseRecord {
  const r = sdkDecode(b);
  const lc = (x: string) => x.toLowerCase();
  return {
    seq,
    direction: r.direction,
    basis: r.basis === "GRANT" ? "GRANT" : "SCENARIO",
    time: Number(r.time),
    requestId: lc(r.requestId),
    grantId: lc(r.grantId),
    matter: lc(r.matter),
    requester: lc(r.requester),
    custodian: lc(r.custodian),
    typeCode: lc(r.typeCode),
    leaf: lc(r.leaf),
  };
}
