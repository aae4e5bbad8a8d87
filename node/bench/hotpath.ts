/**
 * Per-material main-thread cost of the intake's hot spots, old way vs now (min of many repetitions, so that a
 * loaded machine's preemptions do not count): AES-GCM seal, holder reference, content hash, base64 decode, and
 * the whole per-item preparation of a 2,000-material call inline vs with the worker's intake crypto.
 *
 *   node --import tsx node/bench/hotpath.ts
 */
import "../src/polyfill.js";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { computeHolderRef, hashContent } from "@tongban/sdk";
import { AesGcmCipher, aesContentKey } from "../src/core/crypto.js";
import { holderRefBytes, contentHashBytes, prepareRequest, holderCanonical, type Precomputed } from "../src/core/intake.js";
import { LeafHasher } from "../src/core/hasher.js";
import type { RegisterRequest } from "../src/core/types.js";

const N = 2000;
const REPS = Number(process.env.REPS ?? 15);
const storageKey = randomBytes(32);
const holderKey = randomBytes(32);
const docs = Array.from({ length: N }, (_, i) =>
  Buffer.from(JSON.stringify({ id: `BL-${i}`, companyName: `Shanghai Pudong Example Trading Co., Ltd. No. ${i}`, registrationNo: `REG${String(i).padStart(12, "0")}`, address: `${i} Century Avenue, Pudong New Area, Shanghai`, businessScope: "Wholesale and retail of food; import and export of goods and technology", issuedOn: "2026-01-01" })),
);
const b64s = docs.map((d) => d.toString("base64"));
const holders = docs.map((_, i) => ({ idType: "BIZ_REG_NO", idNumber: `REG${String(i).padStart(12, "0")}` }));
const aad = Buffer.alloc(33, 1);

/** min over REPS of the time per item of fn() over N items, µs */
function perItem(fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return (best * 1000) / N;
}

// the seal as it was before (randomBytes per blob, Buffer.concat)
const oldKey = createHmac("sha256", storageKey).update("tongban/content/aes-256-gcm").digest();
function oldSeal(plain: Uint8Array, a: Uint8Array): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", oldKey, iv);
  c.setAAD(a);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.from([1, 1]), iv, c.getAuthTag(), ct]);
}
const cipher = new AesGcmCipher(storageKey);
const rows: [string, number, number][] = [];
rows.push(["AES-256-GCM seal", perItem(() => docs.forEach((d) => oldSeal(d, aad))), perItem(() => docs.forEach((d) => cipher.seal(d, aad)))]);
rows.push([
  "holder reference",
  perItem(() => holders.forEach((h) => Buffer.from(computeHolderRef(h, holderKey).slice(2), "hex"))),
  perItem(() => holders.forEach((h) => holderRefBytes(h, holderKey))),
]);
rows.push(["content SHA-256", perItem(() => docs.forEach((d) => Buffer.from(hashContent(d, 1).slice(2), "hex"))), perItem(() => docs.forEach((d) => contentHashBytes(d, 1)))]);
rows.push(["base64 decode", perItem(() => b64s.forEach((s) => new Uint8Array(Buffer.from(s, "base64")))), perItem(() => b64s.forEach((s) => Buffer.from(s, "base64")))]);

// whole per-item preparation of one 2,000-material call on the main thread
const now = Math.floor(Date.now() / 1000);
const reqs: RegisterRequest[] = docs.map((d, i) => ({ typeCode: "BL", jurisdiction: 310115, content: d, holder: holders[i]!, issuedAt: now, validFrom: now }));
const ctx = { issuer: Buffer.alloc(32, 7), holderKey, nowSec: now };
const inline = perItem(() => {
  for (let i = 0; i < N; i++) {
    const p = prepareRequest(reqs[i]!, i, ctx, false);
    oldSeal(p.content!, aad);
  }
});
const hasher = LeafHasher.create()!;
const keepAlive = setInterval(() => {}, 1000); // the worker is unref'd
let best = Infinity;
for (let r = 0; r < REPS; r++) {
  // main-thread parts only: canonical IDs + packing + postMessage, then the prepare loop with the results
  const t0 = performance.now();
  const canon = reqs.map((q, i) => holderCanonical(q.holder!, i));
  const pending = hasher.intake({ contents: reqs.map((q) => q.content), holders: canon, holderKey, aesKey: aesContentKey(storageKey) });
  const t1 = performance.now();
  const out = await pending;
  const t2 = performance.now();
  for (let i = 0; i < N; i++) {
    const pre: Precomputed = { contentHash: out.hashes.subarray(i * 32, i * 32 + 32), holderRef: out.refs.subarray(i * 32, i * 32 + 32), sealed: out.sealed(i) };
    prepareRequest(reqs[i]!, i, ctx, false, pre);
  }
  best = Math.min(best, t1 - t0 + (performance.now() - t2));
}
await hasher.close();
clearInterval(keepAlive);
rows.push(["prepare + seal, 2,000-item call (main thread)", inline, (best * 1000) / N]);

// the HTTP layer alone: Fastify inject of a 2,000-material bulk body (read, JSON parse, ajv, base64 decode,
// 202 serialisation) against a service that answers at once
const { buildApi } = await import("../src/api/server.js");
const { hashToken } = await import("../src/api/auth.js");
const ack = { id: "0x" + "ab".repeat(32), state: "pending", duplicate: false, acceptedAt: Date.now() };
const stub = { onChange: () => () => {}, register: async (r: unknown[]) => r.map(() => ack) };
const app = await buildApi({ service: stub as never, tokens: [hashToken("t")], bulkBodyLimit: 64 * 1024 * 1024 });
const body = JSON.stringify({ materials: reqs.map((q, i) => ({ typeCode: "BL", jurisdiction: 310115, content: b64s[i], holder: q.holder, issuedAt: now, validFrom: now })) });
let bestHttp = Infinity;
for (let r = 0; r < Math.max(REPS, 40); r++) {
  const t = performance.now();
  const res = await app.inject({ method: "POST", url: "/v1/materials/bulk", payload: body, headers: { authorization: "Bearer t", "content-type": "application/json" } });
  if (res.statusCode !== 202) throw new Error(res.body);
  bestHttp = Math.min(bestHttp, performance.now() - t);
}
await app.close();
rows.push(["HTTP layer of a 2,000-item bulk request (inject, no core; before: see node/README.md)", NaN, (bestHttp * 1000) / N]);

console.log(`hot path, µs per material (min of ${REPS} x ${N}), load ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`);
console.log("| step | before | now |\n| --- | ---: | ---: |");
for (const [name, a, b] of rows) console.log(`| ${name} | ${Number.isNaN(a) ? "—" : a.toFixed(2)} | ${b.toFixed(2)} |`);
