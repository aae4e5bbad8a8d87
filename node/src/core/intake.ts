/**
 * Intake: validation of registration requests into binary headers, and the entitlement check against a
 * briefly cached chain view, so a type this member may not issue is refused at the edge, not after batching.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { canonicalHolderId, hashContent, InvalidIdError as SdkInvalidIdError, TongbanError } from "@tongban/sdk";
import { ValidationError, InvalidIdError, UnknownTypeError, NotEntitledError, UnavailableError } from "./errors.js";
import { encodeHeaderInto, keccakBuf, parseHex, HEADER_BYTES, type BinHeader } from "./header.js";
import type { RegisterRequest } from "./types.js";
import type { DB } from "./db.js";
import { K, json, parse, MATERIAL_BYTES } from "./db.js";
import { ChainUnavailableError, type LedgerClient } from "./chain.js";
import type { Logger } from "./log.js";
import { errInfo } from "./log.js";

export const ZERO32 = Buffer.alloc(32);
const MAX_U64 = 2 ** 53 - 1;
const TYPE_RE = /^[\x21-\x7e]{1,31}$/;

/** A validated request, ready to persist. */
export interface Prepared {
  index: number;
  typeCode: Buffer;
  jurisdiction: number;
  header: Buffer; // 320-byte ABI encoding (a view into `record`)
  /** the material record buffer (MATERIAL_BYTES), header already in place; see db.fillMaterial */
  record: Buffer;
  leaf: Buffer;
  hashAlg: number;
  contentHash: Buffer;
  content?: Uint8Array;
  supersedes: Buffer;
  /** the leaf as a latin1 string (a cheap map key), set on first use */
  key?: string;
  /** the content already sealed (by the intake worker) with the store's sealing key */
  sealed?: Buffer;
}

/** Results computed off the main thread for one request (see service #register, hasher.ts intake). */
export interface Precomputed {
  contentHash?: Buffer;
  holderRef?: Buffer;
  sealed?: Buffer;
}

/** canonicalHolderId with the core's typed errors naming the request. */
export function holderCanonical(holder: { idType: string; idNumber: string }, index: number): string {
  try {
    return canonicalHolderId(holder);
  } catch (e) {
    throw holderError(e, index);
  }
}

function holderError(e: unknown, index: number): unknown {
  if (e instanceof SdkInvalidIdError) {
    const d = e.details as Record<string, unknown>;
    return new InvalidIdError(`request ${index}: ${e.message}`, { index, idType: d.idType, reason: d.reason, masked: d.masked }, { cause: e });
  }
  if (e instanceof TongbanError) return new ValidationError(`request ${index}: ${e.message}`, { index, field: "holder" }, { cause: e });
  return e;
}

export interface IntakeContext {
  issuer: Buffer;
  holderKey: Uint8Array;
  nowSec: number;
  /** largest content accepted, bytes (default {@link MAX_CONTENT_BYTES}) */
  maxContentBytes?: number;
}

/** Default content size limit: 32 MiB (documents are PDFs and images; bulk data goes elsewhere). */
export const MAX_CONTENT_BYTES = 32 * 1024 * 1024;

const typeCache = new Map<string, Buffer>();
/** Catalogue code -> bytes32 (cached: a node sees few types). */
export function typeCodeBytes(code: string, index: number): Buffer {
  let b = typeCache.get(code);
  if (b) return b;
  if (typeof code !== "string" || !TYPE_RE.test(code)) {
    throw new ValidationError(`request ${index}: typeCode must be 1-31 printable ASCII characters`, { index, field: "typeCode" });
  }
  b = Buffer.alloc(32);
  b.write(code, 0, "ascii");
  if (typeCache.size < 10_000) typeCache.set(code, b);
  return b;
}

function uint(v: unknown, index: number, field: string, max: number, required: boolean): number {
  if (v === undefined || v === null) {
    if (required) throw new ValidationError(`request ${index}: ${field} is required`, { index, field });
    return 0;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new ValidationError(`request ${index}: ${field} must be an integer 0..${max}`, { index, field, value: v as never });
  }
  return v;
}

function bytes32(v: unknown, index: number, field: string): Buffer {
  const b = parseHex(v, 32);
  if (!b) throw new ValidationError(`request ${index}: ${field} must be 0x-prefixed 32-byte hex`, { index, field });
  return b;
}

