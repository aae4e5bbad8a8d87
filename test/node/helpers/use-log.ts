/**
 * The node's audit use log (node/src/audit/use-log.ts) on a real LevelDB in a temp folder, for the audit tests:
 * `openUseLog(dir, deps, opts)` opens the LevelDB and starts a `UseLog`; `HeadBook` is a head-anchor sink that
 * keeps the anchored heads in memory the way the chain keeps them (append-only, size strictly increasing);
 * `b32()` a random 32-byte hex id.
 *
 * @example
 *   const book = new HeadBook();
 *   const { db, log } = await openUseLog(dir, { logId: b32(), anchor: book });
 *   await log.append(record);
 *   await log.anchorNow();          // book.heads gets the head
 *   await log.stop(); await db.close();
 */
import { randomBytes } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { UseLog, type LogDB, type HeadAnchorSink } from "../../../node/src/audit/use-log.js";
import type { ChainHead } from "../../../node/src/audit/check.js";

/** A random 32-byte value as 0x-hex. */
export const b32 = (): string => "0x" + randomBytes(32).toString("hex");

/** Heads kept in memory the way the chain keeps them (append-only, size strictly increasing). */
export class HeadBook implements HeadAnchorSink {
  heads: ChainHead[] = [];
  uses: { grantId: string; count: number }[][] = [];
  async latestAnchoredSize() {
    return this.heads[this.heads.length - 1]?.treeSize ?? 0;
  }
  async anchorHead(size: number, root: string, uses: { grantId: string; count: number }[]) {
    this.heads.push({ treeSize: size, rootHash: root });
    this.uses.push(uses);
    return { blockNumber: this.heads.length, txHash: b32() };
  }
}

/** The LevelDB of a use log (buffer keys and values), opened. */
export async function openLogDb(dir: string): Promise<LogDB> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  return db;
}

type UseLogDeps = Omit<ConstructorParameters<typeof UseLog>[0], "db">;
type UseLogOptions = NonNullable<ConstructorParameters<typeof UseLog>[1]>;

/**
 * Open the LevelDB in `dir` and start a UseLog on it. Options default to no timer anchoring, no fsync per write
 * and no count-triggered anchoring (`anchorEvery: 1e9`), so a test anchors with `anchorNow()` only.
 */
export async function openUseLog(dir: string, deps: UseLogDeps, opts: UseLogOptions = { anchorIntervalMs: 0, syncWrites: false, anchorEvery: 1e9 }): Promise<{ db: LogDB; log: UseLog }> {
  const db = await openLogDb(dir);
  const log = new UseLog({ ...deps, db }, opts);
  await log.start();
  return { db, log };
}
