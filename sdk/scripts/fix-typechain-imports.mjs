#!/usr/bin/env node
// typechain's ethers-v6 target (0.5.1) with node16Modules still writes barrel imports without an extension
// (`import type * as access from "./access"`), which NodeNext rejects (TS2834). This rewrites, in the generated
// tree sdk/src/contracts/types/ only, every relative specifier that names a directory to `<dir>/index.js`
// and every one naming a file without extension to `<file>.js`. Idempotent; run before tsc by `npm run build`.
import { readdirSync, readFileSync, writeFileSync, existsSync, statSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../src/contracts/types");
if (!existsSync(root)) process.exit(0);
let changed = 0;
for (const rel of readdirSync(root, { recursive: true })) {
  const file = join(root, String(rel));
  if (!file.endsWith(".ts") || !statSync(file).isFile()) continue;
  const src = readFileSync(file, "utf8");
  const out = src.replace(/(from\s+")(\.{1,2}\/[^"]*)(")/g, (m, pre, spec, post) => {
    if (/\.(js|json)$/.test(spec)) return m;
    const target = resolve(dirname(file), spec);
    if (existsSync(target) && statSync(target).isDirectory()) return `${pre}${spec}/index.js${post}`;
    if (existsSync(target + ".ts")) return `${pre}${spec}.js${post}`;
    return m;
  });
  if (out !== src) { writeFileSync(file, out); changed++; }
}
if (changed) process.stdout.write(`fix-typechain-imports: rewrote ${changed} file(s)\n`);
