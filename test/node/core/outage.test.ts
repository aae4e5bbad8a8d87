import { expect } from "chai";
import { verifyProof } from "@tongban/sdk";
import { useCoreFixture, waitFor, waitForMaterial, warmUp, newRequests, newRequest } from "../helpers/core.js";
import { freePort } from "../helpers/chain.js";

describe("node core: chain outages and RPC failover", function () {
  const fx = useCoreFixture({ proxy: true });

  it("accepts and persists requests while the chain is unreachable, and anchors them once it returns", async () => {
    const core = await fx.newCore({ rpcUrls: [fx.proxy.url], retry: { minMs: 100, maxMs: 500 } });
    await warmUp(core);

    await fx.proxy.cut();
    const acks = await core.service.register(newRequests(300));
    expect(acks.every((a) => a.state === "pending")).to.equal(true);
    // the anchorer has tried the cut chain (a condition, not a fixed 1.5 s: CI boxes are loaded)
    await waitFor(async () => core.service.stats().chainUp === false, 30_000, "the anchorer to see the chain down");
    for (const a of acks.slice(0, 20)) expect((await core.service.getMaterial(a.id)).state).to.be.oneOf(["pending", "anchoring"]);
    expect(core.service.stats().anchored).to.equal(1);
    // still accepting during the outage
    const more = await core.service.register(newRequests(50));

    await fx.proxy.restore();
    for (const a of [...acks, ...more]) {
      const rec = await waitForMaterial(core, a.id, { timeoutMs: 30_000, what: `anchor of ${a.id} after the outage` });
      expect(verifyProof(a.id, rec.anchor!.proof, rec.anchor!.root)).to.equal(true);
    }
    expect(core.service.stats().chainUp).to.equal(true);
    const errs = await core.metrics.registry.getSingleMetricAsString("tongban_rpc_errors_total");
    expect(errs).to.match(/tongban_rpc_errors_total\{url="[^"]+"\} [1-9]/);
    await core.stop();
  });

  it("sheds load with UNAVAILABLE once maxQueue materials wait (bounded memory in a long outage)", async () => {
    const core = await fx.newCore({ rpcUrls: [fx.proxy.url], maxQueue: 100 });
    await warmUp(core);
    await fx.proxy.cut();
    await core.service.register(newRequests(90));
    try {
      await core.service.register(newRequests(20));
      expect.fail("should be refused");
    } catch (e) {
      expect((e as { code: string }).code).to.equal("UNAVAILABLE");
      expect((e as { details: { waiting: number } }).details.waiting).to.equal(90);
    }
    await core.service.register(newRequests(10)); // still fits
    await fx.proxy.restore();
    await waitFor(async () => core.service.stats().anchored === 101, 20_000, "drain after outage");
    await core.service.register(newRequests(20)); // room again
    await core.stop();
  });

  it("fails over to the next RPC URL when the first is down", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const core = await fx.newCore({ rpcUrls: [dead, fx.chain.url] });
    const acks = await core.service.register(newRequests(20));
    for (const a of acks) await waitForMaterial(core, a.id, { what: "anchor via failover" });
    const errs = await core.metrics.registry.getSingleMetricAsString("tongban_rpc_errors_total");
    expect(errs).to.contain(dead);
    await core.stop();
  });

  it("keeps its queue across a restart (graceful stop with work pending)", async () => {
    await fx.proxy.cut();
    const cfg = { rpcUrls: [fx.proxy.url], retry: { minMs: 100, maxMs: 300 } };
    const core1 = await fx.newCore(cfg);
    const dataDir = core1.config.dataDir;
    // entitlement is unknown for a fresh data dir and the chain is down: refused with UNAVAILABLE
    try {
      await core1.service.register([newRequest()]);
      expect.fail("should be refused");
    } catch (e) {
      expect((e as { code: string }).code).to.equal("UNAVAILABLE");
    }
    await fx.proxy.restore();
    const [first] = await core1.service.register([newRequest()]); // learns the entitlement
    await fx.proxy.cut();
    const acks = await core1.service.register(newRequests(100));
    await new Promise((r) => setTimeout(r, 400));
    await core1.stop();
    await fx.proxy.restore();
    const core2 = await fx.newCore({ ...cfg, dataDir });
    for (const a of [first!, ...acks]) await waitForMaterial(core2, a.id, { what: "anchor after restart" });
    await core2.stop();
  });
});
