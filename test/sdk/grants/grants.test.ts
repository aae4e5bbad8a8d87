import { expect } from "chai";
import { readFileSync } from "node:fs";
import { Wallet, encodeBytes32String, id as keccakUtf8, verifyTypedData, ZeroHash, type TypedDataDomain } from "ethers";
import {
  AUTHORISATIONS_ERROR_KINDS, AuthorisationsRevertError, GrantDecodeError, GrantOrigin, GrantStatusCode,
  HOLDER_GRANT_TYPES, InvalidGrantTermsError, UseVerdictCode, authorisationsInterface, computeGrantId,
  decodeAuthorisationsError, decodeGrantView, decodeUseCheck, decodeUseLogHead, grantDomain, grantDomainSeparator,
  grantSalt, grantStatusOf, hashGrantTerms, holderGrantDigest, holderRevokeDigest, signGrant, signGrantRevocation,
  type GrantTerms, GRANTEE_DELEGATION_TYPES, delegationTypedData, granteeDelegationDigest, recoverDelegationSigner,
  signDelegation, DelegationSignerNotGranteeError, InvalidDelegationNonceError, decodeLedgerError,
} from "../../../sdk/src/index.js";

const file = JSON.parse(readFileSync(new URL("../../vectors/grant.json", import.meta.url), "utf8"));
const termsOf = (t: Record<string, unknown>): GrantTerms => ({
  ...(t as unknown as GrantTerms), notBefore: BigInt(t.notBefore as string), notAfter: BigInt(t.notAfter as string),
});
const domain: TypedDataDomain = grantDomain(BigInt(file.domain.chainId), file.domain.verifyingContract);
const dfile = JSON.parse(readFileSync(new URL("../../vectors/grant-delegation.json", import.meta.url), "utf8"));

