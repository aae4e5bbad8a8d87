/**
 * LevelDB (classic-level) layout of the node core. Keys and values are Buffers; one-byte prefixes:
 *
 *   'm' leaf32                  -> material record (binary, see encodeMaterial): ABI header + acceptance data
 *   'g' group36                 -> group meta JSON {type, jurisdiction}      group36 = typeCode32 || jurisdiction u32 BE
 *   'p' group36 firstSeq64      -> acceptedAt f64 || leaf32 * n              the group's intake log, in order: one chunk
 *                                                                            record per intake write and group
 *   'b' group36 toSeq64         -> batch record JSON (plan, tx, confirmation) covering seqs [from, to] of the group
 *   'r' root32                  -> the 'b' key of the batch with that root
 *   'u' root32                  -> ''  (batch planned but not yet confirmed/failed: recovered on start)
 *   'c' alg8 hash32             -> sealed content (content-addressed, see crypto.ts)
 *   'o' opId                    -> status operation JSON
 *   'q' seq64                   -> opId   (operations not yet done, in order)
 *   's' leaf32                  -> status JSON {status, reason, supersededBy} once an op is done
 *   'i' key                     -> idempotency record JSON {fp, acks | opId}
 *   'e' group36                 -> last known entitlement JSON {entitled, known, at}
 *   'k' name                    -> counters / meta JSON
 *
 * A material's state is derived: the batch covering its (group, seq) — found with one range seek on 'b' —
 * says planned/sent (anchoring), confirmed (anchored) or failed; no batch yet means pending. So planning and
 * confirming a batch of 10,000 leaves is ONE small write, atomic for all its leaves.
 */
import { ClassicLevel } from "classic-level";
import { mkdirSync } from "node:fs";

export type DB = ClassicLevel<Buffer, Buffer>;

/**
 * LevelDB memtable size of the node's stores (LevelDB's default is 4 MiB). A larger memtable means fewer, larger
 * level-0 files and less compaction CPU per write at 10,000+ materials/s: on the intake's write pattern
 * (node/bench/leveldb-options.ts, 120,000 content materials) 23.6-28 -> 19.5-23 us of process CPU per material.
 * Cost: up to two memtables in memory per store, and up to this much write-ahead log replayed at start. Only an
 * open option: data written with any size reads with any other.
 */
export const WRITE_BUFFER_BYTES = 16 * 1024 * 1024;

export async function openDb(path: string): Promise<DB> {
  mkdirSync(path, { recursive: true });
  const db = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: "buffer", valueEncoding: "buffer", createIfMissing: true, writeBufferSize: WRITE_BUFFER_BYTES });
  await db.open();
  return db;
}

const P = (c: string) => c.charCodeAt(0);
export const PFX = { m: P("m"), g: P("g"), p: P("p"), b: P("b"), r: P("r"), u: P("u"), c: P("c"), o: P("o"), q: P("q"), s: P("s"), i: P("i"), e: P("e"), k: P("k") };

export function groupKey(typeCode: Buffer, jurisdiction: number): Buffer {
  const g = Buffer.allocUnsafe(36);
  typeCode.copy(g, 0);
  g.writeUInt32BE(jurisdiction, 32);
  return g;
}

function u64(b: Buffer, off: number, v: number): void {
  b.writeUInt32BE(Math.floor(v / 2 ** 32), off);
  b.writeUInt32BE(v >>> 0, off + 4);
}
export function readU64(b: Buffer, off: number): number {
  return b.readUInt32BE(off) * 2 ** 32 + b.readUInt32BE(off + 4);
}

