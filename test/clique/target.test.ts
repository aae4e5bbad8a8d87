/**
 * The target switch (test/infra/target.ts) and the CLI (scripts/clique/start.mjs / stop.mjs): each target
 * hands a suite RPC URLs and funded keys that can pay for a transaction, and stopping leaves nothing running.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Wallet, parseEther } from "ethers";
import { ensureGeth, rpc, until } from "../infra/clique.js";
import { startTestChain, type TestChain } from "../infra/target.js";

const run = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const log = (m: string) => process.stdout.write(`      [target] ${m}\n`);

/** Send 1 ether from the first funded key to a fresh address through `rpcUrls[node]`; check it everywhere. */
async function payAndCheck(chain: TestChain, node: number) {
  const from = new Wallet(chain.fundedKeys[0], chain.provider(node));
  const to = Wallet.createRandom().address;
  const balance = await chain.provider(node).getBalance(from.address);
  expect(balance > parseEther("1000"), `balance ${balance}`).to.equal(true);
  const receipt = (await (await from.sendTransaction({ to, value: parseEther("1") })).wait(chain.confirmations))!;
  expect(receipt.status).to.equal(1);
  for (let i = 0; i < chain.rpcUrls.length; i++) {
    // Other nodes import the block within a period or two; wait for node i to hold the receipt's block (30 s:
    // a loaded 2-core machine), then read the balance there.
    let head = -1;
    await until(`block ${receipt.blockNumber} on node ${i}`, async () => {
      head = await chain.provider(i).getBlockNumber();
      return head >= receipt.blockNumber ? true : undefined;
    }, 30_000).catch((e: Error) => { throw new Error(`${e.message} (node ${i} at ${head})`); });
    expect(await chain.provider(i).getBalance(to), `node ${i} at block ${head}`).to.equal(parseEther("1"));
  }
}

/** Whether `url` answers a JSON-RPC call (5 s: a busy geth; a stopped one refuses the connection at once). */
async function answers(url: string): Promise<boolean> {
  return rpc(url, "eth_blockNumber", [], 5_000).then(() => true, () => false);
}

describe("clique: test targets and CLI", function () {
  this.timeout(180_000);
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ["TONGBAN_TARGET", "TONGBAN_CLIQUE_STATE"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("TONGBAN_TARGET=hardhat spawns a hardhat node with the 30 default funded accounts and stops it", async function () {
    process.env.TONGBAN_TARGET = "hardhat";
    const chain = await startTestChain();
    try {
      expect(chain.target).to.equal("hardhat");
      expect(chain.chainId).to.equal(31337);
      expect(chain.fundedKeys).to.have.length(30);
      await payAndCheck(chain, 0);
    } finally {
      await chain.stop();
    }
    expect(await answers(chain.rpcUrls[0])).to.equal(false);
  });

  describe("with geth", function () {
    before(function () {
      if (!ensureGeth({ build: true, log })) {
        log("SKIPPED: no geth v1.13.15 found or buildable");
        this.skip();
      }
    });

    it("TONGBAN_TARGET=clique starts 4 signers: a payment through node 3 is seen by all, stop() ends them", async function () {
      process.env.TONGBAN_TARGET = "clique";
      delete process.env.TONGBAN_CLIQUE_STATE;
      const chain = await startTestChain();
      try {
        expect(chain.target).to.equal("clique");
        expect(chain.chainId).to.equal(1337001);
        expect(chain.rpcUrls).to.have.length(4);
        // Hardhat's 30 dev accounts (funded in the genesis, same keys as the hardhat target) + the harness's 10
        expect(chain.fundedKeys).to.have.length(40);
        const hardhat = await startTestChain({ target: "hardhat" });
        try {
          expect(chain.fundedKeys.slice(0, 30)).to.deep.equal(hardhat.fundedKeys);
        } finally {
          await hardhat.stop();
        }
        for (const k of [chain.fundedKeys[0]!, chain.fundedKeys[29]!, chain.fundedKeys[39]!]) {
          expect((await chain.provider(2).getBalance(new Wallet(k).address)) > 0n).to.equal(true);
        }
        await payAndCheck(chain, 3);
      } finally {
        await chain.stop();
      }
      for (const url of chain.rpcUrls) expect(await answers(url)).to.equal(false);
      expect(existsSync(chain.clique!.baseDir)).to.equal(false);
    });

    it("start.mjs leaves a network running that TONGBAN_CLIQUE_STATE attaches to; stop.mjs ends it", async function () {
      const started = await run(process.execPath, [join(REPO_ROOT, "scripts/clique/start.mjs"), "--quiet"], { cwd: REPO_ROOT });
      const stateFile = /TONGBAN_CLIQUE_STATE=(\S+)/.exec(started.stdout)?.[1];
      expect(stateFile, started.stdout).to.be.a("string");
      let stopped = false;
      try {
        process.env.TONGBAN_TARGET = "clique";
        process.env.TONGBAN_CLIQUE_STATE = stateFile;
        const chain = await startTestChain();
        expect(chain.clique!.alive()).to.deep.equal([0, 1, 2, 3]);
        await payAndCheck(chain, 1);
        await chain.stop(); // attached: leaves the network running
        expect(await answers(chain.rpcUrls[0])).to.equal(true);
        const out = await run(process.execPath, [join(REPO_ROOT, "scripts/clique/stop.mjs"), stateFile!], { cwd: REPO_ROOT });
        stopped = true;
        expect(out.stdout).to.match(/stopped 4 nodes/);
        for (const url of chain.rpcUrls) expect(await answers(url)).to.equal(false);
        expect(existsSync(stateFile!)).to.equal(false);
      } finally {
        if (!stopped && stateFile) await run(process.execPath, [join(REPO_ROOT, "scripts/clique/stop.mjs"), stateFile]).catch(() => undefined);
      }
    });
  });
});
