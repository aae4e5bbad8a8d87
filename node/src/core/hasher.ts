/**
 * Leaf hashing off the main thread: a worker that keccak-hashes many 320-byte headers per message (native
 * keccak, transferred buffers, no copies back). The intake uses it for large register calls so that on a
 * 2-core machine hashing overlaps with validation and LevelDB work; small calls hash inline.
 */
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { HEADER_BYTES } from "./header.js";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createRequire } = require("node:module");
const { dirname } = require("node:path");
const crypto = require("node:crypto");
const KS = createRequire(workerData.keccak)("node-gyp-build")(dirname(workerData.keccak));
const s = new KS();
let ivPool = Buffer.alloc(0);
let ivAt = 0;
function iv(into, at) {
  if (ivAt + 12 > ivPool.length) { ivPool = crypto.randomBytes(4096); ivAt = 0; }
  ivPool.copy(into, at, ivAt, ivAt + 12);
  ivPool.fill(0, ivAt, ivAt + 12);
  ivAt += 12;
  return into.subarray(at, at + 12);
}
const keys = new Map();
function key(b) {
  const h = Buffer.from(b).toString("hex");
  let k = keys.get(h);
  if (!k) { k = crypto.createSecretKey(Buffer.from(b)); if (keys.size < 16) keys.set(h, k); }
  return k;
}
// intake crypto of one register call: SHA-256 of each content, HMAC-SHA256 holder references, AES-256-GCM seal
function intake({ id, n, contents, offs, has, holders, hkey, akey }) {
  const src = Buffer.from(contents);
  const off = new Uint32Array(offs);
  const hashes = Buffer.alloc(n * 32);
  const refs = Buffer.alloc(n * 32);
  const hk = key(hkey);
  const ak = akey ? key(akey) : undefined;
  const names = holders.split("\\n");
  const hasContent = new Uint8Array(has);
  let sealedBytes = 0;
  for (let i = 0; i < n; i++) if (hasContent[i]) sealedBytes += 30 + (off[i + 1] - off[i]);
  const sealed = Buffer.allocUnsafeSlow(ak ? sealedBytes : 0);
  const sealOffs = new Uint32Array(n + 1);
  const aad = Buffer.alloc(33);
  aad[0] = 1;
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (names[i]) crypto.createHmac("sha256", hk).update(names[i], "utf8").digest().copy(refs, i * 32);
    sealOffs[i] = at;
    if (!hasContent[i]) continue;
    const c = src.subarray(off[i], off[i + 1]);
    crypto.createHash("sha256").update(c).digest().copy(hashes, i * 32);
    if (!ak) continue;
    hashes.copy(aad, 1, i * 32, i * 32 + 32);
    sealed[at] = 1;
    sealed[at + 1] = 1;
    const ci = crypto.createCipheriv("aes-256-gcm", ak, iv(sealed, at + 2));
    ci.setAAD(aad);
    const k = ci.update(c).copy(sealed, at + 30);
    const tail = ci.final();
    tail.copy(sealed, at + 30 + k);
    ci.getAuthTag().copy(sealed, at + 14);
    at += 30 + c.length;
  }
  sealOffs[n] = at;
  const out = { id, hashes: hashes.buffer, refs: refs.buffer, sealed: sealed.buffer, sealOffs: sealOffs.buffer };
  parentPort.postMessage(out, [hashes.buffer, refs.buffer, sealed.buffer, sealOffs.buffer].filter((b, j, a) => a.indexOf(b) === j && b.byteLength > 0));
}
parentPort.on("message", (m) => {
  if (m.kind === "intake") return intake(m);
  const { id, buf, n } = m;
  const src = Buffer.from(buf);
  const out = Buffer.allocUnsafeSlow(n * 32);
  for (let i = 0; i < n; i++) {
    s.initialize(1088, 512);
    s.absorb(src.subarray(i * ${HEADER_BYTES}, (i + 1) * ${HEADER_BYTES}));
    s.squeeze(32).copy(out, i * 32);
  }
  parentPort.postMessage({ id, out: out.buffer }, [out.buffer]);
});
`;

/** What the worker computed for one register call (see {@link LeafHasher.intake}). */
export interface IntakeCrypto {
  /** SHA-256 of item i's content at i*32 (zeros for items without content) */
  hashes: Buffer;
  /** holder reference of item i at i*32 (zeros for items without a holder) */
  refs: Buffer;
  /** item i's sealed content (AES-256-GCM blob, crypto.ts format), or undefined (no content, or no key given) */
  sealed(i: number): Buffer | undefined;
}

export interface IntakeJob {
  /** contents (undefined: the item has none); hashed with SHA-256 */
  contents: (Uint8Array | undefined)[];
  /** canonical holder IDs (`canonicalHolderId`; "" or undefined: none). Never contain a line feed. */
  holders: (string | undefined)[];
  /** consortium holder-ref key, 32 bytes */
  holderKey: Uint8Array;
  /** AES-256-GCM content key (crypto.ts `aesContentKey`); without it contents are hashed, not sealed */
  aesKey?: Uint8Array;
}

export class LeafHasher {
  readonly #worker: Worker;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly #pending = new Map<number, { resolve: (b: any) => void; reject: (e: unknown) => void }>();
  #id = 0;
  #dead: unknown;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (m: { id: number; out?: ArrayBuffer }) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      p?.resolve(m.out ? Buffer.from(m.out) : m);
    });
    const fail = (e: unknown) => {
      this.#dead = e ?? new Error("leaf hasher worker exited");
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", () => fail(undefined));
    worker.unref();
  }

  /** A hasher, or undefined where the native keccak cannot be loaded in a worker. */
  static create(): LeafHasher | undefined {
    try {
      const keccak = createRequire(import.meta.url).resolve("keccak");
      return new LeafHasher(new Worker(WORKER_SOURCE, { eval: true, workerData: { keccak } }));
    } catch {
      return undefined;
    }
  }

  get alive(): boolean {
    return this.#dead === undefined;
  }

  /** keccak256 of each 320-byte header in `packed` (n * 320 bytes, own ArrayBuffer: it is transferred). */
  hash(packed: Buffer, n: number): Promise<Buffer> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = ++this.#id;
    const ab = packed.buffer.byteLength === packed.length && packed.byteOffset === 0 ? packed.buffer : packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.length);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, buf: ab, n }, [ab as ArrayBuffer]);
    });
  }

  /**
   * The per-item crypto of a register call, off the main thread: content SHA-256, holder-reference HMACs and
   * (with `aesKey`) the sealed content blobs, in one message each way (inputs copied once, outputs transferred).
   */
  intake(job: IntakeJob): Promise<IntakeCrypto> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const n = job.contents.length;
    const offs = new Uint32Array(n + 1);
    const has = new Uint8Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      offs[i] = total;
      const c = job.contents[i];
      if (c) {
        has[i] = 1;
        total += c.byteLength;
      }
    }
    offs[n] = total;
    if (total > 0xfffffff0) return Promise.reject(new RangeError("intake job too large for one message"));
    const all = Buffer.allocUnsafeSlow(total);
    for (let i = 0; i < n; i++) {
      const c = job.contents[i];
      if (c) all.set(c, offs[i]!);
    }
    const holders = job.holders.map((h) => h ?? "").join("\n");
    const id = ++this.#id;
    return new Promise<{ hashes: ArrayBuffer; refs: ArrayBuffer; sealed: ArrayBuffer; sealOffs: ArrayBuffer }>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(
        { kind: "intake", id, n, contents: all.buffer, offs: offs.buffer, has: has.buffer, holders, hkey: job.holderKey, akey: job.aesKey },
        [all.buffer, offs.buffer], // `has` is copied: sealed() below reads it
      );
    }).then((m) => {
      const sealed = Buffer.from(m.sealed);
      const so = new Uint32Array(m.sealOffs);
      return {
        hashes: Buffer.from(m.hashes),
        refs: Buffer.from(m.refs),
        sealed: (i: number) => (has[i] && job.aesKey ? sealed.subarray(so[i], so[i + 1]) : undefined),
      };
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
