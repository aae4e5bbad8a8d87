/**
 * Encrypted content store: content-addressed by (hashAlg, content hash), sealed with the node's storage key
 * (AES-256-GCM by default, SM4-CBC + HMAC-SHA256 as an option; see crypto.ts) with the content hash as
 * associated data. Writes are returned as LevelDB batch operations so the intake persists content and
 * material in one atomic write.
 */
import type { DB } from "./db.js";
import { K } from "./db.js";
import { aesContentKey, createCipher, openAny, type CipherName, type ContentCipher } from "./crypto.js";

export interface ContentStore {
  /** the batch operation that stores `content` under its hash (idempotent: same hash, same plaintext) */
  putOp(hashAlg: number, contentHash: Buffer, content: Uint8Array): { type: "put"; key: Buffer; value: Buffer };
  /**
   * The AES-256-GCM content key when this store seals with AES-256-GCM, so that a worker can seal in the
   * same format (crypto.ts); undefined otherwise (content is then sealed by `putOp`).
   */
  sealingKey?(): Buffer | undefined;
  /** the batch operation that stores a blob sealed elsewhere with `sealingKey()` */
  putSealedOp?(hashAlg: number, contentHash: Buffer, sealed: Buffer): { type: "put"; key: Buffer; value: Buffer };
  get(hashAlg: number, contentHash: Buffer): Promise<Buffer | undefined>;
  has(hashAlg: number, contentHash: Buffer): Promise<boolean>;
}

export class LevelContentStore implements ContentStore {
  readonly #cipher: ContentCipher;
  readonly #key: Buffer;
  constructor(
    private readonly db: DB,
    storageKey: Uint8Array,
    cipher: CipherName = "aes-256-gcm",
  ) {
    this.#key = Buffer.from(storageKey);
    this.#cipher = createCipher(cipher, storageKey);
  }
  get cipher(): CipherName {
    return this.#cipher.name;
  }
  putOp(hashAlg: number, contentHash: Buffer, content: Uint8Array): { type: "put"; key: Buffer; value: Buffer } {
    return { type: "put", key: K.content(hashAlg, contentHash), value: this.#cipher.seal(content, aad(hashAlg, contentHash)) };
  }
  sealingKey(): Buffer | undefined {
    return this.#cipher.name === "aes-256-gcm" ? aesContentKey(this.#key) : undefined;
  }
  putSealedOp(hashAlg: number, contentHash: Buffer, sealed: Buffer): { type: "put"; key: Buffer; value: Buffer } {
    return { type: "put", key: K.content(hashAlg, contentHash), value: sealed };
  }
  async get(hashAlg: number, contentHash: Buffer): Promise<Buffer | undefined> {
    const sealed = await this.db.get(K.content(hashAlg, contentHash));
    if (!sealed) return undefined;
    return openAny(this.#key, sealed, aad(hashAlg, contentHash));
  }
  async has(hashAlg: number, contentHash: Buffer): Promise<boolean> {
    return (await this.db.get(K.content(hashAlg, contentHash))) !== undefined;
  }
}

function aad(hashAlg: number, contentHash: Buffer): Buffer {
  return Buffer.concat([Buffer.from([hashAlg]), contentHash]);
}
