import { expect } from "chai";
import { readFileSync } from "node:fs";
import { ZeroHash, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";
import {
  CATALOGUE_ERROR_KINDS, CatalogueInputError, CatalogueRevertError, DataGrade, OpenType, SharingType, UpdateCycle, UseReason,
  canonicalFields, canonicalText, catalogueCode, catalogueCodeText, catalogueInterface, checkClassification, codeName,
  dataUseLeafHash, dataUseToUseRecord, decodeCatalogueError, decodeDataUse, decodeEntry, decodeUseRecord, encodeDataUse,
  encodeEntryInput, encodeUseRecord, entryVersionHash, hashCatalogueText, hashFields, useRecordToDataUse,
  type CatalogueEntryDoc, type DataUse,
} from "../../../sdk/src/index.js";

const file = JSON.parse(readFileSync(new URL("../../vectors/catalogue.json", import.meta.url), "utf8"));

function expectInputError(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CatalogueInputError);
    expect((e as CatalogueInputError).details.field).to.equal(field);
    return;
  }
  expect.fail(`expected CatalogueInputError for ${field}`);
}

const baseDoc = (): CatalogueEntryDoc => JSON.parse(JSON.stringify(file.entries[0].doc));

describe("catalogue (sdk/src/catalogue)", () => {
  describe("frozen vectors", () => {
    for (const t of file.texts) {
      it(`text ${t.kind} ${JSON.stringify(t.canonical).slice(0, 20)}`, () => {
        expect(canonicalText(t.text)).to.equal(t.canonical);
        expect(hashCatalogueText(t.kind, t.text)).to.equal(t.hash);
        expect(hashCatalogueText(t.kind, t.canonical)).to.equal(t.hash);
      });
    }
    it("field list", () => {
      expect(canonicalFields(file.fields.fields)).to.equal(file.fields.canonical);
      expect(hashFields(file.fields.fields)).to.equal(file.fields.hash);
    });
    for (const v of file.entries) {
      it(`entry ${v.name}`, () => {
        expect(encodeEntryInput(v.doc)).to.deep.equal(v.input);
        expect(entryVersionHash(v.input, v.version, v.prevVersionHash)).to.equal(v.versionHash);
      });
    }
  });

  describe("canonical hashing", () => {
    it("kinds are domain-separated and content-sensitive", () => {
      expect(hashCatalogueText("title", "x")).to.not.equal(hashCatalogueText("description", "x"));
      expect(hashCatalogueText("title", "a b")).to.not.equal(hashCatalogueText("title", "a  b"));
      expect(hashCatalogueText("title", "a\nb")).to.equal(hashCatalogueText("title", "a \r\nb  "));
      expect(hashCatalogueText("title", "x")).to.equal(keccak256(toUtf8Bytes("tongban.catalogue.v1.title\u0000x")));
    });
    it("rejects empty text and bad fields, naming them", () => {
      expectInputError(() => canonicalText(" \r\n\u3000", "title"), "title");
      expectInputError(() => canonicalFields([]), "fields");
      const f = { name: "a", label: "A", type: "string" as const, required: true };
      expectInputError(() => canonicalFields([f, { ...f }]), "fields[1].name");
      expectInputError(() => canonicalFields([{ ...f, name: "1a" }]), "fields[0].name");
      expectInputError(() => canonicalFields([{ ...f, type: "text" as never }]), "fields[0].type");
      expectInputError(() => canonicalFields([{ ...f, length: 0 }]), "fields[0].length");
      expectInputError(() => canonicalFields([{ ...f, label: " " }]), "fields[0].label");
      expectInputError(() => canonicalFields([{ ...f, dataItem: "has space" }]), "fields[0].dataItem");
      expectInputError(() => canonicalFields([{ ...f, required: "yes" as never }]), "fields[0].required");
    });
    it("field order matters, key order and optional-absent do not", () => {
      const a = { name: "a", label: "A", type: "string" as const, required: true };
      const b = { name: "b", label: "B", type: "integer" as const, required: false };
      expect(hashFields([a, b])).to.not.equal(hashFields([b, a]));
      expect(hashFields([{ required: true, type: "string", label: "A", name: "a" }])).to.equal(hashFields([{ ...a, length: undefined }]));
    });
  });

  describe("codes and entries", () => {
    it("enum codes are stable", () => {
      expect(DataGrade).to.deep.equal({ GENERAL: 1, IMPORTANT: 2, CORE: 3 });
      expect(SharingType).to.deep.equal({ UNCONDITIONAL: 1, CONDITIONAL: 2, NOT_SHARED: 3 });
      expect(OpenType).to.deep.equal({ OPEN: 1, CONDITIONAL: 2, NOT_OPEN: 3 });
      expect(UpdateCycle.IRREGULAR).to.equal(7);
      expect(UseReason.APPROVAL_EXPIRED).to.equal(11);
      expect(codeName(SharingType, 2n)).to.equal("CONDITIONAL");
      expectInputError(() => codeName(SharingType, 9, "sharing"), "sharing");
    });
    it("catalogue codes: text <-> bytes32", () => {
      expect(catalogueCode("R310115-0001")).to.equal(encodeBytes32String("R310115-0001"));
      expect(catalogueCodeText(catalogueCode("R310115-0001"))).to.equal("R310115-0001");
      const hex = keccak256("0x01");
      expect(catalogueCode(hex.toUpperCase().replace("0X", "0x"))).to.equal(hex);
      expectInputError(() => catalogueCode("has space", "resourceCode"), "resourceCode");
      expectInputError(() => catalogueCode("x".repeat(32), "resourceCode"), "resourceCode");
      expectInputError(() => catalogueCode(ZeroHash, "duty"), "duty");
    });
    it("classification rules mirror the contract", () => {
      checkClassification({ grade: "CORE", level: 4, sharing: "NOT_SHARED", open: "NOT_OPEN" });
      checkClassification({ grade: "GENERAL", level: 1, sharing: "UNCONDITIONAL", open: "OPEN" });
      for (const c of [
        { grade: "CORE", level: 3, sharing: "NOT_SHARED", open: "NOT_OPEN" },
        { grade: "CORE", level: 4, sharing: "UNCONDITIONAL", open: "NOT_OPEN" },
        { grade: "IMPORTANT", level: 2, sharing: "CONDITIONAL", open: "NOT_OPEN" },
        { grade: "IMPORTANT", level: 3, sharing: "UNCONDITIONAL", open: "OPEN" },
        { grade: "GENERAL", level: 1, sharing: "CONDITIONAL", open: "OPEN" },
      ] as const) expectInputError(() => checkClassification(c), "classification");
      expectInputError(() => checkClassification({ grade: "GENERAL", level: 5, sharing: "UNCONDITIONAL", open: "OPEN" }), "level");
      expectInputError(() => checkClassification({ grade: "SECRET" as never, level: 1, sharing: "UNCONDITIONAL", open: "OPEN" }), "grade");
    });
    it("encodeEntryInput names bad fields", () => {
      expectInputError(() => encodeEntryInput({ ...baseDoc(), title: "" }), "title");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), updateCycle: "HOURLY" as never }), "updateCycle");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), dataItems: ["A", "A"] }), "dataItems");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), dataItems: Array.from({ length: 33 }, (_, i) => `D${i}`) }), "dataItems");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), uri: "x".repeat(257) }), "uri");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), standard: { hash: ZeroHash, version: 1 } }), "standard.hash");
      expectInputError(() => encodeEntryInput({ ...baseDoc(), standard: { text: "s", version: -1 } }), "standard.version");
      const h = keccak256("0x02");
      expect(encodeEntryInput({ ...baseDoc(), standard: { hash: h, version: 1 } }).standardHash).to.equal(h);
    });
    it("decodeEntry names codes and tells pending from published", () => {
      const v = file.entries[0].input;
      const raw = { input: v, provider: encodeBytes32String("11310115002418321F"), versionHash: file.entries[0].versionHash, prevVersionHash: ZeroHash,
        version: 2n, publishedVersion: 1n, status: 1n, publishedSharing: 1n, registeredAt: 10n, updatedAt: 20n };
      const e = decodeEntry(raw)!;
      expect([e.grade, e.sharing, e.open, e.updateCycle, e.status, e.pending, e.publishedSharing]).to.deep.equal(["GENERAL", "CONDITIONAL", "NOT_OPEN", "DAILY", "ACTIVE", true, "UNCONDITIONAL"]);
      expect(decodeEntry({ ...raw, status: 0n })).to.equal(undefined);
      expect(decodeEntry({ ...raw, publishedVersion: 0n })!.publishedSharing).to.equal(undefined);
    });
  });

  describe("reverts", () => {
    it("every error of the DataCatalogue ABI has a kind", () => {
      const names: string[] = [];
      catalogueInterface().forEachError((e) => names.push(e.name));
      expect(names.length).to.be.greaterThan(30);
      for (const n of names) expect(CATALOGUE_ERROR_KINDS, n).to.have.property(n);
      expect(Object.keys(CATALOGUE_ERROR_KINDS).sort()).to.deep.equal([...names].sort());
    });
    it("decodes raw revert data with named args", () => {
      const i = catalogueInterface();
      const item = encodeBytes32String("DE0001"), res = encodeBytes32String("R1"), prov = encodeBytes32String("11310115002418321F");
      const data = i.encodeErrorResult("DataItemAlreadyProvided", [item, res, prov]);
      const err = decodeCatalogueError(data)!;
      expect(err).to.be.instanceOf(CatalogueRevertError);
      expect(err.details.error).to.equal("DataItemAlreadyProvided");
      expect(err.details.kind).to.equal("CONFLICT");
      expect(err.details.args).to.deep.equal({ itemCode: item, resourceCode: res, provider: prov });
      expect(decodeCatalogueError({ data })!.details.error).to.equal("DataItemAlreadyProvided");
      expect(decodeCatalogueError("0xdeadbeef")).to.equal(undefined);
    });
  });

  describe("data uses in the audit use log", () => {
    const use: DataUse = {
      direction: "SERVED", time: 1767225600n, requestId: keccak256("0x03"), scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001",
      consumer: encodeBytes32String("91310104MA1K000018"), provider: encodeBytes32String("11310115002418321F"), matter: "MATTER-0042",
      queryHash: keccak256("0x04"),
    };
    it("maps onto a SCENARIO use record field by field and back", () => {
      const r = dataUseToUseRecord(use);
      expect(r.basis).to.equal("SCENARIO");
      expect(r.grantId).to.equal(catalogueCode("SCN-OPEN-SHOP"));
      expect(r.typeCode).to.equal(catalogueCode("R310115-0001"));
      expect([r.requester, r.custodian, r.leaf]).to.deep.equal([use.consumer, use.provider, use.queryHash]);
      const bytes = encodeDataUse(use);
      expect(bytes.length).to.equal(235);
      expect(decodeUseRecord(bytes)).to.deep.equal(r);
      const back = decodeDataUse(bytes);
      expect(back.scenarioId).to.equal(catalogueCode("SCN-OPEN-SHOP"));
      expect(back.matter).to.equal(catalogueCode("MATTER-0042"));
      expect(dataUseLeafHash(use)).to.have.length(32);
      expect(Buffer.from(dataUseLeafHash(use))).to.not.deep.equal(Buffer.from(dataUseLeafHash({ ...use, time: 1767225601n })));
    });
    it("refuses a material (GRANT) record as a data use", () => {
      const r = { ...dataUseToUseRecord(use), basis: "GRANT" as const };
      expectInputError(() => useRecordToDataUse(decodeUseRecord(encodeUseRecord(r))), "basis");
      expectInputError(() => dataUseToUseRecord({ ...use, consumer: "not hex" }), "consumer");
    });
  });
});
