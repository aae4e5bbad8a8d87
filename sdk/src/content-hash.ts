/**
 * Content hashing under the header's `hashAlg`: 1 = SHA-256, 2 = SM3 (GM/T 0004). Streaming: files and streams
 * are hashed chunk by chunk, never loaded whole. Both use Node's OpenSSL (`crypto.createHash("sha256"|"sm3")`);
 * where OpenSSL lacks SM3, SM3 falls back to sm-crypto (pure JS, which buffers the content: slower).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { TongbanError } from "./errors.js";
import { HashAlg } from "./leaf.js";

/** The header names a content-hash algorithm the SDK does not know. */
export class UnknownHashAlgError extends TongbanError<{ hashAlg: unknown }> {
  override name = "UnknownHashAlgError" as const;
}

/**
 * Human name of a hash algorithm id.
 * @example hashAlgName(HashAlg.SM3) // => "SM3"
 */
export function hashAlgName(alg: number): string {
  return alg === HashAlg.SHA256 ? "SHA-256" : alg === HashAlg.SM3 ? "SM3" : `unknown(${alg})`;
}

/** An incremental content hasher. */
export interface ContentHasher {
  update(chunk: Uint8Array | string): ContentHasher;
  /** 0x-hex digest (32 bytes); the hasher cannot be used afterwards. */
  digest(): string;
}

let opensslSm3: boolean | undefined;
function hasOpensslSm3(): boolean {
  if (opensslSm3 === undefined) {
    try { createHash("sm3"); opensslSm3 = true; } catch { opensslSm3 = false; }
  }
  return opensslSm3;
}

type SmCrypto = { sm3: (input: string | number[] | Uint8Array) => string };
let smCrypto: SmCrypto | undefined;
function smCryptoSm3(data: Uint8Array): string {
  smCrypto ??= createRequire(import.meta.url)("sm-crypto") as SmCrypto;
  return smCrypto.sm3(Array.from(data) as unknown as number[]);
}

/**
 * Which SM3 implementation this process uses: "openssl" (fast, streaming) or "sm-crypto" (JS, buffering).
 * @example sm3Implementation() // => "openssl"
 */
export function sm3Implementation(): "openssl" | "sm-crypto" {
  return hasOpensslSm3() ? "openssl" : "sm-crypto";
}

/**
 * A streaming hasher for `alg`. Throws {@link UnknownHashAlgError}.
 * @example createContentHasher(HashAlg.SM3).update("a").update("bc").digest() // => "0x66c7f0f4..."
 */
export function createContentHasher(alg: number, options: { sm3?: "auto" | "sm-crypto" } = {}): ContentHasher {
  const toBytes = (c: Uint8Array | string) => (typeof c === "string" ? Buffer.from(c, "utf8") : c);
  if (alg === HashAlg.SHA256 || (alg === HashAlg.SM3 && options.sm3 !== "sm-crypto" && hasOpensslSm3())) {
    const h = createHash(alg === HashAlg.SHA256 ? "sha256" : "sm3");
    const hasher: ContentHasher = {
      update(chunk) { h.update(toBytes(chunk)); return hasher; },
      digest() { return "0x" + h.digest("hex"); },
    };
    return hasher;
  }
  if (alg === HashAlg.SM3) {
    const chunks: Uint8Array[] = [];
    const hasher: ContentHasher = {
      update(chunk) { chunks.push(toBytes(chunk)); return hasher; },
      digest() { return "0x" + smCryptoSm3(Buffer.concat(chunks)); },
    };
    return hasher;
  }
  throw new UnknownHashAlgError(`unknown content-hash algorithm ${String(alg)}`, { hashAlg: alg });
}

/**
 * Hash of in-memory content (bytes, or a string taken as UTF-8).
 * @example hashContent(new TextEncoder().encode("abc"), HashAlg.SM3) // => "0x66c7f0f4...a8e0"
 */
export function hashContent(content: Uint8Array | string, alg: number): string {
  return createContentHasher(alg).update(content).digest();
}

/**
 * Hash of a stream (Node Readable, web ReadableStream, or any async iterable of chunks), chunk by chunk.
 * @example await hashStream(fs.createReadStream("licence.pdf"), HashAlg.SHA256)
 */
export async function hashStream(
  stream: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>, alg: number,
): Promise<string> {
  const h = createContentHasher(alg);
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) h.update(chunk);
  return h.digest();
}

/**
 * Hash of a file, streamed in 1 MiB chunks.
 * @example await hashFile("/data/licence.pdf", HashAlg.SM3)
 */
export async function hashFile(path: string, alg: number): Promise<string> {
  createContentHasher(alg); // fail fast on an unknown algorithm before opening the file
  return hashStream(createReadStream(path, { highWaterMark: 1 << 20 }), alg);
}
