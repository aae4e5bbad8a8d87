import { encodeBytes32String, decodeBytes32String } from "ethers";
import { keccak_256 } from "@noble/hashes/sha3";
import { InvalidHexError, TongbanError } from "./errors.js";

/** Content-hash algorithm ids, as registered in the ledger's governed list. */
export const HashAlg = { SHA256: 1, SM3: 2 } as const;
export type HashAlgId = (typeof HashAlg)[keyof typeof HashAlg];

/**
 * The material header: what the leaf commits to. Never contains personal data or content:
 * the holder is a keyed reference, the content is a hash.
 */
export interface MaterialHeader {
  /** material type: a catalogue code as bytes32 (see {@link typeCodeToBytes32}) */
  typeCode: string;
  /** issuing member id: the unified social credit code as bytes32 (see {@link memberIdFromUscc}) */
  issuer: string;
  /** keyed hash of the holder's ID type and number */
  holderRef: string;
  /** hash of the content under `hashAlg` */
  contentHash: string;
  hashAlg: number;
  issuedAt: bigint;
  validFrom: bigint;
  /** 0n = no end */
  validUntil: bigint;
  version: number;
  /** leaf of the version this one replaces, ZeroHash if none */
  supersedes: string;
}

/** ABI types of the header, in leaf order. Shared with `IMaterialRegistry.sol`; pinned by test/vectors/leaf.json. */
export const HEADER_ABI_TYPES = [
  "bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64", "uint64", "uint32", "bytes32",
] as const;

/** A header field is out of its ABI type's range (uint8/uint32/uint64) or not an integer. */
export class InvalidHeaderError extends TongbanError<{ field: string; value: string; type: string }> {
  override name = "InvalidHeaderError" as const;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const BYTES32_FIELDS = ["typeCode", "issuer", "holderRef", "contentHash"] as const;

function putBytes32(out: Buffer, word: number, field: string, v: unknown): void {
  if (typeof v !== "string" || !HEX32.test(v)) {
    throw new InvalidHexError(`header.${field} must be 32-byte 0x-hex`, { field: `header.${field}`, value: v, expectedBytes: 32 });
  }
  out.write(v.slice(2), word * 32, 32, "hex");
}

function putUint(out: Buffer, word: number, field: string, v: unknown, bits: 8 | 32 | 64): void {
  let n: bigint;
  try {
    if (typeof v === "number" && !Number.isInteger(v)) throw new RangeError("not an integer");
    n = BigInt(v as bigint | number);
  } catch {
    throw new InvalidHeaderError(`header.${field} must be an integer`, { field, value: String(v), type: `uint${bits}` });
  }
  if (n < 0n || n >= 1n << BigInt(bits)) {
    throw new InvalidHeaderError(`header.${field} is out of the uint${bits} range`, { field, value: n.toString(), type: `uint${bits}` });
  }
  out.writeBigUInt64BE(n, word * 32 + 24);
}

/**
 * ABI encoding of a header as bytes (320 bytes: ten 32-byte words), identical to
 * `abi.encode(bytes32,bytes32,bytes32,bytes32,uint8,uint64,uint64,uint64,uint32,bytes32)` (checked against ethers'
 * AbiCoder and the Solidity harness in tests). Throws {@link InvalidHexError} / {@link InvalidHeaderError}.
 * @example encodeHeaderBytes(header).length // => 320
 */
export function encodeHeaderBytes(h: MaterialHeader): Uint8Array {
  const out = Buffer.alloc(320);
  BYTES32_FIELDS.forEach((f, i) => putBytes32(out, i, f, h[f]));
  putUint(out, 4, "hashAlg", h.hashAlg, 8);
  putUint(out, 5, "issuedAt", h.issuedAt, 64);
  putUint(out, 6, "validFrom", h.validFrom, 64);
  putUint(out, 7, "validUntil", h.validUntil, 64);
  putUint(out, 8, "version", h.version, 32);
  putBytes32(out, 9, "supersedes", h.supersedes);
  return new Uint8Array(out.buffer, out.byteOffset, 320);
}

/**
 * ABI encoding of a header (320 bytes) as 0x-hex.
 * @example encodeHeader(header).length === 2 + 640
 */
export function encodeHeader(h: MaterialHeader): string {
  const b = encodeHeaderBytes(h);
  return "0x" + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/**
 * The material leaf: keccak256 of the ABI encoding of the header (design decision 1).
 * @example computeLeaf(header) // => "0x5c1f..."
 */
export function computeLeaf(h: MaterialHeader): string {
  const d = keccak_256(encodeHeaderBytes(h));
  return "0x" + Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("hex");
}

/**
 * Member id of an organisation: its 18-character unified social credit code as bytes32.
 * @example memberIdFromUscc("11310115002418321F") // => "0x3131...0000"
 */
export function memberIdFromUscc(uscc: string): string {
  return encodeBytes32String(uscc.toUpperCase());
}

/**
 * A material type's catalogue code (<= 31 ASCII characters) as bytes32.
 * @example typeCodeToBytes32("BL-310115-001")
 */
export function typeCodeToBytes32(code: string): string {
  return encodeBytes32String(code);
}

/**
 * Inverse of {@link typeCodeToBytes32} / {@link memberIdFromUscc}.
 * @example bytes32ToString(bundle.header.typeCode) // => "BL-310115-001"
 */
export function bytes32ToString(b: string): string {
  return decodeBytes32String(b);
}
