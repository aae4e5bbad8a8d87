// What the use-record tests share (record.test.ts reads test/vectors/use-record.json, scenario-record.test.ts
// test/vectors/use-record-scenario.json; both made by the generators of vector-common.ts): reading a frozen
// vector file, its records as `UseRecord`s (`time` is a decimal string in the file), and the check that the
// SDK's log over the file's encoded records reproduces every frozen root and audit path, each verifying.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { MemoryLogStore, MerkleLog, bytesToHex, hexToBytes, verifyInclusion, type UseRecord } from "../../../sdk/src/index.js";

/** A frozen use-record vector file (the fields both files have; the rest as the generator wrote it). */
export interface FrozenVectors {
  records: { name: string; record: Record<string, unknown>; encoded: string; leafHash: string; [k: string]: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  roots: string[];
  inclusion: { index: number; size: number; proof: string[] }[];
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** test/vectors/`name` parsed. */
export function readVectors(name: string): FrozenVectors {
  return JSON.parse(readFileSync(new URL(`../../vectors/${name}`, import.meta.url), "utf8")) as FrozenVectors;
}

/** A record of the file as a `UseRecord` (its time as a bigint). */
export const recordOf = (r: Record<string, unknown>): UseRecord => ({ ...(r as unknown as UseRecord), time: BigInt(r.time as string) });

/** The SDK's MerkleLog over the file's encoded records: every frozen root and inclusion proof reproduces and verifies. Resolves with the log. */
export async function expectFrozenLog(file: FrozenVectors): Promise<MerkleLog> {
  const log = await MerkleLog.open(new MemoryLogStore());
  await log.append(...file.records.map((v) => hexToBytes(v.encoded)));
  for (let n = 0; n < file.roots.length; n++) expect(bytesToHex(await log.rootAt(n)), `root ${n}`).to.equal(file.roots[n]);
  for (const p of file.inclusion) {
    expect((await log.inclusionProof(p.index, p.size)).map(bytesToHex)).to.deep.equal(p.proof);
    expect(verifyInclusion(file.records[p.index]!.leafHash, p.index, p.size, p.proof, file.roots[p.size]!).status).to.equal("VALID");
  }
  return log;
}