/** The consortium key as a KeyObject (imported once per key, not once per material). */
const keyObjects = new WeakMap<Uint8Array, KeyObject>();
function keyObject(k: Uint8Array): KeyObject {
  let o = keyObjects.get(k);
  if (!o) {
    if (k.length !== 32) throw new ValidationError(`consortium key must be 32 bytes, got ${k.length}`, {});
    keyObjects.set(k, (o = createSecretKey(k)));
  }
  return o;
}

/**
 * The SDK's holder reference (HMAC-SHA256 under the consortium key over `canonicalHolderId`, which validates
 * the number) as bytes, without the hex round trip. Pinned against `computeHolderRef` in units.test.ts.
 */
export function holderRefBytes(holder: { idType: string; idNumber: string }, key: Uint8Array): Buffer {
  return createHmac("sha256", keyObject(key)).update(canonicalHolderId(holder), "utf8").digest();
}

/** Content hash as bytes: SHA-256 natively, SM3 through the SDK. */
export function contentHashBytes(content: Uint8Array, hashAlg: number): Buffer {
  if (hashAlg === 1) return createHash("sha256").update(content).digest();
  return Buffer.from(hashContent(content, hashAlg).slice(2), "hex");
}

/** Validate one request and compute its header and leaf. Throws typed errors naming `index`. */
export function prepareRequest(r: RegisterRequest, index: number, ctx: IntakeContext, hashLeaf = true, pre?: Precomputed): Prepared {
  if (!r || typeof r !== "object") throw new ValidationError(`request ${index} is not an object`, { index });
  const typeCode = typeCodeBytes(r.typeCode, index);
  const jurisdiction = uint(r.jurisdiction, index, "jurisdiction", 999_999, true);
  if (jurisdiction < 100_000) throw new ValidationError(`request ${index}: jurisdiction must be a 6-digit GB/T 2260 code`, { index, field: "jurisdiction" });
  const hashAlg = r.hashAlg === undefined ? 1 : uint(r.hashAlg, index, "hashAlg", 255, true);
  if (hashAlg !== 1 && hashAlg !== 2) throw new ValidationError(`request ${index}: hashAlg must be 1 (SHA-256) or 2 (SM3)`, { index, field: "hashAlg" });
  let contentHash: Buffer;
  let content: Uint8Array | undefined;
  if (r.content !== undefined) {
    if (!(r.content instanceof Uint8Array)) throw new ValidationError(`request ${index}: content must be bytes`, { index, field: "content" });
    const max = ctx.maxContentBytes ?? MAX_CONTENT_BYTES;
    if (r.content.length > max) throw new ValidationError(`request ${index}: content is ${r.content.length} bytes, more than ${max}`, { index, field: "content", max });
    content = r.content;
    contentHash = pre?.contentHash ?? contentHashBytes(content, hashAlg);
    if (r.contentHash !== undefined && !bytes32(r.contentHash, index, "contentHash").equals(contentHash)) {
      throw new ValidationError(`request ${index}: contentHash does not match the content`, { index, field: "contentHash" });
    }
  } else if (r.contentHash !== undefined) {
    contentHash = bytes32(r.contentHash, index, "contentHash");
    if (contentHash.equals(ZERO32)) throw new ValidationError(`request ${index}: contentHash must not be zero`, { index, field: "contentHash" });
  } else {
    throw new ValidationError(`request ${index}: give content or contentHash`, { index, field: "content" });
  }
  let holderRef: Buffer;
  if (r.holder !== undefined) {
    if (r.holderRef !== undefined) throw new ValidationError(`request ${index}: give holder or holderRef, not both`, { index, field: "holder" });
    if (pre?.holderRef) holderRef = pre.holderRef;
    else {
      try {
        holderRef = holderRefBytes(r.holder, ctx.holderKey);
      } catch (e) {
        throw holderError(e, index);
      }
    }
  } else if (r.holderRef !== undefined) {
    holderRef = bytes32(r.holderRef, index, "holderRef");
  } else {
    throw new ValidationError(`request ${index}: give holder or holderRef`, { index, field: "holder" });
  }
  const issuedAt = r.issuedAt === undefined ? ctx.nowSec : uint(r.issuedAt, index, "issuedAt", MAX_U64, true);
  const validFrom = uint(r.validFrom, index, "validFrom", MAX_U64, true);
  const validUntil = uint(r.validUntil, index, "validUntil", MAX_U64, false);
  if (validUntil !== 0 && validUntil <= validFrom) {
    throw new ValidationError(`request ${index}: validUntil must be after validFrom (or 0 = no end)`, { index, field: "validUntil" });
  }
  const supersedes = r.supersedes === undefined || r.supersedes === null ? ZERO32 : bytes32(r.supersedes, index, "supersedes");
  const version = r.version === undefined ? 1 : uint(r.version, index, "version", 0xffffffff, true);
  if (version < 1) throw new ValidationError(`request ${index}: version starts at 1`, { index, field: "version" });
  if (!supersedes.equals(ZERO32) && version < 2) {
    throw new ValidationError(`request ${index}: a superseding version must be >= 2`, { index, field: "version" });
  }
  const h: BinHeader = { typeCode, issuer: ctx.issuer, holderRef, contentHash, hashAlg, issuedAt, validFrom, validUntil, version, supersedes };
  const record = Buffer.allocUnsafe(MATERIAL_BYTES);
  const header = encodeHeaderInto(h, record).subarray(0, HEADER_BYTES);
  // hashLeaf = false: the caller fills `leaf` (a worker hashes large calls)
  const leaf = hashLeaf ? keccakBuf(header) : (undefined as unknown as Buffer);
  const p: Prepared = { index, typeCode, jurisdiction, header, record, leaf, hashAlg, contentHash, content, supersedes };
  if (pre?.sealed) p.sealed = pre.sealed;
  return p;
}

