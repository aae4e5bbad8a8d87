import { expect } from "chai";
import { Wallet, TypedDataEncoder } from "ethers";
import {
  signLeafEip712, signLeafSm2, verifySeal, generateSm2KeyPair, sealDomain, MATERIAL_SEAL_TYPES, SealError,
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
