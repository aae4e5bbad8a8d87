import { InvalidHexError } from "./errors.js";

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX_RE = /^0x[0-9a-fA-F]*$/;

/**
 * Lower-case 0x-hex of bytes.
 * @example bytesToHex(new Uint8Array([1, 255])) // => "0x01ff"
 */
export function bytesToHex(b: Uint8Array): string {
  let s = "0x";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

/**
 * Parses 0x-hex into bytes; `expectedBytes` enforces a length. Throws {@link InvalidHexError} naming `field`.
 * @example hexToBytes("0x01ff", "salt", 2) // => Uint8Array [1, 255]
 */
export function hexToBytes(hex: string, field = "value", expectedBytes?: number): Uint8Array {
  if (typeof hex !== "string" || !HEX_RE.test(hex) || hex.length % 2 !== 0) {
    throw new InvalidHexError(`${field} is not 0x-prefixed even-length hex`, { field, value: hex, expectedBytes });
  }
  const n = (hex.length - 2) / 2;
  if (expectedBytes !== undefined && n !== expectedBytes) {
    throw new InvalidHexError(`${field} must be ${expectedBytes} bytes, got ${n}`, { field, value: hex, expectedBytes });
  }
  return Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
}

/**
 * Whether `v` is 0x-hex of exactly 32 bytes.
 * @example isBytes32(tree.root) // => true
 */
export function isBytes32(v: unknown): v is string {
  return typeof v === "string" && v.length === 66 && HEX_RE.test(v);
}
