/**
 * LevelDB options for the core's store, measured on the intake's write pattern: fsynced chained batches of 2,000
 * materials, each a 341-byte material record, a ~460-byte sealed content blob (random bytes: AES-GCM output
 * does not compress) and one intake-log chunk, 120,000 materials per run, alternating the option sets. Prints
 * process CPU per material (main thread + LevelDB's background compaction thread) and wall time.
 *
 *   node --import tsx node/bench/leveldb-options.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ClassicLevel } from "classic-level";

type Opts = Record<string, unknown>;
const SETS: [string, Opts][] = [
  ["default (snappy, 4 MiB write buffer)", {}],
  ["compression off", { compression: false }],
  ["16 MiB write buffer", { writeBufferSize: 16 * 1024 * 1024 }],
  ["compression off, 16 MiB write buffer", { compression: false, writeBufferSize: 16 * 1024 * 1024 }],
  ["compression off, 64 MiB write buffer", { compression: false, writeBufferSize: 64 * 1024 * 1024 }],
];
const N = Number(process.env.N ?? 120_000);
const CALL = 2000;
const blobs = Array.from({ length: 4096 }, () => randomBytes(460));

async function run(opts: Opts): Promise<{ us: number; s: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tongban-ldb-"));
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer", ...opts });
  await db.open();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < N; done += CALL) {
    const b = db.batch();
    const chunk = Buffer.allocUnsafe(8 + 32 * CALL);
    for (let i = 0; i < CALL; i++) {
      const leaf = randomBytes(32);
      leaf.copy(chunk, 8 + 32 * i);
      const k = Buffer.allocUnsafe(33);
      k[0] = 0x6d;
      leaf.copy(k, 1);
      b.put(k, randomBytes(341));
      const ck = Buffer.allocUnsafe(34);
      ck[0] = 0x63;
      ck[1] = 1;
      leaf.copy(ck, 2);
      b.put(ck, blobs[(done + i) & 4095]!);
    }
    const lk = Buffer.allocUnsafe(45);
    lk[0] = 0x70;
    lk.writeUInt32BE(done, 41);
    b.put(lk, chunk);
    await b.write({ sync: true });
  }
  await db.close(); // waits for the background compaction in progress
  const c = process.cpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { us: (c.user + c.system) / N, s };
}

const res = new Map<string, number[]>();
for (let round = 0; round < 3; round++) {
  for (const [name, o] of SETS) {
    const r = await run(o);
    (res.get(name) ?? res.set(name, []).get(name)!).push(r.us);
  }
}
console.log(`LevelDB, content-mode intake writes, ${N.toLocaleString("en")} materials per run, 3 rounds, load ${loadavg()[0]!.toFixed(1)}`);
for (const [name, xs] of res) console.log(`${name}: ${xs.map((x) => x.toFixed(1)).join(" / ")} us CPU per material (min ${Math.min(...xs).toFixed(1)})`);
