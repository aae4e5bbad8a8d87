/**
 * The indexer's binary query keys (store format 2): frozen vectors of the encoding, the same order as the
 * format-1 string keys, queries and paging against a reference computed here, page tokens (old form and
 * malformed ones refused with a 400 ValidationError naming the token), and the store format: a format-1 store
 * (string query keys, no `v`) converted at open with the same answers, a half-converted one finished, an
 * unknown version refused. No chain needed.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { Indexer, IndexerError, queryKeys, queryKeysOfJson, STORE_FORMAT, PAGE_TOKEN_PREFIX } from "../../../node/src/indexer/indexer.js";
import { headerJson } from "../../../node/src/core/service.js";
import { encodeHeaderInto, keccakBuf, hex } from "../../../node/src/core/header.js";
import { toErrorBody } from "../../../node/src/api/errors.js";
import type { HeaderJson } from "../../../node/src/core/types.js";
import type { QueryItem } from "../../../node/src/indexer/types.js";

const noChain = { send: async () => { throw new Error("no chain in this test"); } };
const ADDRESS = "0x" + "11".repeat(20);

/** Headers over few holders / issuers / types and times of 1 to 14 digits (format 1 padded them to 20). */
function header(i: number): Buffer {
  const pick = (what: string, n: number) => keccakBuf(Buffer.from(`${what} ${i % n}`));
  const times = [0, 7, 99, 1_700_000_000 + (i % 13), 2 ** 40 + (i % 5), 10 ** 13 + i, 1_700_000_000];
  return encodeHeaderInto(
    {
      typeCode: pick("type", 3),
      issuer: pick("issuer", 4),
      holderRef: pick("holder", 5),
      contentHash: randomBytes(32),
      hashAlg: 1,
      issuedAt: times[i % times.length]!,
      validFrom: 0,
      validUntil: 0,
      version: 1,
      supersedes: Buffer.alloc(32),
    },
    Buffer.alloc(320),
  );
}

/** The format-1 string keys (what every node wrote before store format 2), as the old indexer built them. */
function format1Keys(h: HeaderJson, leaf: string): string[] {
  const t = String(h.issuedAt).padStart(20, "0");
  return [`qh!${h.holderRef}!${t}!${leaf}`, `qi!${h.issuer}!${t}!${leaf}`, `qt!${h.typeCode}!${t}!${leaf}`, `qa!${t}!${leaf}`];
}

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `tongban-qk-${tag}-`));

