import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  AlgStatus, J, M, Status, T, deployClosed, deployOpen, govern, leaves, merkle, type Consortium,
} from "./helpers/consortium";

const ZERO = ethers.ZeroHash;
const SHA256 = 1;

interface Batch { root: string; leaves: string[]; proof: (i: number) => string[] }

/** Closed consortium with: issuer (Pudong) anchored a LICENCE batch of 5; issuerX (Xuhui) a single LICENCE. */
async function anchoredFixture(): Promise<Consortium & { batch: Batch; single: Batch }> {
  const c = await deployClosed();
  const ls = leaves(5, "pudong");
  const t = merkle(ls);
  await (await c.ledger.connect(c.issuer).anchor(t.root, T.LICENCE, J.PUDONG, 5)).wait();
  const one = leaves(1, "xuhui");
  await (await c.ledger.connect(c.issuerX).anchor(one[0], T.LICENCE, J.XUHUI, 1)).wait();
  return { ...c, batch: { root: t.root, leaves: ls, proof: t.proof }, single: { root: one[0], leaves: one, proof: () => [] } };
}

async function block(): Promise<[bigint, bigint]> {
  const b = await ethers.provider.getBlock("latest");
  return [BigInt(b!.number), BigInt(b!.timestamp)];
}

describe("MaterialRegistry", () => {
  describe("anchor", () => {
    it("anchors a root for one type in one jurisdiction and reports it in materialState", async () => {
      const c = await loadFixture(deployClosed);
      const t = merkle(leaves(3));
      await expect(c.ledger.connect(c.issuer).anchor(t.root, T.LICENCE, J.PUDONG, 3))
        .to.emit(c.ledger, "Anchored").withArgs(t.root, M.issuer, T.LICENCE, J.PUDONG, 3);
      const [bn, ts] = await block();
      const s = await c.ledger.materialState(t.root, leaves(3)[1], SHA256);
      expect(s.anchored).to.equal(true);
      expect(s.anchoredBlock).to.equal(bn);
      expect(s.anchoredAt).to.equal(ts);
      expect(s.issuer).to.equal(M.issuer);
      expect(s.typeCode).to.equal(T.LICENCE);
      expect(s.jurisdiction).to.equal(J.PUDONG);
      expect(s.count).to.equal(3);
      expect(s.issuerActiveNow).to.equal(true);
      expect(s.status).to.equal(Status.Active);
      expect([s.reason, s.statusBy, s.statusBlock, s.statusAt]).to.deep.equal([0n, ZERO, 0n, 0n]);
      expect([s.supersededBy, s.supersedes]).to.deep.equal([ZERO, ZERO]);
      expect([s.hashAlgStatus, s.hashAlgRetiredAt]).to.deep.equal([BigInt(AlgStatus.Active), 0n]);
    });

    it("reports an unknown root as not anchored, with only the hash-algorithm fields set", async () => {
      const c = await loadFixture(deployClosed);
      const s = await c.ledger.materialState(ethers.id("nope"), ethers.id("leaf"), 2);
      expect(s.anchored).to.equal(false);
      expect([s.issuer, s.typeCode, s.anchoredBlock, s.count]).to.deep.equal([ZERO, ZERO, 0n, 0n]);
      expect(s.hashAlgStatus).to.equal(AlgStatus.Active);
      expect((await c.ledger.materialState(ethers.id("nope"), ZERO, 9)).hashAlgStatus).to.equal(AlgStatus.Unknown);
    });

    it("rejects the zero root, an empty batch and a root anchored before (naming its issuer)", async () => {
      const c = await loadFixture(anchoredFixture);
      await expect(c.ledger.connect(c.issuer).anchor(ZERO, T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "InvalidRoot").withArgs(ZERO);
      const r = ethers.id("r");
      await expect(c.ledger.connect(c.issuer).anchor(r, T.LICENCE, J.PUDONG, 0))
        .to.be.revertedWithCustomError(c.ledger, "InvalidBatchCount").withArgs(r, 0);
      await expect(c.ledger.connect(c.issuer).anchor(c.batch.root, T.PERMIT, J.PUDONG, 5))
        .to.be.revertedWithCustomError(c.ledger, "RootAlreadyAnchored").withArgs(c.batch.root, M.issuer);
      await expect(c.ledger.connect(c.issuer).anchor(c.single.root, T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "RootAlreadyAnchored").withArgs(c.single.root, M.issuerX);
    });

    it("an issuer cannot anchor a type or jurisdiction it is not entitled to", async () => {
      const c = await loadFixture(deployClosed);
      const r = ethers.id("r");
      await expect(c.ledger.connect(c.issuerX).anchor(r, T.PERMIT, J.XUHUI, 1))
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.issuerX, T.PERMIT, J.XUHUI);
      await expect(c.ledger.connect(c.issuerX).anchor(r, T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.issuerX, T.LICENCE, J.PUDONG);
      await expect(c.ledger.connect(c.issuerX).anchor(r, T.LICENCE, J.SH, 1)) // no inheritance for issuers
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.issuerX, T.LICENCE, J.SH);
      await expect(c.ledger.connect(c.outsider).anchor(r, T.LICENCE, J.XUHUI, 1))
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.outsider, T.LICENCE, J.XUHUI);
    });

    it("a revocation authority can revoke but not anchor", async () => {
      const c = await loadFixture(anchoredFixture);
      const r = ethers.id("r");
      await expect(c.ledger.connect(c.authCity).anchor(r, T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.authCity, T.LICENCE, J.PUDONG);
      await expect(c.ledger.connect(c.authCity).revokeMaterialAsAuthority(c.batch.root, c.batch.leaves[0], c.batch.proof(0), 7))
        .to.emit(c.ledger, "MaterialRevoked").withArgs(c.batch.leaves[0], M.issuer, M.authCity, 7);
    });

    it("a non-account cannot anchor", async () => {
      const c = await loadFixture(deployClosed);
      await expect(c.ledger.connect(c.stranger).anchor(ethers.id("r"), T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "AccountNotMember").withArgs(c.stranger.address);
    });

    it("withdrawing an entitlement blocks new anchors and leaves earlier ones anchored", async () => {
      const c = await loadFixture(anchoredFixture);
      await govern(c, "revokeEntitlement", [M.issuer, T.LICENCE, J.PUDONG]);
      const r = ethers.id("later");
      await expect(c.ledger.connect(c.issuer).anchor(r, T.LICENCE, J.PUDONG, 1))
        .to.be.revertedWithCustomError(c.ledger, "NotEntitled").withArgs(M.issuer, T.LICENCE, J.PUDONG);
      const s = await c.ledger.materialState(c.batch.root, c.batch.leaves[0], SHA256);
      expect([s.anchored, s.issuer, s.typeCode]).to.deep.equal([true, M.issuer, T.LICENCE]);
    });
  });

  describe("issuer status by leaf", () => {
    it("revokes a leaf with reason, block, time and author", async () => {
      const c = await loadFixture(anchoredFixture);
      const leaf = c.batch.leaves[2];
      await expect(c.ledger.connect(c.issuer).revokeMaterial(leaf, 3))
        .to.emit(c.ledger, "MaterialRevoked").withArgs(leaf, M.issuer, M.issuer, 3);
      const [bn, ts] = await block();
      const s = await c.ledger.materialState(c.batch.root, leaf, SHA256);
      expect([s.status, s.reason, s.statusBy, s.statusBlock, s.statusAt])
        .to.deep.equal([BigInt(Status.Revoked), 3n, M.issuer, bn, ts]);
      expect((await c.ledger.materialState(c.batch.root, c.batch.leaves[1], SHA256)).status).to.equal(Status.Active);
      await expect(c.ledger.connect(c.issuer).revokeMaterial(leaf, 4))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, leaf);
    });

    it("suspend -> reinstate -> revoke", async () => {
      const c = await loadFixture(anchoredFixture);
      const leaf = c.batch.leaves[0];
      const as = c.ledger.connect(c.issuer);
      await expect(as.suspendMaterial(leaf, 11)).to.emit(c.ledger, "MaterialSuspended").withArgs(leaf, M.issuer, M.issuer, 11);
      let s = await c.ledger.materialState(c.batch.root, leaf, SHA256);
      expect([s.status, s.reason]).to.deep.equal([BigInt(Status.Suspended), 11n]);
      await expect(as.suspendMaterial(leaf, 12))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadySuspended").withArgs(M.issuer, leaf);
      await expect(as.reinstateMaterial(leaf)).to.emit(c.ledger, "MaterialReinstated").withArgs(leaf, M.issuer, M.issuer);
      s = await c.ledger.materialState(c.batch.root, leaf, SHA256);
      expect([s.status, s.reason, s.statusBy]).to.deep.equal([BigInt(Status.Active), 0n, M.issuer]);
      await expect(as.reinstateMaterial(leaf))
        .to.be.revertedWithCustomError(c.ledger, "MaterialNotSuspended").withArgs(M.issuer, leaf);
      await expect(as.revokeMaterial(leaf, 1)).to.emit(c.ledger, "MaterialRevoked");
      await expect(as.suspendMaterial(leaf, 1))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, leaf);
      await expect(as.reinstateMaterial(leaf))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, leaf);
    });

    it("revocation outranks a suspension", async () => {
      const c = await loadFixture(anchoredFixture);
      const leaf = c.batch.leaves[1];
      await c.ledger.connect(c.issuer).suspendMaterial(leaf, 1);
      await expect(c.ledger.connect(c.issuer).revokeMaterial(leaf, 2)).to.emit(c.ledger, "MaterialRevoked");
      expect((await c.ledger.materialState(c.batch.root, leaf, SHA256)).status).to.equal(Status.Revoked);
    });

    it("a non-issuer's revoke writes only its own namespace; the real issuer's status is untouched", async () => {
      const c = await loadFixture(anchoredFixture);
      const leaf = c.batch.leaves[0];
      await expect(c.ledger.connect(c.outsider).revokeMaterial(leaf, 9))
        .to.emit(c.ledger, "MaterialRevoked").withArgs(leaf, M.outsider, M.outsider, 9);
      await c.ledger.connect(c.issuerX).suspendMaterial(leaf, 9);
      const s = await c.ledger.materialState(c.batch.root, leaf, SHA256);
      expect([s.issuer, s.status, s.statusBy]).to.deep.equal([M.issuer, BigInt(Status.Active), ZERO]);
      // and the issuer still acts normally on it
      await expect(c.ledger.connect(c.issuer).suspendMaterial(leaf, 1)).to.emit(c.ledger, "MaterialSuspended");
    });
  });

  describe("materialStates (many states, one call)", () => {
    it("answers each query exactly as materialState does, in order", async () => {
      const c = await loadFixture(anchoredFixture);
      await (await c.ledger.connect(c.issuer).revokeMaterial(c.batch.leaves[2], 3)).wait();
      await (await c.ledger.connect(c.issuer).suspendMaterial(c.batch.leaves[3], 4)).wait();
      const queries = [
        { root: c.batch.root, leaf: c.batch.leaves[0], hashAlg: SHA256 },
        { root: c.batch.root, leaf: c.batch.leaves[2], hashAlg: SHA256 }, // revoked
        { root: c.batch.root, leaf: c.batch.leaves[3], hashAlg: SHA256 }, // suspended
        { root: c.single.root, leaf: c.single.leaves[0], hashAlg: 2 },
        { root: ethers.id("nope"), leaf: ethers.id("leaf"), hashAlg: SHA256 }, // not anchored
        { root: c.batch.root, leaf: c.batch.leaves[1], hashAlg: 9 }, // unknown hash algorithm
      ];
      const batch = await c.ledger.materialStates(queries);
      expect(batch.length).to.equal(queries.length);
      for (let i = 0; i < queries.length; i++) {
        const one = await c.ledger.materialState(queries[i].root, queries[i].leaf, queries[i].hashAlg);
        expect(batch[i].toArray()).to.deep.equal(one.toArray(), `query ${i}`);
      }
      expect(batch.map((s: { anchored: boolean; status: bigint }) => [s.anchored, s.status])).to.deep.equal([
        [true, BigInt(Status.Active)], [true, BigInt(Status.Revoked)], [true, BigInt(Status.Suspended)],
        [true, BigInt(Status.Active)], [false, BigInt(Status.Active)], [true, BigInt(Status.Active)],
      ]);
      expect(batch[5].hashAlgStatus).to.equal(AlgStatus.Unknown);
      expect((await c.ledger.materialStates([])).length).to.equal(0);
    });
  });

  describe("supersedeMaterial", () => {
    it("links old and new both ways", async () => {
      const c = await loadFixture(anchoredFixture);
      const ls = leaves(4, "v2");
      const t = merkle(ls);
      await c.ledger.connect(c.issuer).anchor(t.root, T.LICENCE, J.PUDONG, 4);
      const old = c.batch.leaves[3];
      await expect(c.ledger.connect(c.issuer).supersedeMaterial(old, t.root, ls[2], t.proof(2)))
        .to.emit(c.ledger, "MaterialSuperseded").withArgs(old, M.issuer, ls[2], t.root);
      expect((await c.ledger.materialState(c.batch.root, old, SHA256)).supersededBy).to.equal(ls[2]);
      const n = await c.ledger.materialState(t.root, ls[2], SHA256);
      expect([n.supersedes, n.supersededBy, n.status]).to.deep.equal([old, ZERO, BigInt(Status.Active)]);
      await expect(c.ledger.connect(c.issuer).supersedeMaterial(old, t.root, ls[1], t.proof(1)))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadySuperseded").withArgs(M.issuer, old, ls[2]);
      await expect(c.ledger.connect(c.issuer).supersedeMaterial(c.batch.leaves[4], t.root, ls[2], t.proof(2)))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadySupersedes").withArgs(M.issuer, ls[2], old);
    });

    it("names every refusal", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root, leaves: ls, proof } = c.batch;
      const as = c.ledger.connect(c.issuer);
      const unknown = ethers.id("unknown");
      await expect(as.supersedeMaterial(ls[0], unknown, ls[1], []))
        .to.be.revertedWithCustomError(c.ledger, "RootNotAnchored").withArgs(unknown);
      await expect(as.supersedeMaterial(ls[0], root, ls[1], proof(2)))
        .to.be.revertedWithCustomError(c.ledger, "InvalidMerkleProof").withArgs(root, ls[1]);
      await expect(as.supersedeMaterial(ZERO, root, ls[1], proof(1)))
        .to.be.revertedWithCustomError(c.ledger, "InvalidSupersession").withArgs(ZERO, ls[1]);
      await expect(as.supersedeMaterial(ls[1], root, ls[1], proof(1)))
        .to.be.revertedWithCustomError(c.ledger, "InvalidSupersession").withArgs(ls[1], ls[1]);
      await as.revokeMaterial(ls[0], 1);
      await expect(as.supersedeMaterial(ls[0], root, ls[1], proof(1)))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, ls[0]);
    });

    it("another member cannot supersede the issuer's leaf: the new root must be the caller's own", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root, leaves: ls, proof } = c.batch;
      await expect(c.ledger.connect(c.issuerX).supersedeMaterial(ls[0], root, ls[1], proof(1)))
        .to.be.revertedWithCustomError(c.ledger, "RootIssuerMismatch").withArgs(root, M.issuerX, M.issuer);
      // pointing its own root at the issuer's leaf writes only issuerX's namespace
      await c.ledger.connect(c.issuerX).supersedeMaterial(ls[0], c.single.root, c.single.root, []);
      expect((await c.ledger.materialState(root, ls[0], SHA256)).supersededBy).to.equal(ZERO);
    });
  });

  describe("revocation authorities (proof of inclusion)", () => {
    it("a city authority revokes a district member's material in the issuer's namespace", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root, leaves: ls, proof } = c.batch;
      await expect(c.ledger.connect(c.authCity).revokeMaterialAsAuthority(root, ls[4], proof(4), 21))
        .to.emit(c.ledger, "MaterialRevoked").withArgs(ls[4], M.issuer, M.authCity, 21);
      const s = await c.ledger.materialState(root, ls[4], SHA256);
      expect([s.status, s.reason, s.statusBy]).to.deep.equal([BigInt(Status.Revoked), 21n, M.authCity]);
      await expect(c.ledger.connect(c.issuer).revokeMaterial(ls[4], 1))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, ls[4]);
      await expect(c.ledger.connect(c.authCity).revokeMaterialAsAuthority(root, ls[4], proof(4), 1))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuer, ls[4]);
    });

    it("a batch of one needs an empty proof", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root } = c.single;
      await expect(c.ledger.connect(c.authXuhui).suspendMaterialAsAuthority(root, root, [], 5))
        .to.emit(c.ledger, "MaterialSuspended").withArgs(root, M.issuerX, M.authXuhui, 5);
      expect((await c.ledger.materialState(root, root, SHA256)).status).to.equal(Status.Suspended);
    });

    it("refuses an authority outside the anchor's jurisdiction, a bad proof and an unknown root", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root, leaves: ls, proof } = c.batch;
      await expect(c.ledger.connect(c.authXuhui).revokeMaterialAsAuthority(root, ls[0], proof(0), 1))
        .to.be.revertedWithCustomError(c.ledger, "NotRevocationAuthority").withArgs(M.authXuhui, J.PUDONG);
      await expect(c.ledger.connect(c.issuer).revokeMaterialAsAuthority(root, ls[0], proof(0), 1))
        .to.be.revertedWithCustomError(c.ledger, "NotRevocationAuthority").withArgs(M.issuer, J.PUDONG);
      await expect(c.ledger.connect(c.authCity).revokeMaterialAsAuthority(root, ls[0], proof(1), 1))
        .to.be.revertedWithCustomError(c.ledger, "InvalidMerkleProof").withArgs(root, ls[0]);
      const notIn = ethers.id("not in batch");
      await expect(c.ledger.connect(c.authCity).suspendMaterialAsAuthority(root, notIn, proof(0), 1))
        .to.be.revertedWithCustomError(c.ledger, "InvalidMerkleProof").withArgs(root, notIn);
      const unknown = ethers.id("unknown");
      await expect(c.ledger.connect(c.authCity).reinstateMaterialAsAuthority(unknown, ls[0], []))
        .to.be.revertedWithCustomError(c.ledger, "RootNotAnchored").withArgs(unknown);
    });

    it("an authority's suspension is lifted by a competent authority, never by the issuer", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root } = c.single; // Xuhui
      await c.ledger.connect(c.authXuhui).suspendMaterialAsAuthority(root, root, [], 5);
      await expect(c.ledger.connect(c.issuerX).reinstateMaterial(root))
        .to.be.revertedWithCustomError(c.ledger, "SuspensionHeldBy").withArgs(M.issuerX, root, M.authXuhui);
      await expect(c.ledger.connect(c.issuerX).suspendMaterial(root, 1))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadySuspended").withArgs(M.issuerX, root);
      // the city authority covers Xuhui and lifts its district's suspension
      await expect(c.ledger.connect(c.authCity).reinstateMaterialAsAuthority(root, root, []))
        .to.emit(c.ledger, "MaterialReinstated").withArgs(root, M.issuerX, M.authCity);
      const s = await c.ledger.materialState(root, root, SHA256);
      expect([s.status, s.statusBy]).to.deep.equal([BigInt(Status.Active), M.authCity]);
      await expect(c.ledger.connect(c.authCity).reinstateMaterialAsAuthority(root, root, []))
        .to.be.revertedWithCustomError(c.ledger, "MaterialNotSuspended").withArgs(M.issuerX, root);
    });

    it("an issuer's own suspension is lifted by the issuer, not by an authority", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root } = c.single;
      await c.ledger.connect(c.issuerX).suspendMaterial(root, 2);
      await expect(c.ledger.connect(c.authXuhui).reinstateMaterialAsAuthority(root, root, []))
        .to.be.revertedWithCustomError(c.ledger, "SuspensionHeldBy").withArgs(M.issuerX, root, M.issuerX);
      await expect(c.ledger.connect(c.issuerX).reinstateMaterial(root)).to.emit(c.ledger, "MaterialReinstated");
    });

    it("an authority may revoke a suspended leaf but not reinstate a revoked one", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root } = c.single;
      await c.ledger.connect(c.issuerX).suspendMaterial(root, 2);
      await c.ledger.connect(c.authXuhui).revokeMaterialAsAuthority(root, root, [], 3);
      await expect(c.ledger.connect(c.authXuhui).reinstateMaterialAsAuthority(root, root, []))
        .to.be.revertedWithCustomError(c.ledger, "MaterialAlreadyRevoked").withArgs(M.issuerX, root);
    });

    it("loses its power when its scope is withdrawn", async () => {
      const c = await loadFixture(anchoredFixture);
      await govern(c, "revokeRevocationAuthority", [M.authXuhui, J.XUHUI]);
      await expect(c.ledger.connect(c.authXuhui).revokeMaterialAsAuthority(c.single.root, c.single.root, [], 1))
        .to.be.revertedWithCustomError(c.ledger, "NotRevocationAuthority").withArgs(M.authXuhui, J.XUHUI);
    });
  });

  describe("a suspended member", () => {
    it("can anchor and change status of nothing; what it anchored stays anchored with it as issuer", async () => {
      const c = await loadFixture(anchoredFixture);
      const { root, leaves: ls, proof } = c.batch;
      await c.ledger.connect(c.issuer).suspendMaterial(ls[0], 1);
      await govern(c, "suspendMember", [M.issuer]);
      const as = c.ledger.connect(c.issuer);
      const r = ethers.id("r");
      const err = (p: Promise<unknown>) => expect(p).to.be.revertedWithCustomError(c.ledger, "MemberNotActive").withArgs(M.issuer);
      await err(as.anchor(r, T.LICENCE, J.PUDONG, 1));
      await err(as.revokeMaterial(ls[1], 1));
      await err(as.suspendMaterial(ls[1], 1));
      await err(as.reinstateMaterial(ls[0]));
      await err(as.supersedeMaterial(ls[1], root, ls[2], proof(2)));
      const s = await c.ledger.materialState(root, ls[1], SHA256);
      expect([s.anchored, s.issuer, s.issuerActiveNow, s.status]).to.deep.equal([true, M.issuer, false, BigInt(Status.Active)]);
      // a suspended authority cannot act either
      await govern(c, "suspendMember", [M.authCity]);
      await expect(c.ledger.connect(c.authCity).revokeMaterialAsAuthority(root, ls[1], proof(1), 1))
        .to.be.revertedWithCustomError(c.ledger, "MemberNotActive").withArgs(M.authCity);
      // reinstated, it acts again
      await govern(c, "reinstateMember", [M.issuer]);
      await expect(as.revokeMaterial(ls[1], 1)).to.emit(c.ledger, "MaterialRevoked");
    });
  });

  describe("key rotation", () => {
    it("after removal the old account can do nothing and the new one can", async () => {
      const c = await loadFixture(anchoredFixture);
      const [fresh] = c.spare;
      await govern(c, "addAccount", [M.issuer, fresh.address]);
      await govern(c, "removeAccount", [M.issuer, c.issuer.address]);
      const old = c.ledger.connect(c.issuer);
      const err = (p: Promise<unknown>) => expect(p).to.be.revertedWithCustomError(c.ledger, "AccountNotMember").withArgs(c.issuer.address);
      const r = ethers.id("rotated");
      await err(old.anchor(r, T.LICENCE, J.PUDONG, 1));
      await err(old.revokeMaterial(c.batch.leaves[0], 1));
      await err(old.setPeers(M.issuer, [], []));
      await expect(c.ledger.connect(fresh).anchor(r, T.LICENCE, J.PUDONG, 1))
        .to.emit(c.ledger, "Anchored").withArgs(r, M.issuer, T.LICENCE, J.PUDONG, 1);
      await expect(c.ledger.connect(fresh).revokeMaterial(c.batch.leaves[0], 1))
        .to.emit(c.ledger, "MaterialRevoked").withArgs(c.batch.leaves[0], M.issuer, M.issuer, 1);
      // the earlier anchor made with the old key still stands
      expect((await c.ledger.materialState(c.batch.root, c.batch.leaves[1], SHA256)).anchored).to.equal(true);
    });
  });

  describe("content-hash algorithms", () => {
    it("adds and retires algorithms; materialState reports the retirement", async () => {
      const c = await loadFixture(anchoredFixture);
      const { tx: add } = await govern(c, "addHashAlg", [3]);
      await expect(add).to.emit(c.ledger, "HashAlgAdded").withArgs(3);
      expect(await c.ledger.hashAlgInfo(3)).to.deep.equal([BigInt(AlgStatus.Active), 0n]);
      const { tx: retire } = await govern(c, "retireHashAlg", [SHA256]);
      const at = BigInt((await ethers.provider.getBlock((await retire.wait())!.blockNumber))!.timestamp);
      await expect(retire).to.emit(c.ledger, "HashAlgRetired").withArgs(SHA256, at);
      const s = await c.ledger.materialState(c.batch.root, c.batch.leaves[0], SHA256);
      expect([s.hashAlgStatus, s.hashAlgRetiredAt]).to.deep.equal([BigInt(AlgStatus.Retired), at]);
      expect(s.anchoredAt).to.be.lessThan(at);
    });

    it("names every refusal", async () => {
      const c = await loadFixture(deployOpen);
      await expect(c.ledger.addHashAlg(0)).to.be.revertedWithCustomError(c.ledger, "InvalidHashAlg").withArgs(0);
      await expect(c.ledger.addHashAlg(2)).to.be.revertedWithCustomError(c.ledger, "HashAlgAlreadyRegistered").withArgs(2);
      await expect(c.ledger.retireHashAlg(7)).to.be.revertedWithCustomError(c.ledger, "UnknownHashAlg").withArgs(7);
      await c.ledger.retireHashAlg(2);
      await expect(c.ledger.retireHashAlg(2)).to.be.revertedWithCustomError(c.ledger, "HashAlgAlreadyRetired").withArgs(2);
      await expect(c.ledger.addHashAlg(2)).to.be.revertedWithCustomError(c.ledger, "HashAlgAlreadyRegistered").withArgs(2);
      await expect(c.ledger.connect(c.issuer).addHashAlg(5))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.issuer.address);
      await expect(c.ledger.connect(c.issuer).retireHashAlg(1))
        .to.be.revertedWithCustomError(c.ledger, "ConsortiumUnauthorizedCaller").withArgs(c.issuer.address);
    });
  });

  describe("leafOf", () => {
    it("is keccak256 of the ABI-encoded header", async () => {
      const c = await loadFixture(deployOpen);
      const h = {
        typeCode: T.LICENCE, issuer: M.issuer, holderRef: ethers.id("holder"), contentHash: ethers.id("content"),
        hashAlg: 2, issuedAt: 1_700_000_000n, validFrom: 1_700_000_000n, validUntil: 0n, version: 1, supersedes: ZERO,
      };
      const enc = ethers.AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64", "uint64", "uint32", "bytes32"],
        [h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg, h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes],
      );
      expect(await c.ledger.leafOf(h)).to.equal(ethers.keccak256(enc));
      expect(await c.ledger.leafOf({ ...h, version: 2 })).to.not.equal(ethers.keccak256(enc));
    });
  });
});
