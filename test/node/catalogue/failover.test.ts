/**
 * The catalogue's chain reads (views and the event follower) fail over between `chain.rpcUrls` like the anchorer
 * and the ops sender: the service is given core/chain.ts `connectFailoverProvider(new RpcClient(urls))`, as
 * node/src/main.ts wires it. Real hardhat node process, real LevelDB:
 *  - the first URL is down from the start: a read-only catalogue (views through its provider) indexes the
 *    entries another member publishes and answers canUse over the second URL;
 *  - the first URL goes down mid-run (a TCP proxy cut while the poll timer runs): the follower keeps indexing
 *    over the second URL; a catalogue on the first URL only (the old wiring) stops (control: the cut is real);
 *    with every URL down, views and sync fail with the typed ChainUnavailableError (UNAVAILABLE);
 *  - the member node PROCESS with `rpcUrls: [proxy, chain]`: after the cut it still publishes (ops sender) and
 *    its index still follows the chain (search over the API finds the entry published after the cut).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, encodeBytes32String, hexlify, randomBytes, type Provider } from "ethers";
import { CatalogueClient } from "@tongban/sdk";
import { devWallet, freePort, startChain, startProxy, type Chain, type Cuttable } from "../helpers/chain.js";
import { deployCatalogue, licenceEntry } from "../helpers/catalogue.js";
import { waitFor } from "../helpers/core.js";
import { apiCall, memberConfig, prepareMemberKeys, startMemberProcess } from "../helpers/members.js";
import type { NodeProcess } from "../helpers/node-process.js";
import { CatalogueService, openCatalogueDb, type CatalogueDB } from "../../../node/src/catalogue/index.js";
import { ChainUnavailableError, RpcClient, connectFailoverProvider } from "../../../node/src/core/chain.js";
import { createMetrics } from "../../../node/src/core/metrics.js";
import { deployConsortium } from "../../../node/src/consortium/deploy.js";
import type { ConsortiumSpec } from "../../../node/src/consortium/spec.js";

const PUDONG = "11310115002418321F";
const CITY = "11310000002418210Q";

describe("catalogue: chain reads and the event follower fail over between chain.rpcUrls", function () {
  this.timeout(300_000);
  let chain: Chain;
  let proxy: Cuttable;
  let address: string;
  let startBlock: number;
  let writer: CatalogueService;
  const w = { pudong: devWallet(2), city: devWallet(4) };
  const dirs: string[] = [];
  const dbs: CatalogueDB[] = [];
  const services: CatalogueService[] = [];
  const providers: { destroy(): void }[] = [];

  async function service(provider: Provider, opts: { signer?: Wallet; pollMs?: number } = {}): Promise<CatalogueService> {
    const dir = mkdtempSync(join(tmpdir(), "tongban-cat-failover-"));
    dirs.push(dir);
    const db = await openCatalogueDb(dir);
    dbs.push(db);
    const svc = new CatalogueService(
      { provider, address, db, memberId: encodeBytes32String(PUDONG), ...(opts.signer ? { signer: opts.signer } : {}) },
      { startBlock, pollMs: opts.pollMs ?? 0 },
    );
    services.push(svc);
    await svc.start();
    return svc;
  }
  const failover = async (urls: string[], metrics?: ReturnType<typeof createMetrics>) => {
    const rpc = new RpcClient(urls, { timeoutMs: 2000, ...(metrics ? { metrics } : {}) });
    const provider = await connectFailoverProvider(rpc);
    providers.push(provider);
    return { rpc, provider };
  };
  /** the writer (direct to the chain) publishes entry R310115-000n; resolves with its version hash */
  const publish = async (n: number) =>
    (await writer.publish(licenceEntry({ resourceCode: `R310115-000${n}`, title: `资源 ${n}`, dataItems: [`DE000${n}`], fields: [{ name: "f", label: "f", type: "string", required: true, dataItem: `DE000${n}` }] }))).versionHash;

  before(async () => {
    chain = await startChain();
    proxy = await startProxy(Number(new URL(chain.url).port));
    ({ address, startBlock } = await deployCatalogue(chain, [
      { uscc: PUDONG, jurisdiction: 310115, accounts: [w.pudong.address] },
      { uscc: CITY, jurisdiction: 310000, accounts: [w.city.address], roles: [2] },
    ]));
    writer = await service(chain.provider, { signer: new Wallet(w.pudong.privateKey, chain.provider) });
    await writer.registerDuty("D-MKT-01", "市场主体登记管理");
    await writer.registerSystem("SYS-PD-LICENCE", "浦东新区证照库");
  });

  after(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    for (const p of providers) p.destroy();
    for (const db of dbs) await db.close().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await proxy?.close();
    await chain?.stop();
  });

  it("with the first URL down from the start, a read-only catalogue indexes and answers views over the second", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const metrics = createMetrics();
    const { rpc, provider } = await failover([dead, chain.url], metrics);
    const reader = await service(provider); // no signer: views go through the provider
    const versionHash = await publish(1);
    const code = "R310115-0001";
    await reader.sync();
    const e = await reader.getEntry(code);
    expect(e?.code, "indexed over the second URL").to.equal(code);
    expect(e?.versionHash).to.equal(versionHash);
    // a view through the failover gives the chain's answer (an unknown scenario), as a direct read does
    const scenario = hexlify(randomBytes(32));
    const direct = await new CatalogueClient(address, chain.provider).canUse(scenario, code);
    expect(direct.ok).to.equal(false);
    expect(await reader.canUse(scenario, code)).to.deep.equal(direct);
    const errors = await metrics.registry.getSingleMetricAsString("tongban_rpc_errors_total");
    expect(errors, "the dead URL was tried and counted").to.match(new RegExp(`url="${dead.replace(/[.]/g, "\\.")}"\\} [1-9]`));
    expect(rpc.url, "the client now prefers the live URL").to.equal(chain.url);
  });

  it("when the first URL goes down mid-run, the follower keeps indexing over the second (a first-URL-only one stops)", async () => {
    const { rpc, provider } = await failover([proxy.url, chain.url]);
    const follower = await service(provider, { pollMs: 100 });
    const firstOnly = new JsonRpcProvider(proxy.url, undefined, { cacheTimeout: -1, staticNetwork: true });
    providers.push(firstOnly);
    const control = await service(firstOnly);
    await publish(2);
    await waitFor(async () => (await follower.getEntry("R310115-0002")) !== undefined, 30_000, "entry 2 indexed");
    await control.sync();
    expect(await control.getEntry("R310115-0002"), "the control reads through the proxy while it is up").to.not.equal(undefined);
    expect(rpc.url, "first URL in use while it is up").to.equal(proxy.url);
    await proxy.cut();
    try {
      const versionHash = await publish(3);
      const e3 = await waitFor(async () => follower.getEntry("R310115-0003"), 30_000, "entry 3 indexed after the cut");
      expect(e3.versionHash).to.equal(versionHash);
      expect(rpc.url, "moved to the second URL").to.equal(chain.url);
      // views too
      const scenario = hexlify(randomBytes(32));
      expect(await follower.canUse(scenario, "R310115-0003")).to.deep.equal(await writer.canUse(scenario, "R310115-0003"));
      // the old wiring: one URL, cut -> the follower cannot read the chain
      let err: unknown;
      await control.sync().catch((e) => { err = e; });
      expect(err, "a first-URL-only catalogue fails once the first URL is down").to.not.equal(undefined);
      expect(await control.getEntry("R310115-0003")).to.equal(undefined);
      // every URL down: reads fail with the typed UNAVAILABLE error (the API answers 503), not a raw network error
      const { provider: noneUp } = await failover([proxy.url]);
      const down = await service(noneUp);
      for (const e of [await down.canUse(scenario, "R310115-0003").catch((x) => x), await down.sync().catch((x) => x)]) {
        expect(e, String(e)).to.be.instanceOf(ChainUnavailableError);
        expect((e as ChainUnavailableError).code).to.equal("UNAVAILABLE");
      }
    } finally {
      await proxy.restore();
    }
  });

  describe("the member node process (main.ts) with rpcUrls [proxy, chain]", () => {
    // a consortium of its own (ledger, catalogue) on the same chain, behind the same proxy
    let node: NodeProcess | undefined;
    const root = mkdtempSync(join(tmpdir(), "tongban-cat-failover-node-"));
    after(async () => {
      await node?.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    });

    it("after the first URL went down it still publishes and its index still follows the chain", async () => {
      const spec: ConsortiumSpec = {
        jurisdictions: [{ code: 310000, parent: 0 }, { code: 310115, parent: 310000 }],
        materialTypes: [{ code: "BL" }],
        members: [
          { key: "p", uscc: PUDONG, jurisdiction: 310115, roles: ["GOVERNOR"] },
          { key: "k", uscc: CITY, jurisdiction: 310000, roles: ["CATALOGUER"] },
        ],
        governance: { threshold: 1 },
      };
      const keys = await prepareMemberKeys(chain, root, ["P"] as const);
      const cat = new Wallet(devWallet(7).privateKey, chain.provider);
      const deployed = await deployConsortium(new Wallet(devWallet(0).privateKey, chain.provider), spec, { accounts: { ...keys.accounts, k: [cat.address] } });
      const cataloguer = new CatalogueClient(deployed.catalogueAddress, cat);
      const cfg = memberConfig({ chain: chain, deployed, memberId: PUDONG, key: keys.P, port: await freePort(), extra: { rpcUrls: [proxy.url, chain.url] } });
      node = await startMemberProcess(root, "P", cfg, 150_000);
      const api = (method: string, path: string, body?: unknown) => apiCall(node!.url, keys.P.token, method, path, body);
      // the Cataloguer's publishEntry (sent directly to the chain) reaches the node only through its follower
      const published = (code: string) =>
        waitFor(async () => {
          const r = await api("GET", `/v1/catalogue/entries/${code}`);
          return r.status === 200 && r.body.publishedVersion === 1;
        }, 60_000, `${code} published in the node's index`);
      for (const [path, body] of [
        ["/v1/catalogue/duties", { code: "D-MKT-01", description: "市场主体登记管理" }],
        ["/v1/catalogue/systems", { code: "SYS-PD-LICENCE", description: "浦东新区证照库" }],
        ["/v1/catalogue/entries", licenceEntry()],
      ] as const) {
        const r = await api("POST", path, body);
        expect(r.status, `${path}: ${r.text}`).to.equal(201);
      }
      await cataloguer.publishEntry("R310115-0001", 1);
      await published("R310115-0001");
      await proxy.cut();
      const r = await api("POST", "/v1/catalogue/entries", licenceEntry({ resourceCode: "R310115-0002", title: "切换后", dataItems: ["DE0002"], fields: [{ name: "f", label: "f", type: "string", required: true, dataItem: "DE0002" }] }));
      expect(r.status, `publish after the cut: ${r.text}`).to.equal(201);
      await cataloguer.publishEntry("R310115-0002", 1);
      await published("R310115-0002");
      await proxy.restore();
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      expect(metrics, "RPC errors counted for the cut URL").to.match(new RegExp(`tongban_rpc_errors_total\\{url="${proxy.url.replace(/[.]/g, "\\.")}"\\} [1-9]`));
    });
  });
});
