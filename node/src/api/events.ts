/**
 * The API's event hub for `GET /v1/events`: one subscription to the core (and the indexer) shared by every
 * stream, and a replay window so that a client reconnecting with `Last-Event-ID` gets exactly the events it
 * missed, none twice.
 *
 * Event ids are `<epoch>-<seq>`: `epoch` names this API instance (a restarted node starts a new one), `seq`
 * counts every event of the instance. Two rings keep the last events: batch / op / chain events (low rate,
 * default 10,000) and per-material events (up to 60,000 per second at full ingest; default 100,000). A resume
 * replays every kept event after the given id, in order. When it cannot be exact — another epoch, an id older
 * than what the rings still hold, or per-material events that were not recorded in the gap — the stream first
 * sends `event: reset` (`{reason, lastEventId}`): the client must then re-read state (GET the materials or
 * batches it follows) instead of trusting the stream to be complete.
 *
 * Per-material events cost the core work at 20,000 materials/s, so they are produced only while a stream is
 * open and for `materialLingerMs` (default 60 s) after the last one closed: a client that reconnects within
 * that time loses none; after it, their gap is detected and answered with `reset`.
 */
import { randomBytes } from "node:crypto";
import type { MaterialService } from "../core/service.js";
import type { ChangeEvent } from "../core/types.js";
import type { IndexerView, IndexedEvent } from "../indexer/types.js";

export interface EventHubOptions {
  /** batch / op / chain events kept for replay (default 10,000) */
  replayEvents?: number;
  /** per-material events kept for replay (default 100,000) */
  replayMaterialEvents?: number;
  /** per-material events keep being recorded this long after the last stream closed, ms (default 60 s) */
  materialLingerMs?: number;
}

export interface HubEvent {
  seq: number;
  /** the SSE frame: `id: ...\nevent: ...\ndata: ...\n\n` */
  frame: string;
}

class Ring {
  readonly #buf: (HubEvent | undefined)[];
  #start = 0;
  #size = 0;
  /** highest seq pushed out of the ring (0: none) */
  evictedUpTo = 0;
  constructor(readonly capacity: number) {
    this.#buf = new Array(Math.max(1, capacity));
  }
  push(e: HubEvent): void {
    const cap = this.#buf.length;
    if (this.#size === cap) {
      this.evictedUpTo = this.#buf[this.#start]!.seq;
      this.#buf[this.#start] = e;
      this.#start = (this.#start + 1) % cap;
    } else {
      this.#buf[(this.#start + this.#size) % cap] = e;
      this.#size++;
    }
  }
  /** events with seq > after, oldest first */
  since(after: number): HubEvent[] {
    const out: HubEvent[] = [];
    const cap = this.#buf.length;
    // binary search over the ring (seqs increase)
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#buf[(this.#start + mid) % cap]!.seq <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#size; i++) out.push(this.#buf[(this.#start + i) % cap]!);
    return out;
  }
}

export type Resume = { events: HubEvent[]; reset?: { reason: string; lastEventId: string } };

