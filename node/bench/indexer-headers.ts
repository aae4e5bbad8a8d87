/**
 * CPU of the indexer's header feed for one of this node's batches: `addBatchHeaders` of 8,000 fresh materials
 * (what the header feed calls when a batch of B = 10,000 is confirmed), 12 batches, the first 2 dropped (JIT).
 * Prints process CPU (main thread + LevelDB threads) per material, min and median.
 *
 *   node --import tsx node/bench/indexer-headers.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Indexer } from "../src/indexer/indexer.js";

const dir = mkdtempSync(join(tmpdir(), "tongban-ix-bench-"));
const idx = new Indexer({ provider: { send: async () => { throw new Error("no chain in this benchmark"); } }, address: "0x" + "11".repeat(20), dbPath: dir });
await idx.open();
const h32 = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");
const per: number[] = [];
let seq = 0;
for (let b = 0; b < 12; b++) {
  const items = [];
  for (let i = 0; i < 8000; i++, seq++) {
    items.push({
      leaf: h32(`leaf ${seq}`),
      header: { typeCode: h32("type"), issuer: h32("issuer"), holderRef: h32(`holder ${seq}`), contentHash: h32(`content ${seq}`), hashAlg: 1, issuedAt: String(1_700_000_000 + seq), validFrom: "1700000000", validUntil: "0", version: 1, supersedes: "0x" + "00".repeat(32) },
    });
  }
  const c0 = process.cpuUsage();
  await idx.addBatchHeaders(h32(`root ${b}`), items);
  const c = process.cpuUsage(c0);
  per.push((c.user + c.system) / items.length);
}
await idx.stop();
rmSync(dir, { recursive: true, force: true });
const s = per.slice(2).sort((a, b) => a - b);
console.log(`addBatchHeaders, 8,000 materials per batch: process CPU ${s[0]!.toFixed(1)} us/material min, ${s[s.length >> 1]!.toFixed(1)} median (10 batches)`);
