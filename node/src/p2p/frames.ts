/**
 * Length-prefixed frames over one libp2p stream, read and written without per-frame overhead: the wire
 * format is the one `lpStream` of @libp2p/utils uses (unsigned varint length, then the frame), so either side
 * may use either implementation, but
 *  - reading parses every frame out of each received chunk at once (lpStream reads the varint one byte at a
 *    time, each a buffered-list read), and
 *  - writing COALESCES: frames queued during one turn of the event loop leave as one `stream.send` (one yamux
 *    data frame, one noise message per 64 KiB, one TCP write, and one yamux window update from the other
 *    side) instead of one each. With many requests in flight on a multiplexed stream this is most of the
 *    transport's CPU per exchange (measured in node/bench/exchange.ts; see the README).
 * Back-pressure: when `send` reports a full buffer, later frames wait for 'drain'.
 */
import type { Stream } from "@libp2p/interface";

export class FrameError extends Error {
  override name = "FrameError";
}

export interface FrameChannelInit {
  /** largest accepted frame, bytes */
  maxFrame: number;
  /** called for each complete frame (in order) */
  onFrame(frame: Buffer): void;
  /** called once when no more frames will arrive: remote closed its end, the stream closed, or a bad frame */
  onEnd(err?: unknown): void;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

export class FrameChannel {
  readonly #stream: Stream;
  readonly #init: FrameChannelInit;
  #rest: Buffer | undefined;
  #queue: Buffer[] = [];
  #scheduled = false;
  #blocked: Promise<void> | undefined;
  #ended = false;
  #idle: { resolve: () => void; promise: Promise<void> } | undefined;

  constructor(stream: Stream, init: FrameChannelInit) {
    this.#stream = stream;
    this.#init = init;
    stream.addEventListener("message", (e) => {
      const d = e.data;
      const u = d instanceof Uint8Array ? d : d.subarray();
      this.#onData(Buffer.from(u.buffer, u.byteOffset, u.byteLength));
    });
    stream.addEventListener("remoteCloseWrite", () => this.#end());
    stream.addEventListener("close", (e) => this.#end((e as { error?: unknown }).error));
  }

  get ended(): boolean {
    return this.#ended;
  }

  #end(err?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#init.onEnd(err);
  }

  #onData(chunk: Buffer): void {
    let b = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = undefined;
    let off = 0;
    while (off < b.length) {
      // unsigned varint length
      let len = 0;
      let mul = 1;
      let i = off;
      let done = false;
      for (; i < b.length && i - off < 5; i++) {
        const x = b[i]!;
        len += (x & 0x7f) * mul;
        mul *= 0x80;
        if (x < 0x80) {
          done = true;
          i++;
          break;
        }
      }
      if (!done) {
        if (i - off >= 5) return this.#fail(new FrameError("frame length varint too long"));
        break; // incomplete length: wait for more bytes
      }
      if (len > this.#init.maxFrame) return this.#fail(new FrameError(`frame of ${len} bytes exceeds ${this.#init.maxFrame}`));
      if (i + len > b.length) break; // incomplete frame
      const frame = b.subarray(i, i + len);
      off = i + len;
      this.#init.onFrame(frame);
    }
    if (off < b.length) {
      // keep the incomplete tail (copied, so a large chunk is not pinned by a small remainder)
      b = b.subarray(off);
      this.#rest = Buffer.from(b);
    }
  }

  #fail(err: Error): void {
    this.#rest = undefined;
    this.#end(err);
    this.#stream.abort(err);
  }

  /**
   * Queue a frame, or a frame given as parts (their concatenation; copied once, into the write); frames queued in
   * the same event-loop turn leave as one write.
   */
  send(frame: Uint8Array | readonly Uint8Array[]): void {
    if (frame instanceof Uint8Array) {
      this.#queue.push(varint(frame.byteLength), Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    } else {
      let n = 0;
      for (const p of frame) n += p.byteLength;
      this.#queue.push(varint(n));
      for (const p of frame) this.#queue.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    }
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#blocked || this.#queue.length === 0) return this.#checkIdle();
    const out = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue);
    this.#queue = [];
    let ok: boolean;
    try {
      ok = this.#stream.send(out);
    } catch (e) {
      // closed or closing for writing: nothing more can be sent (the peer sees the stream end)
      this.#end(e);
      return this.#checkIdle();
    }
    if (!ok) {
      this.#blocked = new Promise<void>((resolve) => {
        const go = () => {
          this.#stream.removeEventListener("drain", go);
          this.#stream.removeEventListener("close", go);
          this.#blocked = undefined;
          resolve();
          this.#flush();
        };
        this.#stream.addEventListener("drain", go);
        this.#stream.addEventListener("close", go);
      });
      return;
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle && this.#queue.length === 0 && !this.#blocked && !this.#scheduled) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
  }

  /** Resolves once every queued frame was handed to the stream. */
  flushed(): Promise<void> {
    if (this.#queue.length === 0 && !this.#blocked && !this.#scheduled) return Promise.resolve();
    if (!this.#idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#idle = { resolve, promise };
    }
    return this.#idle.promise;
  }

  /** Flush, then close the stream gracefully (abort if that fails). */
  async close(): Promise<void> {
    await this.flushed();
    await this.#stream.close().catch((e) => this.#stream.abort(e instanceof Error ? e : new Error("close failed")));
  }
}
