/**
 * Feeds the indexer with the headers of this node's own materials. Chain events carry roots, not headers;
 * the core knows the headers of its batches (`getBatch(root, { headerBytes: true })`, 320-byte ABI headers).
 *
 * Triggers: the core's `batch confirmed` event, and the indexer's `Anchored` event for a root of this member.
 * Each root is fetched once (the indexer marks it done in the same step as its headers). At start, roots of this
 * member that the indexer saw anchored but whose headers were never written (a crash in between) are fetched
 * again, so no anchored material stays out of holder/issuer/type queries.
 *
 * A core without `getBatch` (test doubles) is fed per material from `material anchored` events instead.
 */
import type { MaterialService } from "../core/service.js";
import type { HeaderJson } from "../core/types.js";
import type { Logger } from "pino";
import type { Indexer } from "./indexer.js";

export class HeaderFeed {
  private roots: string[] = [];
  private leaves: { leaf: string; root?: string }[] = [];
  private queued = new Set<string>();
  private draining: Promise<void> | undefined;
  private unsubscribe: (() => void)[] = [];
  private failures = 0;
  private running = false;

  constructor(
    private readonly service: MaterialService,
    private readonly indexer: Indexer,
    private readonly log?: Logger,
  ) {}

  /** Subscribe, and queue the roots left without headers by an earlier run. */
  async start(): Promise<void> {
    this.running = true;
    const byBatch = typeof this.service.getBatch === "function";
    this.unsubscribe.push(
      this.service.onChange((e) => {
        if (byBatch && e.kind === "batch" && e.state === "confirmed") this.queueRoot(e.root);
        if (!byBatch && e.kind === "material" && e.state === "anchored") {
          this.leaves.push({ leaf: e.leaf, root: e.root });
          this.kick();
        }
      }, { materials: !byBatch }), // by batch: no per-material events (3 per material, 20,000 materials/s)
    );
    if (byBatch) {
      this.unsubscribe.push(
        this.indexer.onEvent((e) => {
          const own = this.indexer.opts.ownMemberId;
          if (e.event === "Anchored" && own && e.args.issuer === own) this.queueRoot(String(e.args.root));
        }),
      );
      for (const root of await this.indexer.ownRootsWithoutHeaders(100_000)) this.queueRoot(root);
    }
  }

  /** Stop listening and finish what is queued. */
  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    await this.idle();
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Roots or materials that could not be indexed (logged). */
  get failed(): number {
    return this.failures;
  }

  private queueRoot(root: string) {
    const r = root.toLowerCase();
    if (this.queued.has(r)) return;
    this.queued.add(r);
    this.roots.push(r);
    this.kick();
  }

  private kick() {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.running && (this.roots.length || this.leaves.length)) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.roots.length) {
      const root = this.roots.shift()!;
      try {
        if (await this.indexer.batchHeadersDone(root)) continue;
        // headerBytes: the 320-byte ABI headers (no hex fields or JSON per material); a core that only
        // answers `headers` (test doubles, older cores) is indexed from those
        const b = await this.service.getBatch!(root, { headers: false, headerBytes: true });
        if (b.state !== "confirmed") continue; // its confirmed event will queue it again
        if (b.headerBytes) await this.indexer.addBatchHeaderBytes(root, b.leaves, b.headerBytes);
        else {
          if (!b.headers) b.headers = (await this.service.getBatch!(root, { headers: true })).headers ?? [];
          const headers = b.headers;
          await this.indexer.addBatchHeaders(root, b.leaves.map((leaf, i) => ({ leaf, header: headers[i] })));
        }
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "NOT_FOUND") {
          // anchored by this member from another data directory: nothing this node can add
          await this.indexer.addBatchHeaders(root, [], true).catch(() => {});
          this.log?.warn({ root }, "own root anchored on chain but unknown to this node's store");
        } else {
          this.failures++;
          this.log?.warn({ root, err: String((e as Error)?.message ?? e).slice(0, 200) }, "cannot index the headers of a batch");
        }
      } finally {
        this.queued.delete(root);
      }
    }
    while (this.leaves.length) {
      const take = this.leaves.splice(0, 1000);
      const items: { leaf: string; header: HeaderJson; root?: string }[] = [];
      for (let i = 0; i < take.length; i += 64) {
        const recs = await Promise.allSettled(take.slice(i, i + 64).map((t) => this.service.getMaterial(t.leaf)));
        recs.forEach((r, k) => {
          if (r.status === "fulfilled") items.push({ leaf: r.value.id, header: r.value.header, root: r.value.anchor?.root ?? take[i + k].root });
          else this.failures++;
        });
      }
      await this.indexer.addHeaders(items).catch((e) => {
        this.failures += items.length;
        this.log?.warn({ count: items.length, err: String((e as Error)?.message ?? e).slice(0, 200) }, "cannot index headers");
      });
    }
  }
}
