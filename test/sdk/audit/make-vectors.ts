// Generates the FROZEN vector test/vectors/use-record.json (run once: `npx tsx test/sdk/audit/make-vectors.ts`;
// `--check` compares with the committed file instead of writing). Encodings are computed by the SDK and by
// hand-concatenated bytes, log roots and proofs by the SDK's stored-node log and by a naive recursive
// RFC 6962 reference over @noble/hashes sha256; the script refuses to write if they disagree.
import { readFileSync, writeFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha256";
import { encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import { MemoryLogStore, MerkleLog, bytesToHex, encodeUseRecord, useRecordLeafHash, type UseRecord } from "../../../sdk/src/index.js";

const OUT = new URL("../../vectors/use-record.json", import.meta.url);
const h = (s: string) => keccak256(toUtf8Bytes(s));
const b = encodeBytes32String;
const un = (x: string) => Buffer.from(x.slice(2), "hex");
const hex = (u: Uint8Array) => bytesToHex(u);

const served: UseRecord = {
  direction: "SERVED", basis: "GRANT", time: 1767225600n, requestId: h("tongban/vector/request/1"),
  grantId: h("tongban/vector/grant/1"), matter: b("MATTER-310000-0042"), requester: b("11310104MB2F000050"),
  custodian: b("11310115002418321F"), typeCode: b("BIZ_LICENCE"), leaf: h("tongban/vector/leaf/1"),
};
const records: { name: string; record: UseRecord }[] = [
  { name: "served under a grant", record: served },
  { name: "the requester's counterpart", record: { ...served, direction: "RECEIVED" } },
  { name: "sharing approval, max time", record: { ...served, basis: "SHARING_APPROVAL", time: (1n << 64n) - 1n, requestId: h("tongban/vector/request/2"), grantId: h("tongban/vector/approval/7") } },
  { name: "all-zero ids, time 0", record: { ...served, time: 0n, requestId: "0x" + "00".repeat(32), grantId: "0x" + "00".repeat(32), leaf: "0x" + "00".repeat(32) } },
  { name: "all-max ids", record: { ...served, requestId: "0x" + "ff".repeat(32), grantId: "0x" + "ff".repeat(32), matter: "0x" + "ff".repeat(32), requester: "0x" + "ff".repeat(32), custodian: "0x" + "ff".repeat(32), typeCode: "0x" + "ff".repeat(32), leaf: "0x" + "ff".repeat(32) } },
];
// five more SERVED records so the log has 10 entries (interesting shapes: 3, 5, 6, 7, 10)
for (let i = 2; i <= 6; i++) records.push({ name: `served #${i}`, record: { ...served, time: served.time + BigInt(i), requestId: h(`tongban/vector/request/s${i}`), leaf: h(`tongban/vector/leaf/${i}`) } });

function handEncode(r: UseRecord): Buffer {
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(r.time);
  return Buffer.concat([Buffer.from([1, r.direction === "SERVED" ? 1 : 2, r.basis === "GRANT" ? 1 : 2]), t,
    un(r.requestId), un(r.grantId), un(r.matter), un(r.requester), un(r.custodian), un(r.typeCode), un(r.leaf)]);
}
const mth = (d: Uint8Array[]): Uint8Array => {
  if (d.length === 0) return sha256(new Uint8Array());
  if (d.length === 1) return sha256(Buffer.concat([Buffer.from([0]), d[0]!]));
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha256(Buffer.concat([Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k))]));
};

const entries: Uint8Array[] = [];
const out = [];
for (const { name, record } of records) {
  const enc = encodeUseRecord(record);
  const hand = handEncode(record);
  if (hex(enc) !== hex(hand)) throw new Error(`${name}: encodings differ`);
  const leafHash = useRecordLeafHash(record);
  if (hex(leafHash) !== hex(mth([hand]))) throw new Error(`${name}: leaf hash differs`);
  entries.push(enc);
  out.push({ name, record: { ...record, time: String(record.time) }, encoded: hex(enc), leafHash: hex(leafHash) });
}
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
const consistency = [];
for (const [m, n] of [[1, 10], [3, 7], [4, 10], [5, 6], [6, 10], [7, 10], [10, 10]] as const) {
  consistency.push({ first: m, second: n, proof: (await log.consistencyProof(m, n)).map(hex) });
}
const file = {
  description: "FROZEN. Canonical use records (sdk/src/audit/record.ts: 235 bytes, version 1) and their RFC 6962 SHA-256 log (sdk/src/audit/log.ts). `time` is a decimal string. `roots[n]` is the root of the first n records. Made by test/sdk/audit/make-vectors.ts (SDK vs hand-packed bytes and a naive RFC 6962 reference).",
  records: out, roots, inclusion, consistency,
};
const text = JSON.stringify(file, null, 2) + "\n";
if (process.argv.includes("--check")) {
  if (readFileSync(OUT, "utf8") !== text) { console.error("use-record.json differs from a recomputation"); process.exit(1); }
  console.log("use-record.json matches");
} else {
  writeFileSync(OUT, text);
  console.log("wrote", OUT.pathname);
}