/** A stable fingerprint of a request list (content replaced by its SHA-256) for idempotency keys. */
export function fingerprint(requests: unknown[]): string {
  const h = createHash("sha256");
  h.update(
    JSON.stringify(requests, (_k, v) => {
      if (v instanceof Uint8Array) return "sha256:" + createHash("sha256").update(v).digest("hex");
      if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)) {
        return "sha256:" + createHash("sha256").update(Buffer.from((v as { data: number[] }).data)).digest("hex");
      }
      return v;
    }),
  );
  return h.digest("hex");
}

interface EntitlementEntry {
  entitled: boolean;
  knownType: boolean;
  at: number;
}

/**
 * Entitlement of this member per (type, jurisdiction), read from the ledger and cached for `ttlMs`; the last
 * answer is also persisted so that intake keeps working (with the last known answer) while the chain is
 * unreachable, even across a restart.
 */
export class Entitlements {
  #cache = new Map<string, EntitlementEntry>();
  #inflight = new Map<string, Promise<EntitlementEntry>>();

  constructor(
    private readonly ledger: LedgerClient,
    private readonly db: DB,
    private readonly memberId: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  async #fetch(g: Buffer, typeCode: Buffer, jurisdiction: number): Promise<EntitlementEntry> {
    const typeHex = "0x" + typeCode.toString("hex");
    try {
      const entitled = await this.ledger.isEntitled(this.memberId, typeHex, jurisdiction);
      const knownType = entitled ? true : await this.ledger.isMaterialType(typeHex);
      const e = { entitled, knownType, at: Date.now() };
      await this.db.put(K.entitlement(g), json(e));
      return e;
    } catch (err) {
      const raw = await this.db.get(K.entitlement(g));
      if (raw) {
        this.log.warn({ jurisdiction, err: errInfo(err) }, "entitlement check: chain unavailable, using last known answer");
        const e = parse<EntitlementEntry>(raw);
        e.at = Date.now() - this.ttlMs + Math.min(this.ttlMs, 2000); // retry the chain soon
        return e;
      }
      if (err instanceof ChainUnavailableError) {
        throw new UnavailableError(`cannot check entitlement for jurisdiction ${jurisdiction}: chain unreachable and nothing cached`, { jurisdiction }, { cause: err });
      }
      throw err;
    }
  }

  /** Throws UnknownTypeError / NotEntitledError / UnavailableError. */
  async check(typeCode: Buffer, typeName: string, jurisdiction: number, index: number): Promise<void> {
    const g = Buffer.allocUnsafe(36);
    typeCode.copy(g, 0);
    g.writeUInt32BE(jurisdiction, 32);
    const key = g.toString("hex");
    let e = this.#cache.get(key);
    if (!e || Date.now() - e.at > this.ttlMs) {
      let p = this.#inflight.get(key);
      if (!p) {
        p = this.#fetch(g, typeCode, jurisdiction).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, p);
      }
      e = await p;
      this.#cache.set(key, e);
    }
    if (!e.knownType) throw new UnknownTypeError(typeName, { index });
    if (!e.entitled) {
      throw new NotEntitledError(`this member may not issue ${typeName} in jurisdiction ${jurisdiction}`, { index, typeCode: typeName, jurisdiction });
    }
  }

  /** Forget cached answers (e.g. after a governance change). */
  invalidate(): void {
    this.#cache.clear();
  }
}
