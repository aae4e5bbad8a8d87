#!/usr/bin/env node
// Measure the local geth Clique network (docs/clique.md): start time, block intervals with 4 and 3 of 4
// signers alive, the halt with 2 of 4, transaction confirmation latency, and catch-up after restarts.
//
//   node scripts/clique/measure.mjs [--blocks 20] [--json]
//
// Bounded: one network, a fixed number of blocks per phase, 20 transfers; stops everything it started.
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";

const { values } = parseArgs({ options: { blocks: { type: "string", default: "20" }, json: { type: "boolean", default: false } } });
const BLOCKS = Number(values.blocks);
const { CliqueNetwork, ensureGeth } = await tsImport("../../test/infra/clique.ts", import.meta.url);
const { Wallet, parseEther } = await import("ethers");
const say = (m) => process.stderr.write(`[measure] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const geth = ensureGeth({ build: true, log: say });
if (!geth) {
  say("no geth v1.13.15");
  process.exit(2);
}

/** Wall-clock gaps between the next `count` blocks on `node` (polled every 50 ms). */
async function intervals(net, count, node) {
  let h = await net.blockNumber(node);
  while ((await net.blockNumber(node)) === h) await sleep(50);
  h = await net.blockNumber(node);
  let t = Date.now();
  const gaps = [];
  while (gaps.length < count) {
    const n = await net.blockNumber(node);
    if (n > h) {
      const now = Date.now();
      for (let k = h; k < n; k++) gaps.push((now - t) / 1000 / (n - h));
      h = n;
      t = now;
    }
    await sleep(50);
  }
  const from = h - count;
  const blocks = await Promise.all(Array.from({ length: count }, (_, k) => net.block(from + 1 + k, node)));
  return {
    meanS: +(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(3),
    maxS: +Math.max(...gaps).toFixed(3),
    inTurn: blocks.filter((b) => b.difficulty === 2).length,
    sealers: new Set(blocks.map((b) => b.signer)).size,
    blocks: count,
  };
}

const results = {};
const net = await CliqueNetwork.start({ geth, log: say });
try {
  results.startMs = net.state.startMs;
  results.fourOfFour = await intervals(net, BLOCKS, 0);
  say(`4/4: ${JSON.stringify(results.fourOfFour)}`);

  // Confirmation latency: sequential transfers, send -> receipt (1 confirmation).
  const wallet = new Wallet(net.fundedKeys[0], net.provider(0));
  const lat = [];
  for (let k = 0; k < 20; k++) {
    const t0 = Date.now();
    await (await wallet.sendTransaction({ to: Wallet.createRandom().address, value: parseEther("1") })).wait(1);
    lat.push(Date.now() - t0);
  }
  lat.sort((a, b) => a - b);
  results.txLatencyMs = { median: lat[10], min: lat[0], max: lat[19], n: 20 };
  say(`tx latency: ${JSON.stringify(results.txLatencyMs)}`);

  await net.killSigner(3);
  results.threeOfFour = await intervals(net, BLOCKS, 0);
  say(`3/4: ${JSON.stringify(results.threeOfFour)}`);

  const atKill = await net.maxHead();
  const tKill = Date.now();
  await net.killSigner(2, "SIGKILL");
  const stalledAt = await net.waitForStall({ quietMs: 6_000, timeoutMs: 30_000 });
  await sleep(4_000);
  results.twoOfFour = { headAtKill: atKill, stalledAt, extraBlocks: stalledAt - atKill, stillAtAfterMs: Date.now() - tKill, headAfter: await net.maxHead() };
  say(`2/4: ${JSON.stringify(results.twoOfFour)}`);

  const r3 = await net.restartSigner(3);
  const tR = Date.now();
  await net.waitForBlock(stalledAt + 1, { timeoutMs: 30_000 });
  results.restartWithTwoAlive = { catchUpMs: r3.catchUpMs, firstNewBlockAfterMinerStartMs: Date.now() - tR };
  say(`restart node 3 (2 alive): ${JSON.stringify(results.restartWithTwoAlive)}`);
  await net.waitForBlock(stalledAt + 10, { timeoutMs: 30_000 });
  const r2 = await net.restartSigner(2);
  const same = await net.waitForSameHead({ nodes: [0, 1, 2, 3], timeoutMs: 30_000 });
  results.restartAfterCrashWithThreeAlive = { catchUpMs: r2.catchUpMs, caughtUpTo: r2.head, agreedHead: same.number };
  say(`restart node 2 after SIGKILL (3 alive): ${JSON.stringify(results.restartAfterCrashWithThreeAlive)}`);
  results.fourOfFourAgain = await intervals(net, 8, 0);
  say(`4/4 again: ${JSON.stringify(results.fourOfFourAgain)}`);
} finally {
  await net.stop();
}
process.stdout.write((values.json ? JSON.stringify(results) : JSON.stringify(results, null, 2)) + "\n");
