/**
 * The indexer's header records written from the core's 320-byte ABI headers (`addBatchHeaderBytes`, what the
 * header feed uses) are the records the JSON path writes (`addBatchHeaders` with the core's `headerJson`):
 * same keys, same values, byte for byte; plus a frozen vector of one `H!` record. No chain needed.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Indexer, headerRecord } from "../../../node/src/indexer/indexer.js";
import { headerJson } from "../../../node/src/core/service.js";
import { encodeHeaderInto, keccakBuf, hex } from "../../../node/src/core/header.js";

const noChain = { send: async () => { throw new Error("no chain in this test"); } };

function randomHeader(i: number): Buffer {
  const out = Buffer.alloc(320);
  const big = 2 ** 40 + i * 7919; // above 2^32: both u64 halves are used
  return encodeHeaderInto(
    {
      typeCode: Buffer.concat([Buffer.from("BIZ_LICENCE"), Buffer.alloc(21)]),
      issuer: randomBytes(32),
      holderRef: randomBytes(32),
      contentHash: randomBytes(32),
      hashAlg: 1 + (i % 2),
      issuedAt: i % 3 === 0 ? big : 1_700_000_000 + i,
      validFrom: 1_700_000_000,
      validUntil: i % 2 ? 0 : 1_900_000_000 + i,
      version: i % 5 === 0 ? 2 ** 32 - 1 : 1 + i,
      supersedes: i % 4 === 0 ? Buffer.alloc(32) : randomBytes(32),
    },
    out,
  );
}

async function dump(idx: Indexer, dir: string): Promise<[string, string][]> {
  await idx.stop();
  const { ClassicLevel } = await import("classic-level");
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  const out = (await db.iterator().all()) as [string, string][];
  await db.close();
  return out;
}

describe("indexer header records from ABI headers", () => {
  it("headerRecord is JSON.stringify({ header: headerJson(enc), root }) for 500 random headers (root or null)", () => {
    for (let i = 0; i < 500; i++) {
      const enc = randomHeader(i);
      const root = i % 7 === 0 ? null : hex(randomBytes(32));
      const h = headerJson(enc);
      const r = headerRecord(enc, root);
      expect(r.json).to.equal(JSON.stringify({ header: h, root }));
      expect([r.typeCode, r.issuer, r.holderRef, r.issuedAt]).to.deep.equal([h.typeCode, h.issuer, h.holderRef, h.issuedAt]);
    }
  });

  it("frozen vector: one H! record", () => {
    const enc = encodeHeaderInto(
      {
        typeCode: Buffer.concat([Buffer.from("BIZ_LICENCE"), Buffer.alloc(21)]),
        issuer: Buffer.alloc(32, 0x11),
        holderRef: Buffer.alloc(32, 0xab),
        contentHash: Buffer.alloc(32, 0xcd),
        hashAlg: 1,
        issuedAt: 1_767_225_600,
        validFrom: 1_767_225_600,
        validUntil: 0,
        version: 1,
        supersedes: Buffer.alloc(32),
      },
      Buffer.alloc(320),
    );
    // frozen: the record the JSON path (JSON.stringify of headerJson) has always written for this header
    expect(headerRecord(enc, "0x" + "e".repeat(64)).json).to.equal(
      '{"header":{"typeCode":"0x42495a5f4c4943454e4345000000000000000000000000000000000000000000",' +
        '"issuer":"0x1111111111111111111111111111111111111111111111111111111111111111",' +
        '"holderRef":"0xabababababababababababababababababababababababababababababababab",' +
        '"contentHash":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",' +
        '"hashAlg":1,"issuedAt":"1767225600","validFrom":"1767225600","validUntil":"0","version":1,' +
        '"supersedes":"0x0000000000000000000000000000000000000000000000000000000000000000"},' +
        '"root":"0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}',
    );
  });

  it("refuses a header that is not 320 bytes", () => {
    expect(() => headerRecord(Buffer.alloc(319), null)).to.throw(/320 bytes/);
  });

  it("addBatchHeaderBytes writes the same keys and values as addBatchHeaders (and the root's done mark)", async () => {
    const dirs = [mkdtempSync(join(tmpdir(), "tongban-hr-a-")), mkdtempSync(join(tmpdir(), "tongban-hr-b-"))];
    try {
      const [a, b] = dirs.map((d) => new Indexer({ provider: noChain, address: "0x" + "11".repeat(20), dbPath: d }));
      for (let batch = 0; batch < 3; batch++) {
        const encs = Array.from({ length: 200 }, (_, i) => randomHeader(batch * 1000 + i));
        const leaves = encs.map((e) => hex(keccakBuf(e)));
        const root = "0x" + randomBytes(32).toString("hex").toUpperCase(); // mixed case: both lowercase it
        await a!.addBatchHeaders(root, leaves.map((leaf, i) => ({ leaf, header: headerJson(encs[i]!) })));
        await b!.addBatchHeaderBytes(root, leaves, encs);
        expect(await b!.batchHeadersDone(root)).to.equal(true);
      }
      const [da, db] = [await dump(a!, dirs[0]!), await dump(b!, dirs[1]!)];
      expect(da.length).to.equal(3 * 200 * 5 + 3);
      expect(db).to.deep.equal(da);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it("addBatchHeaderBytes refuses leaves and headers of different lengths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tongban-hr-c-"));
    const idx = new Indexer({ provider: noChain, address: "0x" + "11".repeat(20), dbPath: dir });
    try {
      let err: unknown;
      await idx.addBatchHeaderBytes("0x" + "01".repeat(32), ["0x" + "02".repeat(32)], []).catch((e) => (err = e));
      expect(String(err)).to.match(/1 leaves but 0 headers/);
    } finally {
      await idx.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
