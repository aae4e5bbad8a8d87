import { expect } from "chai";
import hre, { ethers, artifacts } from "hardhat";
import { loadFixture, time, mine } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract, ContractRunner, Signer, TypedDataDomain } from "ethers";
import { M, Role, T, bytes32, deployOpen, type Consortium } from "./helpers/consortium";

type Auth = { connect(runner: ContractRunner | null): Auth } & Contract;

const ZERO = ethers.ZeroHash;
const DAY = 86_400n;
const h = (s: string): string => ethers.keccak256(ethers.toUtf8Bytes(s));
const HOLDER = h("holder/91310104MA1K000018");
const OTHER_HOLDER = h("holder/310104199003071234");
const MATTER = bytes32("MATTER-0042");
const EVIDENCE = h("evidence/consent-1");
const LEAF = [h("leaf-0"), h("leaf-1"), h("leaf-2")];
const Origin = { None: 0, HolderSignature: 1, IdentityProvider: 2, Delegation: 3 } as const;
const Revoker = { None: 0, Grantor: 1, HolderSignature: 2, IdentityProvider: 3 } as const;
const GS = { Unknown: 0, Active: 1, NotYetValid: 2, Expired: 3, Revoked: 4, AncestorRevoked: 5, Exhausted: 6, GranteeInactive: 7 } as const;
const UV = { ...GS, Allowed: 1, WrongGrantee: 8, WrongMatter: 9, OutOfScope: 10 } as const;

