/**
 * The ops account: keystores with and without it (backward compatible), adding one in place, the config
 * sections of the exchange (validated, env overrides), a node refusing to start its use log without an ops
 * account, and the serialised sender: concurrent sends get consecutive nonces, a send that would revert
 * consumes no nonce (an ethers NonceManager would leave a gap), a transaction sent behind its back heals.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContractFactory, JsonRpcProvider, Wallet } from "ethers";
import { addOpsKey, createKeystore, loadKeystore, LIGHT_SCRYPT, KeystoreError } from "../../../node/src/core/keystore.js";
import { SerialSigner } from "../../../node/src/core/ops-signer.js";
import { exchangeConfig, startNode } from "../../../node/src/main.js";
import { loadConfig, type NodeConfig } from "../../../node/src/core/config.js";
import { devWallet, fund, startChain, type Chain } from "../helpers/chain.js";

describe("ops account", function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), "tongban-ops-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("keystore", () => {
    it("new keystores hold an ops account distinct from the signing account; both survive a reload", async () => {
      const p = join(dir, "ks1.json");
      const k = await createKeystore(p, "pw", { scrypt: LIGHT_SCRYPT });
      expect(k.ops).to.not.equal(undefined);
      expect(k.ops!.address).to.not.equal(k.wallet.address);
      const file = JSON.parse(readFileSync(p, "utf8"));
      expect(file.opsAddress).to.equal(k.ops!.address);
      expect(readFileSync(p, "utf8")).to.not.contain(k.ops!.privateKey.slice(2));
      const l = await loadKeystore(p, "pw");
      expect(l.ops!.privateKey).to.equal(k.ops!.privateKey);
      expect(l.wallet.privateKey).to.equal(k.wallet.privateKey);
      expect(l.storageKey.equals(k.storageKey)).to.equal(true);
    });

    it("a keystore without an ops account (as written before) still loads; addOpsKey adds one in place, once", async () => {
      const p = join(dir, "ks2.json");
      const k = await createKeystore(p, "pw", { scrypt: LIGHT_SCRYPT, ops: false });
      expect(k.ops).to.equal(undefined);
      expect(JSON.parse(readFileSync(p, "utf8")).opsAddress).to.equal(undefined);
      expect((await loadKeystore(p, "pw")).ops).to.equal(undefined);
      const added = await addOpsKey(p, "pw");
      const l = await loadKeystore(p, "pw");
      expect(l.ops!.address).to.equal(added.ops!.address);
      expect(l.wallet.address).to.equal(k.wallet.address);
      expect(l.holderKey.equals(k.holderKey)).to.equal(true);
      let err: unknown;
      try {
        await addOpsKey(p, "pw");
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(KeystoreError);
      expect((err as Error).message).to.match(/already has an ops account/);
      try {
        await loadKeystore(p, "wrong");
        expect.fail("loaded with a wrong password");
      } catch (e) {
        expect(e).to.be.instanceOf(KeystoreError);
      }
    });

    it("an ops key that does not match opsAddress is refused", async () => {
      const p = join(dir, "ks3.json");
      await createKeystore(p, "pw", { scrypt: LIGHT_SCRYPT });
      const f = JSON.parse(readFileSync(p, "utf8"));
      f.opsAddress = Wallet.createRandom().address;
      writeFileSync(p, JSON.stringify(f));
      try {
        await loadKeystore(p, "pw");
        expect.fail("loaded");
      } catch (e) {
        expect((e as Error).message).to.match(/does not match opsAddress/);
      }
    });
  });

  describe("config", () => {
    const base = { rpcUrls: ["http://127.0.0.1:1"], ledgerAddress: "0x" + "11".repeat(20), memberId: "11310104002418330F" } as NodeConfig;
    const field = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as { details?: { field?: string } }).details?.field;
      }
      return undefined;
    };
    it("validates the authorisations, p2p and audit sections, naming the field", () => {
      expect(field(() => exchangeConfig({ ...base, p2p: {} } as never, {}))).to.equal("p2p");
      const auth = { address: "0x" + "22".repeat(20) };
      expect(field(() => exchangeConfig({ ...base, authorisations: { address: "0x12" } } as never, {}))).to.equal("authorisations.address");
      expect(field(() => exchangeConfig({ ...base, authorisations: auth, p2p: { listen: ["tcp:1"] } } as never, {}))).to.equal("p2p.listen");
      expect(field(() => exchangeConfig({ ...base, authorisations: auth, p2p: { publish: "yes" } } as never, {}))).to.equal("p2p.publish");
      expect(field(() => exchangeConfig({ ...base, authorisations: auth, audit: { anchorEvery: 0 } } as never, {}))).to.equal("audit.anchorEvery");
      const ok = exchangeConfig({ ...base, authorisations: auth, p2p: {} } as never, {});
      expect(ok.p2p).to.deep.equal({});
      expect(exchangeConfig(base, {}).authorisations).to.equal(undefined);
    });
    it("env overrides", () => {
      const c = exchangeConfig(base, {
        TONGBAN_AUTHORISATIONS: "0x" + "33".repeat(20),
        TONGBAN_P2P_LISTEN: "/ip4/127.0.0.1/tcp/7201, /ip4/127.0.0.1/tcp/7301",
        TONGBAN_P2P_PUBLISH: "0",
        TONGBAN_AUDIT_ANCHOR_INTERVAL_MS: "250",
      });
      expect(c.authorisations!.address).to.equal("0x" + "33".repeat(20));
      expect(c.p2p).to.deep.equal({ listen: ["/ip4/127.0.0.1/tcp/7201", "/ip4/127.0.0.1/tcp/7301"], publish: false });
      expect(c.audit.anchorIntervalMs).to.equal(250);
    });
    it("a node with an authorisations section and a keystore without an ops account refuses to start, saying why", async () => {
      const p = join(dir, "old-ks.json");
      await createKeystore(p, "pw", { scrypt: LIGHT_SCRYPT, ops: false });
      const cfg = loadConfig({ env: {}, overrides: { ...base, dataDir: join(dir, "data-old"), keystorePath: p, keystorePassword: "pw" } });
      try {
        await startNode({ ...cfg, authorisations: { address: "0x" + "22".repeat(20) } } as NodeConfig, { env: {} });
        expect.fail("started");
      } catch (e) {
        expect((e as Error).message).to.match(/needs an ops account in the keystore/);
        expect((e as { details?: { field?: string } }).details?.field).to.equal("keystorePath");
      }
    });
  });

  describe("SerialSigner (one sender for the ops account)", () => {
    let chain: Chain;
    let provider: JsonRpcProvider;
    before(async () => {
      chain = await startChain();
      provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, staticNetwork: true, polling: true, pollingInterval: 100 });
    });
    after(async () => {
      provider?.destroy();
      await chain?.stop();
    });

    it("concurrent sends get consecutive nonces; a send that would revert consumes none; an outside send heals", async () => {
      const w = new Wallet(Wallet.createRandom().privateKey);
      await fund(chain, w.address, 10n, 1);
      const s = new SerialSigner(w, provider);
      const to = devWallet(9).address;
      // a contract call that reverts at gas estimation: a plain transfer to a contract without receive()
      // minimal contract: runtime code = REVERT (0x60006000fd), deployed by init code that returns it
      const init = "0x6460006000fd6000526005601bf3";
      const factory = new ContractFactory([], init, new Wallet(devWallet(3).privateKey, provider));
      const reverter = await (await factory.deploy()).waitForDeployment();
      const reverting = s.sendTransaction({ to: await reverter.getAddress(), data: "0x01" });
      const sends = Array.from({ length: 6 }, (_, i) => s.sendTransaction({ to, value: BigInt(i + 1) }));
      const [bad, ...good] = await Promise.allSettled([reverting, ...sends]);
      expect(bad!.status).to.equal("rejected");
      const txs = good.map((g) => (g as PromiseFulfilledResult<Awaited<(typeof sends)[0]>>).value);
      expect(txs.map((t) => t.nonce)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      await Promise.all(txs.map((t) => t.wait()));
      // someone else sends with the same account: the next send fails once at most, then heals
      const outside = await new Wallet(w.privateKey, provider).sendTransaction({ to, value: 1n, nonce: 6 });
      await outside.wait();
      let next;
      try {
        next = await s.sendTransaction({ to, value: 7n });
      } catch {
        next = await s.sendTransaction({ to, value: 7n });
      }
      expect(next.nonce).to.equal(7);
      await next.wait();
      expect(await provider.getTransactionCount(w.address, "latest")).to.equal(8);
    });
  });
});
