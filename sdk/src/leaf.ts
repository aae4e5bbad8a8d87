import { AbiCoder, keccak256, encodeBytes32String, decodeBytes32String } from "ethers";

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

const coder = AbiCoder.defaultAbiCoder();

/** ABI encoding of a header (320 bytes). */
export function encodeHeader(h: MaterialHeader): string {
  return coder.encode(HEADER_ABI_TYPES as unknown as string[], [
    h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg,
    h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes,
  ]);
}

/**
 * The material leaf: keccak256 of the ABI encoding of the header (design decision 1).
 * @example computeLeaf(header) // => "0x5c1f..."
 */
export function computeLeaf(h: MaterialHeader): string {
  return keccak256(encodeHeader(h));
}

/** Member id of an organisation: its 18-character unified social credit code as bytes32. */
export function memberIdFromUscc(uscc: string): string {
  return encodeBytes32String(uscc.toUpperCase());
}

/** A material type's catalogue code (<= 31 ASCII characters) as bytes32. */
export function typeCodeToBytes32(code: string): string {
  return encodeBytes32String(code);
}

/** Inverse of {@link typeCodeToBytes32} / {@link memberIdFromUscc}. */
export function bytes32ToString(b: string): string {
  return decodeBytes32String(b);
}
