/**
 * A typed client for the DataCatalogue contract over any ethers v6 runner (a Signer for writes, a Provider for
 * views). Writes wait for the receipt and resolve to the domain result; reverts become
 * {@link CatalogueRevertError}s.
 *
 * @example
 * const cat = new CatalogueClient(address, wallet);
 * await cat.registerDuty("D-MKT-01", "市场主体登记");
 * await cat.registerSystem("SYS-PD-LIC", "浦东证照库");
 * const { versionHash } = await cat.registerEntry(doc);
 * const { ok, reason } = await cat.canUse("SCN-OPEN-SHOP", "R310115-0001");
 */
import { ZeroHash, type ContractRunner, type ContractTransactionResponse, type Log } from "ethers";
import { DataCatalogue__factory } from "../contracts/types/factories/contracts/DataCatalogue__factory.js";
import type { DataCatalogue } from "../contracts/types/contracts/DataCatalogue.js";
import { DataGrade, OpenType, SharingType, UseReason, catalogueCode, codeName, type DataGradeName, type OpenTypeName, type SharingTypeName, type UseReasonName } from "./codes.js";
import { hashCatalogueText } from "./hash.js";
import {
  checkClassification, decodeDraw, decodeEntry, decodeScenario, decodeSystem, encodeEntryInput, entryVersionHash,
  type CatalogueDraw, type CatalogueEntry, type CatalogueEntryDoc, type CatalogueScenario, type CatalogueSystem,
} from "./entry.js";
import { catalogueInterface, decodeCatalogueError } from "./errors.js";

/** Where a write landed. */
export interface CatalogueReceipt {
  txHash: string;
  blockNumber: number;
  gasUsed: bigint;
}

/** A text or an already computed bytes32 hash. */
export type TextOrHash = string | { hash: string };

export class CatalogueClient {
  readonly contract: DataCatalogue;

  constructor(readonly address: string, runner: ContractRunner) {
    this.contract = DataCatalogue__factory.connect(address, runner);
  }

  private async send(fn: () => Promise<ContractTransactionResponse>): Promise<CatalogueReceipt> {
    const { receipt } = await this.sendRaw(fn);
    return receipt;
  }

  private async sendRaw(fn: () => Promise<ContractTransactionResponse>): Promise<{ receipt: CatalogueReceipt; logs: readonly Log[] }> {
    try {
      const tx = await fn();
      const r = await tx.wait();
      if (!r) throw new Error("transaction dropped");
      return { receipt: { txHash: r.hash, blockNumber: r.blockNumber, gasUsed: r.gasUsed }, logs: r.logs };
    } catch (e) {
      throw decodeCatalogueError(e) ?? e;
    }
  }

