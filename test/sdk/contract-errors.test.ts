import { expect } from "chai";
import { readFileSync } from "node:fs";
import { AbiCoder, id } from "ethers";
import { TongbanLedger__factory } from "../../sdk/src/contracts/types/factories/contracts/TongbanLedger__factory.js";
import { Authorisations__factory } from "../../sdk/src/contracts/types/factories/contracts/Authorisations__factory.js";
import { DataCatalogue__factory } from "../../sdk/src/contracts/types/factories/contracts/DataCatalogue__factory.js";
import {
  LEDGER_ERRORS, LedgerRevertError, decodeLedgerError, NotEntitledError, MaterialAlreadyRevokedError, TongbanError,
} from "../../sdk/src/index.js";

type AbiItem = { type: string; name?: string; inputs?: { type: string; name: string }[] };

describe("sdk/contract-errors", () => {
  it("every custom error of TongbanLedger, Authorisations and DataCatalogue (typechain and artifacts) has a typed SDK error", () => {
    const artifact = (name: string) => JSON.parse(readFileSync(new URL(`../../artifacts/contracts/${name}.sol/${name}.json`, import.meta.url), "utf8")).abi as AbiItem[];
    for (const abi of [
      TongbanLedger__factory.abi as unknown as AbiItem[], Authorisations__factory.abi as unknown as AbiItem[], DataCatalogue__factory.abi as unknown as AbiItem[],
      artifact("TongbanLedger"), artifact("Authorisations"), artifact("DataCatalogue"),
    ]) {
      const names = abi.filter((x) => x.type === "error").map((x) => x.name!);
      expect(names.length).to.be.greaterThan(20);
      const missing = names.filter((n) => !(n in LEDGER_ERRORS));
      expect(missing, `unmapped ledger errors: ${missing.join(", ")}`).to.deep.equal([]);
    }
  });

  it("every mapping is a distinct LedgerRevertError subclass with a literal name and a kind", () => {
    const seen = new Set<string>();
    for (const [sol, Cls] of Object.entries(LEDGER_ERRORS)) {
      const e = new Cls("m", { error: sol, args: {}, kind: Cls.kind });
      expect(e).to.be.instanceOf(LedgerRevertError).and.instanceOf(TongbanError);
      expect(e.name).to.match(/Error$/);
      expect(seen.has(e.name), e.name).to.equal(false);
      seen.add(e.name);
      expect(["FORBIDDEN", "NOT_FOUND", "CONFLICT", "INVALID", "INTERNAL"]).to.include(Cls.kind);
    }
  });

  it("decodes raw revert data into the typed error with named arguments", () => {
    const memberId = "0x" + "31".repeat(18) + "00".repeat(14);
    const typeCode = "0x" + "42".repeat(8) + "00".repeat(24);
    const data = id("NotEntitled(bytes32,bytes32,uint32)").slice(0, 10)
      + AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint32"], [memberId, typeCode, 310115]).slice(2);
    const err = decodeLedgerError(data)!;
    expect(err).to.be.instanceOf(NotEntitledError);
    expect(err.details).to.deep.include({ error: "NotEntitled", kind: "FORBIDDEN" });
    expect(err.details.args).to.deep.equal({ memberId, typeCode, jurisdiction: 310115n });
    const wrapped = decodeLedgerError({ error: { data: id("MaterialAlreadyRevoked(bytes32,bytes32)").slice(0, 10) + AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [memberId, typeCode]).slice(2) } });
    expect(wrapped).to.be.instanceOf(MaterialAlreadyRevokedError);
    expect(decodeLedgerError(new Error("boom"))).to.equal(undefined);
    expect(decodeLedgerError("0xdeadbeef")).to.equal(undefined);
    const grant = "0x" + "77".repeat(32);
    const unknownGrant = decodeLedgerError(id("UnknownGrant(bytes32)").slice(0, 10) + AbiCoder.defaultAbiCoder().encode(["bytes32"], [grant]).slice(2));
    expect(unknownGrant?.name).to.equal("UnknownGrantError");
    expect(unknownGrant?.details).to.deep.include({ kind: "NOT_FOUND", args: { grantId: grant } });
  });
});
