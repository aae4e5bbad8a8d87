// What the use-record vector generators share (make-vectors.ts -> test/vectors/use-record.json,
// make-scenario-vectors.ts -> test/vectors/use-record-scenario.json): the independent reference (hand-packed
// record bytes, a naive recursive RFC 6962 tree over @noble/hashes sha256), the per-record check of the SDK's
// encoding and leaf hash against it, the SDK log's roots checked against it with its inclusion proofs, and
// writing (or, with `--check`, comparing) the frozen file.
import { readFileSync, writeFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha256";
import { encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { MemoryLogStore, MerkleLog, bytesToHex, encodeUseRecord, useRecordLeafHash, type UseRecord } from "../../../sdk/src/index.js";

export const h = (s: string) => keccak256(toUtf8Bytes(s));
export const b = encodeBytes32String;
export const hex = (u: Uint8Array) => bytesToHex(u);
const un = (x: string) => Buffer.from(x.slice(2), "hex");

/** The 235-byte version-1 record packed by hand (reference for the SDK's `encodeUseRecord`). */
export function handEncode(r: UseRecord): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(r.time);
  return Buffer.concat([Buffer.from([1, r.direction === "SERVED" ? 1 : 2, r.basis === "GRANT" ? 1 : 2]), t,
    un(r.requestId), un(r.grantId), un(r.matter), un(r.requester), un(r.custodian), un(r.typeCode), un(r.leaf)]);
}

/** RFC 6962 section 2.1 Merkle tree hash, recursive over the entries. */
export const mth = (d: Uint8Array[]): Uint8Array => {
  if (d.length === 0) return sha256(new Uint8Array());
  if (d.length === 1) return sha256(Buffer.concat([Buffer.from([0]), d[0]!]));
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha256(Buffer.concat([Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k))]));
};

/** The SDK's encoding and leaf hash of `record`, after checking both against the hand-packed reference. */
export function encodeChecked(name: string, record: UseRecord): { enc: Uint8Array; leafHash: Uint8Array } {
  const enc = encodeUseRecord(record);
  const hand = handEncode(record);
  if (hex(enc) !== hex(hand)) throw new Error(`${name}: encodings differ`);
  if (enc[2] !== (record.basis === "GRANT" ? 1 : 2)) throw new Error(`${name}: basis byte`);
  const leafHash = useRecordLeafHash(record);
  if (hex(leafHash) !== hex(mth([hand]))) throw new Error(`${name}: leaf hash differs`);
  return { enc, leafHash };
}

/**
 * The SDK's log over `entries`: `roots[n]` of the first n entries (each checked against {@link mth}), and the
 * inclusion proof of every entry in the whole log.
 */
export async function logVectors(entries: Uint8Array[]): Promise<{
  log: MerkleLog;
  roots: string[];
  inclusion: { index: number; size: number; proof: string[] }[];
}> {
  const log = await MerkleLog.open(new MemoryLogStore());
  await log.append(...entries);
  const roots: string[] = [];
  for (let n = 0; n <= entries.length; n++) {
    const r = hex(await log.rootAt(n));
    if (r !== hex(mth(entries.slice(0, n)))) throw new Error(`root ${n} differs`);
    roots.push(r);
  }
  const N = entries.length;
  const inclusion = [];
  for (let i = 0; i < N; i++) inclusion.push({ index: i, size: N, proof: (await log.inclusionProof(i, N)).map(hex) });
  return { log, roots, inclusion };
}

/** Write `file` as pretty JSON to `out`, or with `--check` on the command line compare it with the file there (exit 1 on a difference). */
export function writeOrCheck(out: URL, file: unknown): void {
  const name = out.pathname.split("/").pop()!;
  const text = JSON.stringify(file, null, 2) + "\n";
  if (process.argv.includes("--check")) {
    if (readFileSync(out, "utf8") !== text) { console.error(`${name} differs from a recomputation`); process.exit(1); }
    console.log(`${name} matches`);
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out.pathname}`);
  }
}
