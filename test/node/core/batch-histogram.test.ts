/**
 * BatchHistogram (node/src/core/metrics.ts): a batch of observations in one call gives the exposition of
 * prom-client's Histogram fed the same values one by one (bucket counts and count exact, sum to rounding).
 */
import { expect } from "chai";
import { Histogram, Registry } from "prom-client";
import { BatchHistogram, createMetrics } from "../../../node/src/core/metrics.js";

const BUCKETS = [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300];

function lines(text: string, name: string): { key: string; value: number }[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .map((l) => {
      const i = l.lastIndexOf(" ");
      return { key: l.slice(0, i), value: Number(l.slice(i + 1)) };
    });
}

describe("BatchHistogram", () => {
  it("observeMany over batches = prom-client Histogram.observe per value (exposition text)", async () => {
    const [ra, rb] = [new Registry(), new Registry()];
    const ref = new Histogram({ name: "lat_seconds", help: "h", buckets: BUCKETS, registers: [ra] });
    const mine = new BatchHistogram({ name: "lat_seconds", help: "h", buckets: BUCKETS, registers: [rb] });
    const now = 1_764_000_000_000;
    for (let batch = 0; batch < 5; batch++) {
      // ms timestamps: ages 0 .. 400 s, bucket bounds hit exactly (0.1 s, 1 s, 300 s) included
      const at = Array.from({ length: 1000 + batch }, (_, i) => now - (i % 7 === 0 ? [100, 1000, 300_000, 0][i % 4]! : Math.floor(((i * 7919 + batch) % 400_000))));
      mine.observeMany(at, now, -1000);
      for (const t of at) ref.observe((now - t) / 1000);
    }
    mine.observe(0.3);
    ref.observe(0.3);
    const [a, b] = [lines(await ra.metrics(), "lat_seconds"), lines(await rb.metrics(), "lat_seconds")];
    expect(b.map((x) => x.key)).to.deep.equal(a.map((x) => x.key));
    expect(a.length).to.equal(BUCKETS.length + 3);
    for (let i = 0; i < a.length; i++) {
      if (a[i]!.key.endsWith("_sum")) expect(b[i]!.value).to.be.closeTo(a[i]!.value, 1e-9 * a[i]!.value);
      else expect(b[i]!.value, a[i]!.key).to.equal(a[i]!.value);
    }
    expect((await ra.metrics()).split("\n").filter((l) => l.startsWith("#"))).to.deep.equal((await rb.metrics()).split("\n").filter((l) => l.startsWith("#")));
    expect(a.find((x) => x.key === "lat_seconds_count")!.value).to.equal(5 * 1000 + 10 + 1);
  });

  it("a non-finite value refuses the whole batch (nothing counted), like observe's TypeError", async () => {
    const h = new BatchHistogram({ name: "x_seconds", help: "h", buckets: [1, 2] });
    h.observeMany([0.5, 1.5]);
    expect(() => h.observeMany([0.5, Number.NaN, 3])).to.throw(TypeError, /not a valid number/);
    const v = (await h.get()).values.map((x) => x.value);
    expect(v).to.deep.equal([1, 2, 2, 2, 2]);
    h.reset();
    expect((await h.get()).values.map((x) => x.value)).to.deep.equal([0, 0, 0, 0, 0]);
  });

  it("the core's ackToAnchored is one, on the core registry's /metrics", async () => {
    const m = createMetrics();
    m.ackToAnchored.observeMany([1000, 2000], 3000, -1000); // ages 2 s and 1 s
    const text = await m.registry.metrics();
    expect(text).to.include('tongban_ack_to_anchored_seconds_bucket{le="1"} 1').and.to.include("tongban_ack_to_anchored_seconds_count 2");
    expect(text).to.include("# TYPE tongban_ack_to_anchored_seconds histogram");
  });
});
