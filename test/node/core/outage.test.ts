import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { verifyProof } from "@tongban/sdk";
import { startCoreFixture, waitFor, TYPE, JUR, type CoreFixture } from "../helpers/core.js";
import { startProxy, freePort, type Cuttable } from "../helpers/chain.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";

const NOW = Math.floor(Date.now() / 1000);
const req = (): RegisterRequest => ({
  typeCode: TYPE,
  jurisdiction: JUR,
  contentHash: "0x" + randomBytes(32).toString("hex"),
  holderRef: "0x" + randomBytes(32).toString("hex"),
  validFrom: NOW,
});

describe("node core: chain outages and RPC failover", function () {
  let fx: CoreFixture;
  let proxy: Cuttable;
  before(async () => {
    fx = await startCoreFixture();
    proxy = await startProxy(fx.chain.port);
  });
  after(async () => {
    await proxy?.close();
    await fx?.close();
  });

  it("accepts and persists requests while the chain is unreachable, and anchors them once it returns", async () => {
    const core = await fx.newCore({ rpcUrls: [proxy.url], retry: { minMs: 100, maxMs: 500 } });
    const [warm] = await core.service.register([req()]);
    await waitFor(async () => (await core.service.getMaterial(warm!.id)).state === "anchored", 20_000, "warm-up anchor");

    await proxy.cut();
    const acks = await core.service.register(Array.from({ length: 300 }, req));
    expect(acks.every((a) => a.state === "pending")).to.equal(true);
    await new Promise((r) => setTimeout(r, 1500));
    for (const a of acks.slice(0, 20)) expect((await core.service.getMaterial(a.id)).state).to.be.oneOf(["pending", "anchoring"]);
    expect(core.service.stats().chainUp).to.equal(false);
    expect(core.service.stats().anchored).to.equal(1);
    // still accepting during the outage
    const more = await core.service.register(Array.from({ length: 50 }, req));

    await proxy.restore();
    for (const a of [...acks, ...more]) {
      const rec = await waitFor(async () => {
        const r = await core.service.getMaterial(a.id);
        return r.state === "anchored" ? r : undefined;
      }, 30_000, `anchor of ${a.id} after the outage`);
      expect(verifyProof(a.id, rec.anchor!.proof, rec.anchor!.root)).to.equal(true);
    }
    expect(core.service.stats().chainUp).to.equal(true);
    const errs = await core.metrics.registry.getSingleMetricAsString("tongban_rpc_errors_total");
    expect(errs).to.match(/tongban_rpc_errors_total\{url="[^"]+"\} [1-9]/);
    await core.stop();
  });

  it("sheds load with UNAVAILABLE once maxQueue materials wait (bounded memory in a long outage)", async () => {
    const core = await fx.newCore({ rpcUrls: [proxy.url], maxQueue: 100 });
    const [warm] = await core.service.register([req()]);
    await waitFor(async () => (await core.service.getMaterial(warm!.id)).state === "anchored", 20_000, "warm-up anchor");
    await proxy.cut();
    await core.service.register(Array.from({ length: 90 }, req));
    try {
      await core.service.register(Array.from({ length: 20 }, req));
      expect.fail("should be refused");
    } catch (e) {
      expect((e as { code: string }).code).to.equal("UNAVAILABLE");
      expect((e as { details: { waiting: number } }).details.waiting).to.equal(90);
    }
    await core.service.register(Array.from({ length: 10 }, req)); // still fits
    await proxy.restore();
    await waitFor(async () => core.service.stats().anchored === 101, 20_000, "drain after outage");
    await core.service.register(Array.from({ length: 20 }, req)); // room again
    await core.stop();
  });

  it("fails over to the next RPC URL when the first is down", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const core = await fx.newCore({ rpcUrls: [dead, fx.chain.url] });
    const acks = await core.service.register(Array.from({ length: 20 }, req));
    for (const a of acks) await waitFor(async () => (await core.service.getMaterial(a.id)).state === "anchored", 20_000, "anchor via failover");
    const errs = await core.metrics.registry.getSingleMetricAsString("tongban_rpc_errors_total");
    expect(errs).to.contain(dead);
    await core.stop();
  });

  it("keeps its queue across a restart (graceful stop with work pending)", async () => {
    await proxy.cut();
    const cfg = { rpcUrls: [proxy.url], retry: { minMs: 100, maxMs: 300 } };
    const core1 = await fx.newCore(cfg);
    const dataDir = core1.config.dataDir;
    // entitlement is unknown for a fresh data dir and the chain is down: refused with UNAVAILABLE
    try {
      await core1.service.register([req()]);
      expect.fail("should be refused");
    } catch (e) {
      expect((e as { code: string }).code).to.equal("UNAVAILABLE");
    }
    await proxy.restore();
    const [first] = await core1.service.register([req()]); // learns the entitlement
    await proxy.cut();
    const acks = await core1.service.register(Array.from({ length: 100 }, req));
    await new Promise((r) => setTimeout(r, 400));
    await core1.stop();
    await proxy.restore();
    const core2 = await fx.newCore({ ...cfg, dataDir });
    for (const a of [first!, ...acks]) await waitFor(async () => (await core2.service.getMaterial(a.id)).state === "anchored", 20_000, "anchor after restart");
    await core2.stop();
  });
});
