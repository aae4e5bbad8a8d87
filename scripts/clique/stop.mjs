#!/usr/bin/env node
// Stop a Clique network started by scripts/clique/start.mjs: SIGTERM each geth by pid (SIGKILL after 15 s),
// then remove its data dir (keep it with --keep).
//
//   node scripts/clique/stop.mjs [path/to/network.json] [--keep]
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";

const { values, positionals } = parseArgs({ options: { keep: { type: "boolean", default: false } }, allowPositionals: true });
const pointer = join(tmpdir(), "tongban-clique.current");
const stateFile = positionals[0] ?? process.env.TONGBAN_CLIQUE_STATE ?? (existsSync(pointer) ? readFileSync(pointer, "utf8").trim() : "");
if (!stateFile || !existsSync(stateFile)) {
  process.stderr.write(`[clique] no running network found (${stateFile || pointer})\n`);
  process.exit(1);
}
const { CliqueNetwork } = await tsImport("../../test/infra/clique.ts", import.meta.url);
const net = CliqueNetwork.attach(stateFile, { log: (m) => process.stderr.write(`[clique] ${m}\n`) });
const dir = net.baseDir;
await net.stopProcesses();
if (!values.keep) rmSync(dir, { recursive: true, force: true });
if (existsSync(pointer) && readFileSync(pointer, "utf8").trim() === stateFile) rmSync(pointer);
process.stdout.write(`stopped ${net.size} nodes${values.keep ? `; kept ${dir}` : `; removed ${dir}`}\n`);
