import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { computeLeaf, encodeHeader, computeHolderRef, hashContent, InvalidIdError, type MaterialHeader } from "@tongban/sdk";
import { holderRefBytes, contentHashBytes } from "../../../node/src/core/intake.js";
import { encodeHeaderInto, decodeHeader, keccakBuf, hex, type BinHeader } from "../../../node/src/core/header.js";
import { AesGcmCipher, Sm4CbcHmacCipher, openAny, DecryptionError } from "../../../node/src/core/crypto.js";
import { createKeystore, loadKeystore, LIGHT_SCRYPT, KeystoreError } from "../../../node/src/core/keystore.js";
import { loadConfig, keystorePassword } from "../../../node/src/core/config.js";
import { createLogger } from "../../../node/src/core/log.js";
import { openDb } from "../../../node/src/core/db.js";
import { LevelContentStore } from "../../../node/src/core/store.js";
import { NodeError } from "../../../node/src/core/errors.js";

const rnd32 = () => randomBytes(32);
const u64 = () => Math.floor(Math.random() * 2 ** 53);

describe("node core units", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tongban-units-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("binary header encoding (intake hot path)", () => {
    it("equals the SDK's ABI encoding and leaf for 500 random headers, and decodes back", () => {
      const out = Buffer.alloc(320);
      for (let i = 0; i < 500; i++) {
        const b: BinHeader = {
          typeCode: rnd32(), issuer: rnd32(), holderRef: rnd32(), contentHash: rnd32(),
          hashAlg: i % 256, issuedAt: u64(), validFrom: i % 7 ? u64() : 0, validUntil: i % 3 ? u64() : 0,
          version: i % 5 ? (Math.random() * 2 ** 32) >>> 0 : 1, supersedes: i % 2 ? rnd32() : Buffer.alloc(32),
        };
        const h: MaterialHeader = {
          typeCode: hex(b.typeCode), issuer: hex(b.issuer), holderRef: hex(b.holderRef), contentHash: hex(b.contentHash),
          hashAlg: b.hashAlg, issuedAt: BigInt(b.issuedAt), validFrom: BigInt(b.validFrom), validUntil: BigInt(b.validUntil),
          version: b.version, supersedes: hex(b.supersedes),
        };
        encodeHeaderInto(b, out);
        expect(hex(out)).to.equal(encodeHeader(h));
        expect(hex(keccakBuf(out))).to.equal(computeLeaf(h));
        const d = decodeHeader(out);
        expect([d.hashAlg, d.issuedAt, d.validFrom, d.validUntil, d.version]).to.deep.equal([b.hashAlg, b.issuedAt, b.validFrom, b.validUntil, b.version]);
      }
    });

    it("matches the frozen leaf vectors", () => {
      const vectors = JSON.parse(readFileSync(new URL("../../vectors/leaf.json", import.meta.url), "utf8")) as { vectors?: { header: Record<string, string | number>; leaf: string }[] };
      // uint64 fields that fit a JS number (intake limits them to 2^53 - 1)
      const list = (vectors.vectors ?? []).filter((v) => ["issuedAt", "validFrom", "validUntil"].every((f) => BigInt(v.header[f]!) <= BigInt(Number.MAX_SAFE_INTEGER)));
      expect(list.length).to.be.greaterThan(0);
      for (const v of list) {
        const h = v.header;
        const b: BinHeader = {
          typeCode: Buffer.from(String(h.typeCode).slice(2), "hex"), issuer: Buffer.from(String(h.issuer).slice(2), "hex"),
          holderRef: Buffer.from(String(h.holderRef).slice(2), "hex"), contentHash: Buffer.from(String(h.contentHash).slice(2), "hex"),
          hashAlg: Number(h.hashAlg), issuedAt: Number(h.issuedAt), validFrom: Number(h.validFrom), validUntil: Number(h.validUntil),
          version: Number(h.version), supersedes: Buffer.from(String(h.supersedes).slice(2), "hex"),
        };
        expect(hex(keccakBuf(encodeHeaderInto(b, Buffer.alloc(320))))).to.equal(v.leaf);
      }
    });
  });

  describe("content ciphers", () => {
    for (const C of [AesGcmCipher, Sm4CbcHmacCipher]) {
      it(`${C.name}: round trip, random IV, tamper and wrong-key detection, AAD binding`, () => {
        const key = randomBytes(32);
        const c = new C(key);
        const aad = Buffer.from("hash-A");
        for (const n of [0, 1, 15, 16, 17, 1000, 70_000]) {
          const plain = randomBytes(n);
          const s1 = c.seal(plain, aad);
          const s2 = c.seal(plain, aad);
          expect(s1.equals(s2)).to.equal(false);
          expect(c.open(s1, aad).equals(plain)).to.equal(true);
          expect(openAny(key, s1, aad).equals(plain)).to.equal(true);
        }
        const s = c.seal(Buffer.from("secret licence"), aad);
        const t = Buffer.from(s);
        t[t.length - 1]! ^= 1;
        expect(() => c.open(t, aad)).to.throw(DecryptionError);
        expect(() => c.open(s, Buffer.from("hash-B"))).to.throw(DecryptionError);
        expect(() => new C(randomBytes(32)).open(s, aad)).to.throw(DecryptionError);
      });
    }

    it("AES-256-GCM blobs decrypt with a plain OpenSSL GCM decipher; IVs never repeat across the IV pool's refills", () => {
      const key = randomBytes(32);
      const c = new AesGcmCipher(key);
      const { createHmac, createDecipheriv } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
      const k = createHmac("sha256", key).update("tongban/content/aes-256-gcm").digest();
      const ivs = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const plain = randomBytes(i % 50);
        const s = c.seal(plain, Buffer.from([i & 255]));
        expect(s.length).to.equal(30 + plain.length);
        expect([s[0], s[1]]).to.deep.equal([1, 1]);
        ivs.add(s.subarray(2, 14).toString("hex"));
        const d = createDecipheriv("aes-256-gcm", k, s.subarray(2, 14));
        d.setAAD(Buffer.from([i & 255]));
        d.setAuthTag(s.subarray(14, 30));
        expect(Buffer.concat([d.update(s.subarray(30)), d.final()]).equals(plain)).to.equal(true);
      }
      expect(ivs.size).to.equal(2000); // 2,000 x 12 bytes spans several 4 KiB pool refills
    });

    it("holderRefBytes and contentHashBytes equal the SDK's computeHolderRef and hashContent; bad IDs throw the SDK's InvalidIdError", () => {
      const key = randomBytes(32);
      for (const id of [
        { idType: "USCC", idNumber: "91310104MA1K000018" },
        { idType: "RESIDENT_ID", idNumber: "11010519491231002x" },
        { idType: "PASSPORT", idNumber: " E1234567 " },
        { idType: "BIZ_REG_NO", idNumber: "REG000000000001" },
      ]) {
        expect(hex(holderRefBytes(id, key))).to.equal(computeHolderRef(id, key));
      }
      expect(() => holderRefBytes({ idType: "USCC", idNumber: "91310104MA1K000019" }, key)).to.throw(InvalidIdError);
      for (const alg of [1, 2]) {
        const content = randomBytes(777);
        expect(hex(contentHashBytes(content, alg))).to.equal(hashContent(content, alg));
      }
    });

    it("SM4-CBC ciphertext interoperates with sm-crypto (GM/T 0002)", () => {
      const key = randomBytes(32);
      const c = new Sm4CbcHmacCipher(key);
      const plain = Buffer.from("电子证照 SM4 interop");
      const sealed = c.seal(plain, Buffer.alloc(0));
      const { createHmac } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
      const encKey = createHmac("sha256", key).update("tongban/content/sm4-cbc/enc").digest().subarray(0, 16);
      const sm4 = (createRequire(import.meta.url)("sm-crypto") as { sm4: { decrypt(i: number[], k: number[], o: object): number[] } }).sm4;
      const out = sm4.decrypt([...sealed.subarray(50)], [...encKey], { mode: "cbc", iv: [...sealed.subarray(2, 18)], output: "array" });
      expect(Buffer.from(out).equals(plain)).to.equal(true);
    });

    it("the LevelDB content store keeps only ciphertext on disk", async () => {
      const db = await openDb(join(dir, "store"));
      const store = new LevelContentStore(db, randomBytes(32), "sm4-cbc-hmac");
      const hash = rnd32();
      const plain = Buffer.from("PLAINTEXT-MARKER-营业执照".repeat(50));
      const op = store.putOp(1, hash, plain);
      expect(op.value.includes(Buffer.from("PLAINTEXT-MARKER"))).to.equal(false);
      await db.batch([op]);
      expect((await store.get(1, hash))!.equals(plain)).to.equal(true);
      expect(await store.get(2, hash)).to.equal(undefined);
      await db.close();
    });
  });

  describe("keystore", () => {
    it("round-trips signing, storage and holder keys; refuses a wrong password naming the file; mode 0600", async () => {
      const path = join(dir, "ks.json");
      const holderKey = randomBytes(32);
      const k1 = await createKeystore(path, "pw-1", { holderKey, scrypt: LIGHT_SCRYPT });
      expect((statSync(path).mode & 0o777).toString(8)).to.equal("600");
      const text = readFileSync(path, "utf8");
      expect(text).not.to.contain(k1.wallet.privateKey.slice(2));
      expect(text).not.to.contain(holderKey.toString("hex"));
      expect(text).not.to.contain(k1.storageKey.toString("hex"));
      const k2 = await loadKeystore(path, "pw-1");
      expect(k2.wallet.address).to.equal(k1.wallet.address);
      expect(k2.storageKey.equals(k1.storageKey)).to.equal(true);
      expect(k2.holderKey.equals(holderKey)).to.equal(true);
      try {
        await loadKeystore(path, "wrong");
        expect.fail("wrong password accepted");
      } catch (e) {
        expect(e).to.be.instanceOf(KeystoreError);
        expect((e as KeystoreError).details.path).to.equal(path);
      }
      try {
        await createKeystore(path, "pw-1", { scrypt: LIGHT_SCRYPT });
        expect.fail("overwrote");
      } catch (e) {
        expect(e).to.be.instanceOf(KeystoreError);
      }
    });
  });

  describe("config", () => {
    it("merges defaults < file < env, resolves paths against the file, validates", () => {
      const file = join(dir, "node.json");
      writeFileSync(file, JSON.stringify({ rpcUrls: ["http://a"], ledgerAddress: "0x" + "11".repeat(20), memberId: "11310115002418321F", dataDir: "d", batchSize: 500, api: { port: 9000 } }));
      const c = loadConfig({ file, env: { TONGBAN_RPC_URLS: "http://x, http://y", TONGBAN_BATCH_INTERVAL_MS: "250", TONGBAN_API_TOKENS: "t1,t2", TONGBAN_KEYSTORE_PASSWORD: "sekret" } });
      expect(c.rpcUrls).to.deep.equal(["http://x", "http://y"]);
      expect(c.batchSize).to.equal(500);
      expect(c.batchIntervalMs).to.equal(250);
      expect(c.dataDir).to.equal(join(dir, "d"));
      expect(c.api).to.deep.equal({ host: "127.0.0.1", port: 9000, tokens: ["t1", "t2"] });
      expect(c.confirmations).to.equal(1);
      expect(keystorePassword(c, { TONGBAN_KEYSTORE_PASSWORD: "sekret" })).to.equal("sekret");
      const pwFile = join(dir, "pw");
      writeFileSync(pwFile, "from-file\n");
      expect(keystorePassword({ ...c, keystorePassword: undefined, keystorePasswordFile: pwFile }, {})).to.equal("from-file");
      for (const bad of [{ TONGBAN_BATCH_SIZE: "0" }, { TONGBAN_LEDGER: "0x12" }, { TONGBAN_MEMBER_ID: "short" }, { TONGBAN_CONFIRMATIONS: "x" }]) {
        expect(() => loadConfig({ file, env: bad })).to.throw(NodeError);
      }
    });
  });

  describe("logging", () => {
    it("redacts secrets and ID numbers", () => {
      let out = "";
      const dest = new Writable({ write(c, _e, cb) { out += c; cb(); } });
      const log = createLogger({ level: "info", destination: dest as never });
      log.child({ component: "t" }).info({ password: "p@ss", keystorePassword: "k", holder: { idNumber: "31010419900307123X" }, tokens: ["tok-XYZZY"], privateKey: "0xabc" }, "hello");
      expect(out).to.contain("hello");
      for (const s of ["p@ss", "31010419900307123X", "tok-XYZZY", "0xabc"]) expect(out).not.to.contain(s);
    });
  });
});

