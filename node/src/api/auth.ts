/**
 * Bearer-token authentication. The node's config lists only SHA-256 hashes of its clients' tokens
 * (`"sha256:<64 hex>"`), so a leaked config file does not leak a token; a presented token is hashed and
 * compared against every configured hash in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ValidationError } from "../core/errors.js";

const HASH_RE = /^(?:sha256:)?([0-9a-fA-F]{64})$/;

/** The config form of a token: `sha256:` + hex SHA-256 of its UTF-8 bytes. */
export function hashToken(token: string): string {
  return "sha256:" + createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new random token (base64url, 256 bits) and its config hash. */
export function newToken(): { token: string; hash: string } {
  const token = "tb_" + randomBytes(32).toString("base64url");
  return { token, hash: hashToken(token) };
}

/** Checks presented tokens against configured hashes. */
export class TokenVerifier {
  private readonly hashes: Buffer[];

  /** @throws ValidationError if an entry is not a `sha256:<hex>` hash (a plain token in the config is refused) */
  constructor(configured: readonly string[]) {
    this.hashes = configured.map((h, i) => {
      const m = HASH_RE.exec(h.trim());
      if (!m) {
        throw new ValidationError(
          `config api.tokens[${i}] is not a token hash: list "sha256:<hex>" (see \`tongban token new\`), never the token itself`,
          { field: `api.tokens[${i}]` },
        );
      }
      return Buffer.from(m[1].toLowerCase(), "hex");
    });
  }

  get size(): number {
    return this.hashes.length;
  }

  /** Whether `token` matches a configured hash. Compares against all of them, in constant time each. */
  verify(token: string): boolean {
    const h = createHash("sha256").update(token, "utf8").digest();
    let ok = false;
    for (const c of this.hashes) ok = timingSafeEqual(h, c) || ok;
    return ok;
  }

  /** The token of an `Authorization: Bearer <token>` header value, or undefined. */
  static bearer(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const m = /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(header);
    return m ? m[1] : undefined;
  }
}
