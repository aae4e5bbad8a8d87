// Generates the FROZEN vector test/vectors/use-record-scenario.json (run once:
// `npx tsx test/sdk/audit/make-scenario-vectors.ts`; `--check` compares with the committed file instead).
// Data uses under an application scenario (basis SCENARIO = 2, record version 1, same 235-byte layout as
// test/vectors/use-record.json) mixed with material uses (basis GRANT) in one log: encodings by the SDK
// (via the catalogue's DataUse mapping) and by hand-packed bytes, roots and proofs by the SDK log and by a naive
// RFC 6962 reference, and the per-grant counts an anchor carries (GRANT SERVED records of the custodian only).
import { readFileSync, writeFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha256";
import { encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import {
  MemoryLogStore, MerkleLog, bytesToHex, dataUseToUseRecord, encodeUseRecord, servedUsesByGrant, useRecordLeafHash,
  type DataUse, type UseRecord,
} from "../../../sdk/src/index.js";

const OUT = new URL("../../vectors/use-record-scenario.json", import.meta.url);
const h = (s: string) => keccak256(toUtf8Bytes(s));
const b = encodeBytes32String;
const un = (x: string) => Buffer.from(x.slice(2), "hex");
const hex = (u: Uint8Array) => bytesToHex(u);

const PUDONG = b("11310115002418321F");
const XUHUI = b("91310104MA1K000018");
const grant: UseRecord = {
  direction: "SERVED", basis: "GRANT", time: 1767225600n, requestId: h("tongban/vector/request/g1"),
  grantId: h("tongban/vector/grant/1"), matter: b("MATTER-310000-0042"), requester: XUHUI,
  custodian: PUDONG, typeCode: b("BIZ_LICENCE"), leaf: h("tongban/vector/leaf/1"),
};
const use: DataUse = {
  direction: "RECEIVED", time: 1767225700n, requestId: h("tongban/vector/request/d1"), scenarioId: "SCN-OPEN-SHOP",
  resourceCode: "R310115-0001", consumer: XUHUI, provider: PUDONG, matter: "MATTER-310000-0042", queryHash: h("tongban/vector/query/1"),
};
const cases: { name: string; dataUse?: DataUse; record: UseRecord }[] = [
  { name: "data use, consumer's RECEIVED record", dataUse: use, record: dataUseToUseRecord(use) },
  { name: "data use, provider's SERVED record", dataUse: { ...use, direction: "SERVED" }, record: dataUseToUseRecord({ ...use, direction: "SERVED" }) },
  { name: "material use under a grant (SERVED)", record: grant },
  { name: "second data use, other resource", dataUse: { ...use, direction: "SERVED", time: 1767225800n, requestId: h("tongban/vector/request/d2"), resourceCode: "R310115-0002", queryHash: h("tongban/vector/query/2") },
    record: dataUseToUseRecord({ ...use, direction: "SERVED", time: 1767225800n, requestId: h("tongban/vector/request/d2"), resourceCode: "R310115-0002", queryHash: h("tongban/vector/query/2") }) },
  { name: "second material use, same grant", record: { ...grant, time: 1767225900n, requestId: h("tongban/vector/request/g2"), leaf: h("tongban/vector/leaf/2") } },
  { name: "data use, scenario id equal to a grant id (the basis tells them apart)", record: { ...grant, basis: "SCENARIO", time: 1767226000n, requestId: h("tongban/vector/request/d3") } },
];

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
for (const { name, dataUse, record } of cases) {
  const enc = encodeUseRecord(record);
  const hand = handEncode(record);
  if (hex(enc) !== hex(hand)) throw new Error(`${name}: encodings differ`);
  if (enc[2] !== (record.basis === "GRANT" ? 1 : 2)) throw new Error(`${name}: basis byte`);
  const leafHash = useRecordLeafHash(record);
  if (hex(leafHash) !== hex(mth([hand]))) throw new Error(`${name}: leaf hash differs`);
  entries.push(enc);
  out.push({
    name,
    ...(dataUse ? { dataUse: { ...dataUse, time: String(dataUse.time) } } : {}),
    record: { ...record, time: String(record.time) }, encoded: hex(enc), leafHash: hex(leafHash),
  });
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
const grantCounts = servedUsesByGrant(cases.map((c) => c.record), PUDONG);
if (grantCounts.length !== 1 || grantCounts[0]!.count !== 2) throw new Error("per-grant counts must cover the 2 GRANT records only");
const file = {
  description: "FROZEN. Data uses under an application scenario: use records with basis SCENARIO (2) in the version-1 layout of use-record.json (grantId = scenario id, typeCode = resource code, leaf = query digest, requester = consumer, custodian = provider), in one RFC 6962 log with GRANT records. `grantCounts` = the per-grant counts an anchor of the whole log carries for custodian `custodian` (GRANT SERVED records only). `time` is a decimal string. Made by test/sdk/audit/make-scenario-vectors.ts.",
  custodian: PUDONG, records: out, roots, inclusion, grantCounts,
};
const text = JSON.stringify(file, null, 2) + "\n";
if (process.argv.includes("--check")) {
  if (readFileSync(OUT, "utf8") !== text) { console.error("use-record-scenario.json differs from a recomputation"); process.exit(1); }
  console.log("use-record-scenario.json matches");
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT.pathname}`);
}
