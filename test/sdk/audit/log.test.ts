import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import {
  AuditLogError, CompactRange, EMPTY_LOG_ROOT, LogCheckCode, MemoryLogStore, MerkleLog, bytesToHex, consistencyProof,
  inclusionProof, logLeafHash, logNodeHash, logNodeKey, logRoot, logRootAt, rootFromLeafHashes, splitPoint,
  verifyConsistency, verifyInclusion, type LogNode,
} from "../../../sdk/src/index.js";

const hex = (b: Uint8Array): string => bytesToHex(b).slice(2);
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));

// Certificate Transparency reference data (RFC 6962 test vectors as used by transparency-dev/merkle and the
// CT C++ tests): 8 entries, the tree head of every size 1..8, two audit paths and three consistency proofs.
const CT_ENTRIES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(unhex);
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const CT_INCLUSION = [
  { index: 0, size: 8, proof: ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { index: 5, size: 8, proof: ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
];
const CT_CONSISTENCY = [
  { first: 2, second: 8, proof: ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"] },
  { first: 6, second: 8, proof: ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"] },
  { first: 2, second: 5, proof: ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"] },
];

// ---------------------------------------------------------------- naive reference: RFC 6962 §2.1 verbatim
const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return Uint8Array.from(h.digest());
};
const refMth = (d: Uint8Array[]): Uint8Array => {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Uint8Array.of(1), refMth(d.slice(0, k)), refMth(d.slice(k)));
};
const refPath = (m: number, d: Uint8Array[]): Uint8Array[] => {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))] : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
};
const refSub = (m: number, d: Uint8Array[], b: boolean): Uint8Array[] => {
  const n = d.length;
  if (m === n) return b ? [] : [refMth(d)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k ? [...refSub(m, d.slice(0, k), b), refMth(d.slice(k))] : [...refSub(m - k, d.slice(k), false), refMth(d.slice(0, k))];
};
const refProof = (m: number, d: Uint8Array[]): Uint8Array[] => (m === 0 || m === d.length ? [] : refSub(m, d, true));

async function buildLog(entries: Uint8Array[]): Promise<{ log: MerkleLog; store: MemoryLogStore }> {
  const store = new MemoryLogStore();
  const log = await MerkleLog.open(store);
  for (const e of entries) await log.append(e);
  return { log, store };
}

describe("sdk/audit/log (RFC 6962, SHA-256)", () => {
  it("hashes leaves and nodes with the 0x00 / 0x01 prefixes; the empty root is SHA-256('')", () => {
    expect(hex(EMPTY_LOG_ROOT)).to.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(logRoot([]))).to.equal(hex(EMPTY_LOG_ROOT));
    const l = logLeafHash(unhex("6c")), r = logLeafHash(unhex("72"));
    expect(hex(logLeafHash(unhex("6c")))).to.equal(hex(sha(Uint8Array.of(0), unhex("6c"))));
    expect(hex(logNodeHash(l, r))).to.equal(hex(sha(Uint8Array.of(1), l, r)));
    expect(hex(logNodeHash(l, r))).to.not.equal(hex(logNodeHash(r, l)));
  });

  it("splits at the largest power of two below n, not the midpoint", () => {
    const want: Record<number, number> = { 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 4, 9: 8, 1000: 512, 1025: 1024 };
    for (const [n, k] of Object.entries(want)) expect(splitPoint(Number(n))).to.equal(k);
  });

  it("reproduces the CT reference tree heads for sizes 1..8 (direct and stored)", async () => {
    const { log } = await buildLog(CT_ENTRIES);
    for (let n = 1; n <= 8; n++) {
      expect(hex(logRoot(CT_ENTRIES.slice(0, n))), `size ${n}`).to.equal(CT_ROOTS[n - 1]);
      expect(hex(await log.rootAt(n)), `stored size ${n}`).to.equal(CT_ROOTS[n - 1]);
    }
    expect(hex(log.root())).to.equal(CT_ROOTS[7]);
  });

  it("reproduces the CT reference audit paths and consistency proofs, and verifies them", async () => {
    const { log } = await buildLog(CT_ENTRIES);
    for (const v of CT_INCLUSION) {
      const p = await log.inclusionProof(v.index, v.size);
      expect(p.map(hex)).to.deep.equal(v.proof);
      const check = verifyInclusion(logLeafHash(CT_ENTRIES[v.index]!), v.index, v.size, v.proof.map((h) => "0x" + h), "0x" + CT_ROOTS[v.size - 1]);
      expect(check).to.deep.include({ status: "VALID", code: LogCheckCode.VALID });
    }
    for (const v of CT_CONSISTENCY) {
      const p = await log.consistencyProof(v.first, v.second);
      expect(p.map(hex)).to.deep.equal(v.proof);
      expect(verifyConsistency(v.first, v.second, unhex(CT_ROOTS[v.first - 1]!), unhex(CT_ROOTS[v.second - 1]!), p).status).to.equal("VALID");
    }
  });

  it("stored-node proofs == naive RFC 6962 reference, and verify, for every index/size pair up to 40", async () => {
    const entries = Array.from({ length: 40 }, (_, i) => Uint8Array.from(randomBytes(1 + (i % 7))));
    const { log } = await buildLog(entries);
    for (let n = 0; n <= entries.length; n++) {
      const d = entries.slice(0, n);
      const root = refMth(d);
      expect(hex(await log.rootAt(n)), `root ${n}`).to.equal(hex(root));
      for (let i = 0; i < n; i++) {
        const p = await log.inclusionProof(i, n);
        expect(p.map(hex), `path ${i}/${n}`).to.deep.equal(refPath(i, d).map(hex));
        expect(verifyInclusion(logLeafHash(d[i]!), i, n, p, root).status, `verify ${i}/${n}`).to.equal("VALID");
      }
      for (let m = 0; m <= n; m++) {
        const p = await log.consistencyProof(m, n);
        expect(p.map(hex), `consistency ${m}->${n}`).to.deep.equal(refProof(m, d).map(hex));
        expect(verifyConsistency(m, n, refMth(entries.slice(0, m)), root, p).name, `verify ${m}->${n}`).to.equal("VALID");
      }
    }
  });

  it("agrees with the reference for random larger sizes and random pairs", async () => {
    const total = 700 + Math.floor(Math.random() * 600);
    const entries = Array.from({ length: total }, () => Uint8Array.from(randomBytes(16)));
    const { log } = await buildLog(entries);
    for (let k = 0; k < 25; k++) {
      const n = 1 + Math.floor(Math.random() * total);
      const m = Math.floor(Math.random() * (n + 1));
      const i = Math.floor(Math.random() * n);
      const d = entries.slice(0, n);
      expect((await log.inclusionProof(i, n)).map(hex), `path ${i}/${n}`).to.deep.equal(refPath(i, d).map(hex));
      expect((await log.consistencyProof(m, n)).map(hex), `consistency ${m}->${n}`).to.deep.equal(refProof(m, d).map(hex));
    }
    expect(hex(log.root())).to.equal(hex(refMth(entries)));
  });

  it("rejects tampered, truncated, extended, misplaced and malformed proofs with stable codes", async () => {
    const entries = Array.from({ length: 21 }, (_, i) => Uint8Array.of(i, i * 3));
    const { log } = await buildLog(entries);
    const root = log.root();
    for (let i = 0; i < 21; i++) {
      const leaf = logLeafHash(entries[i]!);
      const p = await log.inclusionProof(i);
      const flipped = p.map((h) => Uint8Array.from(h));
      flipped[0]![5]! ^= 1;
      expect(verifyInclusion(leaf, i, 21, flipped, root).name).to.equal("ROOT_MISMATCH");
      expect(verifyInclusion(leaf, i, 21, p.slice(0, -1), root).status).to.equal("INVALID");
      expect(verifyInclusion(leaf, i, 21, [...p, new Uint8Array(32)], root).status).to.equal("INVALID");
      expect(verifyInclusion(leaf, (i + 1) % 21, 21, p, root).status).to.equal("INVALID");
      expect(verifyInclusion(logLeafHash(Uint8Array.of(99)), i, 21, p, root).name).to.equal("ROOT_MISMATCH");
    }
    expect(verifyInclusion(logLeafHash(entries[0]!), 21, 21, [], root)).to.deep.include({ name: "INDEX_OUT_OF_RANGE", code: 3 });
    expect(verifyInclusion(new Uint8Array(31), 0, 21, [], root)).to.deep.include({ name: "MALFORMED", code: 5 });
    expect(verifyInclusion("0xzz", 0, 21, [], root).name).to.equal("MALFORMED");
    for (let m = 1; m < 21; m++) {
      const r1 = await log.rootAt(m);
      const p = await log.consistencyProof(m, 21);
      const bad = p.map((h) => Uint8Array.from(h));
      bad[bad.length - 1]![0]! ^= 0x80;
      expect(verifyConsistency(m, 21, r1, root, bad).status, `flip ${m}`).to.equal("INVALID");
      expect(verifyConsistency(m, 21, r1, root, p.slice(0, -1)).status, `short ${m}`).to.equal("INVALID");
      expect(verifyConsistency(m, 21, r1, root, [...p, new Uint8Array(32)]).status, `long ${m}`).to.equal("INVALID");
      // the log was rewritten: entry 0 changed -> the old head is not a prefix of the new one
      const forged = await buildLog([Uint8Array.of(7), ...entries.slice(1)]);
      expect(verifyConsistency(m, 21, r1, forged.log.root(), await forged.log.consistencyProof(m)).name, `forged ${m}`).to.equal("ROOT_MISMATCH");
    }
    expect(verifyConsistency(21, 20, root, root, []).name).to.equal("SIZE_ORDER");
    expect(verifyConsistency(21, 21, root, root, []).name).to.equal("VALID");
    expect(verifyConsistency(21, 21, root, await log.rootAt(20), []).name).to.equal("ROOT_MISMATCH");
    expect(verifyConsistency(21, 21, root, root, [root]).name).to.equal("PROOF_LENGTH");
    expect(verifyConsistency(0, 21, EMPTY_LOG_ROOT, root, []).name).to.equal("VALID");
    expect(verifyConsistency(0, 21, root, root, []).name).to.equal("ROOT_MISMATCH");
    expect(verifyConsistency(5, 21, await log.rootAt(5), root, []).name).to.equal("PROOF_LENGTH");
  });

  it("stores exactly the perfect subtrees, reopens from the store, and keeps appending identically", async () => {
    const entries = Array.from({ length: 100 }, (_, i) => Uint8Array.of(i));
    const { log, store } = await buildLog(entries.slice(0, 61));
    expect(store.nodeCount).to.equal(61 + 30 + 15 + 7 + 3 + 1); // sum of floor(61 / 2^l)
    const reopened = await MerkleLog.open(store, 61);
    expect(hex(reopened.root())).to.equal(hex(log.root()));
    for (const e of entries.slice(61)) await reopened.append(e);
    expect(hex(reopened.root())).to.equal(hex(logRoot(entries)));
    expect(hex(await reopened.rootAt(61))).to.equal(hex(logRoot(entries.slice(0, 61))));
  });

  it("stage() returns the nodes to persist without writing them (one atomic batch for the caller)", async () => {
    const store = new MemoryLogStore();
    const log = await MerkleLog.open(store);
    const { firstIndex, nodes } = log.stage([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3), Uint8Array.of(4)]);
    expect(firstIndex).to.equal(0);
    expect(store.nodeCount).to.equal(0);
    expect(nodes.map((n: LogNode) => `${n.level}/${n.index}`)).to.deep.equal(["0/0", "0/1", "1/0", "0/2", "0/3", "1/1", "2/0"]);
    store.putNodes(nodes);
    expect(hex(await logRootAt(store, 4))).to.equal(hex(logRoot([1, 2, 3, 4].map((x) => Uint8Array.of(x)))));
    expect(hex(nodes[6]!.hash)).to.equal(hex(log.root()));
  });

  it("works through an async reader (as LevelDB would) and names a missing node", async () => {
    const entries = Array.from({ length: 13 }, (_, i) => Uint8Array.of(i));
    const { store } = await buildLog(entries);
    const asyncReader = { getNode: async (l: number, i: number) => store.getNode(l, i) };
    expect(hex(await logRootAt(asyncReader, 13))).to.equal(hex(logRoot(entries)));
    expect((await inclusionProof(asyncReader, 4, 13)).map(hex)).to.deep.equal(refPath(4, entries).map(hex));
    expect((await consistencyProof(asyncReader, 3, 13)).map(hex)).to.deep.equal(refProof(3, entries).map(hex));
    const holey = { getNode: (l: number, i: number) => (l === 2 && i === 1 ? undefined : store.getNode(l, i)) };
    const err = await inclusionProof(holey, 0, 13).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuditLogError).with.nested.property("details.reason", "MISSING_NODE");
    expect((err as AuditLogError).details).to.include({ level: 2, index: 1 });
  });

  it("rejects out-of-range requests with typed errors", async () => {
    const { log, store } = await buildLog([Uint8Array.of(1), Uint8Array.of(2)]);
    await log.inclusionProof(2).then(() => expect.fail(), (e) => expect(e).to.be.instanceOf(AuditLogError).with.nested.property("details.reason", "INDEX"));
    await log.rootAt(3).then(() => expect.fail(), (e) => expect(e).to.be.instanceOf(AuditLogError).with.nested.property("details.reason", "SIZE"));
    await consistencyProof(store, 2, 1).then(() => expect.fail(), (e) => expect(e).to.be.instanceOf(AuditLogError).with.nested.property("details.reason", "SIZE_ORDER"));
    expect(() => new CompactRange().append(new Uint8Array(31))).to.throw(AuditLogError);
  });

  it("keys sort by level then index (LevelDB layout)", () => {
    expect(logNodeKey(0, 5)).to.equal("n0000000000000005");
    expect(logNodeKey(3, 255)).to.equal("n03000000000000ff");
    const keys = [logNodeKey(1, 0), logNodeKey(0, 1000), logNodeKey(0, 2)];
    expect([...keys].sort()).to.deep.equal([logNodeKey(0, 2), logNodeKey(0, 1000), logNodeKey(1, 0)]);
  });

  it("appends 50,000 records in O(log n) each and proves from stored nodes (storage is linear: ~2n hashes)", async () => {
    const store = new MemoryLogStore();
    const log = await MerkleLog.open(store);
    const t0 = performance.now();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 50_000; i++) {
      const e = new Uint8Array(235);
      new DataView(e.buffer).setUint32(0, i);
      leaves.push(logLeafHash(e));
      store.putNodes(log.stage([e]).nodes);
    }
    const ms = performance.now() - t0;
    expect(hex(log.root())).to.equal(hex(rootFromLeafHashes(leaves)));
    expect(store.nodeCount).to.equal(2 * 50_000 - 6); // 2n - popcount(n): 50,000 has 6 one-bits
    const p = await log.inclusionProof(37_777);
    expect(p.length).to.equal(16);
    expect(verifyInclusion(leaves[37_777]!, 37_777, 50_000, p, log.root()).status).to.equal("VALID");
    const c = await log.consistencyProof(32_769);
    expect(verifyConsistency(32_769, 50_000, await log.rootAt(32_769), log.root(), c).status).to.equal("VALID");
    // a linear-time append would need ~10^9 hashes here; the bound is generous for a loaded machine
    expect(ms, `50k appends took ${ms.toFixed(0)} ms`).to.be.lessThan(60_000);
  });
});
