/**
 * Where the custodian finds what it serves: a material's proof bundle (SDK format: header, leaf, Merkle
 * proof, root, anchor) and its content. Two implementations:
 *  - {@link materialSourceFromService}: the node core's MaterialService (materials this node registered and
 *    anchored; content decrypted from its store) — what the node's main process wires;
 *  - {@link MaterialShelf}: a LevelDB shelf of anchored materials handed to the node from elsewhere (demo
 *    consortia, tests, materials received by exchange and kept), content sealed with AES-256-GCM.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { ClassicLevel } from "classic-level";
import type { ProofBundle } from "@tongban/sdk";
import type { MaterialService } from "../core/service.js";

export interface ServableMaterial {
  bundle: ProofBundle;
  content: Uint8Array;
  /** `bundle` serialised as JSON, when the source keeps it (saves serialising it per response) */
  bundleJson?: string;
}

/**
 * A lookup's answer. NO_CONTENT (registered by hash only) carries the material's bundle when known, so the
 * custodian can judge the grant against the material's type and holder before saying anything about it.
 */
export type MaterialLookup = ServableMaterial | { missing: "NOT_FOUND"; message: string } | { missing: "NO_CONTENT"; message: string; bundle?: ProofBundle };

export interface MaterialSource {
  get(leaf: string): Promise<MaterialLookup>;
}

/** Serve the materials the node core registered (anchored ones with content). */
export function materialSourceFromService(service: Pick<MaterialService, "getMaterial" | "getContent">): MaterialSource {
  return {
    async get(leaf: string): Promise<MaterialLookup> {
      let rec;
      try {
        rec = await service.getMaterial(leaf);
      } catch (e) {
        if ((e as { code?: string }).code === "NOT_FOUND") return { missing: "NOT_FOUND", message: `material ${leaf} is not held by this node` };
        throw e;
      }
      if (!rec.bundle) return { missing: "NOT_FOUND", message: `material ${leaf} is not anchored yet` };
      try {
        return { bundle: rec.bundle as ProofBundle, content: await service.getContent(leaf) };
      } catch (e) {
        if ((e as { code?: string }).code === "NO_CONTENT") return { missing: "NO_CONTENT", message: `material ${leaf} was registered by hash only`, bundle: rec.bundle as ProofBundle };
        throw e;
      }
    },
  };
}

/**
 * Keep the last `entries` materials found (bundle, its JSON, content) in memory for `ttlMs`. A material is
 * immutable under its leaf (the leaf commits to the header, the header to the content hash), so a cached
 * answer is the stored one; only its removal from the node is noticed up to `ttlMs` late. Misses (NOT_FOUND,
 * NO_CONTENT) are not cached: a material anchored meanwhile is served at once. Revocation is not the
 * custodian's check: the requester verifies the material's status on chain.
 */
export function cachedMaterialSource(source: MaterialSource, opts: { entries?: number; ttlMs?: number } = {}): MaterialSource {
  const max = opts.entries ?? 1024;
  const ttl = opts.ttlMs ?? 60_000;
  const cache = new Map<string, { at: number; m: ServableMaterial }>();
  return {
    async get(leaf: string): Promise<MaterialLookup> {
      const k = leaf.toLowerCase();
      const hit = cache.get(k);
      const now = Date.now();
      if (hit && now - hit.at < ttl) return hit.m;
      const r = await source.get(leaf);
      if ("missing" in r) return r;
      const m: ServableMaterial = { bundle: r.bundle, content: r.content, bundleJson: r.bundleJson ?? JSON.stringify(r.bundle) };
      cache.delete(k);
      cache.set(k, { at: now, m });
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return m;
    },
  };
}

type DB = ClassicLevel<Buffer, Buffer>;

/** A LevelDB shelf of anchored materials: 'b' leaf32 -> bundle JSON, 'c' leaf32 -> sealed content. */
export class MaterialShelf implements MaterialSource {
  readonly #key: Buffer;
  constructor(
    readonly db: DB,
    storageKey: Uint8Array,
  ) {
    this.#key = createHmac("sha256", storageKey).update("tongban/shelf/aes-256-gcm").digest();
  }

  static #k(p: string, leaf: string): Buffer {
    return Buffer.concat([Buffer.from(p), Buffer.from(leaf.slice(2).toLowerCase(), "hex")]);
  }

  async put(bundle: ProofBundle, content: Uint8Array): Promise<void> {
    const leaf = bundle.leaf.toLowerCase();
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.#key, iv);
    c.setAAD(Buffer.from(leaf));
    const ct = Buffer.concat([c.update(content), c.final()]);
    await this.db.batch([
      { type: "put", key: MaterialShelf.#k("b", leaf), value: Buffer.from(JSON.stringify(bundle)) },
      { type: "put", key: MaterialShelf.#k("c", leaf), value: Buffer.concat([iv, c.getAuthTag(), ct]) },
    ]);
  }

  async get(leaf: string): Promise<MaterialLookup> {
    if (!/^0x[0-9a-fA-F]{64}$/.test(leaf)) return { missing: "NOT_FOUND", message: "leaf must be 32 bytes hex" };
    const [b, c] = await this.db.getMany([MaterialShelf.#k("b", leaf), MaterialShelf.#k("c", leaf)]);
    if (!b) return { missing: "NOT_FOUND", message: `material ${leaf} is not held by this node` };
    if (!c) return { missing: "NO_CONTENT", message: `no content for ${leaf}`, bundle: JSON.parse(b.toString()) as ProofBundle };
    const d = createDecipheriv("aes-256-gcm", this.#key, c.subarray(0, 12));
    d.setAAD(Buffer.from(leaf.toLowerCase()));
    d.setAuthTag(c.subarray(12, 28));
    const content = Buffer.concat([d.update(c.subarray(28)), d.final()]);
    return { bundle: JSON.parse(b.toString()) as ProofBundle, content };
  }
}