export const K = {
  material(leaf: Buffer): Buffer {
    const k = Buffer.allocUnsafe(33);
    k[0] = PFX.m;
    leaf.copy(k, 1);
    return k;
  },
  group(g: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.g]), g]);
  },
  log(g: Buffer, seq: number): Buffer {
    const k = Buffer.allocUnsafe(45);
    k[0] = PFX.p;
    g.copy(k, 1);
    u64(k, 37, seq);
    return k;
  },
  batch(g: Buffer, toSeq: number): Buffer {
    const k = Buffer.allocUnsafe(45);
    k[0] = PFX.b;
    g.copy(k, 1);
    u64(k, 37, toSeq);
    return k;
  },
  root(root: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.r]), root]);
  },
  unfinished(root: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.u]), root]);
  },
  content(alg: number, hash: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.c, alg]), hash]);
  },
  op(opId: string): Buffer {
    return Buffer.concat([Buffer.from([PFX.o]), Buffer.from(opId, "utf8")]);
  },
  opQueue(seq: number): Buffer {
    const k = Buffer.allocUnsafe(9);
    k[0] = PFX.q;
    u64(k, 1, seq);
    return k;
  },
  status(leaf: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.s]), leaf]);
  },
  idem(key: string): Buffer {
    return Buffer.concat([Buffer.from([PFX.i]), Buffer.from(key, "utf8")]);
  },
  entitlement(g: Buffer): Buffer {
    return Buffer.concat([Buffer.from([PFX.e]), g]);
  },
  meta(name: string): Buffer {
    return Buffer.concat([Buffer.from([PFX.k]), Buffer.from(name, "utf8")]);
  },
  /** [gte, lt) bounds of all keys with `prefix` */
  range(prefix: Buffer): { gte: Buffer; lt: Buffer } {
    const lt = Buffer.from(prefix);
    let i = lt.length - 1;
    while (i >= 0 && lt[i] === 0xff) i--;
    if (i < 0) return { gte: prefix, lt: Buffer.alloc(prefix.length + 1, 0xff) };
    lt[i]! += 1;
    return { gte: prefix, lt: lt.subarray(0, i + 1) };
  },
};

/** Binary material record: header320 | acceptedAt f64 | jurisdiction u32 | seq u64 | flags u8 */
export const MATERIAL_BYTES = 320 + 8 + 4 + 8 + 1;
export const FLAG_CONTENT = 1;

export interface MaterialRow {
  header: Buffer; // 320 bytes, ABI encoding
  acceptedAt: number;
  jurisdiction: number;
  seq: number;
  flags: number;
}

export function encodeMaterial(header: Buffer, acceptedAt: number, jurisdiction: number, seq: number, flags: number): Buffer {
  const b = Buffer.allocUnsafe(MATERIAL_BYTES);
  header.copy(b, 0, 0, 320);
  b.writeDoubleBE(acceptedAt, 320);
  b.writeUInt32BE(jurisdiction, 328);
  u64(b, 332, seq);
  b[340] = flags;
  return b;
}

/** Complete a material record whose first 320 bytes already hold the header (no copy). */
export function fillMaterial(b: Buffer, acceptedAt: number, jurisdiction: number, seq: number, flags: number): Buffer {
  b.writeDoubleBE(acceptedAt, 320);
  b.writeUInt32BE(jurisdiction, 328);
  u64(b, 332, seq);
  b[340] = flags;
  return b;
}

export function decodeMaterial(b: Buffer): MaterialRow {
  return { header: b.subarray(0, 320), acceptedAt: b.readDoubleBE(320), jurisdiction: b.readUInt32BE(328), seq: readU64(b, 332), flags: b[340]! };
}

/** A chunk of a group's intake log: the leaves accepted in one write, from seq `firstSeq` (the key) on. */
export function logChunk(leaves: Buffer[], acceptedAt: number): Buffer {
  const v = Buffer.allocUnsafe(8 + 32 * leaves.length);
  v.writeDoubleBE(acceptedAt, 0);
  for (let i = 0; i < leaves.length; i++) leaves[i]!.copy(v, 8 + 32 * i);
  return v;
}

export function logChunkSize(v: Buffer): number {
  return (v.length - 8) / 32;
}

export const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
export const parse = <T>(b: Buffer): T => JSON.parse(b.toString("utf8")) as T;
