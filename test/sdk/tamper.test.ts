/**
 * Tamper property test: any single-byte change to the content, a header field, a proof element, the root or the
 * seal's signature makes verification fail, on the check that guards that part.
 */
import { expect } from "chai";
import { randomInt } from "node:crypto";
import {
  verify, signLeafEip712, signLeafSm2, generateSm2KeyPair, type ProofBundle, type CheckName, type VerificationResult,
} from "../../sdk/src/index.js";
import { batchBundle, ISSUER_KEY, LEDGER, T0 } from "./helpers/fixture.js";

const AT = Number(T0) + 86400;
const ROUNDS = 40;

/** Flips one byte (XOR with a random non-zero value) of a 0x-hex or bare hex string at a random byte position. */
function flipHexByte(hex: string): string {
  const prefix = hex.startsWith("0x") ? 2 : 0;
  const n = (hex.length - prefix) / 2;
  const i = randomInt(n);
  const pos = prefix + 2 * i;
  const b = parseInt(hex.slice(pos, pos + 2), 16) ^ randomInt(1, 256);
  return hex.slice(0, pos) + b.toString(16).padStart(2, "0") + hex.slice(pos + 2);
}

/** Changes one byte of a decimal uint64 string's 8-byte big-endian value (staying within uint64). */
function flipUint64(dec: string): string {
  const v = BigInt(dec) ^ (BigInt(randomInt(1, 256)) << BigInt(8 * randomInt(8)));
  return v.toString();
}

function failedOn(r: VerificationResult, check: CheckName, status: "INVALID" | "ERROR" = "INVALID") {
  expect(r.ok).to.equal(false);
  const c = r.checks.find((x) => x.check === check)!;
  expect(c.status, JSON.stringify(c)).to.equal(status);
  return c;
}

const clone = (b: ProofBundle): ProofBundle => JSON.parse(JSON.stringify(b));

describe("tamper property: single-byte changes fail on the right check", function () {
  this.timeout(120_000);
  const { bundle, content } = batchBundle({ n: 13, index: 6 });

  it("the untampered material verifies (control)", async () => {
    expect((await verify({ content }, bundle, { offline: true, at: AT })).ok).to.equal(true);
  });

  it("content byte -> INTEGRITY CONTENT_HASH_MISMATCH", async () => {
    for (let k = 0; k < ROUNDS; k++) {
      const c = Uint8Array.from(content);
      c[randomInt(c.length)] ^= randomInt(1, 256);
      expect(failedOn(await verify({ content: c }, bundle, { offline: true, at: AT }), "INTEGRITY").reason).to.equal("CONTENT_HASH_MISMATCH");
    }
  });

  it("header field byte (every field) -> INTEGRITY LEAF_MISMATCH", async () => {
    const bytesFields = ["typeCode", "issuer", "holderRef", "contentHash", "supersedes"] as const;
    const u64Fields = ["issuedAt", "validFrom", "validUntil"] as const;
    for (let k = 0; k < ROUNDS; k++) {
      const b = clone(bundle);
      const which = randomInt(bytesFields.length + u64Fields.length + 2);
      if (which < bytesFields.length) b.header[bytesFields[which]!] = flipHexByte(b.header[bytesFields[which]!]);
      else if (which < bytesFields.length + u64Fields.length) { const f = u64Fields[which - bytesFields.length]!; b.header[f] = flipUint64(b.header[f]); }
      else if (which === bytesFields.length + u64Fields.length) b.header.hashAlg = b.header.hashAlg ^ randomInt(1, 256);
      else b.header.version = (b.header.version ^ (randomInt(1, 256) << (8 * randomInt(4)))) >>> 0;
      const c = failedOn(await verify({ content }, b, { offline: true, at: AT }), "INTEGRITY");
      expect(c.reason).to.equal("LEAF_MISMATCH");
    }
  });

  it("header byte with the leaf recomputed to match -> INTEGRITY PROOF_MISMATCH", async () => {
    const { computeLeaf, headerFromJson } = await import("../../sdk/src/index.js");
    for (let k = 0; k < ROUNDS; k++) {
      const b = clone(bundle);
      b.header.holderRef = flipHexByte(b.header.holderRef);
      b.leaf = computeLeaf(headerFromJson(b.header));
      expect(failedOn(await verify({ content }, b, { offline: true, at: AT }), "INTEGRITY").reason).to.equal("PROOF_MISMATCH");
    }
  });

  it("leaf, proof element or root byte -> INTEGRITY", async () => {
    for (let k = 0; k < ROUNDS; k++) {
      const b = clone(bundle);
      const which = randomInt(3);
      if (which === 0) b.leaf = flipHexByte(b.leaf);
      else if (which === 1) { const i = randomInt(b.proof.length); b.proof[i] = flipHexByte(b.proof[i]!); }
      else b.root = flipHexByte(b.root);
      const c = failedOn(await verify({ content }, b, { offline: true, at: AT }), "INTEGRITY");
      expect(c.reason).to.equal(which === 0 ? "LEAF_MISMATCH" : "PROOF_MISMATCH");
    }
  });

  it("seal signature byte (EIP-712 and SM2) -> SIGNATURE INVALID", async () => {
    const eip = { ...clone(bundle), seal: await signLeafEip712(bundle.leaf, ISSUER_KEY, { chainId: 31337n, ledger: LEDGER }) };
    const sm2 = { ...clone(bundle), seal: signLeafSm2(bundle.leaf, generateSm2KeyPair().privateKey) };
    expect((await verify({ content }, eip, { offline: true, at: AT })).ok).to.equal(true);
    expect((await verify({ content }, sm2, { offline: true, at: AT })).ok).to.equal(true);
    for (let k = 0; k < ROUNDS / 4; k++) {
      for (const b of [eip, sm2]) {
        const t = clone(b);
        t.seal!.signature = flipHexByte(t.seal!.signature);
        const c = failedOn(await verify({ content }, t, { offline: true, at: AT }), "SIGNATURE");
        expect(["SEAL_BAD_SIGNATURE", "SEAL_SIGNER_MISMATCH", "SEAL_MALFORMED"]).to.include(c.reason);
      }
    }
  });
});
