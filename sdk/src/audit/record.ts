/**
 * The canonical encoding of one use record (decision 5), the entry of a member's use log. Fixed layout,
 * 235 bytes, big-endian (pinned by test/vectors/use-record.json):
 *
 *   offset  size  field
 *        0     1  version      = 1
 *        1     1  direction    1 = SERVED (by the custodian), 2 = RECEIVED (by the requester)
 *        2     1  basis        1 = GRANT (an authorisation, IAuthorisations: a material use)
 *                              2 = SCENARIO (an application scenario of the DataCatalogue: a data use)
 *        3     8  time         uint64 unix seconds (the time the custodian judged the request at)
 *       11    32  requestId    random id the requester chose for the exchange; both sides log the same
 *       43    32  grantId      GRANT: the grant id; SCENARIO: the scenario id
 *       75    32  matter       matter (事项) code (SCENARIO: the matter the data is used for)
 *      107    32  requester    member id of the member that obtained the material / data (the consumer)
 *      139    32  custodian    member id of the member that served it (the resource's one provider)
 *      171    32  typeCode     GRANT: material type; SCENARIO: the catalogue resource code
 *      203    32  leaf         GRANT: material leaf (IMaterialRegistry THE LEAF); SCENARIO: digest of the
 *                              query / served result (what was used)
 *
 * Basis 2 was named SHARING_APPROVAL before the scenario flow existed; the bytes are the same (version 1
 * never changed layout or codes), so the old name is accepted on encode as an alias and decoding says
 * SCENARIO. Per-grant counts (./counts.ts, the anchor's `uses`) cover GRANT records only.
 *
 * The log's leaf hash is SHA-256(0x00 || these 235 bytes) (see ./log.ts). A SERVED record in the custodian's
 * log and the RECEIVED record with the same requestId in the requester's log are equal except `direction`.
 */
import { TongbanError } from "../errors.js";
import { bytesToHex, hexToBytes } from "../bytes.js";
import { logLeafHash } from "./log.js";

export const USE_RECORD_VERSION = 1;
export const USE_RECORD_BYTES = 235;

/** Who wrote the record. Numeric codes are stable. */
export const UseDirection = { SERVED: 1, RECEIVED: 2 } as const;
export type UseDirectionName = keyof typeof UseDirection;

/** What the use relies on. Numeric codes are stable. */
export const UseBasis = { GRANT: 1, SCENARIO: 2 } as const;
/** A basis as decoded. "SHARING_APPROVAL" is the deprecated input alias of SCENARIO (same code 2). */
export type UseBasisName = keyof typeof UseBasis | "SHARING_APPROVAL";
const BASIS_CODE: Record<UseBasisName, number> = { GRANT: 1, SCENARIO: 2, SHARING_APPROVAL: 2 };

/** One use, as logged. bytes32 fields are 0x-hex. */
export interface UseRecord {
  direction: UseDirectionName;
  basis: UseBasisName;
  /** unix seconds */
  time: bigint;
  requestId: string;
  grantId: string;
  matter: string;
  requester: string;
  custodian: string;
  typeCode: string;
  leaf: string;
}

/** A use record cannot be encoded or decoded (names the field). */
export class UseRecordError extends TongbanError<{ field: string; value?: unknown }> {
  override name = "UseRecordError" as const;
}

const B32_FIELDS = ["requestId", "grantId", "matter", "requester", "custodian", "typeCode", "leaf"] as const;
const MAX64 = (1n << 64n) - 1n;

/**
 * Encodes a use record into its canonical 235 bytes. Throws {@link UseRecordError} naming the bad field.
 * @example encodeUseRecord({ direction: "SERVED", basis: "GRANT", time: 1767225600n, requestId, grantId, matter,
 *   requester, custodian, typeCode, leaf }).length // => 235
 */
export function encodeUseRecord(r: UseRecord): Uint8Array {
  const out = new Uint8Array(USE_RECORD_BYTES);
  const dir = UseDirection[r?.direction as UseDirectionName];
  if (dir === undefined) throw new UseRecordError(`direction must be SERVED or RECEIVED`, { field: "direction", value: r?.direction });
  const basis = Object.hasOwn(BASIS_CODE, String(r.basis)) ? BASIS_CODE[r.basis as UseBasisName] : undefined;
  if (basis === undefined) throw new UseRecordError(`basis must be GRANT or SCENARIO`, { field: "basis", value: r.basis });
  let time: bigint;
  try {
    time = BigInt(r.time);
  } catch {
    throw new UseRecordError("time must be an integer", { field: "time", value: r.time });
  }
  if (time < 0n || time > MAX64) throw new UseRecordError("time must fit uint64", { field: "time", value: r.time });
  out[0] = USE_RECORD_VERSION;
  out[1] = dir;
  out[2] = basis;
  new DataView(out.buffer).setBigUint64(3, time, false);
  let off = 11;
  for (const f of B32_FIELDS) {
    let b: Uint8Array;
    try {
      b = hexToBytes(r[f], f, 32);
    } catch (cause) {
      throw new UseRecordError(`${f} must be 32 bytes of 0x-hex`, { field: f, value: r[f] }, { cause });
    }
    out.set(b, off);
    off += 32;
  }
  return out;
}

/**
 * Decodes the canonical bytes of a use record. Throws {@link UseRecordError} on a bad length, version or code.
 * @example decodeUseRecord(encodeUseRecord(r)) // deep-equals r
 */
export function decodeUseRecord(bytes: Uint8Array): UseRecord {
  if (!(bytes instanceof Uint8Array) || bytes.length !== USE_RECORD_BYTES) {
    throw new UseRecordError(`a use record is ${USE_RECORD_BYTES} bytes`, { field: "length", value: bytes?.length });
  }
  if (bytes[0] !== USE_RECORD_VERSION) throw new UseRecordError("unknown use record version", { field: "version", value: bytes[0] });
  const direction = (Object.keys(UseDirection) as UseDirectionName[]).find((k) => UseDirection[k] === bytes[1]);
  if (!direction) throw new UseRecordError("unknown direction code", { field: "direction", value: bytes[1] });
  const basis = (Object.keys(UseBasis) as (keyof typeof UseBasis)[]).find((k) => UseBasis[k] === bytes[2]);
  if (!basis) throw new UseRecordError("unknown basis code", { field: "basis", value: bytes[2] });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rec: Record<string, unknown> = { direction, basis, time: view.getBigUint64(3, false) };
  let off = 11;
  for (const f of B32_FIELDS) {
    rec[f] = bytesToHex(bytes.subarray(off, off + 32));
    off += 32;
  }
  return rec as unknown as UseRecord;
}

/**
 * The log leaf hash of a use record: SHA-256(0x00 || encodeUseRecord(r)).
 * @example verifyInclusion(useRecordLeafHash(r), index, size, proof, root)
 */
export function useRecordLeafHash(r: UseRecord): Uint8Array {
  return logLeafHash(encodeUseRecord(r));
}

/**
 * The record the other side logs for the same exchange (SERVED <-> RECEIVED): the auditor's cross-log match.
 * @example counterpartRecord(served).direction // => "RECEIVED"
 */
export function counterpartRecord(r: UseRecord): UseRecord {
  return { ...r, direction: r.direction === "SERVED" ? "RECEIVED" : "SERVED" };
}
