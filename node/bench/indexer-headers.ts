/**
 * CPU of the indexer's header feed for one of this node's batches of 8,000 fresh materials (what the header feed
 * indexes when a batch of B = 10,000 is confirmed), two ways, alternating batch by batch:
 *   json  — the core's `headerJson` per material (hex fields) + `addBatchHeaders` (JSON.stringify per record);
 *   bytes — `addBatchHeaderBytes` from the 320-byte ABI headers (what the feed uses now; same records).
 * 16 batches per way, the first 3 dropped (JIT). Prints process CPU (main thread + LevelDB threads) per material,
 * min and median.
 *
 *   node --import tsx node/bench/indexer-headers.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Indexer } from "../src/indexer/indexer.js";
import { headerJson } from "../src/core/service.js";
import { encodeHeaderInto, hex, keccakBuf } from "../src/core/header.js";

const dir = mkdtempSync(join(tmpdir(), "tongban-ix-bench-"));
const idx = new Indexer({ provider: { send: async () => { throw new Error("no chain in this benchmark"); } }, address: "0x" + "11".repeat(20), dbPath: dir });
await idx.open();
const h32 = (s: string) => createHash("sha256").update(s).digest();
const per: Record<"json" | "bytes", number[]> = { json: [], bytes: [] };
let seq = 0;
for (let b = 0; b < 32; b++) {
  const way = b % 2 ? "bytes" : "json";
  const encs: Buffer[] = [];
  for (let i = 0; i < 8000; i++, seq++) {
    encs.push(encodeHeaderInto({ typeCode: h32("type"), issuer: h32("issuer"), holderRef: h32(`holder ${seq}`), contentHash: h32(`content ${seq}`), hashAlg: 1, issuedAt: 1_700_000_000 + seq, validFrom: 1_700_000_000, validUntil: 0, version: 1, supersedes: Buffer.alloc(32) }, Buffer.alloc(320)));
  }
  const leaves = encs.map((e) => hex(keccakBuf(e)));
  const root = hex(h32(`root ${b}`));
  const c0 = process.cpuUsage();
  if (way === "json") await idx.addBatchHeaders(root, leaves.map((leaf, i) => ({ leaf, header: headerJson(encs[i]!) })));
  else await idx.addBatchHeaderBytes(root, leaves, encs);
  const c = process.cpuUsage(c0);
  per[way].push((c.user + c.system) / encs.length);
}
await idx.stop();
rmSync(dir, { recursive: true, force: true });
for (const way of ["json", "bytes"] as const) {
  const s = per[way].slice(3).sort((a, b) => a - b);
  console.log(`${way.padEnd(5)}: 8,000 materials per batch: process CPU ${s[0]!.toFixed(1)} us/material min, ${s[s.length >> 1]!.toFixed(1)} median (${s.length} batches)`);
}
