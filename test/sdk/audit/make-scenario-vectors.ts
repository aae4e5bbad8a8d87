// Generates the FROZEN vector test/vectors/use-record-scenario.json (run once:
// `npx tsx test/sdk/audit/make-scenario-vectors.ts`; `--check` compares with the committed file instead).
// Data uses under an application scenario (basis SCENARIO = 2, record version 1, same 235-byte layout as
// test/vectors/use-record.json) mixed with material uses (basis GRANT) in one log: encodings by the SDK
// (via the catalogue's DataUse mapping) and by hand-packed bytes, roots and proofs by the SDK log and by a naive
// RFC 6962 reference, and the per-grant counts an anchor carries (GRANT SERVED records of the custodian only).
import { dataUseToUseRecord, servedUsesByGrant, type DataUse, type UseRecord } from "../../../sdk/src/index.js";
import { b, encodeChecked, h, hex, logVectors, writeOrCheck } from "./vector-common.js";

const OUT = new URL("../../vectors/use-record-scenario.json", import.meta.url);

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

const entries: Uint8Array[] = [];
const out = [];
for (const { name, dataUse, record } of cases) {
  const { enc, leafHash } = encodeChecked(name, record);
  entries.push(enc);
  out.push({
    name,
    ...(dataUse ? { dataUse: { ...dataUse, time: String(dataUse.time) } } : {}),
    record: { ...record, time: String(record.time) }, encoded: hex(enc), leafHash: hex(leafHash),
  });
}
const { roots, inclusion } = await logVectors(entries);
const grantCounts = servedUsesByGrant(cases.map((c) => c.record), PUDONG);
if (grantCounts.length !== 1 || grantCounts[0]!.count !== 2) throw new Error("per-grant counts must cover the 2 GRANT records only");
const file = {
  description: "FROZEN. Data uses under an application scenario: use records with basis SCENARIO (2) in the version-1 layout of use-record.json (grantId = scenario id, typeCode = resource code, leaf = query digest, requester = consumer, custodian = provider), in one RFC 6962 log with GRANT records. `grantCounts` = the per-grant counts an anchor of the whole log carries for custodian `custodian` (GRANT SERVED records only). `time` is a decimal string. Made by test/sdk/audit/make-scenario-vectors.ts.",
  custodian: PUDONG, records: out, roots, inclusion, grantCounts,
};
writeOrCheck(OUT, file);
