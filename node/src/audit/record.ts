/**
 * Use records as the node's log keeps them. The canonical encoding is the SDK's (`sdk/src/audit/record.ts`,
 * 235 bytes: version, direction, basis, time (unix s), requestId, grantId, matter, requester, custodian,
 * typeCode, leaf); the log leaf is SHA-256(0x00 || encoding). This module adds what the node indexes beside
 * the record without committing to it in the leaf: the material's holder reference (from its anchored header,
 * so an auditor re-derives it from the leaf) for holder history queries.
 *
 * The custodian's SERVED record and the requester's RECEIVED record of one exchange are equal except for the
 * direction; `requestId` is the requester's random nonce of the signed request.
 */

export type Direction = "SERVED" | "RECEIVED";

export interface UseRecordInput {
  direction: Direction;
  /** unix seconds: the time the custodian judged the request at (the requester logs the same value) */
  time: number;
  /** bytes32 hex: the requester's nonce of the signed request */
  requestId: string;
  grantId: string;
  /** matter (事项) code */
  matter: string;
  /** member ids */
  requester: string;
  custodian: string;
  /** material type code and leaf */
  typeCode: string;
  leaf: string;
  /** index-only: holder reference of the material (from its header); not part of the encoding */
  holderRef: string;
}

export interface UseRecord extends Omit<UseRecordInput, "holderRef"> {
  /** position in the log (leaf index) */
  seq: number;
}

export const RECORD_VERSION = 1;
export const RECORD_BYTES = 235;
const DIR: Record<Direction, number> = { SERVED: 1, RECEIVED: 2 };
const BASIS_GRANT = 1;

/** Byte offsets of the 32-byte fields (index keys are sliced straight from the encoding). */
export const FIELD_OFFSET = { requestId: 11, grantId: 43, matter: 75, requester: 107, custodian: 139, typeCode: 171, leaf: 203 } as const;
const B32 = ["requestId", "grantId", "matter", "requester", "custodian", "typeCode", "leaf"] as const;

function putHex(b: Buffer, off: number, hex: string, field: string): void {
  if (typeof hex !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError(`use record ${field} must be 0x + 32 bytes hex`);
  b.write(hex.slice(2), off, 32, "hex");
}

/** Canonical encoding (byte-identical to the SDK's `encodeUseRecord`, pinned by test/node/audit). */
export function encodeUseRecord(r: Omit<UseRecordInput, "holderRef"> & { holderRef?: string }): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  b[0] = RECORD_VERSION;
  const d = DIR[r.direction];
  if (!d) throw new TypeError("use record direction must be SERVED or RECEIVED");
  b[1] = d;
  b[2] = BASIS_GRANT;
  if (!Number.isSafeInteger(r.time) || r.time < 0) throw new TypeError("use record time must be unix seconds");
  b.writeUInt32BE(Math.floor(r.time / 2 ** 32), 3);
  b.writeUInt32BE(r.time >>> 0, 7);
  for (const f of B32) putHex(b, FIELD_OFFSET[f], r[f], f);
  return b;
}

const hx = (b: Buffer, off: number) => "0x" + b.toString("hex", off, off + 32);

/** Decode a canonical record. @throws TypeError on a malformed encoding */
export function decodeUseRecord(b: Buffer, seq: number): UseRecord {
  if (b.length !== RECORD_BYTES || b[0] !== RECORD_VERSION || (b[1] !== 1 && b[1] !== 2) || b[2] !== BASIS_GRANT) {
    throw new TypeError(`use record ${seq} is malformed`);
  }
  return {
    seq,
    direction: b[1] === 1 ? "SERVED" : "RECEIVED",
    time: b.readUInt32BE(3) * 2 ** 32 + b.readUInt32BE(7),
    requestId: hx(b, 11),
    grantId: hx(b, 43),
    matter: hx(b, 75),
    requester: hx(b, 107),
    custodian: hx(b, 139),
    typeCode: hx(b, 171),
    leaf: hx(b, 203),
  };
}
