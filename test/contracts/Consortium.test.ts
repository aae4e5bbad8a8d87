import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  J, M, MemberStatus, Role, T, bytes32, deployClosed, deployOpen, govern, memberId, propose, uscc,
  type Consortium,
} from "./helpers/consortium";

const ZERO = ethers.ZeroHash;
const latest = async (): Promise<bigint> => BigInt(await time.latest());

describe("Consortium", () => {
  describe("deployment and bootstrap", () => {
    it("makes the deployer the bootstrap admin with the phase open and SHA-256/SM3 active", async () => {
      const [admin] = await ethers.getSigners();
      const ledger = await ethers.deployContract("TongbanLedger", admin);
      await expect(ledger.deploymentTransaction()).to.emit(ledger, "HashAlgAdded").withArgs(1)
        .and.to.emit(ledger, "HashAlgAdded").withArgs(2);
      expect(await ledger.bootstrapAdmin()).to.equal(admin.address);
      expect(await ledger.bootstrapOpen()).to.equal(true);
      expect(await ledger.threshold()).to.equal(0);
      expect(await ledger.proposalLifetime()).to.equal(7n * 24n * 3600n);
      expect(await ledger.memberCount()).to.equal(0);
    });

    it("bootstrapBatch sets the whole consortium up in one transaction", async () => {
      const c = await loadFixture(deployOpen);
      expect(await c.ledger.memberCount()).to.equal(8);
      expect(await c.ledger.memberIdAt(3)).to.equal(M.issuer);
      expect(await c.ledger.governorCount()).to.equal(3);
      expect(await c.ledger.threshold()).to.equal(2);
      expect(await c.ledger.isEntitled(M.issuer, T.LICENCE, J.PUDONG)).to.equal(true);
      expect(await c.ledger.materialTypeCount()).to.equal(2);
      expect(await c.ledger.materialTypeAt(1)).to.equal(T.PERMIT);
    });

    it("bootstrapBatch is all or nothing and bubbles the failing call's error", async () => {
      const c = await loadFixture(deployOpen);
      const i = c.ledger.interface;
      await expect(c.ledger.bootstrapBatch([
        i.encodeFunctionData("registerJurisdiction", [310105, J.SH]),
        i.encodeFunctionData("registerJurisdiction", [310105, J.SH]),
      ])).to.be.revertedWithCustomError(c.ledger, "JurisdictionAlreadyRegistered").withArgs(310105);
      expect((await c.ledger.jurisdictionInfo(310105)).registered).to.equal(false);
    });

    it("only the admin may batch or close, and only while the phase is open", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.connect(c.gov[0]).bootstrapBatch([]))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.gov[0].address);
      await expect(c.ledger.connect(c.gov[0]).closeBootstrap())
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.gov[0].address);
      await expect(c.ledger.closeBootstrap()).to.emit(c.ledger, "BootstrapClosed").withArgs(c.admin.address);
      expect(await c.ledger.bootstrapOpen()).to.equal(false);
      await expect(c.ledger.closeBootstrap()).to.be.revertedWithCustomError(c.ledger, "ConsortiumBootstrapClosed");
      await expect(c.ledger.bootstrapBatch([])).to.be.revertedWithCustomError(c.ledger, "ConsortiumBootstrapClosed");
    });

    it("cannot close without a usable governance (threshold 0, or above the governor count)", async () => {
      const ledger = await ethers.deployContract("TongbanLedger");
      await expect(ledger.closeBootstrap())
        .to.be.revertedWithCustomError(ledger, "ConsortiumInvalidThreshold").withArgs(0, 0);
    });

    it("after close the admin's direct governed calls are refused", async () => {
      const c = await loadFixture(deployClosed);
      await expect(c.ledger.registerJurisdiction(310105, J.SH))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.admin.address);
    });

    it("every governed function refuses any other caller", async () => {
      const c = await loadFixture(deployClosed);
      const calls: [string, unknown[]][] = [
        ["registerJurisdiction", [310105, J.SH]], ["registerMaterialType", [bytes32("X")]],
        ["admitMember", [M.issuer, J.SH, []]], ["suspendMember", [M.issuer]], ["reinstateMember", [M.issuer]],
        ["addAccount", [M.issuer, c.stranger.address]], ["removeAccount", [M.issuer, c.issuer.address]],
        ["grantRole", [M.issuer, Role.Auditor]], ["revokeRole", [M.govA, Role.Governor]],
        ["grantRevocationAuthority", [M.issuer, J.SH]], ["revokeRevocationAuthority", [M.authCity, J.SH]],
        ["grantEntitlement", [M.issuer, T.LICENCE, J.SH]], ["revokeEntitlement", [M.issuer, T.LICENCE, J.PUDONG]],
        ["setThreshold", [1]], ["setProposalLifetime", [3600]], ["addHashAlg", [3]], ["retireHashAlg", [1]],
      ];
      for (const who of [c.admin, c.gov[0], c.issuer]) {
        for (const [fn, args] of calls) {
          await expect(c.ledger.connect(who)[fn](...args), `${fn} by ${who.address}`)
            .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(who.address);
        }
      }
    });

    it("no one else may call a governed function, during or after bootstrap", async () => {
      const c = await loadFixture(deployOpen);
      for (const who of [c.gov[0], c.stranger]) {
        await expect(c.ledger.connect(who).registerMaterialType(bytes32("X")))
          .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(who.address);
      }
    });
  });

  describe("member ids (GB 32100)", () => {
    it("accepts the valid samples and rejects the invalid ones", async () => {
      const c = await loadFixture(deployOpen);
      for (const ok of ["11310115002418321F", "91310104MA1K000018", "91350100M000100Y43"]) {
        expect(await c.ledger.isValidMemberId(memberId(ok)), ok).to.equal(true);
      }
      const bad = [
        "91110000100000000X", "91310000MA1FL0XX00", // wrong check / bad symbols
        "91310104MA1K00001", // 17 chars
        "91310104MA1K0000180", // 19 chars
        "91310104ma1k000018", // lower case
        "I1310104MA1K000018", // I is not in the alphabet
      ];
      for (const b of bad) expect(await c.ledger.isValidMemberId(memberId(b)), b).to.equal(false);
      expect(await c.ledger.isValidMemberId(ZERO)).to.equal(false);
    });

    it("admitMember rejects an invalid id with InvalidMemberId", async () => {
      const c = await loadFixture(deployOpen);
      const bad = memberId("91110000100000000X");
      await expect(c.ledger.admitMember(bad, J.SH, []))
        .to.be.revertedWithCustomError(c.ledger, "InvalidMemberId").withArgs(bad);
    });
  });

  describe("jurisdictions and material types", () => {
    it("registers a jurisdiction under a parent", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.registerJurisdiction(310105, J.SH))
        .to.emit(c.ledger, "JurisdictionRegistered").withArgs(310105, J.SH);
      const info = await c.ledger.jurisdictionInfo(310105);
      expect([info.registered, info.parent]).to.deep.equal([true, BigInt(J.SH)]);
    });

    it("rejects malformed codes, unknown parents and duplicates", async () => {
      const c = await loadFixture(deployOpen);
      for (const [code, parent] of [[99999, 0], [1000000, 0], [320000, 320000], [320100, 320000]]) {
        await expect(c.ledger.registerJurisdiction(code, parent))
          .to.be.revertedWithCustomError(c.ledger, "InvalidJurisdiction").withArgs(code, parent);
      }
      await expect(c.ledger.registerJurisdiction(J.XUHUI, J.SH))
        .to.be.revertedWithCustomError(c.ledger, "JurisdictionAlreadyRegistered").withArgs(J.XUHUI);
    });

    it("registers a material type and lists it", async () => {
      const c = await loadFixture(deployOpen);
      const t = bytes32("MARRIAGE_CERT");
      await expect(c.ledger.registerMaterialType(t)).to.emit(c.ledger, "MaterialTypeRegistered").withArgs(t, 3);
      expect(await c.ledger.isMaterialType(t)).to.equal(true);
      expect(await c.ledger.materialTypeAt(2)).to.equal(t);
      await expect(c.ledger.materialTypeAt(3))
        .to.be.revertedWithCustomError(c.ledger, "UnknownMaterialType").withArgs(ethers.toBeHex(3, 32));
    });

    it("rejects the zero type and duplicates", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.registerMaterialType(ZERO))
        .to.be.revertedWithCustomError(c.ledger, "InvalidMaterialType").withArgs(ZERO);
      await expect(c.ledger.registerMaterialType(T.LICENCE))
        .to.be.revertedWithCustomError(c.ledger, "MaterialTypeAlreadyRegistered").withArgs(T.LICENCE);
    });
  });

  describe("members and accounts", () => {
    const newId = memberId(uscc("91310104MA1K00002"));

    it("admits a member with accounts and reads it back", async () => {
      const c = await loadFixture(deployOpen);
      const [a1, a2] = c.spare;
      await expect(c.ledger.admitMember(newId, J.XUHUI, [a1.address, a2.address]))
        .to.emit(c.ledger, "MemberAdmitted").withArgs(newId, J.XUHUI)
        .and.to.emit(c.ledger, "AccountAdded").withArgs(newId, a1.address)
        .and.to.emit(c.ledger, "AccountAdded").withArgs(newId, a2.address);
      const m = await c.ledger.getMember(newId);
      expect(m.id).to.equal(newId);
      expect(m.jurisdiction).to.equal(J.XUHUI);
      expect(m.status).to.equal(MemberStatus.Active);
      expect(m.admittedAt).to.equal(await latest());
      expect(m.accounts).to.deep.equal([a1.address, a2.address]);
      expect(await c.ledger.memberOf(a2.address)).to.deep.equal([newId, true]);
      expect(await c.ledger.isActiveAccount(a1.address)).to.equal(true);
      expect(await c.ledger.isActiveMember(newId)).to.equal(true);
      const info = await c.ledger.accountInfo(a1.address);
      expect([info.memberId, info.current, info.addedAt, info.removedAt]).to.deep.equal([newId, true, await latest(), 0n]);
      expect((await c.ledger.getMembers()).map((x: { id: string }) => x.id)).to.include(newId);
    });

    it("rejects a duplicate member, an unknown jurisdiction, the zero account and a used account", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.admitMember(M.issuer, J.PUDONG, []))
        .to.be.revertedWithCustomError(c.ledger, "MemberAlreadyExists").withArgs(M.issuer);
      await expect(c.ledger.admitMember(newId, 320000, []))
        .to.be.revertedWithCustomError(c.ledger, "UnknownJurisdiction").withArgs(320000);
      await expect(c.ledger.admitMember(newId, J.XUHUI, [ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(c.ledger, "InvalidAccount").withArgs(ethers.ZeroAddress);
      await expect(c.ledger.admitMember(newId, J.XUHUI, [c.issuer.address]))
        .to.be.revertedWithCustomError(c.ledger, "AccountAlreadyUsed").withArgs(c.issuer.address, M.issuer);
    });

    it("unknown members are named in the error", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.getMember(newId)).to.be.revertedWithCustomError(c.ledger, "UnknownMember").withArgs(newId);
      await expect(c.ledger.suspendMember(newId)).to.be.revertedWithCustomError(c.ledger, "UnknownMember").withArgs(newId);
      await expect(c.ledger.memberIdAt(8))
        .to.be.revertedWithCustomError(c.ledger, "UnknownMember").withArgs(ethers.toBeHex(8, 32));
      expect(await c.ledger.memberOf(c.stranger.address)).to.deep.equal([ZERO, false]);
      expect(await c.ledger.isActiveMember(newId)).to.equal(false);
      expect(await c.ledger.hasApproved(1, newId)).to.equal(false);
    });

    it("suspends and reinstates a member; its accounts follow", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.suspendMember(M.issuer)).to.emit(c.ledger, "MemberSuspended").withArgs(M.issuer);
      const m = await c.ledger.getMember(M.issuer);
      expect(m.status).to.equal(MemberStatus.Suspended);
      expect(m.statusChangedAt).to.equal(await latest());
      expect(await c.ledger.memberOf(c.issuer.address)).to.deep.equal([M.issuer, false]);
      expect(await c.ledger.isActiveAccount(c.issuer.address)).to.equal(false);
      expect(await c.ledger.isEntitled(M.issuer, T.LICENCE, J.PUDONG)).to.equal(false);
      await expect(c.ledger.suspendMember(M.issuer))
        .to.be.revertedWithCustomError(c.ledger, "MemberNotActive").withArgs(M.issuer);
      await expect(c.ledger.reinstateMember(M.issuer)).to.emit(c.ledger, "MemberReinstated").withArgs(M.issuer);
      expect(await c.ledger.isActiveAccount(c.issuer.address)).to.equal(true);
      expect(await c.ledger.isEntitled(M.issuer, T.LICENCE, J.PUDONG)).to.equal(true);
      await expect(c.ledger.reinstateMember(M.issuer))
        .to.be.revertedWithCustomError(c.ledger, "MemberNotSuspended").withArgs(M.issuer);
    });

    it("an account added while the member is suspended stays inactive until reinstatement", async () => {
      const c = await loadFixture(deployOpen);
      const [a] = c.spare;
      await c.ledger.suspendMember(M.issuer);
      await c.ledger.addAccount(M.issuer, a.address);
      expect(await c.ledger.memberOf(a.address)).to.deep.equal([M.issuer, false]);
      await c.ledger.reinstateMember(M.issuer);
      expect(await c.ledger.memberOf(a.address)).to.deep.equal([M.issuer, true]);
    });

    it("rotates accounts: add then remove; a removed account can never be re-added", async () => {
      const c = await loadFixture(deployOpen);
      const [a] = c.spare;
      await expect(c.ledger.addAccount(M.issuer, a.address))
        .to.emit(c.ledger, "AccountAdded").withArgs(M.issuer, a.address);
      const added = await latest();
      await expect(c.ledger.removeAccount(M.issuer, c.issuer.address))
        .to.emit(c.ledger, "AccountRemoved").withArgs(M.issuer, c.issuer.address);
      const removed = await latest();
      expect((await c.ledger.getMember(M.issuer)).accounts).to.deep.equal([a.address]);
      const info = await c.ledger.accountInfo(c.issuer.address);
      expect([info.memberId, info.current, info.removedAt]).to.deep.equal([M.issuer, false, removed]);
      expect(await c.ledger.memberOf(c.issuer.address)).to.deep.equal([ZERO, false]);
      // e-seal history
      expect(await c.ledger.wasAccountOf(M.issuer, c.issuer.address, removed - 1n)).to.equal(true);
      expect(await c.ledger.wasAccountOf(M.issuer, c.issuer.address, removed)).to.equal(false);
      expect(await c.ledger.wasAccountOf(M.issuer, a.address, added)).to.equal(true);
      expect(await c.ledger.wasAccountOf(M.issuer, a.address, added - 1n)).to.equal(false);
      expect(await c.ledger.wasAccountOf(M.issuerX, a.address, added)).to.equal(false);
      expect(await c.ledger.wasAccountOf(M.issuer, c.stranger.address, added)).to.equal(false);
      await expect(c.ledger.addAccount(M.issuerX, c.issuer.address))
        .to.be.revertedWithCustomError(c.ledger, "AccountAlreadyUsed").withArgs(c.issuer.address, M.issuer);
      await expect(c.ledger.removeAccount(M.issuer, c.issuer.address))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotOfMember").withArgs(c.issuer.address, M.issuer);
      await expect(c.ledger.removeAccount(M.issuer, c.issuerX.address))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotOfMember").withArgs(c.issuerX.address, M.issuer);
    });

    it("removes an account from the middle of the list", async () => {
      const c = await loadFixture(deployOpen);
      const [a, b] = c.spare;
      await c.ledger.addAccount(M.issuer, a.address);
      await c.ledger.addAccount(M.issuer, b.address);
      await c.ledger.removeAccount(M.issuer, a.address);
      expect((await c.ledger.getMember(M.issuer)).accounts).to.deep.equal([c.issuer.address, b.address]);
    });
  });

  describe("roles, authorities and entitlements", () => {
    it("grants and revokes a role; a repeated grant or revoke emits nothing", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.grantRole(M.outsider, Role.Auditor))
        .to.emit(c.ledger, "RoleGranted").withArgs(M.outsider, Role.Auditor);
      expect(await c.ledger.hasRole(M.outsider, Role.Auditor)).to.equal(true);
      expect(await c.ledger.hasRole(M.outsider, Role.Cataloguer)).to.equal(false);
      expect((await c.ledger.getMember(M.outsider)).roles).to.equal(1 << Role.Auditor);
      await expect(c.ledger.grantRole(M.outsider, Role.Auditor)).to.not.emit(c.ledger, "RoleGranted");
      await expect(c.ledger.revokeRole(M.outsider, Role.Auditor))
        .to.emit(c.ledger, "RoleRevoked").withArgs(M.outsider, Role.Auditor);
      expect(await c.ledger.hasRole(M.outsider, Role.Auditor)).to.equal(false);
      await expect(c.ledger.revokeRole(M.outsider, Role.Auditor)).to.not.emit(c.ledger, "RoleRevoked");
      await expect(c.ledger.grantRole(ZERO, Role.Auditor))
        .to.be.revertedWithCustomError(c.ledger, "UnknownMember").withArgs(ZERO);
    });

    it("a suspended member holds no effective role", async () => {
      const c = await loadFixture(deployOpen);
      await c.ledger.suspendMember(M.govA);
      expect(await c.ledger.hasRole(M.govA, Role.Governor)).to.equal(false);
      expect((await c.ledger.getMember(M.govA)).roles).to.equal(1);
    });

    it("counts governors and keeps the threshold reachable", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.grantRole(M.outsider, Role.Governor)).to.emit(c.ledger, "RoleGranted");
      expect(await c.ledger.governorCount()).to.equal(4);
      await c.ledger.revokeRole(M.outsider, Role.Governor);
      await c.ledger.revokeRole(M.govC, Role.Governor);
      expect(await c.ledger.governorCount()).to.equal(2);
      await expect(c.ledger.revokeRole(M.govB, Role.Governor))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidThreshold").withArgs(2, 1);
    });

    it("counts only active governors, and refuses a suspension that would strand the threshold", async () => {
      const c = await loadFixture(deployOpen); // 3 governors, threshold 2
      await expect(c.ledger.suspendMember(M.govC)).to.emit(c.ledger, "MemberSuspended").withArgs(M.govC);
      expect(await c.ledger.governorCount()).to.equal(2);
      await expect(c.ledger.suspendMember(M.govB))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidThreshold").withArgs(2, 1);
      await expect(c.ledger.setThreshold(3))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidThreshold").withArgs(3, 2);
      // role changes of a suspended member do not move the count until it is reinstated
      await c.ledger.suspendMember(M.outsider);
      await c.ledger.grantRole(M.outsider, Role.Governor);
      expect(await c.ledger.governorCount()).to.equal(2);
      await c.ledger.reinstateMember(M.outsider);
      expect(await c.ledger.governorCount()).to.equal(3);
      await c.ledger.reinstateMember(M.govC);
      expect(await c.ledger.governorCount()).to.equal(4);
      await c.ledger.suspendMember(M.govC);
      await expect(c.ledger.revokeRole(M.govC, Role.Governor)).to.emit(c.ledger, "RoleRevoked");
      expect(await c.ledger.governorCount()).to.equal(3);
      await c.ledger.reinstateMember(M.govC);
      expect(await c.ledger.governorCount()).to.equal(3);
    });

    it("sets the threshold within 1..governors; the same value is a no-op", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.setThreshold(3)).to.emit(c.ledger, "ThresholdChanged").withArgs(3);
      expect(await c.ledger.threshold()).to.equal(3);
      await expect(c.ledger.setThreshold(3)).to.not.emit(c.ledger, "ThresholdChanged");
      await expect(c.ledger.setThreshold(0))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidThreshold").withArgs(0, 3);
      await expect(c.ledger.setThreshold(4))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidThreshold").withArgs(4, 3);
    });

    it("sets the proposal lifetime within 1 hour..365 days", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.setProposalLifetime(3600)).to.emit(c.ledger, "ProposalLifetimeChanged").withArgs(3600);
      expect(await c.ledger.proposalLifetime()).to.equal(3600);
      await expect(c.ledger.setProposalLifetime(3600)).to.not.emit(c.ledger, "ProposalLifetimeChanged");
      for (const bad of [3599, 365 * 86400 + 1]) {
        await expect(c.ledger.setProposalLifetime(bad))
          .to.be.revertedWithCustomError(c.ledger, "ConsortiumInvalidProposalLifetime").withArgs(bad);
      }
    });

    it("a city revocation authority covers its districts, not another province", async () => {
      const c = await loadFixture(deployOpen);
      expect(await c.ledger.isRevocationAuthority(M.authCity, J.SH)).to.equal(true);
      expect(await c.ledger.isRevocationAuthority(M.authCity, J.XUHUI)).to.equal(true);
      expect(await c.ledger.isRevocationAuthority(M.authCity, J.HZ)).to.equal(false);
      expect(await c.ledger.isRevocationAuthority(M.authXuhui, J.XUHUI)).to.equal(true);
      expect(await c.ledger.isRevocationAuthority(M.authXuhui, J.SH)).to.equal(false);
      expect(await c.ledger.isRevocationAuthority(M.authXuhui, J.PUDONG)).to.equal(false);
    });

    it("grants and withdraws revocation authority; repeats emit nothing", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.grantRevocationAuthority(M.outsider, J.ZJ))
        .to.emit(c.ledger, "RevocationAuthorityGranted").withArgs(M.outsider, J.ZJ);
      expect(await c.ledger.isRevocationAuthority(M.outsider, J.HZ)).to.equal(true);
      await expect(c.ledger.grantRevocationAuthority(M.outsider, J.ZJ)).to.not.emit(c.ledger, "RevocationAuthorityGranted");
      await expect(c.ledger.revokeRevocationAuthority(M.outsider, J.ZJ))
        .to.emit(c.ledger, "RevocationAuthorityRevoked").withArgs(M.outsider, J.ZJ);
      expect(await c.ledger.isRevocationAuthority(M.outsider, J.HZ)).to.equal(false);
      await expect(c.ledger.revokeRevocationAuthority(M.outsider, J.ZJ)).to.not.emit(c.ledger, "RevocationAuthorityRevoked");
      await expect(c.ledger.grantRevocationAuthority(M.outsider, 320000))
        .to.be.revertedWithCustomError(c.ledger, "UnknownJurisdiction").withArgs(320000);
    });

    it("grants and withdraws an entitlement per (type, jurisdiction); repeats emit nothing", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.grantEntitlement(M.outsider, T.PERMIT, J.XUHUI))
        .to.emit(c.ledger, "EntitlementGranted").withArgs(M.outsider, T.PERMIT, J.XUHUI);
      expect(await c.ledger.isEntitled(M.outsider, T.PERMIT, J.XUHUI)).to.equal(true);
      expect(await c.ledger.isEntitled(M.outsider, T.PERMIT, J.SH)).to.equal(false);
      expect(await c.ledger.isEntitled(M.outsider, T.LICENCE, J.XUHUI)).to.equal(false);
      await expect(c.ledger.grantEntitlement(M.outsider, T.PERMIT, J.XUHUI)).to.not.emit(c.ledger, "EntitlementGranted");
      await expect(c.ledger.revokeEntitlement(M.outsider, T.PERMIT, J.XUHUI))
        .to.emit(c.ledger, "EntitlementRevoked").withArgs(M.outsider, T.PERMIT, J.XUHUI);
      expect(await c.ledger.isEntitled(M.outsider, T.PERMIT, J.XUHUI)).to.equal(false);
      await expect(c.ledger.revokeEntitlement(M.outsider, T.PERMIT, J.XUHUI)).to.not.emit(c.ledger, "EntitlementRevoked");
      const unknown = bytes32("NOPE");
      await expect(c.ledger.grantEntitlement(M.outsider, unknown, J.XUHUI))
        .to.be.revertedWithCustomError(c.ledger, "UnknownMaterialType").withArgs(unknown);
      await expect(c.ledger.grantEntitlement(M.outsider, T.PERMIT, 320000))
        .to.be.revertedWithCustomError(c.ledger, "UnknownJurisdiction").withArgs(320000);
    });
  });

  describe("peers", () => {
    const peers = ["12D3KooWPeerA", "12D3KooWPeerB"];
    const addrs = ["/ip4/10.0.0.1/tcp/4001", "/dns4/node.xh.gov/tcp/4001"];

    it("governance sets any member's peers (by = 0)", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.setPeers(M.issuer, peers, addrs))
        .to.emit(c.ledger, "PeersUpdated").withArgs(M.issuer, ZERO, peers, addrs);
      const m = await c.ledger.getMember(M.issuer);
      expect([...m.peerIds]).to.deep.equal(peers);
      expect([...m.multiaddrs]).to.deep.equal(addrs);
    });

    it("a member updates its own peers, replacing the old list", async () => {
      const c = await loadFixture(deployClosed);
      await c.ledger.connect(c.issuer).setPeers(M.issuer, peers, addrs);
      await expect(c.ledger.connect(c.issuer).setPeers(M.issuer, ["p3"], []))
        .to.emit(c.ledger, "PeersUpdated").withArgs(M.issuer, M.issuer, ["p3"], []);
      const all = await c.ledger.getMembers();
      const me = all.find((x: { id: string }) => x.id === M.issuer);
      expect([...me.peerIds]).to.deep.equal(["p3"]);
      expect([...me.multiaddrs]).to.deep.equal([]);
    });

    it("nobody else may set a member's peers; a suspended member may not either", async () => {
      const c = await loadFixture(deployClosed);
      await expect(c.ledger.connect(c.issuerX).setPeers(M.issuer, peers, addrs))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.issuerX.address);
      await expect(c.ledger.connect(c.stranger).setPeers(M.issuer, peers, addrs))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotMember").withArgs(c.stranger.address);
      await govern(c, "suspendMember", [M.issuer]);
      await expect(c.ledger.connect(c.issuer).setPeers(M.issuer, peers, addrs))
        .to.be.revertedWithCustomError(c.ledger, "MemberNotActive").withArgs(M.issuer);
    });

    it("limits each list to 16 entries", async () => {
      const c = await loadFixture(deployOpen);
      const many = Array.from({ length: 17 }, (_, k) => `p${k}`);
      await expect(c.ledger.setPeers(M.issuer, many, []))
        .to.be.revertedWithCustomError(c.ledger, "TooManyPeers").withArgs(M.issuer, 17);
      await expect(c.ledger.setPeers(M.issuer, [], many))
        .to.be.revertedWithCustomError(c.ledger, "TooManyPeers").withArgs(M.issuer, 17);
      await expect(c.ledger.setPeers(ZERO, [], []))
        .to.be.revertedWithCustomError(c.ledger, "UnknownMember").withArgs(ZERO);
    });
  });

  describe("proposals (2 of 3 governors)", () => {
    const newJ = 310105;
    const action = (c: Consortium) => c.ledger.interface.encodeFunctionData("registerJurisdiction", [newJ, J.SH]);

    it("propose records the proposal and counts the proposer's vote", async () => {
      const c = await loadFixture(deployClosed);
      const a = action(c);
      const tx = c.ledger.connect(c.gov[0]).propose(a);
      const expires = BigInt(await time.latest()) + 1n + 7n * 86400n;
      await expect(tx).to.emit(c.ledger, "ProposalCreated").withArgs(1, M.govA, a.slice(0, 10), a, expires)
        .and.to.emit(c.ledger, "ProposalApproved").withArgs(1, M.govA, 1);
      const p = await c.ledger.getProposal(1);
      expect([p.proposer, p.expiresAt, p.executed, p.approvals, p.action]).to.deep.equal([M.govA, expires, false, 1n, a]);
      expect(await c.ledger.proposalCount()).to.equal(1);
      expect(await c.ledger.hasApproved(1, M.govA)).to.equal(true);
      expect(await c.ledger.hasApproved(1, M.govB)).to.equal(false);
    });

    it("executes once the threshold is met; the action's events come first", async () => {
      const c = await loadFixture(deployClosed);
      const id = await propose(c, action(c));
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalThresholdNotMet").withArgs(id, 1, 2);
      await expect(c.ledger.connect(c.gov[1]).approve(id)).to.emit(c.ledger, "ProposalApproved").withArgs(id, M.govB, 2);
      await expect(c.ledger.connect(c.gov[2]).execute(id))
        .to.emit(c.ledger, "JurisdictionRegistered").withArgs(newJ, J.SH)
        .and.to.emit(c.ledger, "ProposalExecuted").withArgs(id, M.govC, action(c).slice(0, 10));
      expect((await c.ledger.jurisdictionInfo(newJ)).registered).to.equal(true);
      expect((await c.ledger.getProposal(id)).executed).to.equal(true);
    });

    it("refuses a double approval, also from a second account of the same governor", async () => {
      const c = await loadFixture(deployClosed);
      const id = await propose(c, action(c));
      await expect(c.ledger.connect(c.gov[0]).approve(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalAlreadyApproved").withArgs(id, M.govA);
      await govern(c, "addAccount", [M.govA, c.spare[0].address]);
      await expect(c.ledger.connect(c.spare[0]).approve(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalAlreadyApproved").withArgs(id, M.govA);
    });

    it("refuses to replay an executed proposal", async () => {
      const c = await loadFixture(deployClosed);
      const { proposalId } = await govern(c, "registerJurisdiction", [newJ, J.SH]);
      await expect(c.ledger.connect(c.gov[0]).execute(proposalId))
        .to.be.revertedWithCustomError(c.ledger, "ProposalAlreadyExecuted").withArgs(proposalId);
      await expect(c.ledger.connect(c.gov[2]).approve(proposalId))
        .to.be.revertedWithCustomError(c.ledger, "ProposalAlreadyExecuted").withArgs(proposalId);
    });

    it("an expired proposal can be neither approved nor executed", async () => {
      const c = await loadFixture(deployClosed);
      const id = await propose(c, action(c));
      const { expiresAt } = await c.ledger.getProposal(id);
      await time.setNextBlockTimestamp(expiresAt); // still open at expiresAt
      await c.ledger.connect(c.gov[1]).approve(id);
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalExpired").withArgs(id, expiresAt);
      await expect(c.ledger.connect(c.gov[2]).approve(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalExpired").withArgs(id, expiresAt);
    });

    it("unknown proposals and malformed actions are named", async () => {
      const c = await loadFixture(deployClosed);
      await expect(c.ledger.connect(c.gov[0]).approve(9)).to.be.revertedWithCustomError(c.ledger, "UnknownProposal").withArgs(9);
      await expect(c.ledger.connect(c.gov[0]).execute(9)).to.be.revertedWithCustomError(c.ledger, "UnknownProposal").withArgs(9);
      await expect(c.ledger.connect(c.gov[0]).propose("0x123456"))
        .to.be.revertedWithCustomError(c.ledger, "InvalidProposalAction").withArgs(3);
    });

    it("only active governors propose, approve and execute", async () => {
      const c = await loadFixture(deployClosed);
      const id = await propose(c, action(c));
      await expect(c.ledger.connect(c.issuer).propose(action(c)))
        .to.be.revertedWithCustomError(c.ledger, "MissingRole").withArgs(M.issuer, Role.Governor);
      await expect(c.ledger.connect(c.issuer).approve(id))
        .to.be.revertedWithCustomError(c.ledger, "MissingRole").withArgs(M.issuer, Role.Governor);
      await expect(c.ledger.connect(c.stranger).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotMember").withArgs(c.stranger.address);
      await govern(c, "suspendMember", [M.govC]);
      await expect(c.ledger.connect(c.gov[2]).approve(id))
        .to.be.revertedWithCustomError(c.ledger, "MemberNotActive").withArgs(M.govC);
    });

    it("discounts approvals of governors suspended or de-roled before execution", async () => {
      const c = await loadFixture(deployClosed);
      const id = await propose(c, action(c), c.gov[2]); // govC proposes
      await c.ledger.connect(c.gov[1]).approve(id); // govB approves: 2 votes
      await govern(c, "suspendMember", [M.govC]);
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalThresholdNotMet").withArgs(id, 1, 2);
      await govern(c, "reinstateMember", [M.govC]);
      await govern(c, "grantRole", [M.outsider, Role.Governor]);
      await govern(c, "revokeRole", [M.govC, Role.Governor]);
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "ProposalThresholdNotMet").withArgs(id, 1, 2);
      await c.ledger.connect(c.gov[0]).approve(id);
      await expect(c.ledger.connect(c.gov[0]).execute(id)).to.emit(c.ledger, "ProposalExecuted");
    });

    it("a failing action reverts with its own error and stays executable", async () => {
      const c = await loadFixture(deployClosed);
      const dup = c.ledger.interface.encodeFunctionData("registerJurisdiction", [J.XUHUI, J.SH]);
      const id = await propose(c, dup);
      await c.ledger.connect(c.gov[1]).approve(id);
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "JurisdictionAlreadyRegistered").withArgs(J.XUHUI);
      expect((await c.ledger.getProposal(id)).executed).to.equal(false);
    });

    it("cannot smuggle a non-governed call (the ledger is not a member account)", async () => {
      const c = await loadFixture(deployClosed);
      const a = c.ledger.interface.encodeFunctionData("anchor", [ethers.id("r"), T.LICENCE, J.PUDONG, 1]);
      const id = await propose(c, a);
      await c.ledger.connect(c.gov[1]).approve(id);
      await expect(c.ledger.connect(c.gov[0]).execute(id))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotMember").withArgs(await c.ledger.getAddress());
    });

    it("every governed action runs through proposals after bootstrap", async () => {
      const c = await loadFixture(deployClosed);
      const t = bytes32("MARRIAGE_CERT");
      const id = memberId(uscc("11310104MB2F00099"));
      const [acc, acc2] = c.spare;
      const steps: [string, unknown[], string, unknown[]][] = [
        ["registerJurisdiction", [310105, J.SH], "JurisdictionRegistered", [310105, J.SH]],
        ["registerMaterialType", [t], "MaterialTypeRegistered", [t, 3]],
        ["admitMember", [id, 310105, [acc.address]], "MemberAdmitted", [id, 310105]],
        ["addAccount", [id, acc2.address], "AccountAdded", [id, acc2.address]],
        ["removeAccount", [id, acc.address], "AccountRemoved", [id, acc.address]],
        ["grantEntitlement", [id, t, 310105], "EntitlementGranted", [id, t, 310105]],
        ["revokeEntitlement", [id, t, 310105], "EntitlementRevoked", [id, t, 310105]],
        ["grantRevocationAuthority", [id, 310105], "RevocationAuthorityGranted", [id, 310105]],
        ["revokeRevocationAuthority", [id, 310105], "RevocationAuthorityRevoked", [id, 310105]],
        ["grantRole", [id, Role.Governor], "RoleGranted", [id, Role.Governor]],
        ["setThreshold", [3], "ThresholdChanged", [3]],
      ];
      for (const [fn, args, ev, evArgs] of steps) {
        const { tx } = await govern(c, fn, args);
        await expect(tx, fn).to.emit(c.ledger, ev).withArgs(...evArgs);
      }
      const more: [string, unknown[], string, unknown[]][] = [
        ["setThreshold", [2], "ThresholdChanged", [2]],
        ["revokeRole", [id, Role.Governor], "RoleRevoked", [id, Role.Governor]],
        ["suspendMember", [id], "MemberSuspended", [id]],
        ["reinstateMember", [id], "MemberReinstated", [id]],
        ["setProposalLifetime", [86400], "ProposalLifetimeChanged", [86400]],
        ["setPeers", [id, ["p"], ["/ip4/1.2.3.4/tcp/1"]], "PeersUpdated", [id, ZERO, ["p"], ["/ip4/1.2.3.4/tcp/1"]]],
        ["addHashAlg", [3], "HashAlgAdded", [3]],
        ["retireHashAlg", [3], "HashAlgRetired", [3, (v: bigint) => v > 0n]],
      ];
      for (const [fn, args, ev, evArgs] of more) {
        const { tx } = await govern(c, fn, args, fn === "setThreshold" ? 3 : 2);
        if (fn === "retireHashAlg") await expect(tx, fn).to.emit(c.ledger, ev);
        else await expect(tx, fn).to.emit(c.ledger, ev).withArgs(...evArgs);
      }
      expect(await c.ledger.threshold()).to.equal(2);
      expect(await c.ledger.isActiveMember(id)).to.equal(true);
    });
  });
});
