import { expect } from "chai";
import {
  verify, VerificationCode, CHECKS, signLeafEip712, signLeafSm2, generateSm2KeyPair, loadBundle, type VerificationResult,
  type CheckName, HashAlg, BundleValidationError, type ProofBundle, ledgerInterface, InvalidVerifyOptionError,
} from "../../sdk/src/index.js";
import { getBytes, keccak256 } from "ethers";
import { batchBundle, ISSUER_KEY, LEDGER, T0 } from "./helpers/fixture.js";
import { FakeChain, stateFor } from "./helpers/fake-chain.js";

const AT = Number(T0) + 86400; // one day after issue
const Z = "0x" + "0".repeat(64);
const check = (r: VerificationResult, name: CheckName) => r.checks.find((c) => c.check === name)!;

describe("sdk/verify", () => {
  it("pins the stable numeric codes (append-only)", () => {
    expect(VerificationCode).to.deep.equal({
      OFFLINE: 100, CHAIN_UNREACHABLE: 101, CHAIN_ID_MISMATCH: 102, BAD_CHAIN_RESPONSE: 103, UNTRUSTED_LEDGER: 104,
      NOT_ANCHORED: 105, NOT_PRESENT: 106,
      INTEGRITY_OK: 200, CONTENT_HASH_MISMATCH: 201, LEAF_MISMATCH: 202, PROOF_MISMATCH: 203, CONTENT_UNHASHABLE: 204,
      ANCHORED_OK: 300, ANCHOR_BLOCK_MISMATCH: 301,
      ISSUER_ENTITLED_OK: 400, ISSUER_MISMATCH: 401, TYPE_MISMATCH: 402,
      STATUS_ACTIVE: 500, REVOKED: 501, SUSPENDED: 502, SUPERSEDED: 503,
      WITHIN_VALIDITY: 600, NOT_YET_VALID: 601, EXPIRED: 602, INVALID_WINDOW: 603,
      HASH_ALG_ACTIVE: 700, HASH_ALG_RETIRED_AFTER_ANCHOR: 701, HASH_ALG_RETIRED_BEFORE_ANCHOR: 702, HASH_ALG_UNKNOWN: 703,
      SEAL_VALID: 800, SEAL_BAD_SIGNATURE: 801, SEAL_SIGNER_MISMATCH: 802, SEAL_MALFORMED: 803, SEAL_UNTRUSTED_SIGNER: 804, SEAL_REQUIRED: 805,
      CHECKPOINT_UNSUPPORTED: 901,
    });
    expect(CHECKS).to.deep.equal(["INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW", "HASH_ALGORITHM", "SIGNATURE", "CHECKPOINT"]);
  });

  it("offline: checks what it can, SKIPS chain checks; ok only when offline mode was asked for", async () => {
    const { bundle, content } = batchBundle();
    const r = await verify({ content }, bundle, { offline: true, at: AT });
    expect(r.mode).to.equal("offline");
    expect(r.checks.map((c) => [c.check, c.status, c.code])).to.deep.equal([
      ["INTEGRITY", "VALID", 200], ["ANCHORED", "SKIPPED", 100], ["ISSUER_ENTITLED", "SKIPPED", 100], ["STATUS", "SKIPPED", 100],
      ["VALIDITY_WINDOW", "VALID", 600], ["HASH_ALGORITHM", "SKIPPED", 100], ["SIGNATURE", "SKIPPED", 106], ["CHECKPOINT", "SKIPPED", 106],
    ]);
    expect(r.ok).to.equal(true);
    expect((await verify({ content }, bundle, { at: AT })).ok).to.equal(false);
  });

  it("accepts a content hash instead of content; SM3 materials verify", async () => {
    const { bundle, content } = batchBundle({ hashAlg: HashAlg.SM3 });
    expect((await verify({ contentHash: bundle.header.contentHash }, bundle, { offline: true, at: AT })).ok).to.equal(true);
    expect((await verify({ content }, bundle, { offline: true, at: AT })).ok).to.equal(true);
  });

  it("online: all VALID with exactly one eth_call per verification and one chain-id ask per provider", async () => {
    const { bundle, content } = batchBundle();
    const chain = new FakeChain(stateFor(bundle));
    for (let i = 0; i < 5; i++) {
      const r = await verify({ content }, bundle, { provider: chain, at: AT });
      expect(r.ok, JSON.stringify(r.checks)).to.equal(true);
      expect(r.checks.filter((c) => c.status === "VALID").map((c) => c.check)).to.deep.equal(["INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW", "HASH_ALGORITHM"]);
    }
    expect(chain.calls).to.equal(5);
    expect(chain.chainIdCalls).to.equal(1);
  });

  const statusCases: [string, object, string, string][] = [
    ["revoked", { status: 2, reason: 7 }, "INVALID", "REVOKED"],
    ["suspended", { status: 1 }, "INVALID", "SUSPENDED"],
    ["superseded", { supersededBy: "0x" + "aa".repeat(32) }, "INVALID", "SUPERSEDED"],
    ["revoked outranks superseded", { status: 2, supersededBy: "0x" + "aa".repeat(32) }, "INVALID", "REVOKED"],
  ];
  for (const [name, over, status, reason] of statusCases) {
    it(`STATUS: ${name}`, async () => {
      const { bundle, content } = batchBundle();
      const r = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle, over)), at: AT });
      expect(check(r, "STATUS")).to.include({ status, reason });
      expect(r.ok).to.equal(false);
      if (reason === "SUPERSEDED") expect(check(r, "STATUS").details.successor).to.equal("0x" + "aa".repeat(32));
    });
  }

  it("ANCHORED / ISSUER_ENTITLED: not anchored, wrong block, other issuer, other type", async () => {
    const { bundle, content } = batchBundle();
    const run = async (over: object) => verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle, over)), at: AT });
    const none = await run({ anchored: false, anchoredBlock: 0n, anchoredAt: 0n, issuer: Z, typeCode: Z, jurisdiction: 0, count: 0, issuerActiveNow: false });
    expect(check(none, "ANCHORED")).to.include({ status: "INVALID", reason: "NOT_ANCHORED" });
    expect(check(none, "ISSUER_ENTITLED")).to.include({ status: "INVALID" });
    expect(check(await run({ anchoredBlock: 99n }), "ANCHORED")).to.include({ status: "INVALID", reason: "ANCHOR_BLOCK_MISMATCH" });
    expect(check(await run({ issuer: "0x" + "bb".repeat(32) }), "ISSUER_ENTITLED")).to.include({ status: "INVALID", reason: "ISSUER_MISMATCH" });
    expect(check(await run({ typeCode: "0x" + "bb".repeat(32) }), "ISSUER_ENTITLED")).to.include({ status: "INVALID", reason: "TYPE_MISMATCH" });
    const suspendedIssuer = await run({ issuerActiveNow: false });
    expect(check(suspendedIssuer, "ISSUER_ENTITLED")).to.include({ status: "VALID" }); // judged at anchoring time
  });

  it("HASH_ALGORITHM: retired after anchoring stays VALID, retired before is INVALID, unknown is INVALID", async () => {
    const { bundle, content } = batchBundle();
    const run = async (over: object) => check(await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle, over)), at: AT }), "HASH_ALGORITHM");
    expect(await run({ hashAlgStatus: 2, hashAlgRetiredAt: 1767225700n + 10n })).to.include({ status: "VALID", reason: "HASH_ALG_RETIRED_AFTER_ANCHOR" });
    expect(await run({ hashAlgStatus: 2, hashAlgRetiredAt: 1767225700n - 10n })).to.include({ status: "INVALID", reason: "HASH_ALG_RETIRED_BEFORE_ANCHOR" });
    expect(await run({ hashAlgStatus: 0 })).to.include({ status: "INVALID", reason: "HASH_ALG_UNKNOWN" });
  });

  it("VALIDITY_WINDOW: before validFrom, after validUntil, no end, inverted window", async () => {
    const { bundle, content } = batchBundle();
    const w = async (at: number | Date, b = bundle) => check(await verify({ content }, b, { offline: true, at }), "VALIDITY_WINDOW");
    expect(await w(Number(T0) - 1)).to.include({ status: "INVALID", reason: "NOT_YET_VALID" });
    expect(await w(Number(T0))).to.include({ status: "VALID" });
    expect(await w(new Date((Number(BigInt(bundle.header.validUntil)) + 1) * 1000))).to.include({ status: "INVALID", reason: "EXPIRED" });
    const noEnd = batchBundle({ header: { validUntil: 0n } });
    expect(await w(4_000_000_000, noEnd.bundle)).to.include({ status: "VALID" });
    const inverted = batchBundle({ header: { validUntil: T0 - 1n } });
    expect(await w(AT, inverted.bundle)).to.include({ status: "INVALID", reason: "INVALID_WINDOW" });
  });

  it("fails closed: unreachable chain, wrong chain id, odd answer, untrusted ledger -> never VALID", async () => {
    const { bundle, content } = batchBundle();
    const chainChecks = (r: VerificationResult) => r.checks.filter((c) => ["ANCHORED", "ISSUER_ENTITLED", "STATUS", "HASH_ALGORITHM"].includes(c.check));
    const down = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle), 31337n, new Error("ECONNREFUSED")), at: AT });
    expect(chainChecks(down).map((c) => c.status)).to.deep.equal(["ERROR", "ERROR", "ERROR", "ERROR"]);
    expect(check(down, "ANCHORED").reason).to.equal("CHAIN_UNREACHABLE");
    expect(down.ok).to.equal(false);
    const wrongChain = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle), 1n), at: AT });
    expect(check(wrongChain, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_ID_MISMATCH" });
    const garbage = await verify({ content }, bundle, { provider: new FakeChain(() => "0x1234"), at: AT });
    expect(check(garbage, "STATUS")).to.include({ status: "ERROR", reason: "BAD_CHAIN_RESPONSE" });
    const good = ledgerInterface().encodeFunctionResult("materialState", [stateFor(bundle)]);
    const boolTwo = "0x" + "0".repeat(63) + "2" + good.slice(66); // `anchored` word = 2: not a bool
    const badBool = await verify({ content }, bundle, { provider: new FakeChain(() => boolTwo), at: AT });
    expect(check(badBool, "ANCHORED")).to.include({ status: "ERROR", reason: "BAD_CHAIN_RESPONSE" });
    const longer = await verify({ content }, bundle, { provider: new FakeChain(() => good + "00".repeat(32)), at: AT });
    expect(check(longer, "ANCHORED")).to.include({ status: "ERROR", reason: "BAD_CHAIN_RESPONSE" });
    const empty = await verify({ content }, bundle, { provider: new FakeChain(() => "0x"), at: AT });
    expect(check(empty, "ANCHORED").status).to.equal("ERROR");
    const inconsistent = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle, { status: 2, anchored: false, anchoredBlock: 0n, issuer: Z, count: 0 })), at: AT });
    expect(check(inconsistent, "STATUS")).to.include({ status: "ERROR", reason: "BAD_CHAIN_RESPONSE" });
    const pinned = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle)), ledger: "0x" + "12".repeat(20), at: AT });
    expect(check(pinned, "ANCHORED")).to.include({ status: "INVALID", reason: "UNTRUSTED_LEDGER" });
    const pinnedOk = await verify({ content }, bundle, { provider: new FakeChain(stateFor(bundle)), ledger: LEDGER.toLowerCase(), at: AT });
    expect(pinnedOk.ok).to.equal(true);
    for (const r of [down, wrongChain, garbage, badBool, longer, empty, inconsistent, pinned]) expect(r.ok).to.equal(false);
  });

  it("SIGNATURE: EIP-712 and SM2 seals VALID; bad, untrusted or required-but-missing seals INVALID", async () => {
    const { bundle, content } = batchBundle();
    const eip = { ...bundle, seal: await signLeafEip712(bundle.leaf, ISSUER_KEY, { chainId: 31337n, ledger: LEDGER }) };
    const kp = generateSm2KeyPair();
    const sm2 = { ...bundle, seal: signLeafSm2(bundle.leaf, kp.privateKey) };
    for (const b of [eip, sm2]) {
      loadBundle(JSON.parse(JSON.stringify(b)));
      const r = await verify({ content }, b, { offline: true, at: AT });
      expect(check(r, "SIGNATURE")).to.include({ status: "VALID", reason: "SEAL_VALID" });
      expect(r.ok).to.equal(true);
    }
    const untrusted = await verify({ content }, eip, { offline: true, at: AT, trustedSealSigners: [LEDGER] });
    expect(check(untrusted, "SIGNATURE")).to.include({ status: "INVALID", reason: "SEAL_UNTRUSTED_SIGNER" });
    const trusted = await verify({ content }, sm2, { offline: true, at: AT, trustedSealSigners: [kp.publicKey] });
    expect(check(trusted, "SIGNATURE").status).to.equal("VALID");
    const required = await verify({ content }, bundle, { offline: true, at: AT, requireSeal: true });
    expect(check(required, "SIGNATURE")).to.include({ status: "INVALID", reason: "SEAL_REQUIRED" });
    expect(required.ok).to.equal(false);
  });

  it("throws BundleValidationError for a malformed bundle instead of guessing", async () => {
    const { bundle, content } = batchBundle();
    const bad = { ...bundle, header: { ...bundle.header, hashAlg: 999 } } as ProofBundle;
    try { await verify({ content }, bad, { offline: true }); expect.fail("no throw"); } catch (e) {
      expect(e).to.be.instanceOf(BundleValidationError);
      expect((e as BundleValidationError).details.problems[0]!.path).to.equal("/header/hashAlg");
    }
  });

  it("tolerates a badly checksummed contract address; rejects an invalid `at` with a typed error", async () => {
    const { bundle, content } = batchBundle();
    const mangled = LEDGER.slice(0, 2) + [...LEDGER.slice(2)].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join("");
    const b = { ...bundle, anchor: { ...bundle.anchor, contract: mangled } };
    expect((await verify({ content }, b, { provider: new FakeChain(stateFor(b)), at: AT })).ok).to.equal(true);
    try { await verify({ content }, bundle, { offline: true, at: new Date("nope") }); expect.fail("no throw"); } catch (e) {
      expect(e).to.be.instanceOf(InvalidVerifyOptionError);
    }
  });

  it("CHECKPOINT: a checkpoint path is reported as ERROR (unsupported), never silently VALID", async () => {
    const { bundle, content } = batchBundle();
    const r = await verify({ content }, { ...bundle, checkpoints: [{ chainId: "1", contract: LEDGER }] }, { offline: true, at: AT });
    expect(check(r, "CHECKPOINT")).to.include({ status: "ERROR", code: 901 });
    expect(r.ok).to.equal(false);
  });

  it("keccak256 option: a supplied hash gives the same result (leaf and every proof pair); a wrong one fails INTEGRITY (LEAF_MISMATCH), never passes", async () => {
    const { bundle, content } = batchBundle({ n: 37, index: 20 });
    expect(bundle.proof.length).to.be.greaterThan(3);
    const chain = new FakeChain(stateFor(bundle));
    const plain = await verify({ content }, bundle, { provider: chain, at: AT });
    expect(plain.ok).to.equal(true);
    const sizes: number[] = [];
    const native = (d: Uint8Array) => (sizes.push(d.length), getBytes(keccak256(d)));
    expect(await verify({ content }, bundle, { provider: chain, at: AT, keccak256: native })).to.deep.equal(plain);
    expect(sizes).to.deep.equal([320, ...bundle.proof.map(() => 64)]); // the leaf, then one call per proof element
    for (const bad of [(_d: Uint8Array) => new Uint8Array(32), (d: Uint8Array) => getBytes(keccak256(d)).slice(0, 31), () => "nope" as unknown as Uint8Array]) {
      const r = await verify({ content }, bundle, { provider: chain, at: AT, keccak256: bad });
      expect(r.ok).to.equal(false);
      expect(check(r, "INTEGRITY")).to.include({ status: "INVALID", reason: "LEAF_MISMATCH" });
    }
  });

  it("keccak256 option: a hash right for the leaf but wrong for the proof pairs fails INTEGRITY (PROOF_MISMATCH), never passes; proofHasher (auto/js) gives the same results", async () => {
    const { bundle, content } = batchBundle({ n: 37, index: 20 });
    const chain = new FakeChain(stateFor(bundle));
    const right = (d: Uint8Array) => getBytes(keccak256(d));
    const pairsWrong = [
      (d: Uint8Array) => (d.length === 64 ? new Uint8Array(32) : right(d)), // a wrong 32-byte digest
      (d: Uint8Array) => (d.length === 64 ? right(d).slice(0, 31) : right(d)), // too short: reaches no root
      (d: Uint8Array) => (d.length === 64 ? ("nope" as unknown as Uint8Array) : right(d)),
      (d: Uint8Array) => (d.length === 64 ? right(d.slice().reverse()) : right(d)), // keccak of other bytes
    ];
    for (const bad of pairsWrong) {
      const r = await verify({ content }, bundle, { provider: chain, at: AT, keccak256: bad });
      expect(r.ok).to.equal(false);
      expect(check(r, "INTEGRITY")).to.include({ status: "INVALID", reason: "PROOF_MISMATCH" });
    }
    // proofHasher takes the pairs: the same wrong-for-pairs hashes now pass (their leaf digest is right)
    for (const bad of pairsWrong) {
      expect(await verify({ content }, bundle, { provider: chain, at: AT, keccak256: bad, proofHasher: "auto" })).to.deep.equal(await verify({ content }, bundle, { provider: chain, at: AT }));
    }
    // and a tampered proof fails the same way with the right hash as without one
    const tampered = { ...bundle, proof: bundle.proof.map((p, i) => (i === 1 ? "0x" + "ab".repeat(32) : p)) };
    const withNative = await verify({ content }, tampered, { provider: chain, at: AT, keccak256: right });
    expect(withNative).to.deep.equal(await verify({ content }, tampered, { provider: chain, at: AT }));
    expect(check(withNative, "INTEGRITY")).to.include({ status: "INVALID", reason: "PROOF_MISMATCH" });
    for (const proofHasher of ["auto", "js"] as const) {
      expect(await verify({ content }, tampered, { provider: chain, at: AT, keccak256: right, proofHasher })).to.deep.equal(withNative);
      expect(await verify({ content }, bundle, { provider: chain, at: AT, proofHasher })).to.deep.equal(await verify({ content }, bundle, { provider: chain, at: AT }));
    }
  });
});
