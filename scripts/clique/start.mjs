#!/usr/bin/env node
// Start a local geth Clique consortium chain for humans and other suites (docs/clique.md).
//
//   node scripts/clique/start.mjs [--signers 4] [--period 1] [--accounts 10] [--dev-accounts 30] [--chain-id 1337001] [--dir DIR]
//
// --dev-accounts N also funds the first N accounts of Hardhat's default mnemonic (what TONGBAN_TARGET=clique
// suites written for `hardhat node` use).
//
// The geth processes keep running after this exits; stop them with `node scripts/clique/stop.mjs`.
// Prints the RPC URLs, the funded dev keys and the line to export for TONGBAN_TARGET=clique.
// The state (pids, ports, keys) is in <dir>/network.json; a pointer to it in $TMPDIR/tongban-clique.current.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";

const { values } = parseArgs({
  options: {
    signers: { type: "string", default: "4" },
    period: { type: "string", default: "1" },
    accounts: { type: "string", default: "10" },
    "dev-accounts": { type: "string", default: "30" },
    "chain-id": { type: "string" },
    dir: { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});
const { CliqueNetwork, ensureGeth } = await tsImport("../../test/infra/clique.ts", import.meta.url);
const log = (m) => process.stderr.write(`[clique] ${m}\n`);
const geth = ensureGeth({ build: true, log });
if (!geth) {
  log("no geth v1.13.15: run scripts/clique/build-geth.sh (needs Go) or set GETH=/path/to/geth");
  process.exit(2);
}
const net = await CliqueNetwork.start({
  geth,
  signers: Number(values.signers),
  period: Number(values.period),
  fundedAccounts: Number(values.accounts),
  devAccounts: Number(values["dev-accounts"]),
  chainId: values["chain-id"] ? Number(values["chain-id"]) : undefined,
  baseDir: values.dir,
  detached: true,
  keepDir: true,
  log: values.quiet ? undefined : log,
});
const pointer = join(tmpdir(), "tongban-clique.current");
writeFileSync(pointer, net.stateFile + "\n");
const out = [
  `chain id     ${net.chainId}`,
  `data dir     ${net.baseDir}`,
  ...net.rpcUrls.map((u, i) => `node ${i}       ${u}  signer ${net.signers[i]}  pid ${net.state.nodes[i].pid}  log ${net.logFile(i)}`),
  `funded keys  ${net.fundedKeys.length} accounts, see ${net.stateFile} (fundedKeys)`,
  `first key    ${net.fundedKeys[0]}`,
  `ready in     ${net.state.startMs} ms`,
  "",
  `export TONGBAN_TARGET=clique TONGBAN_CLIQUE_STATE=${net.stateFile}`,
  "stop with:   node scripts/clique/stop.mjs",
];
process.stdout.write(out.join("\n") + "\n");
process.exit(0);
