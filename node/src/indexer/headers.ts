/**
 * Feeds the indexer with the headers of this node's own materials as the core anchors them. Anchored events
 * arrive per material (tens of thousands per second in bulk); they are queued and drained in groups: records
 * read with bounded concurrency, headers written in one LevelDB batch per group.
 */
import type { MaterialService } from "../core/service.js";
import type { Logger } from "pino";
import type { Indexer } from "./indexer.js";

export class HeaderFeed {
  private queue: { leaf: string; root?: string }[] = [];
  private draining: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private failures = 0;

  constructor(
    private readonly service: MaterialService,
    private readonly indexer: Indexer,
    private readonly log?: Logger,
    private readonly group = 1000,
  ) {}

  start(): void {
    this.unsubscribe = this.service.onChange((e) => {
      if (e.kind !== "material" || e.state !== "anchored") return;
      this.queue.push({ leaf: e.leaf, root: e.root });
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    });
  }

  /** Stop listening and finish what is queued. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.idle();
  }

  /** Resolves when the queue is empty. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  get failed(): number {
    return this.failures;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const take = this.queue.splice(0, this.group);
      const items: { leaf: string; header: import("../core/types.js").HeaderJson; root?: string }[] = [];
      for (let i = 0; i < take.length; i += 64) {
        const recs = await Promise.allSettled(take.slice(i, i + 64).map((t) => this.service.getMaterial(t.leaf)));
        recs.forEach((r, k) => {
          const t = take[i + k];
          if (r.status === "fulfilled") items.push({ leaf: r.value.id, header: r.value.header, root: r.value.anchor?.root ?? t.root });
          else {
            this.failures++;
            this.log?.warn({ leaf: t.leaf, err: String((r.reason as Error)?.message ?? r.reason).slice(0, 200) }, "cannot read an anchored material for the index");
          }
        });
      }
      try {
        await this.indexer.addHeaders(items);
      } catch (e) {
        this.failures += items.length;
        this.log?.warn({ count: items.length, err: String((e as Error)?.message ?? e).slice(0, 200) }, "cannot index headers");
      }
    }
  }
}
