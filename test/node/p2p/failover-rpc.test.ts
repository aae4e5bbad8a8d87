/**
 * FailoverChainRpc (node/src/p2p/failover-rpc.ts), the p2p views' chain client over every RPC URL, against a
 * real `hardhat node` process: a dead first URL is skipped and the live one becomes current (sticky), calls
 * batched in one turn all fail over together, the chain's own error answer (a revert) is final and never
 * retried on another URL, and with every URL dead the error is UNREACHABLE naming the count. The node process
 * wiring is tested in test/node/main/p2p-failover.test.ts.
 */
import { expect } from "chai";
import { contracts } from "@tongban/sdk";
import { deployLedger, freePort, startChain, type Chain } from "../helpers/chain.js";
import { ChainCallError } from "../../../node/src/p2p/chain.js";
import { FailoverChainRpc } from "../../../node/src/p2p/failover-rpc.js";

describe("p2p FailoverChainRpc", function () {
  this.timeout(120_000);
  let chain: Chain;
  let ledger: string;
  let dead: string;
  const iface = contracts.TongbanLedger__factory.createInterface();
  before(async () => {
    chain = await startChain();
    ({ address: ledger } = await deployLedger(chain));
    dead = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  });
  after(async () => {
    await chain?.stop();
  });

  it("skips a dead first URL, stays on the live one, and fails over a whole batch together", async () => {
    const failed: string[] = [];
    const warned: unknown[] = [];
    const rpc = new FailoverChainRpc([dead, chain.url], { timeoutMs: 2000, onUrlError: (u) => failed.push(u), log: { warn: (o) => warned.push(o) } });
    expect(rpc.currentUrl).to.equal(dead);
    expect(await rpc.chainId()).to.equal(31337);
    expect(rpc.currentUrl).to.equal(chain.url);
    expect(failed).to.deep.equal([dead]);
    expect(warned).to.have.length(1);
    const data = iface.encodeFunctionData("memberCount");
    const answers = await Promise.all(Array.from({ length: 5 }, () => rpc.call(ledger, data)));
    for (const a of answers) expect(iface.decodeFunctionResult("memberCount", a)[0]).to.equal(0n);
    expect(failed, "sticky: the dead URL is not tried again").to.deep.equal([dead]);
    expect(await rpc.latestBlockHash()).to.match(/^0x[0-9a-f]{64}$/);

    // a whole batch sent to a URL that dies: every call of it is answered by the next URL
    const rpc2 = new FailoverChainRpc([dead, chain.url], { timeoutMs: 2000 });
    const many = await Promise.all(Array.from({ length: 8 }, () => rpc2.call(ledger, data)));
    expect(many).to.have.length(8);
    expect(rpc2.currentUrl).to.equal(chain.url);
  });

  it("a revert is the chain's answer: raised as RPC_ERROR, never retried on another URL", async () => {
    const failed: string[] = [];
    const rpc = new FailoverChainRpc([chain.url, dead], { timeoutMs: 2000, onUrlError: (u) => failed.push(u) });
    const err = await rpc.call(ledger, "0xdeadbeef").then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ChainCallError);
    expect((err as ChainCallError).reason).to.equal("RPC_ERROR");
    expect(failed).to.deep.equal([]);
    expect(rpc.currentUrl).to.equal(chain.url);
  });

  it("every URL dead: UNREACHABLE naming the number of URLs", async () => {
    const other = `http://127.0.0.1:${await freePort()}`;
    const rpc = new FailoverChainRpc([dead, other], { timeoutMs: 2000 });
    const err = await rpc.call(ledger, iface.encodeFunctionData("memberCount")).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ChainCallError);
    expect((err as ChainCallError).reason).to.equal("UNREACHABLE");
    expect((err as Error).message).to.contain("2 RPC URL(s)");
    expect(() => new FailoverChainRpc([])).to.throw(ChainCallError);
  });
});
