import { expect } from "chai";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { Wallet, TypedDataEncoder, getBytes, keccak256 as ethersKeccak } from "ethers";
import {
  signLeafEip712, signLeafSm2, verifySeal, generateSm2KeyPair, sealDomain, MATERIAL_SEAL_TYPES, SealError, type Eip712Seal,
} from "../../sdk/src/index.js";
import { LEDGER } from "./helpers/fixture.js";

const leaf = "0x" + "ab".repeat(32);
const domain = { chainId: 31337n, ledger: LEDGER };

describe("sdk/seal", () => {
  it("EIP-712 seal recovers the signer; digest uses domain Tongban/1/chainId/ledger and Material(bytes32 leaf)", async () => {
    const w = Wallet.createRandom();
    const seal = await signLeafEip712(leaf, w.privateKey, domain);
    expect(seal.signer).to.equal(w.address);
    expect(verifySeal(seal, leaf, domain)).to.deep.equal({ valid: true, scheme: "eip712-secp256k1", signer: w.address });
    const digest = TypedDataEncoder.hash(sealDomain(31337n, LEDGER), MATERIAL_SEAL_TYPES as never, { leaf });
    expect(w.signingKey.sign(digest).serialized).to.equal(seal.signature);
  });

  it("EIP-712 seal fails on another leaf, chain, ledger or a forged signer name", async () => {
    const w = Wallet.createRandom();
    const seal = await signLeafEip712(leaf, w.privateKey, domain);
    expect(verifySeal(seal, "0x" + "cd".repeat(32), domain).valid).to.equal(false);
    expect(verifySeal(seal, leaf, { ...domain, chainId: 1n }).valid).to.equal(false);
    expect(verifySeal(seal, leaf, { ...domain, ledger: Wallet.createRandom().address }).valid).to.equal(false);
    const forged = verifySeal({ ...seal, signer: Wallet.createRandom().address }, leaf, domain);
    expect(forged).to.include({ valid: false, reason: "SIGNER_MISMATCH" });
    expect(verifySeal({ ...seal, signature: "0x" + "00".repeat(65) }, leaf, domain)).to.include({ valid: false, reason: "MALFORMED" });
  });

  it("EIP-712 seal: only the canonical encoding verifies (v = 27/28); v = 0/1 or an EIP-155 v that would recover the same signer is MALFORMED", async () => {
    const w = Wallet.createRandom();
    const seal = await signLeafEip712(leaf, w.privateKey, domain);
    const v = parseInt(seal.signature.slice(-2), 16);
    expect([27, 28]).to.include(v);
    for (const alt of [v - 27, v + 10, v ^ 0x1b, 0x25, 0x26]) {
      const t = { ...seal, signature: seal.signature.slice(0, -2) + alt.toString(16).padStart(2, "0") };
      expect(verifySeal(t, leaf, domain), `v = ${alt}`).to.include({ valid: false, reason: "MALFORMED" });
    }
  });

  it("SM2 seal verifies under its public key with SM3 and the default or a custom user id", () => {
    const kp = generateSm2KeyPair();
    const seal = signLeafSm2(leaf, kp.privateKey);
    expect(seal.publicKey).to.equal(kp.publicKey);
    expect(verifySeal(seal, leaf, domain)).to.include({ valid: true, scheme: "sm2-sm3" });
    expect(verifySeal(seal, "0x" + "cd".repeat(32), domain)).to.include({ valid: false, reason: "BAD_SIGNATURE" });
    expect(verifySeal({ ...seal, publicKey: generateSm2KeyPair().publicKey }, leaf, domain).valid).to.equal(false);
    const custom = signLeafSm2(leaf, kp.privateKey, { userId: "tongban-issuer-1" });
    expect(verifySeal(custom, leaf, domain).valid).to.equal(true);
    expect(verifySeal({ ...custom, userId: undefined }, leaf, domain).valid).to.equal(false);
  });

  it("rejects bad keys with a typed error", async () => {
    expect(() => signLeafSm2(leaf, "12")).to.throw(SealError);
    try { await signLeafEip712(leaf, "0x12", domain); expect.fail("no throw"); } catch (e) { expect(e).to.be.instanceOf(SealError); }
  });
});