  private async view<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw decodeCatalogueError(e) ?? e;
    }
  }

  private hash(kind: Parameters<typeof hashCatalogueText>[0], v: TextOrHash): string {
    return typeof v === "string" ? hashCatalogueText(kind, v) : v.hash;
  }

  /** Registers a duty of the signer's member (description hashed as kind "duty"). */
  registerDuty(dutyCode: string, description: TextOrHash): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.registerDuty(catalogueCode(dutyCode, "duty"), this.hash("duty", description)));
  }

  retireDuty(dutyCode: string): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.retireDuty(catalogueCode(dutyCode, "duty")));
  }

  /** Registers an information system of the signer's member (description hashed as kind "system"). */
  registerSystem(systemCode: string, description: TextOrHash): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.registerSystem(catalogueCode(systemCode, "system"), this.hash("system", description)));
  }

  deregisterSystem(systemCode: string): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.deregisterSystem(catalogueCode(systemCode, "system")));
  }

  /** Registers version 1 of an entry; resolves with its version hash (computed locally, equal to the chain's). */
  async registerEntry(doc: CatalogueEntryDoc): Promise<CatalogueReceipt & { version: number; versionHash: string }> {
    const input = encodeEntryInput(doc);
    const r = await this.send(() => this.contract.registerEntry(input));
    return { ...r, version: 1, versionHash: entryVersionHash(input, 1, ZeroHash) };
  }

  /** Publishes a new version of the signer's entry; resolves with the new version and hash (from its event). */
  async updateEntry(doc: CatalogueEntryDoc): Promise<CatalogueReceipt & { version: number; versionHash: string; prevVersionHash: string }> {
    const input = encodeEntryInput(doc);
    const { receipt, logs } = await this.sendRaw(() => this.contract.updateEntry(input));
    const iface = catalogueInterface();
    for (const log of logs) {
      if (log.address.toLowerCase() !== this.address.toLowerCase()) continue;
      const ev = iface.parseLog({ topics: [...log.topics], data: log.data });
      if (ev?.name === "EntryUpdated") {
        const version = Number(ev.args.version);
        const prevVersionHash = String(ev.args.prevVersionHash);
        return { ...receipt, version, versionHash: entryVersionHash(input, version, prevVersionHash), prevVersionHash };
      }
    }
    throw new Error(`updateEntry ${receipt.txHash}: no EntryUpdated event in the receipt`);
  }

  /** Cataloguer: publishes `version` (the latest) of an entry. */
  publishEntry(resourceCode: string, version: number): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.publishEntry(catalogueCode(resourceCode, "resourceCode"), version));
  }

  /** Cataloguer: corrects the classification (a new version, published at once). */
  correctClassification(
    resourceCode: string, c: { grade: DataGradeName; level: number; sharing: SharingTypeName; open: OpenTypeName }, reason: TextOrHash,
  ): Promise<CatalogueReceipt> {
    checkClassification(c);
    const t = { grade: DataGrade[c.grade], level: c.level, sharing: SharingType[c.sharing], open: OpenType[c.open] };
    return this.send(() => this.contract.correctClassification(catalogueCode(resourceCode, "resourceCode"), t, this.hash("reason", reason)));
  }

  /** Provider or Cataloguer: withdraws an entry (final). */
  withdrawEntry(resourceCode: string, reason: TextOrHash): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.withdrawEntry(catalogueCode(resourceCode, "resourceCode"), this.hash("reason", reason)));
  }

  /** Consumer: registers a scenario (purpose and legal basis hashed as their kinds). */
  registerScenario(scenarioId: string, purpose: TextOrHash, legalBasis: TextOrHash, resources: string[]): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.registerScenario(
      catalogueCode(scenarioId, "scenarioId"), this.hash("purpose", purpose), this.hash("legal-basis", legalBasis),
      resources.map((c, i) => catalogueCode(c, `resources[${i}]`)),
    ));
  }

  drawResources(scenarioId: string, resources: string[]): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.drawResources(catalogueCode(scenarioId, "scenarioId"), resources.map((c, i) => catalogueCode(c, `resources[${i}]`))));
  }

  closeScenario(scenarioId: string): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.closeScenario(catalogueCode(scenarioId, "scenarioId")));
  }

  /** Provider: approves a conditional resource for a scenario until `expiresAt` (unix seconds). */
  approveUse(scenarioId: string, resourceCode: string, expiresAt: number | bigint): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.approveUse(catalogueCode(scenarioId, "scenarioId"), catalogueCode(resourceCode, "resourceCode"), expiresAt));
  }

  /** Provider: denies or withdraws an approval. */
  denyUse(scenarioId: string, resourceCode: string, reason: TextOrHash): Promise<CatalogueReceipt> {
    return this.send(() => this.contract.denyUse(catalogueCode(scenarioId, "scenarioId"), catalogueCode(resourceCode, "resourceCode"), this.hash("reason", reason)));
  }

  // ----------------------------------------------------------------------------------------------- views

  /** The entry, or undefined if the code was never registered. `blockTag` reads at a given block. */
  async getEntry(resourceCode: string, blockTag?: number): Promise<CatalogueEntry | undefined> {
    const code = catalogueCode(resourceCode, "resourceCode");
    return decodeEntry(await this.view(() => this.contract.getEntry(code, blockTag === undefined ? {} : { blockTag })));
  }

  async getScenario(scenarioId: string): Promise<CatalogueScenario | undefined> {
    const id = catalogueCode(scenarioId, "scenarioId");
    return decodeScenario(id, await this.view(() => this.contract.getScenario(id)));
  }

  async getDraw(scenarioId: string, resourceCode: string): Promise<CatalogueDraw> {
    return decodeDraw(await this.view(() => this.contract.getDraw(catalogueCode(scenarioId, "scenarioId"), catalogueCode(resourceCode, "resourceCode"))));
  }

  async getSystem(systemCode: string): Promise<CatalogueSystem | undefined> {
    const c = catalogueCode(systemCode, "system");
    return decodeSystem(c, await this.view(() => this.contract.getSystem(c)));
  }

  /** The live entry that is the one source of a data item, if any. */
  async providerOfDataItem(itemCode: string): Promise<{ resourceCode: string; provider: string } | undefined> {
    const [resourceCode, provider] = await this.view(() => this.contract.providerOfDataItem(catalogueCode(itemCode, "dataItem")));
    return resourceCode === ZeroHash ? undefined : { resourceCode, provider };
  }

  /** May the scenario's consumer use the resource now? `reason` names the UseReason code. */
  async canUse(scenarioId: string, resourceCode: string): Promise<{ ok: boolean; reason: UseReasonName; code: number }> {
    const [ok, code] = await this.view(() => this.contract.canUse(catalogueCode(scenarioId, "scenarioId"), catalogueCode(resourceCode, "resourceCode")));
    return { ok, reason: codeName(UseReason, Number(code), "useReason"), code: Number(code) };
  }
}


