#!/usr/bin/env node
// Runs every test suite in turn and prints one closing line "N passed, N failed" totalled over all of them.
// Each suite is a mocha run; its "N passing / N failing / N pending" lines are read from its output.
// A suite that ends without a mocha summary (crash, compile error) counts as one failure.
import { spawn } from "node:child_process";
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
];
const only = process.argv.slice(2);

function run(suite) {
  return new Promise((resolve) => {
    const child = spawn(suite.cmd, suite.args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
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
      resolve({ name: suite.name, passed, failed, pending, code });
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
  results.push(await run(suite));
}
let passed = 0, failed = 0, skipped = 0;
process.stdout.write("\n");
for (const r of results) {
  process.stdout.write(`suite ${r.name}: ${r.passed} passed, ${r.failed} failed, ${r.pending} pending (exit ${r.code})\n`);
  passed += r.passed; failed += r.failed; skipped += r.pending;
}
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 ? 1 : 0);