export class EventHub {
  readonly epoch = Date.now().toString(36) + randomBytes(3).toString("hex");
  #seq = 0;
  readonly #ring: Ring;
  readonly #materials: Ring;
  readonly #linger: number;
  readonly #streams = new Set<(e: HubEvent) => void>();
  #offCore: () => void = () => {};
  readonly #offChain: () => void;
  #recordingMaterials = false;
  /** [offAfterSeq, onAfterSeq) intervals in which per-material events were not recorded */
  #gaps: [number, number][] = [[0, Number.POSITIVE_INFINITY]];
  #lingerTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly svc: MaterialService,
    indexer: IndexerView | undefined,
    opts: EventHubOptions = {},
  ) {
    this.#ring = new Ring(opts.replayEvents ?? 10_000);
    this.#materials = new Ring(opts.replayMaterialEvents ?? 100_000);
    this.#linger = opts.materialLingerMs ?? 60_000;
    this.#subscribe(false);
    // (test doubles of the indexer may have no event feed)
    this.#offChain = typeof indexer?.onEvent === "function" ? indexer.onEvent((e: IndexedEvent) => this.#record("chain", e)) : () => {};
  }

  /** (Re)subscribe to the core, with or without per-material events, without a gap between the two. */
  #subscribe(materials: boolean): void {
    if (this.#closed) return;
    const off = this.#offCore;
    // (test doubles of the service may have no change feed)
    if (typeof this.svc.onChange !== "function") return;
    this.#offCore = this.svc.onChange((e: ChangeEvent) => this.#record(e.kind, e), { materials });
    off();
    if (materials && !this.#recordingMaterials) {
      const last = this.#gaps[this.#gaps.length - 1]!;
      last[1] = this.#seq + 1; // material events are recorded again from the next seq on
    } else if (!materials && this.#recordingMaterials) {
      this.#gaps.push([this.#seq, Number.POSITIVE_INFINITY]);
      if (this.#gaps.length > 1000) this.#gaps.splice(0, this.#gaps.length - 1000);
    }
    this.#recordingMaterials = materials;
  }

  #record(name: string, data: unknown): void {
    const seq = ++this.#seq;
    const e: HubEvent = { seq, frame: `id: ${this.epoch}-${seq}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n` };
    (name === "material" ? this.#materials : this.#ring).push(e);
    for (const s of this.#streams) s(e);
  }

  /** event streams attached now */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** whether per-material events are recorded now (a stream is attached, or the last one left < linger ago) */
  get recordingMaterials(): boolean {
    return this.#recordingMaterials;
  }

  get lastEventId(): string {
    return `${this.epoch}-${this.#seq}`;
  }

  /**
   * Attach a stream: `send` gets every event from now on. Returns what to replay first for `lastEventId`
   * (nothing without one) and the detach function.
   */
  attach(send: (e: HubEvent) => void, lastEventId: string | undefined): Resume & { detach: () => void } {
    const resume = lastEventId === undefined ? { events: [] } : this.resume(lastEventId);
    this.#streams.add(send);
    if (this.#lingerTimer) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    if (!this.#recordingMaterials) this.#subscribe(true);
    const detach = () => {
      if (!this.#streams.delete(send) || this.#streams.size > 0 || this.#closed) return;
      this.#lingerTimer = setTimeout(() => {
        this.#lingerTimer = undefined;
        if (this.#streams.size === 0) this.#subscribe(false);
      }, this.#linger);
      this.#lingerTimer.unref();
    };
    return { ...resume, detach };
  }

  /** The events after `lastEventId`, and a reset notice when they may not be all of them. */
  resume(lastEventId: string): Resume {
    const m = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastEventId.trim());
    if (!m || m[1] !== this.epoch) return { events: [], reset: { reason: m ? "the node restarted since that event" : "unknown event id", lastEventId } };
    const after = Number(m[2]);
    if (after > this.#seq) return { events: [], reset: { reason: "event id from the future", lastEventId } };
    const events = mergeBySeq(this.#ring.since(after), this.#materials.since(after));
    let reason: string | undefined;
    if (this.#ring.evictedUpTo > after || this.#materials.evictedUpTo > after) reason = "events after that id are no longer kept";
    // per-material events not recorded at some point after `after`
    // (an open gap has on = Infinity: the core may have emitted material events without a seq being used)
    else if (this.#gaps.some(([off, on]) => on > after && on > off)) reason = "material events were not recorded while no client listened";
    return reason ? { events, reset: { reason, lastEventId } } : { events };
  }

  close(): void {
    this.#closed = true;
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    this.#offCore();
    this.#offChain();
    this.#streams.clear();
  }
}

function mergeBySeq(a: HubEvent[], b: HubEvent[]): HubEvent[] {
  if (!a.length) return b;
  if (!b.length) return a;
  const out: HubEvent[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]!.seq < b[j]!.seq ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
