// DataCatalogue: entries (one source), duties and systems, classification rules, publication by a Cataloguer,
// versions, withdrawal, scenarios, approvals and their expiry, suspension effects, canUse/checkUse.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { Contract, ContractRunner, ContractTransactionResponse } from "ethers";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deployOpen, bytes32, M, Role } from "./helpers/consortium";

type Catalogue = { connect(runner: ContractRunner | null): Catalogue } & Contract;

const Grade = { None: 0, General: 1, Important: 2, Core: 3 } as const;
const Sharing = { None: 0, Unconditional: 1, Conditional: 2, NotShared: 3 } as const;
const Open = { None: 0, Open: 1, Conditional: 2, NotOpen: 3 } as const;
const Cycle = { None: 0, RealTime: 1, Daily: 2, Monthly: 4, Irregular: 7 } as const;
const Field = { ResourceCode: 0, TitleHash: 1, DescriptionHash: 2, FieldsHash: 3, StandardHash: 4, Grade: 5, Level: 6, Sharing: 7, Open: 8, UpdateCycle: 9, DataItem: 10, Uri: 11 } as const;
const Draw = { None: 0, Drawn: 1, Approved: 2, Denied: 3 } as const;
const Reason = {
  OK: 0, UNKNOWN_SCENARIO: 1, SCENARIO_CLOSED: 2, CONSUMER_SUSPENDED: 3, RESOURCE_NOT_DRAWN: 4, RESOURCE_WITHDRAWN: 5,
  PROVIDER_SUSPENDED: 6, RESOURCE_NOT_PUBLISHED: 7, RESOURCE_NOT_SHARED: 8, APPROVAL_MISSING: 9, APPROVAL_DENIED: 10,
  APPROVAL_EXPIRED: 11,
} as const;

const h = (s: string) => ethers.keccak256(ethers.toUtf8Bytes(s));
const ZERO = ethers.ZeroHash;

const RES = { LICENCES: bytes32("R310115-0001"), PERMITS: bytes32("R310115-0002"), HOUSING: bytes32("R310104-0001"), SECRET: bytes32("R310115-0003") };
const ITEM = { USCC: bytes32("DE0001"), NAME: bytes32("DE0002"), ADDR: bytes32("DE0003") };
const DUTY = { MARKET: bytes32("D-MKT-01"), FOOD: bytes32("D-FOOD-01"), HOUSE: bytes32("D-HOUSE-01") };
const SYS = { PUDONG: bytes32("SYS-PD-LICENCE"), XUHUI: bytes32("SYS-XH-HOUSING") };
const SCN = { OPEN_SHOP: bytes32("SCN-OPEN-SHOP"), SUBSIDY: bytes32("SCN-SUBSIDY") };

interface EntryInput {
  resourceCode: string; titleHash: string; descriptionHash: string; fieldsHash: string; standardHash: string;
  standardVersion: number; grade: number; level: number; sharing: number; open: number; updateCycle: number;
  dutyCode: string; systemCode: string; uri: string; dataItems: string[];
}

function entry(resourceCode: string, over: Partial<EntryInput> = {}): EntryInput {
  return {
    resourceCode, titleHash: h(`title ${resourceCode}`), descriptionHash: h(`desc ${resourceCode}`), fieldsHash: h(`fields ${resourceCode}`),
    standardHash: h("GB/T 38664"), standardVersion: 2020, grade: Grade.General, level: 2, sharing: Sharing.Unconditional,
    open: Open.NotOpen, updateCycle: Cycle.Daily, dutyCode: DUTY.MARKET, systemCode: SYS.PUDONG, uri: "https://catalogue.sh.gov.cn/r/1",
    dataItems: [], ...over,
  };
}

const INPUT_TUPLE = "tuple(bytes32,bytes32,bytes32,bytes32,bytes32,uint32,uint8,uint8,uint8,uint8,uint8,bytes32,bytes32,string,bytes32[])";
const asTuple = (e: EntryInput) => [e.resourceCode, e.titleHash, e.descriptionHash, e.fieldsHash, e.standardHash, e.standardVersion, e.grade, e.level, e.sharing, e.open, e.updateCycle, e.dutyCode, e.systemCode, e.uri, e.dataItems];
/** versionHash by the rule of IDataCatalogue, computed independently of the contract. */
const versionHash = (e: EntryInput, version: number, prev: string) =>
  ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint32", "bytes32", INPUT_TUPLE], [e.resourceCode, version, prev, asTuple(e)]));