describe("sdk/grants", () => {
  it("domain separator and type hashes match the frozen vector", () => {
    expect(grantDomainSeparator(domain)).to.equal(file.domainSeparator);
    expect(keccakUtf8("GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)")).to.equal(file.typeHashes.GrantTerms);
  });

  for (const v of file.vectors) {
    it(`vector: ${v.name}`, async () => {
      const terms = termsOf(v.terms);
      expect(hashGrantTerms(terms)).to.equal(v.termsHash);
      expect(computeGrantId({ domain, parentId: v.parentId, origin: v.origin, terms, salt: v.salt })).to.equal(v.grantId);
      expect(computeGrantId({ domain: file.domainSeparator, parentId: v.parentId, origin: v.origin, terms, salt: v.salt })).to.equal(v.grantId);
      if (v.signature) {
        expect(holderGrantDigest(domain, terms, BigInt(v.nonce), BigInt(v.deadline))).to.equal(v.digest);
        expect(await signGrant(file.holderKey, domain, terms, BigInt(v.nonce), BigInt(v.deadline))).to.equal(v.signature);
        const value = { terms, nonce: BigInt(v.nonce), deadline: BigInt(v.deadline) };
        expect(verifyTypedData(domain, HOLDER_GRANT_TYPES, value, v.signature)).to.equal(file.holderAddress);
        // a holder-signed grant's salt is the nonce as bytes32
        expect(computeGrantId({ domain, origin: "HOLDER_SIGNATURE", terms, salt: BigInt(v.nonce) })).to.equal(v.grantId);
      }
    });
  }

  it("revocation digest and signature match the vector; a Wallet signer gives the same signature as a key", async () => {
    const r = file.revoke;
    expect(holderRevokeDigest(domain, r.grantId, BigInt(r.nonce), BigInt(r.deadline))).to.equal(r.digest);
    expect(await signGrantRevocation(new Wallet(file.holderKey), domain, r.grantId, BigInt(r.nonce), BigInt(r.deadline))).to.equal(r.signature);
  });

  describe("the grantee's signed delegation (frozen: test/vectors/grant-delegation.json)", () => {
    it("shares grant.json's domain; the type hash is the contract's GranteeDelegation string", () => {
      expect(dfile.domainSeparator).to.equal(file.domainSeparator);
      expect(dfile.parentId).to.equal(file.vectors[0].grantId);
      expect(keccakUtf8("GranteeDelegation(bytes32 parentId,GrantTerms terms,uint256 nonce,uint256 deadline)GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)"))
        .to.equal(dfile.typeHashes.GranteeDelegation);
    });

    for (const v of dfile.vectors) {
      it(`vector: ${v.name}`, async () => {
        const d = { parentId: dfile.parentId, terms: termsOf(v.terms), nonce: BigInt(v.nonce), deadline: BigInt(v.deadline) };
        expect(hashGrantTerms(d.terms)).to.equal(v.termsHash);
        expect(granteeDelegationDigest(domain, d)).to.equal(v.digest);
        expect(await signDelegation(dfile.agentKey, domain, d)).to.equal(v.signature);
        expect(await signDelegation(new Wallet(dfile.agentKey), domain, d)).to.equal(v.signature);
        expect(recoverDelegationSigner(domain, d, v.signature)).to.equal(dfile.agentAddress);
        const td = delegationTypedData(domain, d);
        expect(td.primaryType).to.equal("GranteeDelegation");
        expect(td.types).to.equal(GRANTEE_DELEGATION_TYPES);
        expect(verifyTypedData(td.domain, td.types, td.message, v.signature)).to.equal(dfile.agentAddress);
        // the child's id: origin DELEGATION, salt = bytes32(nonce)
        expect(computeGrantId({ domain, parentId: dfile.parentId, origin: "DELEGATION", terms: d.terms, salt: d.nonce })).to.equal(v.grantId);
        expect(grantSalt(d.nonce)).to.equal(v.salt);
      });
    }

    it("every signed value changes the digest; another signer does not recover as the agent", async () => {
      const v = dfile.vectors[0];
      const d = { parentId: dfile.parentId, terms: termsOf(v.terms), nonce: BigInt(v.nonce), deadline: BigInt(v.deadline) };
      const digests = new Set([
        granteeDelegationDigest(domain, d),
        granteeDelegationDigest(domain, { ...d, parentId: keccakUtf8("other parent") }),
        granteeDelegationDigest(domain, { ...d, nonce: d.nonce + 1n }),
        granteeDelegationDigest(domain, { ...d, deadline: d.deadline + 1n }),
        granteeDelegationDigest(domain, { ...d, terms: { ...d.terms, maxUses: d.terms.maxUses + 1 } }),
        granteeDelegationDigest(grantDomain(1n, file.domain.verifyingContract), d),
        // the holder's HolderGrant over the same terms is a different message
        holderGrantDigest(domain, d.terms, d.nonce, d.deadline),
      ]);
      expect(digests.size).to.equal(7);
      const other = await signDelegation(file.holderKey, domain, d);
      expect(recoverDelegationSigner(domain, d, other)).to.equal(file.holderAddress).and.not.equal(dfile.agentAddress);
    });

    it("rejects malformed delegations with errors naming the field", async () => {
      const v = dfile.vectors[0];
      const d = { parentId: dfile.parentId, terms: termsOf(v.terms), nonce: 0n, deadline: 1n };
      const field = (fn: () => unknown, f: string) => expect(fn).to.throw(InvalidGrantTermsError).with.nested.property("details.field", f);
      field(() => granteeDelegationDigest(domain, { ...d, parentId: "0x12" }), "parentId");
      field(() => granteeDelegationDigest(domain, { ...d, nonce: -1n }), "nonce");
      field(() => granteeDelegationDigest(domain, { ...d, deadline: 1n << 256n }), "deadline");
      field(() => granteeDelegationDigest(domain, { ...d, deadline: 5 as unknown as bigint }), "deadline");
      field(() => granteeDelegationDigest(domain, { ...d, terms: { ...d.terms, grantee: "x" } }), "grantee");
      field(() => recoverDelegationSigner(domain, d, "0x1234"), "signature");
      await signDelegation(dfile.agentKey, domain, { ...d, parentId: "nope" }).then(() => expect.fail("signed a malformed delegation"), (e) => expect(e).to.be.instanceOf(InvalidGrantTermsError));
    });

    it("maps the signed-delegation reverts to typed errors with arguments", () => {
      const iface = authorisationsInterface();
      const p = keccakUtf8("p"), m = encodeBytes32String("M");
      const a = "0x45CfCa894005eb52E20851780d9eCDBcE37F0385";
      const e1 = decodeAuthorisationsError(iface.encodeErrorResult("DelegationSignerNotGrantee", [p, a, m]))!;
      expect(e1.details).to.deep.include({ error: "DelegationSignerNotGrantee", kind: "FORBIDDEN" });
      expect(e1.details.args).to.deep.equal({ parentId: p, signer: a, signerMember: m });
      const e2 = decodeAuthorisationsError(iface.encodeErrorResult("InvalidDelegationNonce", [m, 2, 1]))!;
      expect(e2.details).to.deep.include({ error: "InvalidDelegationNonce", kind: "CONFLICT" });
      expect(e2.details.args).to.deep.equal({ delegator: m, expected: 2n, given: 1n });
      expect(decodeAuthorisationsError(iface.encodeErrorResult("InvalidDelegationSignature", [p, a]))!.details.kind).to.equal("FORBIDDEN");
      expect(decodeAuthorisationsError(iface.encodeErrorResult("DelegationSignatureExpired", [p, 5, 6]))!.details.args).to.deep.equal({ parentId: p, deadline: 5n, time: 6n });
      expect(decodeLedgerError({ data: iface.encodeErrorResult("DelegationSignerNotGrantee", [p, a, m]) })).to.be.instanceOf(DelegationSignerNotGranteeError);
      expect(decodeLedgerError({ data: iface.encodeErrorResult("InvalidDelegationNonce", [m, 2, 1]) })).to.be.instanceOf(InvalidDelegationNonceError);
    });
  });

  it("every field of the terms, the origin, the parent and the salt change the id", () => {
    const v = file.vectors[1];
    const terms = termsOf(v.terms);
    const base = computeGrantId({ domain, origin: "IDENTITY_PROVIDER", terms, salt: v.salt });
    const variants: GrantTerms[] = [
      { ...terms, holderRef: keccakUtf8("x") }, { ...terms, grantee: encodeBytes32String("X") },
      { ...terms, matter: encodeBytes32String("M2") }, { ...terms, typeCodes: [...terms.typeCodes].reverse() },
      { ...terms, leaves: terms.leaves.slice(1) }, { ...terms, notBefore: terms.notBefore + 1n },
      { ...terms, notAfter: terms.notAfter - 1n }, { ...terms, maxUses: terms.maxUses + 1 },
    ];
    const ids = new Set([base]);
    for (const t of variants) ids.add(computeGrantId({ domain, origin: "IDENTITY_PROVIDER", terms: t, salt: v.salt }));
    ids.add(computeGrantId({ domain, origin: "DELEGATION", terms, salt: v.salt }));
    ids.add(computeGrantId({ domain, origin: "IDENTITY_PROVIDER", parentId: keccakUtf8("p"), terms, salt: v.salt }));
    ids.add(computeGrantId({ domain, origin: "IDENTITY_PROVIDER", terms, salt: 1n }));
    ids.add(computeGrantId({ domain: grantDomain(1n, file.domain.verifyingContract), origin: "IDENTITY_PROVIDER", terms, salt: v.salt }));
    expect(ids.size).to.equal(13);
  });

  it("rejects malformed terms and salts with errors naming the field", () => {
    const t = termsOf(file.vectors[0].terms);
    expect(() => hashGrantTerms({ ...t, grantee: "0x12" })).to.throw(InvalidGrantTermsError).with.nested.property("details.field", "grantee");
    expect(() => hashGrantTerms({ ...t, leaves: ["nope"] })).to.throw(InvalidGrantTermsError).with.nested.property("details.field", "leaves");
    expect(() => hashGrantTerms({ ...t, notAfter: 1n << 64n })).to.throw(InvalidGrantTermsError).with.nested.property("details.field", "notAfter");
    expect(() => hashGrantTerms({ ...t, maxUses: 2 ** 32 })).to.throw(InvalidGrantTermsError).with.nested.property("details.field", "maxUses");
    expect(() => grantSalt("0x01")).to.throw(InvalidGrantTermsError).with.nested.property("details.field", "salt");
    expect(grantSalt(5n)).to.equal("0x" + "0".repeat(63) + "5");
  });

  it("decodes views into typed values with stable codes", () => {
    const t = termsOf(file.vectors[1].terms);
    const tuple = [t.holderRef, t.grantee, t.matter, t.typeCodes, t.leaves, t.notBefore, t.notAfter, BigInt(t.maxUses)];
    const view = [file.vectors[1].grantId, 5n, tuple, ZeroHash, file.vectors[1].grantId, encodeBytes32String("IDP"), 2n, 0n, 100n, 0n, 0n, 4n, 6n];
    const g = decodeGrantView(view);
    expect(g.status).to.deep.equal({ code: 5, name: "ANCESTOR_REVOKED", usable: false });
    expect(g.origin).to.equal("IDENTITY_PROVIDER");
    expect(g.terms).to.deep.equal({ ...t });
    expect([g.used, g.usesLeft, g.createdAt]).to.deep.equal([4, 6, 100n]);
    const check = decodeUseCheck([10n, view]);
    expect(check.verdict).to.deep.equal({ code: 10, name: "OUT_OF_SCOPE", allowed: false });
    expect(decodeUseCheck([1n, view]).verdict.allowed).to.equal(true);
    expect(grantStatusOf(1)).to.deep.equal({ code: 1, name: "ACTIVE", usable: true });
    expect(() => grantStatusOf(99)).to.throw(GrantDecodeError);
    expect(decodeUseLogHead({ treeSize: 5n, anchoredAt: 7n, anchoredBlock: 9n, rootHash: ZeroHash })).to.deep.equal({ treeSize: 5n, anchoredAt: 7n, anchoredBlock: 9n, rootHash: ZeroHash });
  });

  it("codes mirror the contract enums (append-only tables)", () => {
    expect(Object.values(GrantStatusCode)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Object.values(UseVerdictCode)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Object.values(GrantOrigin)).to.deep.equal([0, 1, 2, 3]);
    // names 2..7 are shared by GrantStatus and UseVerdict with the same codes
    for (const n of ["NOT_YET_VALID", "EXPIRED", "REVOKED", "ANCESTOR_REVOKED", "EXHAUSTED", "GRANTEE_INACTIVE"] as const) {
      expect(UseVerdictCode[n]).to.equal(GrantStatusCode[n]);
    }
  });

  it("maps every custom error of the Authorisations ABI to a kind, and decodes reverts with their arguments", () => {
    const iface = authorisationsInterface();
    const names: string[] = [];
    iface.forEachError((e) => names.push(e.name));
    expect(names.length).to.be.greaterThan(30);
    for (const n of names) expect(AUTHORISATIONS_ERROR_KINDS, n).to.have.property(n);
    const g = keccakUtf8("g"), m = encodeBytes32String("M");
    const data = iface.encodeErrorResult("NotGrantee", [g, m]);
    const err = decodeAuthorisationsError({ data });
    expect(err).to.be.instanceOf(AuthorisationsRevertError);
    expect(err!.details).to.deep.include({ error: "NotGrantee", kind: "FORBIDDEN" });
    expect(err!.details.args).to.deep.equal({ grantId: g, memberId: m });
    expect(decodeAuthorisationsError(iface.encodeErrorResult("DelegationUsesExceeded", [g, 5, 3]))!.details.args).to.deep.equal({ parentId: g, maxUses: 5n, usesLeft: 3n });
    expect(decodeAuthorisationsError("0x12345678")).to.equal(undefined);
    expect(decodeAuthorisationsError(new Error("x"))).to.equal(undefined);
  });
});
