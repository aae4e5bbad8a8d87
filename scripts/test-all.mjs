#!/usr/bin/env node
// Runs every test suite in turn and prints one closing line "N passed, N failed" totalled over all of them.
// Each suite is a mocha run; its "N passing / N failing / N pending" lines are read from its output.
// A suite that ends without a mocha summary (crash, compile error) counts as one failure.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

/** Whether `dir` holds any file ending in `suffix`, at any depth. */
function hasTests(dir, suffix) {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith(suffix));
}

const MOCHA_TSX = ["mocha", "--node-option", "import=tsx", "--timeout", "120000", "--exit"];
const suites = [
  { name: "contracts", dir: "test/contracts", cmd: "npx", args: ["hardhat", "test"] },
  { name: "sdk", dir: "test/sdk", cmd: "npx", args: [...MOCHA_TSX, "test/sdk/**/*.test.ts"] },
  { name: "node", dir: "test/node", cmd: "npx", args: [...MOCHA_TSX, "test/node/**/*.test.ts"] },
  // A real 4-signer geth Clique network (docs/clique.md); geth v1.13.15 is built by .ci/run.
  { name: "clique", dir: "test/clique", cmd: "npx", args: [...MOCHA_TSX, "test/clique/**/*.test.ts"] },
  // The SDK and node integration suites that talk to a chain, unchanged, on one shared 4-signer Clique network
  // (TONGBAN_TARGET=clique; test/infra/target.ts). Files that need Hardhat's block control (hardhat_mine,
  // evm_snapshot) stay on Hardhat: test/node/core/lifecycle, test/node/indexer (reorgs: test/clique/reorg.test.ts).
  {
    name: "clique-targets",
    dir: "test/clique",
    cmd: "npx",
    cliqueNetwork: true,
    args: [
      ...MOCHA_TSX,
      "test/sdk/chain.test.ts",
      "test/sdk/grants/client.test.ts",
      "test/node/core/outage.test.ts",
      "test/node/core/recovery.test.ts",
      "test/node/api/e2e.test.ts",
    ],
  },
];
const only = process.argv.slice(2);

/**
 * Start the shared Clique network of a `cliqueNetwork` suite (scripts/clique/start.mjs); returns the env to run
 * the suite with and a stop function, or an error string.
 */
function startCliqueNetwork() {
  const r = spawnSync(process.execPath, ["scripts/clique/start.mjs", "--quiet"], { encoding: "utf8", env: process.env, timeout: 30 * 60_000 });
  const m = /TONGBAN_CLIQUE_STATE=(\S+)/.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) return { error: `could not start the Clique network (exit ${r.status}): ${(r.stderr ?? "").slice(-1500)}` };
  const stateFile = m[1];
  return {
    env: { ...process.env, TONGBAN_TARGET: "clique", TONGBAN_CLIQUE_STATE: stateFile },
    stop: () => spawnSync(process.execPath, ["scripts/clique/stop.mjs", stateFile], { stdio: "inherit", timeout: 120_000 }),
  };
}

async function runOnClique(suite) {
  if (process.env.TONGBAN_CLIQUE_NO_BUILD === "1") {
    process.stdout.write("SKIPPED: TONGBAN_CLIQUE_NO_BUILD=1 (no geth v1.13.15 here)\n");
    return { name: suite.name, passed: 0, failed: 0, pending: 0, code: 0 };
  }
  const t0 = Date.now();
  const net = startCliqueNetwork();
  if (net.error) {
    process.stdout.write(`${net.error}\n`);
    return { name: suite.name, passed: 0, failed: 1, pending: 0, code: 1 };
  }
  process.stdout.write(`4-signer Clique network up in ${Date.now() - t0} ms (${net.env.TONGBAN_CLIQUE_STATE})\n`);
  try {
    return await run(suite, net.env);
  } finally {
    net.stop();
  }
}

function run(suite, env = process.env) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(suite.cmd, suite.args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    const tee = (stream, sink) => stream.on("data", (d) => { out += d; sink.write(d); });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on("close", (code) => {
      const clean = out.replace(/\x1b\[[0-9;]*m/g, "");
      const count = (word) => {
        const all = [...clean.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, "gm"))];
        return all.length ? Number(all[all.length - 1][1]) : 0;
      };
      const passed = count("passing");
      let failed = count("failing");
      const pending = count("pending");
      const summarised = /^\s*\d+ (passing|failing)/m.test(clean);
      if (!summarised && code !== 0) failed += 1;
      if (summarised && code !== 0 && failed === 0) failed += 1;
      resolve({ name: suite.name, passed, failed, pending, code, ms: Date.now() - t0 });
    });
  });
}

const results = [];
for (const suite of suites) {
  if (only.length && !only.includes(suite.name)) continue;
  if (!hasTests(suite.dir, ".test.ts")) {
    process.stdout.write(`\n=== suite: ${suite.name}: no test files yet ===\n`);
    continue;
  }
  process.stdout.write(`\n=== suite: ${suite.name} ===\n`);
  results.push(await (suite.cliqueNetwork ? runOnClique(suite) : run(suite)));
}
let passed = 0, failed = 0, skipped = 0;
process.stdout.write("\n");
for (const r of results) {
  const secs = r.ms === undefined ? "" : `, ${Math.round(r.ms / 1000)} s`;
  process.stdout.write(`suite ${r.name}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending (exit ${r.code}${secs})\n`);
  passed += r.passed; failed += r.failed; skipped += r.pending;
}
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 ? 1 : 0);