const TERMS_TYPE = [
  { name: "holderRef", type: "bytes32" }, { name: "grantee", type: "bytes32" }, { name: "matter", type: "bytes32" },
  { name: "typeCodes", type: "bytes32[]" }, { name: "leaves", type: "bytes32[]" }, { name: "notBefore", type: "uint64" },
  { name: "notAfter", type: "uint64" }, { name: "maxUses", type: "uint32" },
];
const GRANT_TYPES = { HolderGrant: [{ name: "terms", type: "GrantTerms" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }], GrantTerms: TERMS_TYPE };
const DELEGATION_TYPES = {
  GranteeDelegation: [{ name: "parentId", type: "bytes32" }, { name: "terms", type: "GrantTerms" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }],
  GrantTerms: TERMS_TYPE,
};
const REVOKE_TYPES = { HolderRevoke: [{ name: "grantId", type: "bytes32" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] };

interface Terms {
  holderRef: string; grantee: string; matter: string; typeCodes: string[]; leaves: string[];
  notBefore: bigint; notAfter: bigint; maxUses: number;
}

interface Fx extends Consortium {
  auth: Auth;
  domain: TypedDataDomain;
  holder: Signer & { address: string }; // the holder's bound key
  rogue: Signer & { address: string }; // a key bound to nobody
  idp: Consortium["authCity"]; // identity-provider member (authCity)
  now: bigint;
}

/** Open consortium (admin can suspend directly); authCity is an identity provider; HOLDER's key is bound. */
async function fixture(): Promise<Fx> {
  const c = await deployOpen();
  await (await c.ledger.grantRole(M.authCity, Role.IdentityProvider)).wait();
  const auth = (await ethers.deployContract("Authorisations", [await c.ledger.getAddress()])) as unknown as Auth;
  const [holder, rogue] = [c.spare[0], c.spare[1]];
  await (await auth.connect(c.authCity).bindHolderKey(HOLDER, holder.address, EVIDENCE)).wait();
  const domain = { name: "TongbanAuthorisations", version: "1", chainId: 31337n, verifyingContract: await auth.getAddress() };
  return { ...c, auth, domain, holder, rogue, idp: c.authCity, now: BigInt(await time.latest()) };
}

/** Terms for HOLDER: issuerX may obtain LICENCE materials or LEAF[0..1] for MATTER, 30 days, 3 uses. */
function termsOf(f: Fx, over: Partial<Terms> = {}): Terms {
  return {
    holderRef: HOLDER, grantee: M.issuerX, matter: MATTER, typeCodes: [T.LICENCE], leaves: [LEAF[0], LEAF[1]],
    notBefore: f.now - 10n, notAfter: f.now + 30n * DAY, maxUses: 3, ...over,
  };
}

async function sign(f: Fx, terms: Terms, nonce: bigint, deadline: bigint, by: Signer = f.holder): Promise<string> {
  return by.signTypedData(f.domain, GRANT_TYPES, { terms, nonce, deadline });
}

/** The parent's grantee's GranteeDelegation signature (by one of its member's accounts). */
async function signDelegation(f: Fx, by: Signer, parentId: string, terms: Terms, nonce: bigint, deadline: bigint): Promise<string> {
  return by.signTypedData(f.domain, DELEGATION_TYPES, { parentId, terms, nonce, deadline });
}

async function idOf(f: Fx, parent: string, origin: number, terms: Terms, salt: string): Promise<string> {
  return f.auth.grantIdOf(parent, origin, terms, salt);
}

/** A holder-signed root grant (nonce 0) submitted by the grantee issuerX. */
async function signedGrant(f: Fx, over: Partial<Terms> = {}): Promise<{ id: string; terms: Terms }> {
  const terms = termsOf(f, over);
  const nonce = await f.auth.holderNonce(terms.holderRef);
  const deadline = f.now + DAY;
  const id = await idOf(f, ZERO, Origin.HolderSignature, terms, ethers.toBeHex(nonce, 32));
  await (await f.auth.connect(f.issuerX).grantBySignature(terms, nonce, deadline, f.holder.address, await sign(f, terms, nonce, deadline))).wait();
  return { id, terms };
}

/** Root (holder-signed, issuerX) -> child (issuerX -> outsider) -> grandchild (outsider -> issuer). */
async function chainFixture(): Promise<Fx & { root: string; child: string; grand: string; childTerms: Terms; grandTerms: Terms }> {
  const f = await fixture();
  const { id: root } = await signedGrant(f, { maxUses: 5 });
  const childTerms = termsOf(f, { grantee: M.outsider, typeCodes: [], leaves: [LEAF[0]], maxUses: 4, notAfter: f.now + 20n * DAY });
  const child = await idOf(f, root, Origin.Delegation, childTerms, h("c"));
  await (await f.auth.connect(f.issuerX).delegateGrant(root, childTerms, h("c"))).wait();
  const grandTerms = termsOf(f, { grantee: M.issuer, typeCodes: [], leaves: [LEAF[0]], maxUses: 2, notAfter: f.now + 10n * DAY });
  const grand = await idOf(f, child, Origin.Delegation, grandTerms, h("g"));
  await (await f.auth.connect(f.outsider).delegateGrant(child, grandTerms, h("g"))).wait();
  return { ...f, root, child, grand, childTerms, grandTerms };
}

const status = async (f: Fx, id: string, at = 0n): Promise<bigint> => f.auth.grantStatus(id, at);
const check = async (f: Fx, id: string, requester: string, typeCode = T.LICENCE, leaf = LEAF[2], matter = MATTER, at = 0n) =>
  (await f.auth.checkGrant(id, requester, matter, typeCode, leaf, at))[0] as bigint;

describe("Authorisations", () => {
  describe("deployment, EIP-712 and ids", () => {
    it("reads the ledger, exposes its limits and the EIP-712 domain", async () => {
      const f = await loadFixture(fixture);
      expect(await f.auth.ledger()).to.equal(await f.ledger.getAddress());
      expect(await f.auth.MAX_DEPTH()).to.equal(2);
      expect(await f.auth.MAX_SCOPE_ITEMS()).to.equal(16);
      expect(await f.auth.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain(f.domain));
    });

    it("hashes terms and derives grant ids exactly as the frozen vector test/vectors/grant.json", async () => {
      const f = await loadFixture(fixture);
      const file = JSON.parse(readFileSync(join(__dirname, "../vectors/grant.json"), "utf8"));
      const sep = await f.auth.domainSeparator();
      for (const v of file.vectors) {
        const terms = { ...v.terms, notBefore: BigInt(v.terms.notBefore), notAfter: BigInt(v.terms.notAfter) };
        expect(await f.auth.hashGrantTerms(terms), v.name).to.equal(v.termsHash);
        const origin = { HOLDER_SIGNATURE: 1, IDENTITY_PROVIDER: 2, DELEGATION: 3 }[v.origin as string]!;
        const want = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(
          ["bytes32", "bytes32", "uint8", "bytes32", "bytes32"], [sep, v.parentId, origin, v.termsHash, v.salt]));
        expect(await f.auth.grantIdOf(v.parentId, origin, terms, v.salt), v.name).to.equal(want);
      }
    });
  });

  describe("holder keys", () => {
    it("an identity provider binds and unbinds a key, with events and read-back", async () => {
      const f = await loadFixture(fixture);
      expect(await f.auth.holderOfKey(f.holder.address)).to.equal(HOLDER);
      await expect(f.auth.connect(f.idp).bindHolderKey(OTHER_HOLDER, f.rogue.address, EVIDENCE))
        .to.emit(f.auth, "HolderKeyBound").withArgs(OTHER_HOLDER, f.rogue.address, M.authCity, EVIDENCE);
      expect(await f.auth.holderOfKey(f.rogue.address)).to.equal(OTHER_HOLDER);
      const ev2 = h("evidence/lost-key");
      await expect(f.auth.connect(f.idp).unbindHolderKey(OTHER_HOLDER, f.rogue.address, ev2))
        .to.emit(f.auth, "HolderKeyUnbound").withArgs(OTHER_HOLDER, f.rogue.address, M.authCity, ev2);
      expect(await f.auth.holderOfKey(f.rogue.address)).to.equal(ZERO);
      // an unbound key may serve a holder again
      await expect(f.auth.connect(f.idp).bindHolderKey(HOLDER, f.rogue.address, EVIDENCE)).to.emit(f.auth, "HolderKeyBound");
    });

    it("rejects double binding, unbinding a key not bound to the holder, zero inputs, non-IdPs and strangers", async () => {
      const f = await loadFixture(fixture);
      await expect(f.auth.connect(f.idp).bindHolderKey(OTHER_HOLDER, f.holder.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyAlreadyBound").withArgs(f.holder.address, HOLDER);
      await expect(f.auth.connect(f.idp).bindHolderKey(HOLDER, f.holder.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyAlreadyBound").withArgs(f.holder.address, HOLDER);
      await expect(f.auth.connect(f.idp).unbindHolderKey(OTHER_HOLDER, f.holder.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(OTHER_HOLDER, f.holder.address);
      await expect(f.auth.connect(f.idp).unbindHolderKey(ZERO, f.rogue.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(ZERO, f.rogue.address);
      await expect(f.auth.connect(f.idp).bindHolderKey(ZERO, f.rogue.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderRef").withArgs(ZERO);
      await expect(f.auth.connect(f.idp).bindHolderKey(HOLDER, ethers.ZeroAddress, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderKey").withArgs(ethers.ZeroAddress);
      await expect(f.auth.connect(f.idp).bindHolderKey(HOLDER, f.rogue.address, ZERO))
        .to.be.revertedWithCustomError(f.auth, "InvalidEvidence").withArgs(ZERO);
      await expect(f.auth.connect(f.idp).unbindHolderKey(HOLDER, f.holder.address, ZERO))
        .to.be.revertedWithCustomError(f.auth, "InvalidEvidence").withArgs(ZERO);
      await expect(f.auth.connect(f.issuer).bindHolderKey(HOLDER, f.rogue.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "MissingRole").withArgs(M.issuer, Role.IdentityProvider);
      await expect(f.auth.connect(f.stranger).bindHolderKey(HOLDER, f.rogue.address, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "AccountNotMember").withArgs(f.stranger.address);
    });
  });

  describe("grantBySignature", () => {
    it("creates a root grant from the holder's signature: event, nonce consumed, full read-back", async () => {
      const f = await loadFixture(fixture);
      const terms = termsOf(f);
      const deadline = f.now + DAY;
      const id = await idOf(f, ZERO, Origin.HolderSignature, terms, ethers.toBeHex(0, 32));
      const sig = await sign(f, terms, 0n, deadline);
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 0, deadline, f.holder.address, sig))
        .to.emit(f.auth, "GrantCreated")
        .withArgs(id, HOLDER, M.issuerX, ZERO, ZERO, Origin.HolderSignature, anyValue, ethers.toBeHex(0, 32), ZERO);
      expect(await f.auth.holderNonce(HOLDER)).to.equal(1);
      const g = await f.auth.getGrant(id, 0);
      expect(g.grantId).to.equal(id);
      expect(g.status).to.equal(GS.Active);
      expect(g.terms.holderRef).to.equal(HOLDER);
      expect(g.terms.grantee).to.equal(M.issuerX);
      expect(g.terms.matter).to.equal(MATTER);
      expect(g.terms.typeCodes).to.deep.equal([T.LICENCE]);
      expect(g.terms.leaves).to.deep.equal([LEAF[0], LEAF[1]]);
      expect([g.terms.notBefore, g.terms.notAfter, g.terms.maxUses]).to.deep.equal([terms.notBefore, terms.notAfter, 3n]);
      expect([g.parentId, g.rootId, g.grantor]).to.deep.equal([ZERO, id, ZERO]);
      expect([g.origin, g.depth, g.revokedAt, g.revokedBy, g.used, g.usesLeft]).to.deep.equal([BigInt(Origin.HolderSignature), 0n, 0n, 0n, 0n, 3n]);
      expect(g.createdAt).to.equal(BigInt(await time.latest()));
    });

    it("cannot be replayed (same nonce), and refuses an expired deadline, a wrong signer and an unbound key", async () => {
      const f = await loadFixture(fixture);
      const terms = termsOf(f);
      const deadline = f.now + DAY;
      const sig = await sign(f, terms, 0n, deadline);
      await (await f.auth.connect(f.issuerX).grantBySignature(terms, 0, deadline, f.holder.address, sig)).wait();
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 0, deadline, f.holder.address, sig))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderNonce").withArgs(HOLDER, 1, 0);
      // a future nonce is refused too (no gaps)
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 2, deadline, f.holder.address, await sign(f, terms, 2n, deadline)))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderNonce").withArgs(HOLDER, 1, 2);
      // expired deadline
      const past = BigInt(await time.latest()) - 1n;
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 1, past, f.holder.address, await sign(f, terms, 1n, past)))
        .to.be.revertedWithCustomError(f.auth, "SignatureExpired").withArgs(past, anyValue);
      // wrong signer: the rogue signs but claims to be the bound key
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 1, deadline, f.holder.address, await sign(f, terms, 1n, deadline, f.rogue)))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderSignature").withArgs(HOLDER, f.holder.address);
      // signature over other terms
      await expect(f.auth.connect(f.issuerX).grantBySignature({ ...terms, maxUses: 99 }, 1, deadline, f.holder.address, await sign(f, terms, 1n, deadline)))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderSignature").withArgs(HOLDER, f.holder.address);
      // unbound key: the rogue signs as itself
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 1, deadline, f.rogue.address, await sign(f, terms, 1n, deadline, f.rogue)))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(HOLDER, f.rogue.address);
      // a key bound to ANOTHER holder cannot sign for this one
      await (await f.auth.connect(f.idp).bindHolderKey(OTHER_HOLDER, f.rogue.address, EVIDENCE)).wait();
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 1, deadline, f.rogue.address, await sign(f, terms, 1n, deadline, f.rogue)))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(HOLDER, f.rogue.address);
      // after the IdP unbinds the holder's key, its signatures stop working
      await (await f.auth.connect(f.idp).unbindHolderKey(HOLDER, f.holder.address, EVIDENCE)).wait();
      await expect(f.auth.connect(f.issuerX).grantBySignature(terms, 1, deadline, f.holder.address, await sign(f, terms, 1n, deadline)))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(HOLDER, f.holder.address);
      expect(await f.auth.holderNonce(HOLDER)).to.equal(1);
    });

    it("validates the terms", async () => {
      const f = await loadFixture(fixture);
      const deadline = f.now + DAY;
      const submit = async (over: Partial<Terms>) => {
        const t = termsOf(f, over);
        return f.auth.connect(f.issuerX).grantBySignature(t, 0, deadline, f.holder.address, await sign(f, t, 0n, deadline));
      };
      await expect(submit({ holderRef: ZERO })).to.be.revertedWithCustomError(f.auth, "InvalidHolderRef").withArgs(ZERO);
      await expect(submit({ matter: ZERO })).to.be.revertedWithCustomError(f.auth, "InvalidMatter").withArgs(ZERO);
      await expect(submit({ grantee: bytes32("NOT-A-MEMBER") })).to.be.revertedWithCustomError(f.auth, "InvalidGrantee").withArgs(bytes32("NOT-A-MEMBER"));
      await expect(submit({ typeCodes: [], leaves: [] })).to.be.revertedWithCustomError(f.auth, "InvalidScope").withArgs(0, 0);
      await expect(submit({ typeCodes: [T.LICENCE], leaves: Array.from({ length: 16 }, (_, i) => h(`l${i}`)) }))
        .to.be.revertedWithCustomError(f.auth, "InvalidScope").withArgs(1, 16);
      await expect(submit({ leaves: [ZERO] })).to.be.revertedWithCustomError(f.auth, "InvalidScope").withArgs(1, 1);
      await expect(submit({ typeCodes: [ZERO] })).to.be.revertedWithCustomError(f.auth, "InvalidScope").withArgs(1, 2);
      await expect(submit({ typeCodes: [bytes32("NO_SUCH_TYPE")] })).to.be.revertedWithCustomError(f.auth, "UnknownMaterialType").withArgs(bytes32("NO_SUCH_TYPE"));
      await expect(submit({ notBefore: f.now + 5n, notAfter: f.now + 4n })).to.be.revertedWithCustomError(f.auth, "InvalidWindow").withArgs(f.now + 5n, f.now + 4n);
      await expect(submit({ notBefore: 0n, notAfter: f.now - 1n })).to.be.revertedWithCustomError(f.auth, "InvalidWindow").withArgs(0, f.now - 1n);
      await expect(submit({ maxUses: 0 })).to.be.revertedWithCustomError(f.auth, "InvalidMaxUses").withArgs(0);
      // the boundary: 16 items in total is allowed
      await expect(submit({ typeCodes: [T.LICENCE], leaves: Array.from({ length: 15 }, (_, i) => h(`l${i}`)) })).to.emit(f.auth, "GrantCreated");
    });
  });

  describe("grantByIdentityProvider", () => {
    it("an identity provider records a grant with evidence; the same salt cannot be reused", async () => {
      const f = await loadFixture(fixture);
      const terms = termsOf(f, { holderRef: OTHER_HOLDER });
      const salt = h("salt-1");
      const id = await idOf(f, ZERO, Origin.IdentityProvider, terms, salt);
      await expect(f.auth.connect(f.idp).grantByIdentityProvider(terms, salt, EVIDENCE))
        .to.emit(f.auth, "GrantCreated").withArgs(id, OTHER_HOLDER, M.issuerX, ZERO, M.authCity, Origin.IdentityProvider, anyValue, salt, EVIDENCE);
      const g = await f.auth.getGrant(id, 0);
      expect([g.status, g.origin, g.grantor]).to.deep.equal([BigInt(GS.Active), BigInt(Origin.IdentityProvider), M.authCity]);
      expect(await f.auth.holderNonce(OTHER_HOLDER)).to.equal(0);
      await expect(f.auth.connect(f.idp).grantByIdentityProvider(terms, salt, EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "GrantAlreadyExists").withArgs(id);
      await expect(f.auth.connect(f.idp).grantByIdentityProvider(terms, h("salt-2"), EVIDENCE)).to.emit(f.auth, "GrantCreated");
    });

    it("requires the IdentityProvider role and an evidence hash", async () => {
      const f = await loadFixture(fixture);
      const terms = termsOf(f);
      await expect(f.auth.connect(f.issuerX).grantByIdentityProvider(terms, h("s"), EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "MissingRole").withArgs(M.issuerX, Role.IdentityProvider);
      await expect(f.auth.connect(f.idp).grantByIdentityProvider(terms, h("s"), ZERO))
        .to.be.revertedWithCustomError(f.auth, "InvalidEvidence").withArgs(ZERO);
      await expect(f.auth.connect(f.stranger).grantByIdentityProvider(terms, h("s"), EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "AccountNotMember").withArgs(f.stranger.address);
    });
  });

  describe("delegateGrant", () => {
    it("delegates two levels down within scope, with events, depth, grantor and root read back", async () => {
      const f = await loadFixture(chainFixture);
      const c = await f.auth.getGrant(f.child, 0);
      expect([c.status, c.origin, c.depth, c.parentId, c.rootId, c.grantor]).to.deep.equal(
        [BigInt(GS.Active), BigInt(Origin.Delegation), 1n, f.root, f.root, M.issuerX]);
      expect(c.usesLeft).to.equal(4);
      const g = await f.auth.getGrant(f.grand, 0);
      expect([g.status, g.depth, g.parentId, g.rootId, g.grantor]).to.deep.equal([BigInt(GS.Active), 2n, f.child, f.root, M.outsider]);
      expect(g.terms.leaves).to.deep.equal([LEAF[0]]);
      expect(g.terms.typeCodes).to.deep.equal([]);
      const t = termsOf(f, { grantee: M.issuer, leaves: [LEAF[0]], typeCodes: [], maxUses: 1, notAfter: f.now + 10n * DAY });
      const id = await idOf(f, f.child, Origin.Delegation, t, h("g2"));
      await expect(f.auth.connect(f.outsider).delegateGrant(f.child, t, h("g2")))
        .to.emit(f.auth, "GrantCreated").withArgs(id, HOLDER, M.issuer, f.child, M.outsider, Origin.Delegation, anyValue, h("g2"), ZERO);
    });

    it("enforces the depth limit (at most 2 levels below the root)", async () => {
      const f = await loadFixture(chainFixture);
      const t = termsOf(f, { grantee: M.govA, typeCodes: [], leaves: [LEAF[0]], maxUses: 1, notAfter: f.now + DAY });
      await expect(f.auth.connect(f.issuer).delegateGrant(f.grand, t, h("x")))
        .to.be.revertedWithCustomError(f.auth, "DelegationTooDeep").withArgs(f.grand, 3);
    });

    it("rejects a child outside the parent's scope, holder, matter, window or uses, and a wrong delegator", async () => {
      const f = await loadFixture(chainFixture);
      const d = (over: Partial<Terms>, by = f.issuerX, parent = f.root) =>
        f.auth.connect(by).delegateGrant(parent, termsOf(f, { grantee: M.outsider, maxUses: 1, ...over }), h("d"));
      await expect(d({ typeCodes: [T.PERMIT] })).to.be.revertedWithCustomError(f.auth, "DelegationOutOfScope").withArgs(f.root, T.PERMIT);
      await expect(d({ leaves: [LEAF[2]] })).to.be.revertedWithCustomError(f.auth, "DelegationOutOfScope").withArgs(f.root, LEAF[2]);
      // a child holds only LEAF[0]: its own child cannot widen to the LICENCE type
      await expect(d({ grantee: M.issuer, typeCodes: [T.LICENCE], leaves: [LEAF[0]], notAfter: f.now + DAY }, f.outsider, f.child))
        .to.be.revertedWithCustomError(f.auth, "DelegationOutOfScope").withArgs(f.child, T.LICENCE);
      await (await f.auth.connect(f.idp).bindHolderKey(OTHER_HOLDER, f.rogue.address, EVIDENCE)).wait();
      await expect(d({ holderRef: OTHER_HOLDER })).to.be.revertedWithCustomError(f.auth, "DelegationHolderMismatch").withArgs(f.root, OTHER_HOLDER);
      await expect(d({ matter: bytes32("OTHER") })).to.be.revertedWithCustomError(f.auth, "DelegationMatterMismatch").withArgs(f.root, bytes32("OTHER"));
      await expect(d({ notBefore: f.now - 11n })).to.be.revertedWithCustomError(f.auth, "DelegationWindowExceeded").withArgs(f.root, f.now - 11n, f.now + 30n * DAY);
      await expect(d({ notAfter: f.now + 30n * DAY + 1n })).to.be.revertedWithCustomError(f.auth, "DelegationWindowExceeded").withArgs(f.root, f.now - 10n, f.now + 30n * DAY + 1n);
      await expect(d({ maxUses: 6 })).to.be.revertedWithCustomError(f.auth, "DelegationUsesExceeded").withArgs(f.root, 6, 5);
      await expect(d({ grantee: M.issuerX })).to.be.revertedWithCustomError(f.auth, "InvalidGrantee").withArgs(M.issuerX);
      await expect(d({}, f.outsider)).to.be.revertedWithCustomError(f.auth, "NotGrantee").withArgs(f.root, M.outsider);
      await expect(d({}, f.issuerX, h("nothing"))).to.be.revertedWithCustomError(f.auth, "UnknownGrant").withArgs(h("nothing"));
      // the boundary: equal window, equal scope subset, all remaining uses
      await expect(d({ maxUses: 5 })).to.emit(f.auth, "GrantCreated");
    });

    it("cannot delegate from a revoked, expired or not-yet-valid parent", async () => {
      const f = await loadFixture(chainFixture);
      const t = termsOf(f, { grantee: M.govA, typeCodes: [], leaves: [LEAF[0]], maxUses: 1, notAfter: f.now + DAY });
      await (await f.auth.connect(f.issuerX).revokeGrant(f.child)).wait();
      await expect(f.auth.connect(f.outsider).delegateGrant(f.child, t, h("y")))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.child, GS.Revoked);
      await expect(f.auth.connect(f.issuer).delegateGrant(f.grand, t, h("y")))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.grand, GS.AncestorRevoked);
      const later = await signedGrant(f, { notBefore: f.now + 5n * DAY });
      await expect(f.auth.connect(f.issuerX).delegateGrant(later.id, { ...t, notBefore: f.now + 5n * DAY }, h("y")))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(later.id, GS.NotYetValid);
      await time.increaseTo(f.now + 31n * DAY);
      await expect(f.auth.connect(f.issuerX).delegateGrant(f.root, t, h("y")))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.root, GS.Expired);
    });
  });

  describe("delegateGrantBySignature (the grantee signs, any member submits)", () => {
    const salt0 = (n: bigint) => ethers.toBeHex(n, 32);
    /** issuerX (root's grantee, the agent) signs a delegation of the root to govA; `over` changes the terms. */
    const signed = async (f: Awaited<ReturnType<typeof chainFixture>>, over: Partial<Terms> = {}, o: { nonce?: bigint; deadline?: bigint; by?: Signer; parent?: string } = {}) => {
      const terms = termsOf(f, { grantee: M.govA, typeCodes: [T.LICENCE], leaves: [LEAF[1]], maxUses: 1, ...over });
      const nonce = o.nonce ?? (await f.auth.delegationNonce(M.issuerX));
      const deadline = o.deadline ?? f.now + DAY;
      const parent = o.parent ?? f.root;
      const signature = await signDelegation(f, o.by ?? f.issuerX, parent, terms, nonce, deadline);
      return { terms, nonce, deadline, parent, signature };
    };

    it("creates the child the agent signed, submitted by another member: events, grantor, salt = nonce, nonce consumed, read back", async () => {
      const f = await loadFixture(chainFixture);
      expect(await f.auth.delegationNonce(M.issuerX)).to.equal(0n);
      const s = await signed(f);
      const id = await idOf(f, f.root, Origin.Delegation, s.terms, salt0(0n));
      const holderNonce = await f.auth.holderNonce(HOLDER);
      // the city identity provider submits; the agent (issuerX) sends nothing
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, s.terms, 0, s.deadline, f.issuerX.address, s.signature))
        .to.emit(f.auth, "GrantCreated").withArgs(id, HOLDER, M.govA, f.root, M.issuerX, Origin.Delegation, anyValue, salt0(0n), ZERO)
        .and.to.emit(f.auth, "GrantDelegatedBySignature").withArgs(id, f.root, M.issuerX, f.issuerX.address, 0n, M.authCity);
      expect(await f.auth.delegationNonce(M.issuerX)).to.equal(1n);
      expect(await f.auth.holderNonce(HOLDER)).to.equal(holderNonce); // separate counters
      expect(await f.auth.delegationNonce(M.outsider)).to.equal(0n);
      const g = await f.auth.getGrant(id, 0);
      expect([g.status, g.origin, g.depth, g.parentId, g.rootId, g.grantor, g.usesLeft]).to.deep.equal(
        [BigInt(GS.Active), BigInt(Origin.Delegation), 1n, f.root, f.root, M.issuerX, 1n]);
      expect([g.terms.typeCodes, g.terms.leaves]).to.deep.equal([[T.LICENCE], [LEAF[1]]]);
      expect(await check(f, id, M.govA)).to.equal(UV.Allowed);
      // the same rules as the sent form: the delegator is the grantor, so it may revoke the child itself
      await expect(f.auth.connect(f.issuerX).revokeGrant(id)).to.emit(f.auth, "GrantRevoked").withArgs(id, HOLDER, M.issuerX, Revoker.Grantor, ZERO);
      // a second level by signature: the child's grantee (outsider) signs, issuerX submits; the next nonce is its own
      const gt = termsOf(f, { grantee: M.govB, typeCodes: [], leaves: [LEAF[0]], maxUses: 1, notAfter: f.now + 5n * DAY });
      const sig = await signDelegation(f, f.outsider, f.child, gt, 0n, s.deadline);
      const gid = await idOf(f, f.child, Origin.Delegation, gt, salt0(0n));
      await expect(f.auth.connect(f.issuerX).delegateGrantBySignature(f.child, gt, 0, s.deadline, f.outsider.address, sig))
        .to.emit(f.auth, "GrantDelegatedBySignature").withArgs(gid, f.child, M.outsider, f.outsider.address, 0n, M.issuerX);
      expect((await f.auth.getGrant(gid, 0)).depth).to.equal(2n);
      expect(await f.auth.delegationNonce(M.outsider)).to.equal(1n);
      // the grantee itself may submit its own signature too
      const s2 = await signed(f, { grantee: M.govB });
      await expect(f.auth.connect(f.issuerX).delegateGrantBySignature(f.root, s2.terms, s2.nonce, s2.deadline, f.issuerX.address, s2.signature))
        .to.emit(f.auth, "GrantDelegatedBySignature").withArgs(anyValue, f.root, M.issuerX, f.issuerX.address, 1n, M.issuerX);
    });

    it("accepts a deadline equal to the block time and refuses one past it, naming the parent", async () => {
      const f = await loadFixture(chainFixture);
      const late = await signed(f, {}, { deadline: f.now + 100n });
      await time.setNextBlockTimestamp(f.now + 101n);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, late.terms, late.nonce, late.deadline, f.issuerX.address, late.signature))
        .to.be.revertedWithCustomError(f.auth, "DelegationSignatureExpired").withArgs(f.root, f.now + 100n, f.now + 101n);
      expect(await f.auth.delegationNonce(M.issuerX)).to.equal(0n); // not consumed
      const onTime = await signed(f, {}, { deadline: f.now + 200n });
      await time.setNextBlockTimestamp(f.now + 200n);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, onTime.terms, onTime.nonce, onTime.deadline, f.issuerX.address, onTime.signature))
        .to.emit(f.auth, "GrantDelegatedBySignature");
    });

    it("cannot be replayed: a spent, a skipped or another member's nonce is refused", async () => {
      const f = await loadFixture(chainFixture);
      const s = await signed(f);
      const send = (x: typeof s, by = f.idp) => f.auth.connect(by).delegateGrantBySignature(x.parent, x.terms, x.nonce, x.deadline, f.issuerX.address, x.signature);
      await (await send(s)).wait();
      await expect(send(s)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationNonce").withArgs(M.issuerX, 1n, 0n);
      await expect(send(s, f.outsider)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationNonce").withArgs(M.issuerX, 1n, 0n);
      const skipped = await signed(f, { grantee: M.govB }, { nonce: 2n });
      await expect(send(skipped)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationNonce").withArgs(M.issuerX, 1n, 2n);
      // a signature for nonce 1 works once
      const next = await signed(f, { grantee: M.govB }, { nonce: 1n });
      await expect(send(next)).to.emit(f.auth, "GrantDelegatedBySignature");
      await expect(send(next)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationNonce").withArgs(M.issuerX, 2n, 1n);
    });

    it("refuses a signer who is not an account of the parent's grantee, and a signature that is not the signer's over these values", async () => {
      const f = await loadFixture(chainFixture);
      const s = await signed(f, {}, { by: f.outsider });
      // another member's account (the outsider is a member, but not the root's grantee)
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, s.terms, 0, s.deadline, f.outsider.address, s.signature))
        .to.be.revertedWithCustomError(f.auth, "DelegationSignerNotGrantee").withArgs(f.root, f.outsider.address, M.outsider);
      // a key of no member (even the holder's own key cannot delegate for the agent)
      const byHolder = await signed(f, {}, { by: f.holder });
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, byHolder.terms, 0, byHolder.deadline, f.holder.address, byHolder.signature))
        .to.be.revertedWithCustomError(f.auth, "DelegationSignerNotGrantee").withArgs(f.root, f.holder.address, ZERO);
      // the grantee's address named, someone else's signature
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, s.terms, 0, s.deadline, f.issuerX.address, s.signature))
        .to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(f.root, f.issuerX.address);
      // the agent's genuine signature, but other values submitted: terms, parent, deadline
      const good = await signed(f);
      const bad = (parent: string, terms: Terms, deadline: bigint, sig = good.signature) =>
        f.auth.connect(f.idp).delegateGrantBySignature(parent, terms, 0, deadline, f.issuerX.address, sig);
      await expect(bad(f.root, { ...good.terms, maxUses: 2 }, good.deadline)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(f.root, f.issuerX.address);
      await expect(bad(f.root, good.terms, good.deadline + 1n)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(f.root, f.issuerX.address);
      const other = await signedGrant(f, { holderRef: HOLDER, maxUses: 2 }); // a second root granted to issuerX
      await expect(bad(other.id, good.terms, good.deadline)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(other.id, f.issuerX.address);
      // a signature for another Authorisations deployment (domain) is not valid here
      const otherDomain = { ...f.domain, verifyingContract: f.stranger.address };
      const foreign = await f.issuerX.signTypedData(otherDomain, DELEGATION_TYPES, { parentId: f.root, terms: good.terms, nonce: 0n, deadline: good.deadline });
      await expect(bad(f.root, good.terms, good.deadline, foreign)).to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(f.root, f.issuerX.address);
      await expect(bad(f.root, good.terms, good.deadline, "0x1234")).to.be.revertedWithCustomError(f.auth, "InvalidDelegationSignature").withArgs(f.root, f.issuerX.address);
      expect(await f.auth.delegationNonce(M.issuerX)).to.equal(0n);
      await expect(bad(f.root, good.terms, good.deadline)).to.emit(f.auth, "GrantDelegatedBySignature");
    });

    it("keeps the child within the parent's holder, matter, scope, window and uses (signed or not)", async () => {
      const f = await loadFixture(chainFixture);
      const d = async (over: Partial<Terms>) => {
        const s = await signed(f, over);
        return f.auth.connect(f.idp).delegateGrantBySignature(f.root, s.terms, s.nonce, s.deadline, f.issuerX.address, s.signature);
      };
      await expect(d({ typeCodes: [T.PERMIT], leaves: [] })).to.be.revertedWithCustomError(f.auth, "DelegationOutOfScope").withArgs(f.root, T.PERMIT);
      await expect(d({ typeCodes: [], leaves: [LEAF[2]] })).to.be.revertedWithCustomError(f.auth, "DelegationOutOfScope").withArgs(f.root, LEAF[2]);
      await (await f.auth.connect(f.idp).bindHolderKey(OTHER_HOLDER, f.rogue.address, EVIDENCE)).wait();
      await expect(d({ holderRef: OTHER_HOLDER })).to.be.revertedWithCustomError(f.auth, "DelegationHolderMismatch").withArgs(f.root, OTHER_HOLDER);
      await expect(d({ matter: bytes32("OTHER") })).to.be.revertedWithCustomError(f.auth, "DelegationMatterMismatch").withArgs(f.root, bytes32("OTHER"));
      await expect(d({ notBefore: f.now - 11n })).to.be.revertedWithCustomError(f.auth, "DelegationWindowExceeded").withArgs(f.root, f.now - 11n, f.now + 30n * DAY);
      await expect(d({ notAfter: f.now + 30n * DAY + 1n })).to.be.revertedWithCustomError(f.auth, "DelegationWindowExceeded").withArgs(f.root, f.now - 10n, f.now + 30n * DAY + 1n);
      await expect(d({ maxUses: 6 })).to.be.revertedWithCustomError(f.auth, "DelegationUsesExceeded").withArgs(f.root, 6, 5);
      await expect(d({ grantee: M.issuerX })).to.be.revertedWithCustomError(f.auth, "InvalidGrantee").withArgs(M.issuerX);
      await expect(d({ maxUses: 0 })).to.be.revertedWithCustomError(f.auth, "InvalidMaxUses").withArgs(0);
      expect(await f.auth.delegationNonce(M.issuerX)).to.equal(0n); // nothing consumed by a refused delegation
      // the boundary: equal window, a subset of the scope, all remaining uses
      await expect(d({ notBefore: f.now - 10n, notAfter: f.now + 30n * DAY, maxUses: 5, typeCodes: [T.LICENCE], leaves: [LEAF[0], LEAF[1]] }))
        .to.emit(f.auth, "GrantDelegatedBySignature");
    });

    it("enforces the depth limit: the grandchild's grantee cannot delegate by signature either", async () => {
      const f = await loadFixture(chainFixture);
      const t = termsOf(f, { grantee: M.govA, typeCodes: [], leaves: [LEAF[0]], maxUses: 1, notAfter: f.now + DAY });
      const sig = await signDelegation(f, f.issuer, f.grand, t, 0n, f.now + DAY);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.grand, t, 0, f.now + DAY, f.issuer.address, sig))
        .to.be.revertedWithCustomError(f.auth, "DelegationTooDeep").withArgs(f.grand, 3);
    });

    it("cannot delegate from a revoked parent, a child of a revoked parent, an expired or an unknown one", async () => {
      const f = await loadFixture(chainFixture);
      await (await f.auth.connect(f.issuerX).revokeGrant(f.child)).wait();
      const t = termsOf(f, { grantee: M.govA, typeCodes: [], leaves: [LEAF[0]], maxUses: 1, notAfter: f.now + DAY });
      const deadline = f.now + 40n * DAY;
      const byOutsider = await signDelegation(f, f.outsider, f.child, t, 0n, deadline);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.child, t, 0, deadline, f.outsider.address, byOutsider))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.child, GS.Revoked);
      const tg = { ...t, grantee: M.govB };
      const byIssuer = await signDelegation(f, f.issuer, f.grand, tg, 0n, deadline);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.grand, tg, 0, deadline, f.issuer.address, byIssuer))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.grand, GS.AncestorRevoked);
      const tr = { ...t, leaves: [LEAF[1]], notAfter: f.now + 30n * DAY };
      const byAgent = await signDelegation(f, f.issuerX, f.root, tr, 0n, deadline);
      await time.increaseTo(f.now + 31n * DAY);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(f.root, tr, 0, deadline, f.issuerX.address, byAgent))
        .to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.root, GS.Expired);
      await expect(f.auth.connect(f.idp).delegateGrantBySignature(h("nothing"), tr, 0, deadline, f.issuerX.address, byAgent))
        .to.be.revertedWithCustomError(f.auth, "UnknownGrant").withArgs(h("nothing"));
    });

    it("a suspended agent's signature is refused (its parent is GRANTEE_INACTIVE); strangers and suspended members cannot submit", async () => {
      const f = await loadFixture(chainFixture);
      const s = await signed(f);
      const send = (by: Signer) => f.auth.connect(by).delegateGrantBySignature(f.root, s.terms, s.nonce, s.deadline, f.issuerX.address, s.signature);
      await expect(send(f.stranger)).to.be.revertedWithCustomError(f.auth, "AccountNotMember").withArgs(f.stranger.address);
      await (await f.ledger.suspendMember(M.authCity)).wait();
      await expect(send(f.idp)).to.be.revertedWithCustomError(f.auth, "MemberNotActive").withArgs(M.authCity);
      await (await f.ledger.suspendMember(M.issuerX)).wait();
      await expect(send(f.outsider)).to.be.revertedWithCustomError(f.auth, "GrantNotUsable").withArgs(f.root, GS.GranteeInactive);
      await (await f.ledger.reinstateMember(M.issuerX)).wait();
      await expect(send(f.outsider)).to.emit(f.auth, "GrantDelegatedBySignature");
    });
  });

  describe("revocation", () => {
    it("revoking a child voids its grandchild at once; revoking the root voids the whole tree", async () => {
      const f = await loadFixture(chainFixture);
      await expect(f.auth.connect(f.issuerX).revokeGrant(f.child))
        .to.emit(f.auth, "GrantRevoked").withArgs(f.child, HOLDER, M.issuerX, Revoker.Grantor, ZERO);
      const revokedAt = BigInt(await time.latest());
      expect(await status(f, f.child)).to.equal(GS.Revoked);
      expect(await status(f, f.grand)).to.equal(GS.AncestorRevoked);
      expect(await status(f, f.root)).to.equal(GS.Active);
      const c = await f.auth.getGrant(f.child, 0);
      expect([c.revokedAt, c.revokedBy]).to.deep.equal([revokedAt, BigInt(Revoker.Grantor)]);
      // judged at a time before the revocation, the grant was usable (for the auditor)
      expect(await status(f, f.grand, revokedAt - 1n)).to.equal(GS.Active);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[0], MATTER, revokedAt - 1n)).to.equal(UV.Allowed);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[0])).to.equal(UV.AncestorRevoked);
    });

    it("the holder revokes by signature (nonce consumed, no replay); an IdP revokes with evidence", async () => {
      const f = await loadFixture(chainFixture);
      const deadline = f.now + DAY;
      const nonce = await f.auth.holderNonce(HOLDER);
      expect(nonce).to.equal(1);
      const sig = await f.holder.signTypedData(f.domain, REVOKE_TYPES, { grantId: f.root, nonce, deadline });
      await expect(f.auth.connect(f.outsider).revokeGrantBySignature(f.root, nonce, deadline, f.holder.address, sig))
        .to.emit(f.auth, "GrantRevoked").withArgs(f.root, HOLDER, ZERO, Revoker.HolderSignature, ZERO);
      expect(await f.auth.holderNonce(HOLDER)).to.equal(2);
      expect([await status(f, f.root), await status(f, f.child), await status(f, f.grand)]).to.deep.equal([BigInt(GS.Revoked), BigInt(GS.AncestorRevoked), BigInt(GS.AncestorRevoked)]);
      await expect(f.auth.connect(f.outsider).revokeGrantBySignature(f.child, nonce, deadline, f.holder.address, sig))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderNonce").withArgs(HOLDER, 2, 1);
      const sig2 = await f.holder.signTypedData(f.domain, REVOKE_TYPES, { grantId: f.child, nonce: 2n, deadline });
      await expect(f.auth.connect(f.outsider).revokeGrantBySignature(f.child, 2, deadline, f.rogue.address, sig2))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(HOLDER, f.rogue.address);
      await expect(f.auth.connect(f.outsider).revokeGrantBySignature(f.child, 2, deadline, f.holder.address, sig))
        .to.be.revertedWithCustomError(f.auth, "InvalidHolderSignature").withArgs(HOLDER, f.holder.address);
      const ev = h("evidence/withdrawn");
      await expect(f.auth.connect(f.idp).revokeGrantByIdentityProvider(f.grand, ev))
        .to.emit(f.auth, "GrantRevoked").withArgs(f.grand, HOLDER, M.authCity, Revoker.IdentityProvider, ev);
      expect((await f.auth.getGrant(f.grand, 0)).revokedBy).to.equal(Revoker.IdentityProvider);
    });

    it("rejects a non-grantor, a second revocation, an unknown grant, a non-IdP and missing evidence", async () => {
      const f = await loadFixture(chainFixture);
      // the root is holder-signed: no member is its grantor, not even its grantee
      await expect(f.auth.connect(f.issuerX).revokeGrant(f.root)).to.be.revertedWithCustomError(f.auth, "NotGrantor").withArgs(f.root, M.issuerX);
      await expect(f.auth.connect(f.outsider).revokeGrant(f.child)).to.be.revertedWithCustomError(f.auth, "NotGrantor").withArgs(f.child, M.outsider);
      await (await f.auth.connect(f.outsider).revokeGrant(f.grand)).wait();
      await expect(f.auth.connect(f.outsider).revokeGrant(f.grand)).to.be.revertedWithCustomError(f.auth, "GrantAlreadyRevoked").withArgs(f.grand);
      await expect(f.auth.connect(f.idp).revokeGrantByIdentityProvider(f.grand, EVIDENCE)).to.be.revertedWithCustomError(f.auth, "GrantAlreadyRevoked").withArgs(f.grand);
      await expect(f.auth.connect(f.outsider).revokeGrant(h("none"))).to.be.revertedWithCustomError(f.auth, "UnknownGrant").withArgs(h("none"));
      await expect(f.auth.connect(f.idp).revokeGrantByIdentityProvider(h("none"), EVIDENCE)).to.be.revertedWithCustomError(f.auth, "UnknownGrant").withArgs(h("none"));
      await expect(f.auth.connect(f.issuerX).revokeGrantByIdentityProvider(f.root, EVIDENCE)).to.be.revertedWithCustomError(f.auth, "MissingRole").withArgs(M.issuerX, Role.IdentityProvider);
      await expect(f.auth.connect(f.idp).revokeGrantByIdentityProvider(f.root, ZERO)).to.be.revertedWithCustomError(f.auth, "InvalidEvidence").withArgs(ZERO);
      const past = BigInt(await time.latest()) - 1n;
      const sig = await f.holder.signTypedData(f.domain, REVOKE_TYPES, { grantId: f.root, nonce: 1n, deadline: past });
      await expect(f.auth.connect(f.outsider).revokeGrantBySignature(f.root, 1, past, f.holder.address, sig))
        .to.be.revertedWithCustomError(f.auth, "SignatureExpired").withArgs(past, anyValue);
    });
  });

  describe("checkGrant (the custodian's question)", () => {
    it("answers every verdict with its stable code", async () => {
      const f = await loadFixture(chainFixture);
      expect(await check(f, f.root, M.issuerX)).to.equal(UV.Allowed); // by type
      expect(await check(f, f.root, M.issuerX, T.PERMIT, LEAF[1])).to.equal(UV.Allowed); // by leaf
      expect(await check(f, f.root, M.issuerX, T.PERMIT, LEAF[2])).to.equal(UV.OutOfScope);
      expect(await check(f, f.root, M.outsider)).to.equal(UV.WrongGrantee);
      expect(await check(f, f.root, M.issuerX, T.LICENCE, LEAF[2], bytes32("OTHER"))).to.equal(UV.WrongMatter);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[0])).to.equal(UV.Allowed);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[1])).to.equal(UV.OutOfScope);
      expect(await check(f, h("none"), M.issuer)).to.equal(UV.Unknown);
      expect(await check(f, f.root, M.issuerX, T.LICENCE, LEAF[2], MATTER, f.now - 11n)).to.equal(UV.Unknown); // before creation
      const later = await signedGrant(f, { notBefore: f.now + 5n * DAY });
      expect(await check(f, later.id, M.issuerX)).to.equal(UV.NotYetValid);
      expect(await check(f, later.id, M.issuerX, T.LICENCE, LEAF[2], MATTER, f.now + 5n * DAY)).to.equal(UV.Allowed);
      await (await f.ledger.suspendMember(M.issuerX)).wait();
      expect(await check(f, f.root, M.issuerX)).to.equal(UV.GranteeInactive);
      expect(await check(f, f.child, M.outsider, T.LICENCE, LEAF[0])).to.equal(UV.Allowed); // a suspended delegator does not void its delegations
      await (await f.ledger.reinstateMember(M.issuerX)).wait();
      await time.increaseTo(f.now + 10n * DAY + 1n);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[0])).to.equal(UV.Expired);
      expect(await check(f, f.root, M.issuerX)).to.equal(UV.Allowed);
      const [, view] = await f.auth.checkGrant(f.grand, M.issuer, MATTER, T.LICENCE, LEAF[0], 0);
      expect([view.grantId, view.status, view.terms.grantee]).to.deep.equal([f.grand, BigInt(GS.Expired), M.issuer]);
    });
  });

  describe("checkGrants (many checks, one call)", () => {
    const norm = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    it("answers each query exactly as checkGrant does, every verdict, in order", async () => {
      const f = await loadFixture(chainFixture);
      const later = await signedGrant(f, { notBefore: f.now + 5n * DAY });
      await (await f.ledger.suspendMember(M.outsider)).wait(); // the child's grantee: GranteeInactive
      const q = (grantId: string, requester: string, typeCode = T.LICENCE, leaf = LEAF[2], matter = MATTER, at = 0n) =>
        ({ grantId, requester, matter, typeCode, leaf, at });
      const queries = [
        q(f.root, M.issuerX), q(f.root, M.issuerX, T.PERMIT, LEAF[1]), q(f.root, M.issuerX, T.PERMIT, LEAF[2]),
        q(f.root, M.outsider), q(f.root, M.issuerX, T.LICENCE, LEAF[2], bytes32("OTHER")), q(h("none"), M.issuer),
        q(f.grand, M.issuer, T.LICENCE, LEAF[0]), q(f.grand, M.issuer, T.LICENCE, LEAF[1]), q(later.id, M.issuerX),
        q(later.id, M.issuerX, T.LICENCE, LEAF[2], MATTER, f.now + 5n * DAY), q(f.child, M.outsider, T.LICENCE, LEAF[0]),
        q(f.root, M.issuerX, T.LICENCE, LEAF[2], MATTER, f.now - 11n), q(f.grand, M.issuer, T.LICENCE, LEAF[0], MATTER, f.now + 11n * DAY),
      ];
      const batch = await f.auth.checkGrants(queries);
      expect(batch.length).to.equal(queries.length);
      const verdicts: bigint[] = [];
      for (let i = 0; i < queries.length; i++) {
        const a = queries[i];
        const one = await f.auth.checkGrant(a.grantId, a.requester, a.matter, a.typeCode, a.leaf, a.at);
        expect(norm(batch[i])).to.equal(norm(one), `query ${i}`);
        verdicts.push(batch[i].verdict as bigint);
      }
      expect(verdicts).to.deep.equal([UV.Allowed, UV.Allowed, UV.OutOfScope, UV.WrongGrantee, UV.WrongMatter, UV.Unknown,
        UV.Allowed, UV.OutOfScope, UV.NotYetValid, UV.Allowed, UV.GranteeInactive, UV.Unknown, UV.Expired].map(BigInt));
      // the raw return data of one item is checkGrant's return data (what a node's codec relies on)
      const raw = await ethers.provider.call({ to: await f.auth.getAddress(), data: f.auth.interface.encodeFunctionData("checkGrant", [f.root, M.issuerX, MATTER, T.LICENCE, LEAF[2], 0]) });
      const [decoded] = f.auth.interface.decodeFunctionResult("checkGrants", f.auth.interface.encodeFunctionResult("checkGrants", [[[...f.auth.interface.decodeFunctionResult("checkGrant", raw)]]]));
      expect(norm(decoded[0])).to.equal(norm(batch[0]));
    });

    it("answers an empty list with an empty list", async () => {
      const f = await loadFixture(chainFixture);
      expect((await f.auth.checkGrants([])).length).to.equal(0);
    });
  });

  describe("anchorUseLog", () => {
    it("anchors heads append-only, records uses per grant and up the chain, reads every head back", async () => {
      const f = await loadFixture(chainFixture);
      const r1 = h("root-1"), r2 = h("root-2");
      await expect(f.auth.connect(f.issuer).anchorUseLog(10, r1, [{ grantId: f.root, count: 2 }, { grantId: f.grand, count: 1 }]))
        .to.emit(f.auth, "GrantUsesRecorded").withArgs(f.root, M.issuer, 0, 2, 2)
        .and.to.emit(f.auth, "GrantUsesRecorded").withArgs(f.grand, M.issuer, 0, 1, 1)
        .and.to.emit(f.auth, "UseLogAnchored").withArgs(M.issuer, 0, 10, r1, anyValue);
      const b1 = BigInt((await ethers.provider.getBlock("latest"))!.number);
      const t1 = BigInt(await time.latest());
      // grand's use counts for child and root too: root 2 + 1 = 3 of 5, child 1 of 4, grand 1 of 2
      expect((await f.auth.getGrant(f.root, 0)).used).to.equal(3);
      expect((await f.auth.getGrant(f.child, 0)).used).to.equal(1);
      const g = await f.auth.getGrant(f.grand, 0);
      expect([g.used, g.usesLeft]).to.deep.equal([1n, 1n]);
      expect((await f.auth.getGrant(f.child, 0)).usesLeft).to.equal(2); // min(4-1, 5-3)
      await mine(3);
      await expect(f.auth.connect(f.issuer).anchorUseLog(25, r2, [])).to.emit(f.auth, "UseLogAnchored").withArgs(M.issuer, 1, 25, r2, []);
      expect(await f.auth.useLogHeadCount(M.issuer)).to.equal(2);
      const h0 = await f.auth.useLogHead(M.issuer, 0);
      expect([h0.treeSize, h0.anchoredAt, h0.anchoredBlock, h0.rootHash]).to.deep.equal([10n, t1, b1, r1]);
      const latest = await f.auth.latestUseLogHead(M.issuer);
      expect([latest.treeSize, latest.rootHash]).to.deep.equal([25n, r2]);
      expect((await f.auth.latestUseLogHead(M.outsider)).treeSize).to.equal(0);
      expect(await f.auth.useLogHeadCount(M.outsider)).to.equal(0);
      // another custodian keeps its own log
      await expect(f.auth.connect(f.issuerX).anchorUseLog(1, r1, [{ grantId: f.grand, count: 1 }])).to.emit(f.auth, "UseLogAnchored").withArgs(M.issuerX, 0, 1, r1, anyValue);
      expect(await status(f, f.grand)).to.equal(GS.Exhausted);
      expect(await check(f, f.grand, M.issuer, T.LICENCE, LEAF[0])).to.equal(UV.Exhausted);
      expect(await check(f, f.child, M.outsider, T.LICENCE, LEAF[0])).to.equal(UV.Allowed); // 2 of 4 used, root 4 of 5
    });

    it("never reverts for over-use: records it with GrantOverused and the grant becomes Exhausted", async () => {
      const f = await loadFixture(chainFixture);
      const tx = f.auth.connect(f.issuer).anchorUseLog(10, h("r"), [{ grantId: f.grand, count: 3 }]);
      await expect(tx).to.emit(f.auth, "GrantOverused").withArgs(f.grand, M.issuer, 3, 2)
        .and.to.emit(f.auth, "GrantUsesRecorded").withArgs(f.grand, M.issuer, 0, 3, 3);
      const logs = (await (await tx).wait())!.logs.map((l: { topics: readonly string[]; data: string }) => f.auth.interface.parseLog(l));
      expect(logs.filter((l: { name: string } | null) => l?.name === "GrantOverused").map((l: { args: { grantId: string } } | null) => l!.args.grantId)).to.deep.equal([f.grand]); // root 3/5, child 3/4: not over
      const tx2 = f.auth.connect(f.issuerX).anchorUseLog(5, h("r"), [{ grantId: f.root, count: 3 }]);
      await expect(tx2).to.emit(f.auth, "GrantOverused").withArgs(f.root, M.issuerX, 6, 5);
      expect([await status(f, f.root), await status(f, f.child), await status(f, f.grand)]).to.deep.equal([BigInt(GS.Exhausted), BigInt(GS.Exhausted), BigInt(GS.Exhausted)]);
      expect((await f.auth.getGrant(f.child, 0)).usesLeft).to.equal(0);
    });

    it("rejects a head that does not grow, a zero root, zero or excess counts, unknown grants and heads", async () => {
      const f = await loadFixture(chainFixture);
      await expect(f.auth.connect(f.issuer).anchorUseLog(0, h("r"), [])).to.be.revertedWithCustomError(f.auth, "UseLogNotAdvancing").withArgs(M.issuer, 0, 0);
      await (await f.auth.connect(f.issuer).anchorUseLog(10, h("r"), [])).wait();
      await expect(f.auth.connect(f.issuer).anchorUseLog(10, h("r2"), [])).to.be.revertedWithCustomError(f.auth, "UseLogNotAdvancing").withArgs(M.issuer, 10, 10);
      await expect(f.auth.connect(f.issuer).anchorUseLog(9, h("r2"), [])).to.be.revertedWithCustomError(f.auth, "UseLogNotAdvancing").withArgs(M.issuer, 10, 9);
      await expect(f.auth.connect(f.issuer).anchorUseLog(11, ZERO, [])).to.be.revertedWithCustomError(f.auth, "InvalidUseLogRoot").withArgs(M.issuer, ZERO);
      await expect(f.auth.connect(f.issuer).anchorUseLog(11, h("r"), [{ grantId: f.root, count: 0 }])).to.be.revertedWithCustomError(f.auth, "InvalidUseCount").withArgs(f.root, 0);
      await expect(f.auth.connect(f.issuer).anchorUseLog(11, h("r"), [{ grantId: h("none"), count: 1 }])).to.be.revertedWithCustomError(f.auth, "UnknownGrant").withArgs(h("none"));
      await expect(f.auth.connect(f.issuer).anchorUseLog(12, h("r"), [{ grantId: f.root, count: 2 }, { grantId: f.child, count: 1 }]))
        .to.be.revertedWithCustomError(f.auth, "UseCountsExceedRecords").withArgs(M.issuer, 3, 2);
      await expect(f.auth.useLogHead(M.issuer, 1)).to.be.revertedWithCustomError(f.auth, "UnknownUseLogHead").withArgs(M.issuer, 1);
      // nothing changed by the failed attempts
      expect(await f.auth.useLogHeadCount(M.issuer)).to.equal(1);
      expect((await f.auth.getGrant(f.root, 0)).used).to.equal(0);
    });
  });

  describe("edges", () => {
    it("the zero address is never a holder key; a grant may name only types or only leaves", async () => {
      const f = await loadFixture(fixture);
      const t = termsOf(f);
      const deadline = f.now + DAY;
      await expect(f.auth.connect(f.issuerX).grantBySignature(t, 0, deadline, ethers.ZeroAddress, await sign(f, t, 0n, deadline)))
        .to.be.revertedWithCustomError(f.auth, "HolderKeyNotBound").withArgs(HOLDER, ethers.ZeroAddress);
      const typesOnly = await signedGrant(f, { leaves: [] });
      expect((await f.auth.getGrant(typesOnly.id, 0)).terms.leaves).to.deep.equal([]);
      const leavesOnly = await signedGrant(f, { typeCodes: [] });
      expect((await f.auth.getGrant(leavesOnly.id, 0)).terms.typeCodes).to.deep.equal([]);
      expect(await check(f, leavesOnly.id, M.issuerX, T.LICENCE, LEAF[2])).to.equal(UV.OutOfScope);
      expect(await check(f, leavesOnly.id, M.issuerX, T.LICENCE, LEAF[1])).to.equal(UV.Allowed);
      expect(await status(f, h("no such grant"))).to.equal(GS.Unknown);
      // asked at a time before its creation, an existing grant is Unknown
      const created = (await f.auth.getGrant(leavesOnly.id, 0)).createdAt;
      expect(await status(f, leavesOnly.id, created - 1n)).to.equal(GS.Unknown);
      expect(await status(f, leavesOnly.id, created)).to.equal(GS.Active);
    });

    it("anchored use counts saturate at uint32 max (never wrap) and the grant reads Exhausted", async () => {
      const f = await loadFixture(fixture);
      const { id } = await signedGrant(f);
      const max = 2n ** 32n - 1n;
      const c = f.auth.connect(f.issuer);
      await expect(c.anchorUseLog(max, h("r1"), [{ grantId: id, count: max }])).to.emit(f.auth, "GrantOverused").withArgs(id, M.issuer, max, 3);
      await expect(c.anchorUseLog(2n * max, h("r2"), [{ grantId: id, count: max }]))
        .to.emit(f.auth, "GrantUsesRecorded").withArgs(id, M.issuer, 1, max, max);
      const g = await f.auth.getGrant(id, 0);
      expect([g.used, g.usesLeft, g.status]).to.deep.equal([max, 0n, BigInt(GS.Exhausted)]);
    });
  });

  describe("suspended members and strangers", () => {
    it("a suspended member can do nothing: bind, grant, delegate, revoke, submit signatures, anchor", async () => {
      const f = await loadFixture(chainFixture);
      for (const m of [M.authCity, M.issuerX, M.outsider, M.issuer]) await (await f.ledger.suspendMember(m)).wait();
      const t = termsOf(f);
      const deadline = f.now + DAY;
      const sig = await sign(f, t, 1n, deadline);
      const cases: [() => Promise<unknown>, string][] = [
        [() => f.auth.connect(f.idp).bindHolderKey(HOLDER, f.rogue.address, EVIDENCE), M.authCity],
        [() => f.auth.connect(f.idp).unbindHolderKey(HOLDER, f.holder.address, EVIDENCE), M.authCity],
        [() => f.auth.connect(f.idp).grantByIdentityProvider(termsOf(f, { grantee: M.govA }), h("s"), EVIDENCE), M.authCity],
        [() => f.auth.connect(f.idp).revokeGrantByIdentityProvider(f.root, EVIDENCE), M.authCity],
        [() => f.auth.connect(f.issuerX).grantBySignature(t, 1, deadline, f.holder.address, sig), M.issuerX],
        [() => f.auth.connect(f.issuerX).delegateGrant(f.root, termsOf(f, { grantee: M.govA, maxUses: 1 }), h("s")), M.issuerX],
        [() => f.auth.connect(f.issuerX).revokeGrant(f.child), M.issuerX],
        [() => f.auth.connect(f.outsider).revokeGrant(f.grand), M.outsider],
        [() => f.auth.connect(f.issuer).anchorUseLog(1, h("r"), []), M.issuer],
      ];
      for (const [p, m] of cases) await expect(p()).to.be.revertedWithCustomError(f.auth, "MemberNotActive").withArgs(m);
      // and a grant to a suspended member cannot be created
      await (await f.ledger.reinstateMember(M.authCity)).wait();
      await expect(f.auth.connect(f.idp).grantByIdentityProvider(termsOf(f), h("s"), EVIDENCE))
        .to.be.revertedWithCustomError(f.auth, "InvalidGrantee").withArgs(M.issuerX);
      expect(await status(f, f.root)).to.equal(GS.GranteeInactive);
      expect(await status(f, f.grand)).to.equal(GS.GranteeInactive);
    });

    it("an account of no member can do nothing", async () => {
      const f = await loadFixture(chainFixture);
      const s = f.auth.connect(f.stranger);
      const cases = [
        () => s.delegateGrant(f.root, termsOf(f), h("s")), () => s.revokeGrant(f.root), () => s.anchorUseLog(1, h("r"), []),
        () => s.revokeGrantBySignature(f.root, 1, f.now + DAY, f.holder.address, "0x"), () => s.unbindHolderKey(HOLDER, f.holder.address, EVIDENCE),
        () => s.grantBySignature(termsOf(f), 1, f.now + DAY, f.holder.address, "0x"),
        () => s.delegateGrantBySignature(f.root, termsOf(f), 0, f.now + DAY, f.issuerX.address, "0x"),
      ];
      for (const p of cases) await expect(p()).to.be.revertedWithCustomError(f.auth, "AccountNotMember").withArgs(f.stranger.address);
    });
  });

  describe("size and gas budgets (real bytecode only; figures in sdk/src/grants/README.md)", function () {
    const underCoverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
    const gasOf = async (p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> => (await (await p).wait())!.gasUsed;
    before(function () {
      if (underCoverage) this.skip();
    });

    it("fits the 24,576-byte limit; creation <= 240,000, delegation <= 280,000 (signed <= 300,000), revocation <= 80,000, a first head with one grant <= 120,000", async () => {
      const { deployedBytecode } = await artifacts.readArtifact("Authorisations");
      expect((deployedBytecode.length - 2) / 2).to.be.at.most(24_576);
      const f = await loadFixture(fixture);
      const t = termsOf(f, { leaves: [] });
      const deadline = f.now + DAY;
      const root = await idOf(f, ZERO, Origin.HolderSignature, t, ethers.toBeHex(0, 32));
      expect(await gasOf(f.auth.connect(f.issuerX).grantBySignature(t, 0, deadline, f.holder.address, await sign(f, t, 0n, deadline)))).to.be.at.most(240_000n);
      expect(await gasOf(f.auth.connect(f.idp).grantByIdentityProvider(termsOf(f, { leaves: [] }), h("s"), EVIDENCE))).to.be.at.most(240_000n);
      const ct = termsOf(f, { grantee: M.outsider, leaves: [], maxUses: 1 });
      expect(await gasOf(f.auth.connect(f.issuerX).delegateGrant(root, ct, h("c")))).to.be.at.most(280_000n);
      const st = termsOf(f, { grantee: M.issuer, leaves: [], maxUses: 1 });
      const ssig = await signDelegation(f, f.issuerX, root, st, 0n, deadline);
      expect(await gasOf(f.auth.connect(f.outsider).delegateGrantBySignature(root, st, 0, deadline, f.issuerX.address, ssig))).to.be.at.most(300_000n);
      expect(await gasOf(f.auth.connect(f.issuer).anchorUseLog(100, h("r"), [{ grantId: root, count: 1 }]))).to.be.at.most(120_000n);
      expect(await gasOf(f.auth.connect(f.issuerX).revokeGrant(await idOf(f, root, Origin.Delegation, ct, h("c"))))).to.be.at.most(80_000n);
    });
  });
});
