/**
 * Fast binary header encoding for the intake hot path. Produces exactly the ABI encoding of
 * `sdk/src/leaf.ts` (`encodeHeader`) into a preallocated 320-byte buffer and hashes it with the native
 * keccak (one reused state), so the leaf costs one hash and no hex strings. Pinned against the SDK's
 * `computeLeaf` by test/node/core/header.test.ts.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { keccak256 } from "ethers";

/** Native keccak state (the `keccak` package's N-API addon), reused across calls. */
interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(b: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(len: number): Buffer;
}

let state: KeccakState | undefined;
let nativeTried = false;
function nativeState(): KeccakState | undefined {
  if (!nativeTried) {
    nativeTried = true;
    try {
      const keccakMain = createRequire(import.meta.url).resolve("keccak");
      const addon = createRequire(keccakMain)("node-gyp-build")(dirname(keccakMain)) as new () => KeccakState;
      state = new addon();
    } catch {
      state = undefined; // falls back to ethers' JS keccak
    }
  }
  return state;
}

/** keccak256 of bytes, as a 32-byte Buffer. */
export function keccakBuf(b: Buffer): Buffer {
  const s = nativeState();
  if (s) {
    s.initialize(1088, 512);
    s.absorb(b);
    // squeeze pads with the Keccak delimiter 0x01 itself (same result as absorbLastFewBits(1): one N-API call
    // less; pinned against the SDK's computeLeaf by test/node/core/units.test.ts)
    return s.squeeze(32);
  }
  return Buffer.from(keccak256(b).slice(2), "hex");
}

/**
 * keccak256 of the concatenation of `parts`, as a 32-byte Buffer: absorbed one by one into the same native
 * state (no concatenated copy); ethers' JS keccak over the concatenation when the add-on is not loadable.
 */
export function keccakParts(...parts: Buffer[]): Buffer {
  const s = nativeState();
  if (s) {
    s.initialize(1088, 512);
    for (const p of parts) s.absorb(p);
    return s.squeeze(32);
  }
  return Buffer.from(keccak256(Buffer.concat(parts)).slice(2), "hex");
}

export const HEADER_BYTES = 320;

/** Header fields as bytes / numbers (no hex). */
export interface BinHeader {
  typeCode: Buffer; // 32
  issuer: Buffer; // 32
  holderRef: Buffer; // 32
  contentHash: Buffer; // 32
  hashAlg: number;
  issuedAt: number;
  validFrom: number;
  validUntil: number;
  version: number;
  supersedes: Buffer; // 32
}

function writeU64(out: Buffer, slot: number, v: number): void {
  // uint64 right-aligned in a 32-byte word; values here are unix seconds (< 2^53)
  out.fill(0, slot * 32, slot * 32 + 24);
  out.writeUIntBE(Math.floor(v / 2 ** 32), slot * 32 + 24, 4);
  out.writeUInt32BE(v >>> 0, slot * 32 + 28);
}

/** ABI-encode a header into `out` (320 bytes) at offset 0. */
export function encodeHeaderInto(h: BinHeader, out: Buffer): Buffer {
  h.typeCode.copy(out, 0);
  h.issuer.copy(out, 32);
  h.holderRef.copy(out, 64);
  h.contentHash.copy(out, 96);
  out.fill(0, 128, 159);
  out[159] = h.hashAlg;
  writeU64(out, 5, h.issuedAt);
  writeU64(out, 6, h.validFrom);
  writeU64(out, 7, h.validUntil);
  out.fill(0, 256, 284);
  out.writeUInt32BE(h.version >>> 0, 284);
  h.supersedes.copy(out, 288);
  return out;
}

/** Decode the ABI header bytes back to fields (views into `enc`). */
export function decodeHeader(enc: Buffer): BinHeader {
  const u64 = (slot: number) => enc.readUIntBE(slot * 32 + 24, 4) * 2 ** 32 + enc.readUInt32BE(slot * 32 + 28);
  return {
    typeCode: enc.subarray(0, 32),
    issuer: enc.subarray(32, 64),
    holderRef: enc.subarray(64, 96),
    contentHash: enc.subarray(96, 128),
    hashAlg: enc[159]!,
    issuedAt: u64(5),
    validFrom: u64(6),
    validUntil: u64(7),
    version: enc.readUInt32BE(284),
    supersedes: enc.subarray(288, 320),
  };
}

export const hex = (b: Uint8Array): string => "0x" + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Parse 0x-hex of exactly `n` bytes; returns undefined if malformed. */
export function parseHex(s: unknown, n: number): Buffer | undefined {
  if (typeof s !== "string" || s.length !== 2 + 2 * n || s[0] !== "0" || (s[1] !== "x" && s[1] !== "X")) return undefined;
  const b = Buffer.from(s.slice(2), "hex");
  return b.length === n ? b : undefined;
}
