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
const KS = createRequire(workerData.keccak)("node-gyp-build")(dirname(workerData.keccak));
const s = new KS();
parentPort.on("message", ({ id, buf, n }) => {
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

export class LeafHasher {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: unknown) => void }>();
  #id = 0;
  #dead: unknown;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (m: { id: number; out: ArrayBuffer }) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      p?.resolve(Buffer.from(m.out));
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

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
