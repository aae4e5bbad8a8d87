/**
 * Prometheus metrics of the node core, in their own Registry (node-api exposes `registry` at /metrics).
 */
import { Registry, Counter, Gauge, Histogram, Summary, collectDefaultMetrics, type Metric } from "prom-client";

/**
 * A label-less histogram that takes a batch of observations in one call ({@link observeMany}): prom-client's
 * `Histogram.observe` costs ~1-2 us per value (label hashing, validation, an object per call) and has no bulk
 * form, and the anchorer observes every material of a confirmed batch (10,000 at a time). Every value is counted
 * (bucket counts, sum, count), exactly as `observe` would; the exposition (`get()`, hence `/metrics`) is the same
 * as prom-client's Histogram's (test/node/core/batch-histogram.test.ts compares both).
 */
export class BatchHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  readonly upperBounds: readonly number[];
  #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(config: { name: string; help: string; buckets: number[]; registers?: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.upperBounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
    this.#counts = new Float64Array(this.upperBounds.length);
    for (const r of config.registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    this.observeMany([value]);
  }

  /** Count `(values[i] - offset) / divisor` for every i (e.g. ms timestamps as seconds of age); all or none. */
  observeMany(values: ArrayLike<number>, offset = 0, divisor = 1): void {
    const bounds = this.upperBounds;
    const nb = bounds.length;
    const add = new Float64Array(nb);
    let sum = 0;
    for (let i = 0; i < values.length; i++) {
      const v = (values[i]! - offset) / divisor;
      if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v} (${this.name}, item ${i})`);
      sum += v;
      let b = 0;
      while (b < nb && v > bounds[b]!) b++;
      if (b < nb) add[b]!++;
    }
    for (let b = 0; b < nb; b++) this.#counts[b]! += add[b]!;
    this.#sum += sum;
    this.#count += values.length;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }

  async get(): Promise<{ name: string; help: string; type: "histogram"; values: { labels: Record<string, string | number>; value: number; metricName: string; exemplar?: null }[]; aggregator: "sum" }> {
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    const values: { labels: Record<string, string | number>; value: number; metricName: string; exemplar?: null }[] = this.upperBounds.map((le, i) => {
      acc += this.#counts[i]!;
      return { value: acc, metricName: bucket, exemplar: null, labels: { le } };
    });
    values.push(
      { value: this.#count, metricName: bucket, exemplar: null, labels: { le: "+Inf" } },
      { value: this.#sum, metricName: `${this.name}_sum`, labels: {} },
      { value: this.#count, metricName: `${this.name}_count`, labels: {} },
    );
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }
}

export interface CoreMetrics {
  registry: Registry;
  /** materials accepted (persisted), by result: new | duplicate */
  registered: Counter<"result">;
  /** materials persisted and not yet anchored */
  queueDepth: Gauge;
  /** status operations not yet done */
  opsQueueDepth: Gauge;
  /** leaves per anchored batch */
  batchSize: Histogram;
  /** seconds from acknowledgement to anchored (confirmed), per material (a batch's materials in one call) */
  ackToAnchored: BatchHistogram;
  /** the same latency as quantiles (p50/p90/p99 over the last 10 minutes) */
  ackToAnchoredQuantiles: Summary;
  /** anchor transactions, by result: confirmed | failed | resent */
  anchors: Counter<"result">;
  /** JSON-RPC errors, by url */
  rpcErrors: Counter<"url">;
  /** intake refusals, by code */
  refused: Counter<"code">;
}

export function createMetrics(opts: { defaultMetrics?: boolean; registry?: Registry } = {}): CoreMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "tongban_" });
  const registers = [registry];
  return {
    registry,
    registered: new Counter({ name: "tongban_materials_registered_total", help: "materials accepted at intake", labelNames: ["result"], registers }),
    queueDepth: new Gauge({ name: "tongban_queue_depth", help: "materials persisted and not yet anchored", registers }),
    opsQueueDepth: new Gauge({ name: "tongban_ops_queue_depth", help: "status operations not yet done", registers }),
    batchSize: new Histogram({
      name: "tongban_batch_size",
      help: "leaves per anchored batch",
      buckets: [1, 10, 100, 1000, 5000, 10_000, 20_000, 50_000, 100_000],
      registers,
    }),
    ackToAnchored: new BatchHistogram({
      name: "tongban_ack_to_anchored_seconds",
      help: "seconds from acknowledgement to confirmed anchor",
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers,
    }),
    ackToAnchoredQuantiles: new Summary({
      name: "tongban_ack_to_anchored_quantile_seconds",
      help: "seconds from acknowledgement to confirmed anchor, quantiles over the last 10 minutes",
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
    }),
    anchors: new Counter({ name: "tongban_anchor_tx_total", help: "anchor transactions by result", labelNames: ["result"], registers }),
    rpcErrors: new Counter({ name: "tongban_rpc_errors_total", help: "JSON-RPC errors by endpoint", labelNames: ["url"], registers }),
    refused: new Counter({ name: "tongban_intake_refused_total", help: "requests refused at intake by error code", labelNames: ["code"], registers }),
  };
}