describe("node polyfill", () => {
  it("adds Promise.withResolvers on a runtime without it (libp2p needs it on Node 20)", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = [
      "delete Promise.withResolvers;",
      "if (typeof Promise.withResolvers === 'function') throw new Error('not deleted');",
      `await import(${JSON.stringify(new URL("../../../node/src/polyfill.ts", import.meta.url).href)});`,
      "const { promise, resolve } = Promise.withResolvers();",
      "resolve(42);",
      "console.log(await promise);",
    ].join("\n");
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.trim()).to.equal("42");
  });
});

describe("leaf hasher worker", () => {
  it("hashes packed headers exactly like the inline keccak, and closes", async () => {
    const { LeafHasher } = await import("../../../node/src/core/hasher.js");
    const h = LeafHasher.create();
    expect(h, "worker with native keccak").to.not.equal(undefined);
    const n = 1000;
    const packed = Buffer.allocUnsafeSlow(n * 320);
    for (let i = 0; i < n * 320; i += 4) packed.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    const expected = Array.from({ length: n }, (_, i) => keccakBuf(packed.subarray(i * 320, (i + 1) * 320)).toString("hex"));
    const [a, b] = await Promise.all([h!.hash(Buffer.from(packed), n), h!.hash(Buffer.from(packed.subarray(0, 320 * 10)), 10)]);
    for (let i = 0; i < n; i++) expect(a.subarray(i * 32, i * 32 + 32).toString("hex")).to.equal(expected[i]);
    for (let i = 0; i < 10; i++) expect(b.subarray(i * 32, i * 32 + 32).toString("hex")).to.equal(expected[i]);
    await h!.close();
    expect(h!.alive).to.equal(false);
  });

  it("intake crypto: content SHA-256, holder HMACs and AES-256-GCM blobs equal the inline ones and open with the store's cipher", async () => {
    const { LeafHasher } = await import("../../../node/src/core/hasher.js");
    const { aesContentKey } = await import("../../../node/src/core/crypto.js");
    const { holderCanonical } = await import("../../../node/src/core/intake.js");
    const h = LeafHasher.create()!;
    const storageKey = randomBytes(32);
    const holderKey = randomBytes(32);
    const n = 700;
    const contents = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? undefined : randomBytes(i % 97)));
    const ids = Array.from({ length: n }, (_, i) => (i % 3 === 2 ? undefined : { idType: "BIZ_REG_NO", idNumber: `REG${i}` }));
    const out = await h.intake({ contents, holders: ids.map((id, i) => id && holderCanonical(id, i)), holderKey, aesKey: aesContentKey(storageKey) });
    const cipher = new AesGcmCipher(storageKey);
    for (let i = 0; i < n; i++) {
      const c = contents[i];
      if (c) {
        const hash = out.hashes.subarray(i * 32, i * 32 + 32);
        expect(hex(hash)).to.equal(hashContent(c, 1));
        const sealed = out.sealed(i)!;
        expect(sealed.length).to.equal(30 + c.length);
        expect(cipher.open(sealed, Buffer.concat([Buffer.from([1]), hash])).equals(c)).to.equal(true);
      } else {
        expect(out.sealed(i)).to.equal(undefined);
        expect(out.hashes.subarray(i * 32, i * 32 + 32).equals(Buffer.alloc(32))).to.equal(true);
      }
      const id = ids[i];
      if (id) expect(hex(out.refs.subarray(i * 32, i * 32 + 32))).to.equal(computeHolderRef(id, holderKey));
    }
    // the caller's buffers are intact (copied into the message, not transferred)
    expect(contents[0]!.length).to.equal(0);
    expect(contents[1]!.length).to.equal(1);
    await h.close();
  });
});
