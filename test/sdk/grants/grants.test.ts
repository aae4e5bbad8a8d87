import { expect } from "chai";
import { readFileSync } from "node:fs";
import { Wallet, encodeBytes32String, id as keccakUtf8, verifyTypedData, ZeroHash, type TypedDataDomain } from "ethers";
import {
  AUTHORISATIONS_ERROR_KINDS, AuthorisationsRevertError, GrantDecodeError, GrantOrigin, GrantStatusCode,
  HOLDER_GRANT_TYPES, InvalidGrantTermsError, UseVerdictCode, authorisationsInterface, computeGrantId,
  decodeAuthorisationsError, decodeGrantView, decodeUseCheck, decodeUseLogHead, grantDomain, grantDomainSeparator,
  grantSalt, grantStatusOf, hashGrantTerms, holderGrantDigest, holderRevokeDigest, signGrant, signGrantRevocation,
  type GrantTerms,
} from "../../../sdk/src/index.js";

const file = JSON.parse(readFileSync(new URL("../../vectors/grant.json", import.meta.url), "utf8"));
const termsOf = (t: Record<string, unknown>): GrantTerms => ({
  ...(t as unknown as GrantTerms), notBefore: BigInt(t.notBefore as string), notAfter: BigInt(t.notAfter as string),
});
const domain: TypedDataDomain = grantDomain(BigInt(file.domain.chainId), file.domain.verifyingContract);

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