describe("sdk/seal: verifySeal with native primitives (keccak256 + ecrecover) answers exactly what the ethers path answers", () => {
  // an independent recovery for the fast path: the native libsecp256k1 binding (the node's), keccak from ethers
  const secp = createRequire(import.meta.url)("secp256k1") as { ecdsaRecover(rs: Uint8Array, recid: number, msg: Uint8Array, compressed: boolean): Uint8Array };
  let calls = 0;
  const keccak256 = (d: Uint8Array) => getBytes(ethersKeccak(d));
  const ecrecover = (digest: Uint8Array, rs: Uint8Array, recid: number) => {
    calls++;
    try {
      return "0x" + ethersKeccak(secp.ecdsaRecover(rs, recid, digest, false).subarray(1)).slice(-40);
    } catch {
      return undefined;
    }
  };
  const N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  const hex32 = (n: bigint) => n.toString(16).padStart(64, "0");

  it("valid seals, other leaves / chains / ledgers, forged signer names, high-s twins, r or s out of range, non-canonical v, bad leaf or ledger", async () => {
    const cases: { seal: Eip712Seal; leaf: string; domain: { chainId: bigint | number | string; ledger: string } }[] = [];
    for (let i = 0; i < 12; i++) {
      const w = Wallet.createRandom();
      const l = "0x" + randomBytes(32).toString("hex");
      const d = { chainId: BigInt(1 + (i % 3)), ledger: Wallet.createRandom().address };
      const seal = await signLeafEip712(l, w.privateKey, d);
      const r = seal.signature.slice(2, 66), s = BigInt("0x" + seal.signature.slice(66, 130)), v = parseInt(seal.signature.slice(130), 16);
      const highS = { ...seal, signature: "0x" + r + hex32(N - s) + (v === 27 ? "1c" : "1b") }; // same signer, malleated
      cases.push(
        { seal, leaf: l, domain: d },
        { seal, leaf: "0x" + randomBytes(32).toString("hex"), domain: d },
        { seal, leaf: l, domain: { ...d, chainId: 99n } },
        { seal, leaf: l, domain: { ...d, ledger: Wallet.createRandom().address } },
        { seal: { ...seal, signer: Wallet.createRandom().address }, leaf: l, domain: d },
        { seal: highS, leaf: l, domain: d },
        { seal: { ...seal, signature: "0x" + "00".repeat(32) + seal.signature.slice(66) }, leaf: l, domain: d }, // r = 0
        { seal: { ...seal, signature: "0x" + r + "00".repeat(32) + seal.signature.slice(130) }, leaf: l, domain: d }, // s = 0
        { seal: { ...seal, signature: "0x" + hex32(N + 1n) + seal.signature.slice(66) }, leaf: l, domain: d }, // r >= n
        { seal: { ...seal, signature: seal.signature.slice(0, -2) + "01" }, leaf: l, domain: d },
        { seal, leaf: l.toUpperCase().replace("0X", "0x"), domain: d },
        { seal, leaf: "0x1234", domain: d },
        { seal, leaf: l, domain: { ...d, ledger: "0xnot-an-address" } },
      );
    }
    calls = 0;
    for (const c of cases) {
      const slow = verifySeal(c.seal, c.leaf, c.domain);
      const fast = verifySeal(c.seal, c.leaf, c.domain, { keccak256, ecrecover });
      expect(fast, JSON.stringify(c, (_k, x) => (typeof x === "bigint" ? x.toString() : x)).slice(0, 300)).to.deep.equal(slow);
    }
    expect(calls, "the fast path was taken").to.be.greaterThan(12 * 6);
    // the valid ones are valid both ways
    expect(cases.filter((c, i) => i % 13 === 0).every((c) => verifySeal(c.seal, c.leaf, c.domain, { keccak256, ecrecover }).valid)).to.equal(true);
  });
});
