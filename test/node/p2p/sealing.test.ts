/**
 * The exchange's per-fetch primitives against reference implementations: the native keccak sponge against
 * ethers' keccak256, the request digest against ethers' EIP-712 encoder, `b32` against the regex it replaced,
 * the HMAC-based content key against `hkdfSync`, sealing round trips and tampering, the random pool.
 */
import { expect } from "chai";
import { hkdfSync, randomBytes } from "node:crypto";
import { keccak256, TypedDataEncoder, Wallet } from "ethers";
import { keccak, b32, requestDigest, domainSeparator, signDigest, recoverSigner, EXCHANGE_EIP712_TYPES, EXCHANGE_DOMAIN_NAME, MalformedError } from "../../../node/src/p2p/messages.js";
import { contentKey, sealContentParts, openContent, EphemeralKey, poolRandom } from "../../../node/src/p2p/exchange.js";

/** the sealed body as the requester receives it: the parts, concatenated */
function sealContent(eph: EphemeralKey, replyKey: Buffer, requestId: Buffer, content: Uint8Array): { ephemeralKey: Buffer; body: Buffer } {
  const { ephemeralKey, parts } = sealContentParts(eph, replyKey, requestId, content);
  return { ephemeralKey, body: Buffer.concat(parts) };
}

const hex32 = () => "0x" + randomBytes(32).toString("hex");

describe("exchange primitives", () => {
  it("keccak equals ethers' keccak256 for every length around the rate and for several parts", () => {
    for (const n of [0, 1, 31, 32, 64, 66, 135, 136, 137, 271, 272, 288, 1000, 10_240]) {
      const b = randomBytes(n);
      expect("0x" + keccak(b).toString("hex"), `length ${n}`).to.equal(keccak256(b));
      const cut = Math.floor(n / 3);
      expect("0x" + keccak(b.subarray(0, cut), b.subarray(cut, 2 * cut), b.subarray(2 * cut)).toString("hex"), `length ${n} in parts`).to.equal(keccak256(b));
    }
    // a result is a fresh buffer: a later hash does not change an earlier one
    const a = keccak(Buffer.from("a"));
    const copy = Buffer.from(a);
    keccak(Buffer.from("b"));
    expect(a.equals(copy)).to.equal(true);
  });

  it("requestDigest equals ethers' EIP-712 hash and the signature recovers the signer", () => {
    const wallet = Wallet.createRandom();
    const verifyingContract = "0x" + randomBytes(20).toString("hex");
    const sep = domainSeparator({ chainId: 31337, verifyingContract });
    for (let i = 0; i < 20; i++) {
      const f = { grantId: hex32(), leaf: hex32(), matter: hex32(), requester: hex32(), custodian: hex32(), nonce: hex32(), expiry: 1_700_000_000 + i * 7919, replyKey: hex32() };
      const want = TypedDataEncoder.hash({ name: EXCHANGE_DOMAIN_NAME, version: "1", chainId: 31337, verifyingContract }, EXCHANGE_EIP712_TYPES, f);
      const d = requestDigest(sep, f);
      expect("0x" + d.toString("hex")).to.equal(want);
      expect(recoverSigner(d, signDigest(d, Buffer.from(wallet.privateKey.slice(2), "hex")))).to.equal(wallet.address.toLowerCase());
    }
  });

  it("b32 accepts exactly what /^0x[0-9a-fA-F]{64}$/ accepts", () => {
    const ok = "ab".repeat(32);
    const cases = [
      "0x" + ok,
      "0x" + ok.toUpperCase(),
      "0X" + ok,
      ok + "00",
      "0x" + ok.slice(0, 63),
      "0x" + ok + "0",
      "0x" + ok.slice(0, 62) + "ag",
      "0x" + "g" + ok.slice(1),
      "0x" + ok.slice(0, 31) + " " + ok.slice(32),
      "0x" + ok.slice(0, 63) + "\u0100",
      "0x" + ok.slice(0, 62) + "é1",
      "",
      "0x",
      123 as unknown as string,
    ];
    for (const c of cases) {
      const want = typeof c === "string" && /^0x[0-9a-fA-F]{64}$/.test(c);
      let got: Buffer | undefined;
      try {
        got = b32(c, "f");
      } catch (e) {
        expect(e).to.be.instanceOf(MalformedError);
      }
      expect(got !== undefined, JSON.stringify(c)).to.equal(want);
      if (got) expect(got.toString("hex")).to.equal(c.slice(2).toLowerCase());
    }
  });

  it("contentKey equals HKDF-SHA256 (hkdfSync) with the request id as salt", () => {
    for (let i = 0; i < 50; i++) {
      const shared = randomBytes(32);
      const rid = randomBytes(32);
      const want = Buffer.from(hkdfSync("sha256", shared, rid, Buffer.from("tongban/exchange/1.0.0 content"), 32));
      expect(contentKey(shared, rid).equals(want)).to.equal(true);
    }
  });

  it("sealed content opens only under its request id and unaltered", () => {
    const custodian = new EphemeralKey();
    const reply = new EphemeralKey();
    const rid = randomBytes(32);
    for (const n of [0, 1, 10 * 1024]) {
      const content = randomBytes(n);
      const { ephemeralKey, body } = sealContent(custodian, reply.publicRaw, rid, content);
      expect(openContent(reply, ephemeralKey, rid, body).equals(content)).to.equal(true);
      expect(() => openContent(reply, ephemeralKey, randomBytes(32), body)).to.throw();
      const bad = Buffer.from(body);
      bad[bad.length - 1]! ^= 1;
      expect(() => openContent(reply, ephemeralKey, rid, bad)).to.throw();
      expect(() => openContent(new EphemeralKey(), ephemeralKey, rid, body)).to.throw();
      // the parts the custodian writes (iv|tag, ciphertext) open as one body
      const sealed = sealContentParts(custodian, reply.publicRaw, rid, content);
      expect(sealed.parts[0]!.length).to.equal(28);
      expect(openContent(reply, sealed.ephemeralKey, rid, Buffer.concat(sealed.parts)).equals(content)).to.equal(true);
    }
    expect(() => openContent(reply, custodian.publicRaw, rid, Buffer.alloc(10))).to.throw();
  });

  it("poolRandom hands out fresh, distinct values", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const v = poolRandom(32);
      expect(v.length).to.equal(32);
      seen.add(v.toString("hex"));
    }
    expect(seen.size).to.equal(1000);
    const a = poolRandom(12);
    const copy = Buffer.from(a);
    for (let i = 0; i < 400; i++) poolRandom(32); // refills the pool: earlier values are copies, unchanged
    expect(a.equals(copy)).to.equal(true);
    expect(poolRandom(1000).length).to.equal(1000);
  });
});
