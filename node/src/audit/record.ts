/**
 * A use record: one retrieval of a material under an authorisation, as the custodian SERVED it or the
 * requester RECEIVED it. Records are encoded canonically (fixed 235-byte binary, below); the log's leaf is
 * the RFC 6962 leaf hash of that encoding, so an auditor holding the record bytes can check inclusion.
 *
 *   version u8 (=1) | direction u8 (1 SERVED, 2 RECEIVED) | at u64 BE (unix ms) | grantId 32 | matter 32 |
 *   requester 32 | custodian 32 | material 32 | holderRef 32 | requestId 32 | flags u8
 *
 * `requestId` is the EIP-712 digest of the signed exchange request: the custodian's SERVED record and the
 * requester's RECEIVED record of one exchange carry the same requestId, which is how they are reconciled.
 */

export type Direction = "SERVED" | "RECEIVED";

export interface UseRecordInput {
  direction: Direction;
  /** unix ms */
  at: number;
  /** bytes32 hex */
  grantId: string;
  /** bytes32 hex: the matter (事项) code the use is for */
  matter: string;
  /** bytes32 member ids */
  requester: string;
  custodian: string;
  /** material leaf, bytes32 hex */
  material: string;
  /** holder reference of the material (from its header), bytes32 hex */
  holderRef: string;
  /** EIP-712 digest of the signed request, bytes32 hex */
  requestId: string;
}

export interface UseRecord extends UseRecordInput {
  /** position in the log (0-based): the leaf index */
  seq: number;
}

export const RECORD_VERSION = 1;
export const RECORD_BYTES = 1 + 1 + 8 + 32 * 7 + 1;

const DIR: Record<Direction, number> = { SERVED: 1, RECEIVED: 2 };

function putHex(b: Buffer, off: number, hex: string, field: string): void {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (h.length !== 64 || !/^[0-9a-fA-F]+$/.test(h)) throw new TypeError(`use record ${field} must be 32 bytes hex`);
  b.write(h, off, 32, "hex");
}

/** Canonical binary encoding of a use record (the log leaf data). */
export function encodeUseRecord(r: UseRecordInput): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  b[0] = RECORD_VERSION;
  const d = DIR[r.direction];
  if (!d) throw new TypeError(`use record direction must be SERVED or RECEIVED`);
  b[1] = d;
  if (!Number.isSafeInteger(r.at) || r.at < 0) throw new TypeError("use record at must be unix ms");
  b.writeUInt32BE(Math.floor(r.at / 2 ** 32), 2);
  b.writeUInt32BE(r.at >>> 0, 6);
  putHex(b, 10, r.grantId, "grantId");
  putHex(b, 42, r.matter, "matter");
  putHex(b, 74, r.requester, "requester");
  putHex(b, 106, r.custodian, "custodian");
  putHex(b, 138, r.material, "material");
  putHex(b, 170, r.holderRef, "holderRef");
  putHex(b, 202, r.requestId, "requestId");
  b[234] = 0;
  return b;
}

const hx = (b: Buffer, off: number) => "0x" + b.toString("hex", off, off + 32);

/** Decode a canonical record. @throws TypeError on a malformed encoding */
export function decodeUseRecord(b: Buffer, seq: number): UseRecord {
  if (b.length !== RECORD_BYTES || b[0] !== RECORD_VERSION || (b[1] !== 1 && b[1] !== 2)) throw new TypeError(`use record ${seq} is malformed`);
  return {
    seq,
    direction: b[1] === 1 ? "SERVED" : "RECEIVED",
    at: b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6),
    grantId: hx(b, 10),
    matter: hx(b, 42),
    requester: hx(b, 74),
    custodian: hx(b, 106),
    material: hx(b, 138),
    holderRef: hx(b, 170),
    requestId: hx(b, 202),
  };
}

/** Raw 32-byte fields at their offsets (the index keys), without hex round trips. */
export const FIELD_OFFSET = { grantId: 10, matter: 42, requester: 74, custodian: 106, material: 138, holderRef: 170, requestId: 202 } as const;
