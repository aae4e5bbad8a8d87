/**
 * The data catalogue on a real chain, for the catalogue tests: `deployCatalogue(chain, members)` deploys
 * TongbanLedger, bootstraps the Shanghai jurisdictions 310000 > 310104, 310115 with the given members (no
 * material types) and deploys DataCatalogue on that ledger from dev account 0; `licenceEntry(over)` is the
 * sample catalogue entry (Pudong business licences, data item DE0001) the tests publish.
 *
 * @example
 *   const { address, startBlock } = await deployCatalogue(chain, [{ uscc, jurisdiction: 310115, accounts: [addr] }]);
 */
import { Wallet, type JsonRpcProvider } from "ethers";
import type { CatalogueEntryDoc } from "@tongban/sdk";
import { DataCatalogue__factory } from "../../../sdk/src/contracts/types/index.js";
import { bootstrap, deployLedger, devWallet, type Chain, type MemberSpec, type TongbanLedger } from "./chain.js";

export interface DeployedCatalogue {
  ledger: TongbanLedger;
  /** the DataCatalogue's address */
  address: string;
  /** block of the DataCatalogue deployment (the index's start block) */
  startBlock: number;
}

/** Ledger + consortium (jurisdictions 310000, 310104, 310115; `members`) + DataCatalogue, deployed through `provider` (default the chain's). */
export async function deployCatalogue(chain: Chain, members: MemberSpec[], provider: JsonRpcProvider = chain.provider): Promise<DeployedCatalogue> {
  const { ledger } = await deployLedger(chain);
  await bootstrap(ledger, { jurisdictions: [[310000, 0], [310104, 310000], [310115, 310000]], types: [], members });
  const cat = await new DataCatalogue__factory(new Wallet(devWallet(0).privateKey, provider)).deploy(await ledger.getAddress());
  await cat.waitForDeployment();
  const address = await cat.getAddress();
  const startBlock = (await provider.getTransactionReceipt(cat.deploymentTransaction()!.hash))!.blockNumber;
  return { ledger, address, startBlock };
}

/** The sample entry: Pudong business licences (R310115-0001, data item DE0001), sharing UNCONDITIONAL; `over` replaces fields. */
export const licenceEntry = (over: Partial<CatalogueEntryDoc> = {}): CatalogueEntryDoc => ({
  resourceCode: "R310115-0001",
  title: "企业营业执照信息",
  description: "浦东新区市场主体登记信息，含统一社会信用代码、名称、住所。",
  fields: [
    { name: "uscc", label: "统一社会信用代码", type: "string", length: 18, required: true, dataItem: "DE0001" },
    { name: "name", label: "名称", type: "string", length: 200, required: true },
  ],
  standard: { text: "GB/T 38664.1-2020", version: 2020 },
  grade: "GENERAL", level: 2, sharing: "UNCONDITIONAL", open: "NOT_OPEN", updateCycle: "DAILY",
  duty: "D-MKT-01", system: "SYS-PD-LICENCE", uri: "https://catalogue.sh.gov.cn/r/1", dataItems: ["DE0001"],
  ...over,
});
