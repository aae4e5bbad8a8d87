// Generates the FROZEN vector test/vectors/use-record.json (run once: `npx tsx test/sdk/audit/make-vectors.ts`;
// `--check` compares with the committed file instead of writing). Encodings are computed by the SDK and by
// hand-concatenated bytes, log roots and proofs by the SDK's stored-node log and by a naive recursive
// RFC 6962 reference over @noble/hashes sha256; the script refuses to write if they disagree.
import type { UseRecord } from "../../../sdk/src/index.js";
import { b, encodeChecked, h, hex, logVectors, writeOrCheck } from "./vector-common.js";

const OUT = new URL("../../vectors/use-record.json", import.meta.url);

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

const entries: Uint8Array[] = [];
const out = [];
for (const { name, record } of records) {
  const { enc, leafHash } = encodeChecked(name, record);
  entries.push(enc);
  out.push({ name, record: { ...record, time: String(record.time) }, encoded: hex(enc), leafHash: hex(leafHash) });
}
const { log, roots, inclusion } = await logVectors(entries);
const consistency = [];
for (const [m, n] of [[1, 10], [3, 7], [4, 10], [5, 6], [6, 10], [7, 10], [10, 10]] as const) {
  consistency.push({ first: m, second: n, proof: (await log.consistencyProof(m, n)).map(hex) });
}
const file = {
  description: "FROZEN. Canonical use records (sdk/src/audit/record.ts: 235 bytes, version 1) and their RFC 6962 SHA-256 log (sdk/src/audit/log.ts). `time` is a decimal string. `roots[n]` is the root of the first n records. Made by test/sdk/audit/make-vectors.ts (SDK vs hand-packed bytes and a naive RFC 6962 reference).",
  records: out, roots, inclusion, consistency,
};
writeOrCheck(OUT, file);