describe("indexer binary query keys (store format 2)", () => {
  it("frozen vectors: tag | ref | issuedAt (8 bytes, big-endian) | leaf", () => {
    const enc = Buffer.alloc(320);
    enc.fill(0x11, 0, 32); // typeCode
    enc.fill(0x22, 32, 64); // issuer
    enc.fill(0x33, 64, 96); // holderRef
    enc.writeBigUInt64BE(2n ** 40n + 5n, 184); // issuedAt (slot 5)
    const leaf = "0x" + "44".repeat(32);
    const t = "0000010000000005";
    const want = ["01" + "33".repeat(32) + t + "44".repeat(32), "02" + "22".repeat(32) + t + "44".repeat(32), "03" + "11".repeat(32) + t + "44".repeat(32), "04" + t + "44".repeat(32)];
    expect(queryKeys(enc, 184, leaf).map((k) => k.toString("hex"))).to.deep.equal(want);
    expect(queryKeys(enc, 184, leaf.toUpperCase().replace("0X", "0x")).map((k) => k.toString("hex"))).to.deep.equal(want);
    const json = { typeCode: "0x" + "11".repeat(32), issuer: "0x" + "22".repeat(32), holderRef: "0x" + "33".repeat(32), issuedAt: String(2 ** 40 + 5) };
    expect(queryKeysOfJson(json, leaf).map((k) => k.toString("hex"))).to.deep.equal(want);
    expect(STORE_FORMAT).to.equal(2);
    expect(() => queryKeys(enc, 184, "0x1234")).to.throw(/leaf must be 0x-prefixed 32-byte hex/);
    expect(() => queryKeys(enc, 184, "0x" + "zz".repeat(32))).to.throw(/leaf must be/);
    expect(() => queryKeysOfJson({ ...json, holderRef: "0x12" }, leaf)).to.throw(/holderRef must be/);
    expect(() => queryKeysOfJson({ ...json, issuedAt: String(2n ** 64n) }, leaf)).to.throw(/uint64/);
  });

  it("JSON and ABI headers give the same keys, in the order of the format-1 string keys", () => {
    const rows: { bin: Buffer[]; str: string[] }[] = [];
    for (let i = 0; i < 300; i++) {
      const enc = header(i);
      const leaf = hex(keccakBuf(enc));
      const bin = queryKeys(enc, 184, leaf);
      expect(queryKeysOfJson(headerJson(enc), leaf)).to.deep.equal(bin);
      rows.push({ bin, str: format1Keys(headerJson(enc), leaf) });
    }
    for (let kind = 0; kind < 4; kind++) {
      const byStr = rows.map((r) => r.str[kind]!).sort();
      const byBin = rows.map((r) => r.bin[kind]!).sort(Buffer.compare);
      expect(byBin.map((k) => "0x" + k.toString("hex", k.length - 32))).to.deep.equal(byStr.map((k) => k.slice(k.lastIndexOf("!") + 1)));
    }
  });

  describe("queries", () => {
    let dir: string;
    let idx: Indexer;
    const all: { leaf: string; h: HeaderJson }[] = [];
    before(async () => {
      dir = tmp("q");
      idx = new Indexer({ provider: noChain, address: ADDRESS, dbPath: dir });
      for (let b = 0; b < 2; b++) {
        const encs = Array.from({ length: 150 }, (_, i) => header(b * 150 + i));
        const leaves = encs.map((e) => hex(keccakBuf(e)));
        if (b === 0) await idx.addBatchHeaderBytes(hex(randomBytes(32)), leaves, encs);
        else await idx.addHeaders(leaves.map((leaf, i) => ({ leaf, header: headerJson(encs[i]!), root: hex(randomBytes(32)) })));
        encs.forEach((e, i) => all.push({ leaf: leaves[i]!, h: headerJson(e) }));
      }
    });
    after(async () => {
      await idx.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** What a query must answer: the format-1 order (ref, zero-padded time, leaf) of the matching materials. */
    function reference(q: { holderRef?: string; issuer?: string; typeCode?: string; from?: number; to?: number }): string[] {
      const kind = q.holderRef ? 0 : q.issuer ? 1 : q.typeCode ? 2 : 3;
      return all
        .filter(({ h }) => (!q.holderRef || h.holderRef === q.holderRef) && (!q.issuer || h.issuer === q.issuer) && (!q.typeCode || h.typeCode === q.typeCode))
        .filter(({ h }) => (q.from === undefined || Number(h.issuedAt) >= q.from) && (q.to === undefined || Number(h.issuedAt) <= q.to))
        .map(({ h, leaf }) => format1Keys(h, leaf)[kind]!)
        .sort()
        .map((k) => k.slice(k.lastIndexOf("!") + 1));
    }

    async function pages(q: Parameters<Indexer["queryMaterials"]>[0], limit: number): Promise<QueryItem[]> {
      const out: QueryItem[] = [];
      let after: string | undefined;
      for (let n = 0; n < 1000; n++) {
        const p = await idx.queryMaterials({ ...q, limit, after });
        out.push(...p.items);
        if (!p.next) return out;
        expect(p.next.startsWith(PAGE_TOKEN_PREFIX)).to.equal(true);
        after = p.next;
      }
      throw new Error("paging did not end");
    }

    it("by holder, issuer, type and time, with time bounds and combined filters, paged, answer the reference", async () => {
      const h0 = all[0]!.h;
      const queries = [
        {},
        { holderRef: h0.holderRef },
        { issuer: h0.issuer },
        { typeCode: h0.typeCode },
        { issuer: h0.issuer, typeCode: all[1]!.h.typeCode },
        { holderRef: h0.holderRef, from: 99, to: 1_700_000_005 },
        { from: 1_700_000_000, to: 1_700_000_000 },
        { from: 2 ** 40 },
        { to: 7 },
        { typeCode: h0.typeCode, from: 8 },
      ];
      for (const q of queries) {
        const want = reference(q);
        expect(want.length, JSON.stringify(q)).to.be.greaterThan(0);
        for (const limit of [1000, 7]) {
          const got = await pages(q, limit);
          expect(got.map((x) => x.id), `${JSON.stringify(q)} limit ${limit}`).to.deep.equal(want);
        }
      }
      const one = (await idx.queryMaterials({ holderRef: h0.holderRef, limit: 1 })).items[0]!;
      expect(one.header).to.deep.equal(all.find((x) => x.leaf === one.id)!.h);
      expect(one.chain.headerKnown).to.equal(true);
      expect(await idx.queryMaterials({ holderRef: hex(randomBytes(32)) })).to.deep.equal({ items: [] });
      expect(await idx.queryMaterials({ holderRef: "0x1234" })).to.deep.equal({ items: [] });
      expect(await idx.queryMaterials({ from: 10, to: 9 })).to.deep.equal({ items: [] });
    });

    it("a page token of another query answers no items; old-form and malformed tokens are refused with a 400 naming them", async () => {
      const h0 = all[0]!.h;
      const byHolder = await idx.queryMaterials({ holderRef: h0.holderRef, limit: 1 });
      expect(byHolder.next).to.be.a("string");
      expect(await idx.queryMaterials({ holderRef: all[1]!.h.holderRef, after: byHolder.next })).to.deep.equal({ items: [] });
      expect(await idx.queryMaterials({ after: byHolder.next })).to.deep.equal({ items: [] });
      const old = `qh!${h0.holderRef}!${"0".repeat(10)}1700000000!${all[0]!.leaf}`;
      for (const [token, why] of [
        [old, /older form/],
        ["q2.", /malformed/],
        [PAGE_TOKEN_PREFIX + "AAAA", /malformed/],
        [byHolder.next! + "=", /malformed/],
        ["something", /not a page token of this node/],
      ] as const) {
        let err: unknown;
        await idx.queryMaterials({ holderRef: h0.holderRef, after: token }).catch((e) => (err = e));
        expect(err, token).to.have.property("code", "VALIDATION");
        expect(String((err as Error).message)).to.match(why).and.to.include(JSON.stringify(token));
        const { status, body } = toErrorBody(err);
        expect([status, body.code, body.details.after]).to.deep.equal([400, "VALIDATION", token]);
      }
    });
  });

  describe("store format", () => {
    it("a format-1 store (string query keys, no `v`) is converted at open, answers the same; a half-converted one is finished", async () => {
      const dir = tmp("f1");
      try {
        const items = Array.from({ length: 120 }, (_, i) => header(i)).map((e) => ({ leaf: hex(keccakBuf(e)), h: headerJson(e), enc: e }));
        // the format-1 store: JSON H! records and string query keys, as nodes before format 2 wrote them;
        // the first 20 materials already in binary form (a conversion interrupted by a crash)
        const db = new ClassicLevel<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
        await db.open();
        const ops = db.batch();
        items.forEach(({ leaf, h, enc }, i) => {
          ops.put(`H!${leaf}`, JSON.stringify({ header: h, root: null }));
          if (i < 20) for (const k of queryKeys(enc, 184, leaf)) ops.put(k as unknown as string, "", { keyEncoding: "buffer" });
          else for (const k of format1Keys(h, leaf)) ops.put(k, "");
        });
        await ops.write();
        await db.close();

        const idx = new Indexer({ provider: noChain, address: ADDRESS, dbPath: dir });
        const q = { issuer: items[0]!.h.issuer };
        const got = (await idx.queryMaterials({ ...q, limit: 1000 })).items.map((x) => x.id);
        const want = items.filter((x) => x.h.issuer === q.issuer).map((x) => format1Keys(x.h, x.leaf)[1]!).sort().map((k) => k.slice(-66));
        expect(got).to.deep.equal(want);
        expect((await idx.queryMaterials({ limit: 1000 })).items).to.have.length(120);
        await idx.stop();

        const check = new ClassicLevel<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
        expect(await check.get("v")).to.equal(String(STORE_FORMAT));
        for (const p of ["qa!", "qh!", "qi!", "qt!"]) expect(await check.keys({ gt: p, lt: p + "~" }).all(), p).to.deep.equal([]);
        const bin = (await check.keys({ gte: Buffer.of(1), lt: Buffer.of(5), keyEncoding: "buffer" }).all()) as unknown as Buffer[];
        expect(bin).to.have.length(120 * 4);
        await check.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a store of another format version is refused at open, naming the version (no answers from it)", async () => {
      const dir = tmp("f3");
      try {
        const db = new ClassicLevel<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
        await db.put("v", "3");
        await db.close();
        const idx = new Indexer({ provider: noChain, address: ADDRESS, dbPath: dir });
        let err: unknown;
        await idx.queryMaterials({}).catch((e) => (err = e));
        expect(err).to.be.instanceOf(IndexerError);
        expect(err).to.have.property("code", "STORE_FORMAT");
        expect(String((err as Error).message)).to.include(`has format "3"`).and.to.include("reads format 2");
        // the refused store was closed: it opens again (and is still refused)
        err = undefined;
        await idx.open().catch((e) => (err = e));
        expect(err).to.have.property("code", "STORE_FORMAT");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
