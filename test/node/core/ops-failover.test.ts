/**
 * The ops account's sender (node/src/core/ops-signer.ts) fails over between `chain.rpcUrls` like the anchorer,
 * through the anchorer's own RpcClient (core/chain.ts FailoverProvider). Real hardhat node process:
 *  - the first URL is down from the start: every send, estimate, nonce read and receipt goes to the second;
 *  - the first URL goes down between sends (a TCP proxy cut): the sends that follow, and `tx.wait()` on the
 *    ones already sent, carry on over the second URL, with consecutive nonces and no nonce error;
 *  - a revert is still decoded by name through the failover (the error data reaches ethers as it is).
 */
import { expect } from "chai";
import { Contract, Wallet, parseEther } from "ethers";
import { startChain, deployLedger, fund, freePort, startProxy, type Chain, type Cuttable } from "../helpers/chain.js";
import { createOpsSender } from "../../../node/src/core/ops-signer.js";
import { createMetrics } from "../../../node/src/core/metrics.js";
import { ledgerInterface, LEDGER_ABI } from "../../../node/src/core/chain.js";

async function rpcErrorsFor(metrics: ReturnType<typeof createMetrics>, url: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith("tongban_rpc_errors_total") && l.includes(`"${url}"`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("node core: the ops sender fails over between chain.rpcUrls", function () {
  this.timeout(120_000);
  let chain: Chain;
  let ledgerAddress: string;
  let proxy: Cuttable;
  const senders: { provider: { destroy(): void } }[] = [];
  before(async () => {
    chain = await startChain();
    ({ address: ledgerAddress } = await deployLedger(chain));
    proxy = await startProxy(Number(new URL(chain.url).port));
  });
  after(async () => {
    for (const s of senders) s.provider.destroy();
    await proxy?.close();
    await chain?.stop();
  });

  it("with the first URL down from the start, sends and receipts go through the second", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const ops = Wallet.createRandom();
    await fund(chain, ops.address);
    const metrics = createMetrics();
    const s = await createOpsSender(new Wallet(ops.privateKey), [dead, chain.url], { metrics, timeoutMs: 2000 });
    senders.push(s);
    const to = Wallet.createRandom().address;
    const sent = await Promise.all([1, 2, 3, 4, 5].map((i) => s.signer.sendTransaction({ to, value: parseEther(String(i)) / 1000n })));
    const receipts = await Promise.all(sent.map((t) => t.wait()));
    expect(receipts.map((r) => r!.status)).to.deep.equal([1, 1, 1, 1, 1]);
    expect(sent.map((t) => t.nonce)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(await chain.provider.getBalance(to)).to.equal(parseEther("0.015"));
    expect(s.signer.sent).to.equal(5);
    expect(await rpcErrorsFor(metrics, dead), "the dead URL was tried and counted").to.be.greaterThan(0);
    expect(s.rpc.url, "the client now prefers the live URL").to.equal(chain.url);
  });

  it("when the first URL goes down between sends, the next sends and the pending receipts carry on over the second", async () => {
    const ops = Wallet.createRandom();
    await fund(chain, ops.address);
    const s = await createOpsSender(new Wallet(ops.privateKey), [proxy.url, chain.url], { timeoutMs: 2000 });
    senders.push(s);
    const to = Wallet.createRandom().address;
    const first = await Promise.all([0, 1, 2].map(() => s.signer.sendTransaction({ to, value: 1n })));
    expect(s.rpc.url, "first URL in use while it is up").to.equal(proxy.url);
    await proxy.cut();
    const second = await Promise.all([0, 1, 2].map(() => s.signer.sendTransaction({ to, value: 1n })));
    const receipts = await Promise.all([...first, ...second].map((t) => t.wait()));
    expect(receipts.every((r) => r!.status === 1)).to.equal(true);
    expect([...first, ...second].map((t) => t.nonce)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(await chain.provider.getBalance(to)).to.equal(6n);
    expect(s.rpc.url).to.equal(chain.url);
    await proxy.restore();
  });

  it("a revert through the failover is decoded by name (no nonce used)", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const ops = Wallet.createRandom();
    await fund(chain, ops.address);
    const s = await createOpsSender(new Wallet(ops.privateKey), [dead, chain.url], { timeoutMs: 2000 });
    senders.push(s);
    const ledger = new Contract(ledgerAddress, LEDGER_ABI, s.signer);
    let err: unknown;
    try {
      await ledger.getFunction("anchor")("0x" + "11".repeat(32), "0x" + "22".repeat(32), 310104, 1);
    } catch (e) {
      err = e;
    }
    const data = (err as { data?: string })?.data;
    expect(data, `revert data of ${String(err)}`).to.be.a("string");
    expect(ledgerInterface.parseError(data!)!.name).to.equal("AccountNotMember");
    // the failed estimate used no nonce: the next send gets nonce 0
    const t = await s.signer.sendTransaction({ to: ops.address, value: 0n });
    expect(t.nonce).to.equal(0);
    expect((await t.wait())!.status).to.equal(1);
  });
});