const gas: Record<string, bigint> = {};
async function g(label: string, tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionResponse> {
  const t = await tx;
  const r = await t.wait();
  if (r && gas[label] === undefined) gas[label] = r.gasUsed;
  return t;
}

async function deployCatalogue() {
  const c = await deployOpen();
  const { ledger } = c;
  // govA is the city big-data centre: the Cataloguer. Bootstrap is still open: the admin calls directly.
  await (await ledger.grantRole(M.govA, Role.Cataloguer)).wait();
  const cat = (await ethers.deployContract("DataCatalogue", [await ledger.getAddress()])) as unknown as Catalogue;
  const provider = cat.connect(c.issuer); // Pudong department
  const providerX = cat.connect(c.issuerX); // Xuhui department
  const consumer = cat.connect(c.authXuhui); // a consumer department
  const cataloguer = cat.connect(c.gov[0]);
  return { ...c, cat, provider, providerX, consumer, cataloguer };
}

/** Pudong has a duty and a system; Xuhui too; LICENCES (unconditional) and PERMITS (conditional) are published. */
async function withPublished() {
  const f = await deployCatalogue();
  await g("registerDuty", f.provider.registerDuty(DUTY.MARKET, h("market supervision")));
  await (await f.provider.registerDuty(DUTY.FOOD, h("food safety"))).wait();
  await g("registerSystem", f.provider.registerSystem(SYS.PUDONG, h("Pudong licence system")));
  await (await f.providerX.registerDuty(DUTY.HOUSE, h("housing"))).wait();
  await (await f.providerX.registerSystem(SYS.XUHUI, h("Xuhui housing system"))).wait();
  await g("registerEntry (2 data items)", f.provider.registerEntry(entry(RES.LICENCES, { dataItems: [ITEM.USCC, ITEM.NAME] })));
  await (await f.provider.registerEntry(entry(RES.PERMITS, { sharing: Sharing.Conditional, dutyCode: DUTY.FOOD, dataItems: [ITEM.ADDR] }))).wait();
  await g("publishEntry", f.cataloguer.publishEntry(RES.LICENCES, 1));
  await (await f.cataloguer.publishEntry(RES.PERMITS, 1)).wait();
  return f;
}

/** As withPublished, plus scenario OPEN_SHOP of the consumer drawing on both. */
async function withScenario() {
  const f = await withPublished();
  await g("registerScenario (2 resources)", f.consumer.registerScenario(SCN.OPEN_SHOP, h("open a shop"), h("Regulation 2021-3"), [RES.LICENCES, RES.PERMITS]));
  return f;
}

describe("DataCatalogue", () => {
  describe("deployment", () => {
    it("needs a ledger contract and exposes it", async () => {
      const f = await loadFixture(deployCatalogue);
      expect(await f.cat.ledger()).to.equal(await f.ledger.getAddress());
      const factory = await ethers.getContractFactory("DataCatalogue");
      await expect(factory.deploy(f.stranger.address)).to.be.revertedWithCustomError(f.cat, "InvalidLedger").withArgs(f.stranger.address);
    });
  });

  describe("duties and information systems", () => {
    it("registers a duty in the caller's namespace, and refuses a second one with the same code", async () => {
      const f = await loadFixture(deployCatalogue);
      await expect(f.provider.registerDuty(DUTY.MARKET, h("d"))).to.emit(f.cat, "DutyRegistered").withArgs(M.issuer, DUTY.MARKET, h("d"));
      const d = await f.cat.getDuty(M.issuer, DUTY.MARKET);
      expect(d.active).to.equal(true);
      expect(d.descriptionHash).to.equal(h("d"));
      await expect(f.provider.registerDuty(DUTY.MARKET, h("d"))).to.be.revertedWithCustomError(f.cat, "DutyAlreadyRegistered").withArgs(M.issuer, DUTY.MARKET);
      await expect(f.providerX.registerDuty(DUTY.MARKET, h("x"))).to.emit(f.cat, "DutyRegistered").withArgs(M.issuerX, DUTY.MARKET, h("x"));
      await expect(f.provider.registerDuty(ZERO, h("d"))).to.be.revertedWithCustomError(f.cat, "InvalidDutyCode").withArgs(ZERO);
    });

    it("refuses non-members and suspended members", async () => {
      const f = await loadFixture(deployCatalogue);
      await expect(f.cat.connect(f.stranger).registerDuty(DUTY.MARKET, h("d"))).to.be.revertedWithCustomError(f.cat, "AccountNotMember").withArgs(f.stranger.address);
      await (await f.ledger.suspendMember(M.issuer)).wait();
      await expect(f.provider.registerSystem(SYS.PUDONG, h("s"))).to.be.revertedWithCustomError(f.cat, "MemberNotActive").withArgs(M.issuer);
    });

    it("registers a system globally, refuses a second owner, deregisters only by the owner and only when unused", async () => {
      const f = await loadFixture(withPublished);
      await expect(f.providerX.registerSystem(SYS.PUDONG, h("s"))).to.be.revertedWithCustomError(f.cat, "SystemAlreadyRegistered").withArgs(SYS.PUDONG, M.issuer);
      await expect(f.providerX.deregisterSystem(SYS.PUDONG)).to.be.revertedWithCustomError(f.cat, "SystemNotOwned").withArgs(SYS.PUDONG, M.issuer, M.issuerX);
      await expect(f.provider.deregisterSystem(SYS.PUDONG)).to.be.revertedWithCustomError(f.cat, "SystemInUse").withArgs(SYS.PUDONG, 2);
      await expect(f.provider.deregisterSystem(bytes32("NOPE"))).to.be.revertedWithCustomError(f.cat, "UnknownSystem").withArgs(bytes32("NOPE"));
      await expect(f.provider.registerSystem(ZERO, h("s"))).to.be.revertedWithCustomError(f.cat, "InvalidSystemCode").withArgs(ZERO);
      expect((await f.cat.getSystem(SYS.PUDONG)).entryCount).to.equal(2);

      await (await f.provider.withdrawEntry(RES.LICENCES, h("obsolete"))).wait();
      await (await f.provider.withdrawEntry(RES.PERMITS, h("obsolete"))).wait();
      await expect(g("deregisterSystem", f.provider.deregisterSystem(SYS.PUDONG))).to.emit(f.cat, "SystemDeregistered").withArgs(SYS.PUDONG, M.issuer);
      const s = await f.cat.getSystem(SYS.PUDONG);
      expect(s.active).to.equal(false);
      expect(s.entryCount).to.equal(0);
      expect(s.deregisteredAt).to.be.greaterThan(0);
      // a deregistered system cannot be deregistered again, nor cited
      await expect(f.provider.deregisterSystem(SYS.PUDONG)).to.be.revertedWithCustomError(f.cat, "SystemNotOwned").withArgs(SYS.PUDONG, M.issuer, M.issuer);
      await expect(f.provider.registerEntry(entry(RES.SECRET))).to.be.revertedWithCustomError(f.cat, "SystemNotOwned").withArgs(SYS.PUDONG, M.issuer, M.issuer);
    });

    it("retires a duty only when no live entry cites it", async () => {
      const f = await loadFixture(withPublished);
      await expect(f.provider.retireDuty(DUTY.FOOD)).to.be.revertedWithCustomError(f.cat, "DutyInUse").withArgs(M.issuer, DUTY.FOOD, 1);
      await (await f.provider.withdrawEntry(RES.PERMITS, h("x"))).wait();
      await expect(f.provider.retireDuty(DUTY.FOOD)).to.emit(f.cat, "DutyRetired").withArgs(M.issuer, DUTY.FOOD);
      expect((await f.cat.getDuty(M.issuer, DUTY.FOOD)).active).to.equal(false);
      await expect(f.provider.retireDuty(DUTY.FOOD)).to.be.revertedWithCustomError(f.cat, "UnknownDuty").withArgs(M.issuer, DUTY.FOOD);
      await expect(f.provider.registerDuty(DUTY.FOOD, h("again"))).to.be.revertedWithCustomError(f.cat, "DutyAlreadyRegistered").withArgs(M.issuer, DUTY.FOOD);
    });
  });

  describe("entries", () => {
    it("registers version 1 pending review, with its events and read-back", async () => {
      const f = await loadFixture(withPublished);
      const e = entry(RES.SECRET, { grade: Grade.Important, level: 3, sharing: Sharing.Conditional, open: Open.Conditional, updateCycle: Cycle.Monthly });
      const vh = versionHash(e, 1, ZERO);
      const tx = f.provider.registerEntry(e);
      await expect(tx).to.emit(f.cat, "EntryRegistered").withArgs(RES.SECRET, M.issuer, SYS.PUDONG, vh, anyValue);
      const r = await (await tx).wait();
      const ev = f.cat.interface.parseLog(r!.logs[0])!;
      expect(ev.args.input.uri).to.equal(e.uri);
      expect(ev.args.input.grade).to.equal(Grade.Important);
      const got = await f.cat.getEntry(RES.SECRET);
      expect(got.provider).to.equal(M.issuer);
      expect(got.version).to.equal(1);
      expect(got.publishedVersion).to.equal(0);
      expect(got.status).to.equal(1);
      expect(got.versionHash).to.equal(vh);
      expect(got.prevVersionHash).to.equal(ZERO);
      expect(got.input.titleHash).to.equal(e.titleHash);
      expect(got.input.level).to.equal(3);
      expect(got.input.updateCycle).to.equal(Cycle.Monthly);
      expect((await f.cat.getDuty(M.issuer, DUTY.MARKET)).entryCount).to.equal(2);
    });

    it("one data, one source: a second registration of the code, or of a data item under another code, is refused", async () => {
      const f = await loadFixture(withPublished);
      // same resource code by another provider
      await expect(f.providerX.registerEntry(entry(RES.LICENCES, { dutyCode: DUTY.HOUSE, systemCode: SYS.XUHUI })))
        .to.be.revertedWithCustomError(f.cat, "ResourceAlreadyRegistered").withArgs(RES.LICENCES, M.issuer);
      // same data item under a different resource code
      await expect(f.providerX.registerEntry(entry(RES.HOUSING, { dutyCode: DUTY.HOUSE, systemCode: SYS.XUHUI, dataItems: [bytes32("DE0009"), ITEM.NAME] })))
        .to.be.revertedWithCustomError(f.cat, "DataItemAlreadyProvided").withArgs(ITEM.NAME, RES.LICENCES, M.issuer);
      // and the same item twice in one entry
      await expect(f.providerX.registerEntry(entry(RES.HOUSING, { dutyCode: DUTY.HOUSE, systemCode: SYS.XUHUI, dataItems: [bytes32("DE0009"), bytes32("DE0009")] })))
        .to.be.revertedWithCustomError(f.cat, "DataItemAlreadyProvided").withArgs(bytes32("DE0009"), RES.HOUSING, M.issuerX);
      const [res, prov] = await f.cat.providerOfDataItem(ITEM.NAME);
      expect([res, prov]).to.deep.equal([RES.LICENCES, M.issuer]);
      // withdrawal releases the item: now Xuhui may become its one source
      await (await f.provider.withdrawEntry(RES.LICENCES, h("moved"))).wait();
      expect((await f.cat.providerOfDataItem(ITEM.NAME))[0]).to.equal(ZERO);
      await expect(f.providerX.registerEntry(entry(RES.HOUSING, { dutyCode: DUTY.HOUSE, systemCode: SYS.XUHUI, dataItems: [ITEM.NAME] })))
        .to.emit(f.cat, "EntryRegistered");
      expect(await f.cat.providerOfDataItem(ITEM.NAME)).to.deep.equal([RES.HOUSING, M.issuerX]);
      // a withdrawn code is never reused
      await expect(f.provider.registerEntry(entry(RES.LICENCES)))
        .to.be.revertedWithCustomError(f.cat, "ResourceAlreadyRegistered").withArgs(RES.LICENCES, M.issuer);
    });

    it("an entry must cite one of its provider's own duties and active systems", async () => {
      const f = await loadFixture(withPublished);
      await expect(f.provider.registerEntry(entry(RES.SECRET, { dutyCode: DUTY.HOUSE })))
        .to.be.revertedWithCustomError(f.cat, "UnknownDuty").withArgs(M.issuer, DUTY.HOUSE);
      await expect(f.provider.registerEntry(entry(RES.SECRET, { systemCode: SYS.XUHUI })))
        .to.be.revertedWithCustomError(f.cat, "SystemNotOwned").withArgs(SYS.XUHUI, M.issuerX, M.issuer);
      await expect(f.provider.registerEntry(entry(RES.SECRET, { systemCode: bytes32("SYS-NONE") })))
        .to.be.revertedWithCustomError(f.cat, "UnknownSystem").withArgs(bytes32("SYS-NONE"));
    });

    it("rejects empty fields, bad levels and too many data items, naming the field", async () => {
      const f = await loadFixture(withPublished);
      const R = RES.SECRET;
      const cases: [Partial<EntryInput>, number][] = [
        [{ titleHash: ZERO }, Field.TitleHash], [{ descriptionHash: ZERO }, Field.DescriptionHash], [{ fieldsHash: ZERO }, Field.FieldsHash],
        [{ standardHash: ZERO }, Field.StandardHash], [{ updateCycle: Cycle.None }, Field.UpdateCycle], [{ grade: Grade.None }, Field.Grade],
        [{ level: 0 }, Field.Level], [{ level: 5 }, Field.Level], [{ sharing: Sharing.None }, Field.Sharing], [{ open: Open.None }, Field.Open],
        [{ uri: "x".repeat(257) }, Field.Uri], [{ dataItems: [ZERO] }, Field.DataItem],
      ];
      for (const [over, field] of cases) {
        await expect(f.provider.registerEntry(entry(R, over)), JSON.stringify(over).slice(0, 40)).to.be.revertedWithCustomError(f.cat, "InvalidEntryField").withArgs(R, field);
      }
      await expect(f.provider.registerEntry(entry(ZERO))).to.be.revertedWithCustomError(f.cat, "InvalidEntryField").withArgs(ZERO, Field.ResourceCode);
      const many = Array.from({ length: 33 }, (_, k) => bytes32(`DE9${k}`));
      await expect(f.provider.registerEntry(entry(R, { dataItems: many }))).to.be.revertedWithCustomError(f.cat, "TooManyItems").withArgs(33, 32);
    });

    it("enforces grade / level / sharing / open consistency", async () => {
      const f = await loadFixture(withPublished);
      const R = RES.SECRET;
      const bad: Partial<EntryInput>[] = [
        { grade: Grade.Core, level: 3, sharing: Sharing.NotShared, open: Open.NotOpen }, // core must be level 4
        { grade: Grade.Core, level: 4, sharing: Sharing.Unconditional, open: Open.NotOpen }, // core never unconditional
        { grade: Grade.Core, level: 4, sharing: Sharing.Conditional, open: Open.Conditional }, // core never open
        { grade: Grade.Important, level: 2, sharing: Sharing.Conditional, open: Open.NotOpen }, // important >= 3
        { grade: Grade.Important, level: 3, sharing: Sharing.Unconditional, open: Open.Open }, // important never Open
        { grade: Grade.General, level: 1, sharing: Sharing.Conditional, open: Open.Open }, // open => unconditional
      ];
      for (const b of bad) {
        await expect(f.provider.registerEntry(entry(R, b))).to.be.revertedWithCustomError(f.cat, "InconsistentClassification").withArgs(R, b.grade, b.level, b.sharing, b.open);
      }
      await expect(f.provider.registerEntry(entry(R, { grade: Grade.Core, level: 4, sharing: Sharing.NotShared, open: Open.NotOpen }))).to.emit(f.cat, "EntryRegistered");
      await expect(f.provider.registerEntry(entry(bytes32("R-OPEN"), { grade: Grade.General, level: 1, sharing: Sharing.Unconditional, open: Open.Open }))).to.emit(f.cat, "EntryRegistered");
    });

    it("publishing needs the Cataloguer role and names the latest version", async () => {
      const f = await loadFixture(withPublished);
      await (await f.provider.registerEntry(entry(RES.SECRET))).wait();
      await expect(f.provider.publishEntry(RES.SECRET, 1)).to.be.revertedWithCustomError(f.cat, "MissingRole").withArgs(M.issuer, Role.Cataloguer);
      await expect(f.cataloguer.publishEntry(RES.SECRET, 2)).to.be.revertedWithCustomError(f.cat, "EntryVersionMismatch").withArgs(RES.SECRET, 2, 1);
      await expect(f.cataloguer.publishEntry(bytes32("NONE"), 1)).to.be.revertedWithCustomError(f.cat, "UnknownResource").withArgs(bytes32("NONE"));
      await expect(f.cataloguer.publishEntry(RES.SECRET, 1)).to.emit(f.cat, "EntryPublished").withArgs(RES.SECRET, M.govA, Sharing.Unconditional, 1);
      await expect(f.cataloguer.publishEntry(RES.SECRET, 1)).to.be.revertedWithCustomError(f.cat, "EntryAlreadyPublished").withArgs(RES.SECRET, 1);
      const e = await f.cat.getEntry(RES.SECRET);
      expect([e.publishedVersion, e.publishedSharing]).to.deep.equal([1n, BigInt(Sharing.Unconditional)]);
      // a suspended cataloguer, or one whose role was revoked, cannot publish
      await (await f.provider.updateEntry(entry(RES.SECRET, { uri: "v2" }))).wait();
      await (await f.ledger.revokeRole(M.govA, Role.Cataloguer)).wait();
      await expect(f.cataloguer.publishEntry(RES.SECRET, 2)).to.be.revertedWithCustomError(f.cat, "MissingRole").withArgs(M.govA, Role.Cataloguer);
    });

    it("versioned update by the provider only: version increments, previous hash kept, published version governs use", async () => {
      const f = await loadFixture(withScenario);
      const v1 = entry(RES.LICENCES, { dataItems: [ITEM.USCC, ITEM.NAME] });
      const h1 = versionHash(v1, 1, ZERO);
      expect((await f.cat.getEntry(RES.LICENCES)).versionHash).to.equal(h1);
      // the update moves to the FOOD duty, drops NAME, makes it conditional
      const v2 = entry(RES.LICENCES, { dutyCode: DUTY.FOOD, sharing: Sharing.Conditional, dataItems: [ITEM.USCC], uri: "https://catalogue.sh.gov.cn/r/1/v2" });
      const h2 = versionHash(v2, 2, h1);
      await expect(f.providerX.updateEntry(v2)).to.be.revertedWithCustomError(f.cat, "NotProvider").withArgs(RES.LICENCES, M.issuer, M.issuerX);
      await expect(g("updateEntry", f.provider.updateEntry(v2))).to.emit(f.cat, "EntryUpdated").withArgs(RES.LICENCES, M.issuer, SYS.PUDONG, 2, h2, h1, anyValue);
      const e = await f.cat.getEntry(RES.LICENCES);
      expect([e.version, e.publishedVersion, e.versionHash, e.prevVersionHash]).to.deep.equal([2n, 1n, h2, h1]);
      expect(e.input.sharing).to.equal(Sharing.Conditional);
      expect(e.publishedSharing).to.equal(Sharing.Unconditional);
      expect((await f.cat.getDuty(M.issuer, DUTY.MARKET)).entryCount).to.equal(0);
      expect((await f.cat.getDuty(M.issuer, DUTY.FOOD)).entryCount).to.equal(2);
      expect((await f.cat.providerOfDataItem(ITEM.NAME))[0]).to.equal(ZERO);
      expect((await f.cat.providerOfDataItem(ITEM.USCC))[0]).to.equal(RES.LICENCES);
      // pending: the published (unconditional) version still governs
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([true, Reason.OK]);
      await (await f.cataloguer.publishEntry(RES.LICENCES, 2)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.APPROVAL_MISSING]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ApprovalMissing").withArgs(SCN.OPEN_SHOP, RES.LICENCES);
    });

    it("a Cataloguer corrects the classification: new version published at once; no-op emits nothing", async () => {
      const f = await loadFixture(withScenario);
      const before = await f.cat.getEntry(RES.LICENCES);
      const c = { grade: Grade.Important, level: 3, sharing: Sharing.Conditional, open: Open.NotOpen };
      await expect(f.provider.correctClassification(RES.LICENCES, c, h("x"))).to.be.revertedWithCustomError(f.cat, "MissingRole").withArgs(M.issuer, Role.Cataloguer);
      await expect(f.cataloguer.correctClassification(RES.LICENCES, { ...c, level: 2 }, h("x")))
        .to.be.revertedWithCustomError(f.cat, "InconsistentClassification").withArgs(RES.LICENCES, Grade.Important, 2, Sharing.Conditional, Open.NotOpen);
      const corrected = { ...entry(RES.LICENCES, { dataItems: [ITEM.USCC, ITEM.NAME] }), ...c };
      const vh = versionHash(corrected, 2, before.versionHash);
      const tx = g("correctClassification", f.cataloguer.correctClassification(RES.LICENCES, c, h("contains addresses")));
      await expect(tx).to.emit(f.cat, "EntryCorrected").withArgs(RES.LICENCES, M.govA, 2, vh, before.versionHash, [c.grade, c.level, c.sharing, c.open], h("contains addresses"));
      await expect(tx).to.emit(f.cat, "EntryPublished").withArgs(RES.LICENCES, M.govA, Sharing.Conditional, 2);
      const e = await f.cat.getEntry(RES.LICENCES);
      expect([e.version, e.publishedVersion, e.publishedSharing, e.input.grade, e.input.level]).to.deep.equal([2n, 2n, 2n, 2n, 3n]);
      expect(e.provider).to.equal(M.issuer);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.APPROVAL_MISSING]);
      await expect(f.cataloguer.correctClassification(RES.LICENCES, c, h("again"))).to.not.emit(f.cat, "EntryCorrected");
      expect((await f.cat.getEntry(RES.LICENCES)).version).to.equal(2);
    });

    it("withdrawal by the provider or a Cataloguer, not by others; final", async () => {
      const f = await loadFixture(withScenario);
      await expect(f.providerX.withdrawEntry(RES.LICENCES, h("x"))).to.be.revertedWithCustomError(f.cat, "NotProvider").withArgs(RES.LICENCES, M.issuer, M.issuerX);
      await expect(g("withdrawEntry", f.cataloguer.withdrawEntry(RES.PERMITS, h("duplicate"))))
        .to.emit(f.cat, "EntryWithdrawn").withArgs(RES.PERMITS, M.govA, M.issuer, h("duplicate"));
      await expect(f.provider.withdrawEntry(RES.LICENCES, h("gone"))).to.emit(f.cat, "EntryWithdrawn").withArgs(RES.LICENCES, M.issuer, M.issuer, h("gone"));
      expect((await f.cat.getEntry(RES.LICENCES)).status).to.equal(2);
      await expect(f.provider.withdrawEntry(RES.LICENCES, h("gone"))).to.be.revertedWithCustomError(f.cat, "ResourceWithdrawn").withArgs(RES.LICENCES);
      await expect(f.provider.updateEntry(entry(RES.LICENCES))).to.be.revertedWithCustomError(f.cat, "ResourceWithdrawn").withArgs(RES.LICENCES);
      await expect(f.cataloguer.publishEntry(RES.LICENCES, 1)).to.be.revertedWithCustomError(f.cat, "ResourceWithdrawn").withArgs(RES.LICENCES);
      // scenarios drawing on it stop being usable for it, without any loop over them
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.RESOURCE_WITHDRAWN]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ResourceWithdrawn").withArgs(RES.LICENCES);
    });
  });

  describe("scenarios", () => {
    it("registers a scenario drawing on resources; unconditional usable at once, conditional awaits approval", async () => {
      const f = await loadFixture(withPublished);
      const tx = f.consumer.registerScenario(SCN.OPEN_SHOP, h("open a shop"), h("law"), [RES.LICENCES, RES.PERMITS]);
      await expect(tx).to.emit(f.cat, "ScenarioRegistered").withArgs(SCN.OPEN_SHOP, M.authXuhui, h("open a shop"), h("law"));
      await expect(tx).to.emit(f.cat, "ResourceDrawn").withArgs(SCN.OPEN_SHOP, RES.LICENCES, M.issuer, M.authXuhui, false);
      await expect(tx).to.emit(f.cat, "ResourceDrawn").withArgs(SCN.OPEN_SHOP, RES.PERMITS, M.issuer, M.authXuhui, true);
      const s = await f.cat.getScenario(SCN.OPEN_SHOP);
      expect(s.consumer).to.equal(M.authXuhui);
      expect(s.resources).to.deep.equal([RES.LICENCES, RES.PERMITS]);
      expect(s.closed).to.equal(false);
      expect((await f.cat.getDraw(SCN.OPEN_SHOP, RES.PERMITS)).status).to.equal(Draw.Drawn);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([true, Reason.OK]);
      await f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES); // does not revert
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([false, Reason.APPROVAL_MISSING]);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.HOUSING)).to.deep.equal([false, Reason.RESOURCE_NOT_DRAWN]);
      expect(await f.cat.canUse(SCN.SUBSIDY, RES.LICENCES)).to.deep.equal([false, Reason.UNKNOWN_SCENARIO]);
      await expect(f.cat.checkUse(SCN.SUBSIDY, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "UnknownScenario").withArgs(SCN.SUBSIDY);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.HOUSING)).to.be.revertedWithCustomError(f.cat, "ResourceNotDrawn").withArgs(SCN.OPEN_SHOP, RES.HOUSING);
    });

    it("refuses not-shared, unpublished, unknown, withdrawn, duplicate resources and duplicate ids", async () => {
      const f = await loadFixture(withPublished);
      await (await f.provider.registerEntry(entry(RES.SECRET, { grade: Grade.Core, level: 4, sharing: Sharing.NotShared, open: Open.NotOpen }))).wait();
      await expect(f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.SECRET])).to.be.revertedWithCustomError(f.cat, "ResourceNotPublished").withArgs(RES.SECRET);
      await (await f.cataloguer.publishEntry(RES.SECRET, 1)).wait();
      await expect(f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.LICENCES, RES.SECRET])).to.be.revertedWithCustomError(f.cat, "ResourceNotShared").withArgs(RES.SECRET);
      await expect(f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.HOUSING])).to.be.revertedWithCustomError(f.cat, "UnknownResource").withArgs(RES.HOUSING);
      await expect(f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.LICENCES, RES.LICENCES])).to.be.revertedWithCustomError(f.cat, "ResourceAlreadyDrawn").withArgs(SCN.SUBSIDY, RES.LICENCES);
      await expect(f.consumer.registerScenario(ZERO, h("p"), h("l"), [])).to.be.revertedWithCustomError(f.cat, "InvalidScenarioId").withArgs(ZERO);
      await (await f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.LICENCES])).wait();
      await expect(f.providerX.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [])).to.be.revertedWithCustomError(f.cat, "ScenarioAlreadyRegistered").withArgs(SCN.SUBSIDY, M.authXuhui);
      await (await f.provider.withdrawEntry(RES.PERMITS, h("x"))).wait();
      await expect(f.consumer.drawResources(SCN.SUBSIDY, [RES.PERMITS])).to.be.revertedWithCustomError(f.cat, "ResourceWithdrawn").withArgs(RES.PERMITS);
      const many = Array.from({ length: 64 }, () => RES.LICENCES);
      await expect(f.consumer.drawResources(SCN.SUBSIDY, many)).to.be.revertedWithCustomError(f.cat, "TooManyItems").withArgs(65, 64);
    });

    it("only the consumer draws more or closes; a closed scenario can use nothing", async () => {
      const f = await loadFixture(withScenario);
      await (await f.providerX.registerEntry(entry(RES.HOUSING, { dutyCode: DUTY.HOUSE, systemCode: SYS.XUHUI }))).wait();
      await (await f.cataloguer.publishEntry(RES.HOUSING, 1)).wait();
      await expect(f.providerX.drawResources(SCN.OPEN_SHOP, [RES.HOUSING])).to.be.revertedWithCustomError(f.cat, "NotConsumer").withArgs(SCN.OPEN_SHOP, M.authXuhui, M.issuerX);
      await expect(f.consumer.drawResources(SCN.OPEN_SHOP, [RES.HOUSING])).to.emit(f.cat, "ResourceDrawn").withArgs(SCN.OPEN_SHOP, RES.HOUSING, M.issuerX, M.authXuhui, false);
      expect((await f.cat.getScenario(SCN.OPEN_SHOP)).resources).to.have.length(3);
      await expect(f.providerX.closeScenario(SCN.OPEN_SHOP)).to.be.revertedWithCustomError(f.cat, "NotConsumer").withArgs(SCN.OPEN_SHOP, M.authXuhui, M.issuerX);
      await expect(f.consumer.closeScenario(SCN.OPEN_SHOP)).to.emit(f.cat, "ScenarioClosed").withArgs(SCN.OPEN_SHOP, M.authXuhui);
      expect((await f.cat.getScenario(SCN.OPEN_SHOP)).closed).to.equal(true);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.SCENARIO_CLOSED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ScenarioIsClosed").withArgs(SCN.OPEN_SHOP);
      await expect(f.consumer.closeScenario(SCN.OPEN_SHOP)).to.be.revertedWithCustomError(f.cat, "ScenarioIsClosed").withArgs(SCN.OPEN_SHOP);
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, 2n ** 40n)).to.be.revertedWithCustomError(f.cat, "ScenarioIsClosed").withArgs(SCN.OPEN_SHOP);
      await expect(f.consumer.closeScenario(SCN.SUBSIDY)).to.be.revertedWithCustomError(f.cat, "UnknownScenario").withArgs(SCN.SUBSIDY);
    });
  });

  describe("approvals", () => {
    it("the provider approves a conditional resource until an expiry; after it the use is refused", async () => {
      const f = await loadFixture(withScenario);
      const now = BigInt(await time.latest());
      const until = now + 3600n;
      await expect(f.providerX.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until)).to.be.revertedWithCustomError(f.cat, "NotProvider").withArgs(RES.PERMITS, M.issuer, M.issuerX);
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, now)).to.be.revertedWithCustomError(f.cat, "InvalidApprovalExpiry");
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.LICENCES, until)).to.be.revertedWithCustomError(f.cat, "ApprovalNotNeeded").withArgs(SCN.OPEN_SHOP, RES.LICENCES, Sharing.Unconditional);
      await expect(f.provider.approveUse(SCN.SUBSIDY, RES.PERMITS, until)).to.be.revertedWithCustomError(f.cat, "UnknownScenario").withArgs(SCN.SUBSIDY);
      await (await f.consumer.registerScenario(SCN.SUBSIDY, h("p"), h("l"), [RES.LICENCES])).wait();
      await expect(f.provider.approveUse(SCN.SUBSIDY, RES.PERMITS, until)).to.be.revertedWithCustomError(f.cat, "ResourceNotDrawn").withArgs(SCN.SUBSIDY, RES.PERMITS);

      await expect(g("approveUse", f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until))).to.emit(f.cat, "UseApproved").withArgs(SCN.OPEN_SHOP, RES.PERMITS, M.issuer, until);
      const d = await f.cat.getDraw(SCN.OPEN_SHOP, RES.PERMITS);
      expect([d.status, d.expiresAt]).to.deep.equal([BigInt(Draw.Approved), until]);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([true, Reason.OK]);
      // same approval again: no-op, no event
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until)).to.not.emit(f.cat, "UseApproved");

      await time.increaseTo(until);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([false, Reason.APPROVAL_EXPIRED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.PERMITS)).to.be.revertedWithCustomError(f.cat, "ApprovalExpired").withArgs(SCN.OPEN_SHOP, RES.PERMITS, until);
      // renewal
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until + 86400n)).to.emit(f.cat, "UseApproved").withArgs(SCN.OPEN_SHOP, RES.PERMITS, M.issuer, until + 86400n);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([true, Reason.OK]);
    });

    it("the provider denies or withdraws an approval; a repeated denial emits nothing", async () => {
      const f = await loadFixture(withScenario);
      const until = BigInt(await time.latest()) + 3600n;
      await expect(g("denyUse", f.provider.denyUse(SCN.OPEN_SHOP, RES.PERMITS, h("no legal basis")))).to.emit(f.cat, "UseDenied").withArgs(SCN.OPEN_SHOP, RES.PERMITS, M.issuer, h("no legal basis"));
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([false, Reason.APPROVAL_DENIED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.PERMITS)).to.be.revertedWithCustomError(f.cat, "ApprovalDenied").withArgs(SCN.OPEN_SHOP, RES.PERMITS);
      await expect(f.provider.denyUse(SCN.OPEN_SHOP, RES.PERMITS, h("again"))).to.not.emit(f.cat, "UseDenied");
      await (await f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([true, Reason.OK]);
      await expect(f.provider.denyUse(SCN.OPEN_SHOP, RES.PERMITS, h("withdrawn"))).to.emit(f.cat, "UseDenied");
      const d = await f.cat.getDraw(SCN.OPEN_SHOP, RES.PERMITS);
      expect([d.status, d.expiresAt]).to.deep.equal([BigInt(Draw.Denied), 0n]);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([false, Reason.APPROVAL_DENIED]);
    });

    it("a resource corrected to not shared stops serving scenarios that drew on it", async () => {
      const f = await loadFixture(withScenario);
      await (await f.cataloguer.correctClassification(RES.LICENCES, { grade: Grade.Important, level: 3, sharing: Sharing.NotShared, open: Open.NotOpen }, h("r"))).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.RESOURCE_NOT_SHARED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ResourceNotShared").withArgs(RES.LICENCES);
    });
  });

  describe("suspension", () => {
    it("a suspended provider's resources are unusable until reinstated; approvals survive", async () => {
      const f = await loadFixture(withScenario);
      const until = BigInt(await time.latest()) + 3600n;
      await (await f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until)).wait();
      await (await f.ledger.suspendMember(M.issuer)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.PROVIDER_SUSPENDED]);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([false, Reason.PROVIDER_SUSPENDED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ProviderSuspended").withArgs(RES.LICENCES, M.issuer);
      await expect(f.provider.approveUse(SCN.OPEN_SHOP, RES.PERMITS, until + 1n)).to.be.revertedWithCustomError(f.cat, "MemberNotActive").withArgs(M.issuer);
      await expect(f.provider.updateEntry(entry(RES.LICENCES))).to.be.revertedWithCustomError(f.cat, "MemberNotActive").withArgs(M.issuer);
      await (await f.ledger.reinstateMember(M.issuer)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([true, Reason.OK]);
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.PERMITS)).to.deep.equal([true, Reason.OK]);
    });

    it("a suspended consumer's scenarios are unusable until reinstated", async () => {
      const f = await loadFixture(withScenario);
      await (await f.ledger.suspendMember(M.authXuhui)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([false, Reason.CONSUMER_SUSPENDED]);
      await expect(f.cat.checkUse(SCN.OPEN_SHOP, RES.LICENCES)).to.be.revertedWithCustomError(f.cat, "ConsumerSuspended").withArgs(SCN.OPEN_SHOP, M.authXuhui);
      await expect(f.consumer.drawResources(SCN.OPEN_SHOP, [RES.PERMITS])).to.be.revertedWithCustomError(f.cat, "MemberNotActive").withArgs(M.authXuhui);
      await (await f.ledger.reinstateMember(M.authXuhui)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([true, Reason.OK]);
    });

    it("a suspended Cataloguer does not affect existing uses", async () => {
      const f = await loadFixture(withScenario);
      await (await f.ledger.suspendMember(M.govA)).wait();
      expect(await f.cat.canUse(SCN.OPEN_SHOP, RES.LICENCES)).to.deep.equal([true, Reason.OK]);
    });
  });

  describe("version hash property", () => {
    it("for random valid entries, the chain's version hash equals keccak256(abi.encode(code, version, prev, input))", async () => {
      const f = await loadFixture(withPublished);
      let seed = 7;
      const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
      const classes = [
        { grade: Grade.General, level: 1, sharing: Sharing.Unconditional, open: Open.Open },
        { grade: Grade.General, level: 2, sharing: Sharing.Conditional, open: Open.Conditional },
        { grade: Grade.Important, level: 3, sharing: Sharing.Conditional, open: Open.NotOpen },
        { grade: Grade.Important, level: 4, sharing: Sharing.NotShared, open: Open.Conditional },
        { grade: Grade.Core, level: 4, sharing: Sharing.Conditional, open: Open.NotOpen },
      ];
      for (let k = 0; k < 12; k++) {
        const code = bytes32(`RND-${k}`);
        const e = entry(code, {
          ...classes[rnd(classes.length)], updateCycle: 1 + rnd(7), standardVersion: rnd(2 ** 31),
          titleHash: h(`t${rnd(1e9)}`), uri: "u".repeat(rnd(257)), dutyCode: rnd(2) ? DUTY.MARKET : DUTY.FOOD,
          dataItems: Array.from({ length: rnd(5) }, (_, i) => bytes32(`RND-${k}-DE${i}`)),
        });
        await (await f.provider.registerEntry(e)).wait();
        const v1 = versionHash(e, 1, ZERO);
        expect((await f.cat.getEntry(code)).versionHash, `entry ${k}`).to.equal(v1);
        const e2 = { ...e, fieldsHash: h(`f${rnd(1e9)}`), dataItems: e.dataItems.slice(1) };
        await (await f.provider.updateEntry(e2)).wait();
        expect((await f.cat.getEntry(code)).versionHash, `entry ${k} v2`).to.equal(versionHash(e2, 2, v1));
      }
    });
  });

  describe("frozen vector (test/vectors/catalogue.json)", () => {
    it("the contract stores the version hashes the SDK computed", async () => {
      const file = JSON.parse(readFileSync(join(__dirname, "../vectors/catalogue.json"), "utf8"));
      const f = await loadFixture(deployCatalogue);
      const [v1, v2] = file.entries;
      await (await f.provider.registerDuty(v1.input.dutyCode, h("d"))).wait();
      await (await f.provider.registerSystem(v1.input.systemCode, h("s"))).wait();
      await expect(f.provider.registerEntry(v1.input)).to.emit(f.cat, "EntryRegistered").withArgs(v1.input.resourceCode, M.issuer, v1.input.systemCode, v1.versionHash, anyValue);
      expect(versionHash(v1.input, 1, ZERO)).to.equal(v1.versionHash);
      await (await f.provider.updateEntry(v2.input)).wait();
      const e = await f.cat.getEntry(v1.input.resourceCode);
      expect([e.versionHash, e.prevVersionHash, e.version]).to.deep.equal([v2.versionHash, v1.versionHash, 2n]);
    });
  });

  after(() => {
    const rows = Object.entries(gas).map(([k, v]) => `    ${k.padEnd(34)} ${v.toString().padStart(8)}`);
    if (rows.length) console.log(`\n    DataCatalogue gas (gasUsed incl. 21,000):\n${rows.join("\n")}`);
  });
});
