/**
 * Prometheus metrics of the node core, in their own Registry (node-api exposes `registry` at /metrics).
 */
import { Registry, Counter, Gauge, Histogram, Summary, collectDefaultMetrics } from "prom-client";

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
  /** seconds from acknowledgement to anchored (confirmed), per material */
  ackToAnchored: Histogram;
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
    ackToAnchored: new Histogram({
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
