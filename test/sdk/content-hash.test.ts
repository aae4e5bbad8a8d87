import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import {
  hashContent, hashFile, hashStream, createContentHasher, HashAlg, UnknownHashAlgError, sm3Implementation,
} from "../../sdk/src/index.js";

const smCrypto = createRequire(import.meta.url)("sm-crypto") as { sm3: (a: number[]) => string };
const SM3_ABC = "0x66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

describe("sdk/content-hash", () => {
  it("SM3('abc') matches the GM/T vector (both implementations)", () => {
    expect(hashContent("abc", HashAlg.SM3)).to.equal(SM3_ABC);
    expect(createContentHasher(HashAlg.SM3, { sm3: "sm-crypto" }).update("abc").digest()).to.equal(SM3_ABC);
    expect(sm3Implementation()).to.equal("openssl");
  });

  it("SHA-256 matches node:crypto; SM3 matches sm-crypto on random content", () => {
    for (const n of [0, 1, 55, 64, 1000, 70_000]) {
      const data = randomBytes(n);
      expect(hashContent(data, HashAlg.SHA256)).to.equal("0x" + createHash("sha256").update(data).digest("hex"));
      expect(hashContent(data, HashAlg.SM3)).to.equal("0x" + smCrypto.sm3(Array.from(data)));
    }
  });

  it("streams: a file and a chunked stream hash like the whole content", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tongban-hash-"));
    try {
      const data = randomBytes(3 * (1 << 20) + 123);
      const path = join(dir, "material.bin");
      writeFileSync(path, data);
      for (const alg of [HashAlg.SHA256, HashAlg.SM3]) {
        const whole = hashContent(data, alg);
        expect(await hashFile(path, alg)).to.equal(whole);
        const chunks = [data.subarray(0, 7), data.subarray(7, 100_000), data.subarray(100_000)];
        expect(await hashStream(Readable.from(chunks), alg)).to.equal(whole);
        expect(await hashStream(Readable.toWeb(Readable.from(chunks)) as ReadableStream<Uint8Array>, alg)).to.equal(whole);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects an unknown algorithm with a typed error", async () => {
    expect(() => hashContent("x", 9)).to.throw(UnknownHashAlgError).with.nested.property("details.hashAlg", 9);
    try { await hashFile("/nonexistent", 0); expect.fail("no throw"); } catch (e) { expect(e).to.be.instanceOf(UnknownHashAlgError); }
  });
});
