// Gas of the DataCatalogue contract (issue 6): `npx hardhat run scripts/gas-catalogue.ts` prints a JSON object;
// `measureCatalogue` is also the `catalogue` section of snapshots/gas.json (scripts/gas-snapshot.ts, GAS_CHECK).
// Each figure is the transaction's gasUsed on the in-process Hardhat network (london), 21,000 intrinsic included;
// views are eth_estimateGas of the call. The block time is pinned first (approval expiries are calldata).
import { ethers, artifacts } from "hardhat";
import type { Contract, ContractRunner } from "ethers";
import { M, Role, bytes32, deployOpen } from "../test/contracts/helpers/consortium";

type Catalogue = { connect(runner: ContractRunner | null): Catalogue } & Contract;
type Tx = Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>;
const gas = async (p: Tx): Promise<number> => Number((await (await p).wait())!.gasUsed);
const h = (s: string): string => ethers.keccak256(ethers.toUtf8Bytes(s));

/** Pinned block time of the measurement (later than the ledger and authorisations sections). */
export const CATALOGUE_GAS_TIME = 2_100_000_000;

const Grade = { General: 1, Important: 2 } as const;
const Sharing = { Unconditional: 1, Conditional: 2 } as const;
const entry = (code: string, over: Record<string, unknown> = {}) => ({
  resourceCode: bytes32(code), titleHash: h(`title ${code}`), descriptionHash: h(`desc ${code}`), fieldsHash: h(`fields ${code}`),
  standardHash: h("GB/T 38664"), standardVersion: 2020, grade: Grade.General, level: 2, sharing: Sharing.Unconditional,
  open: 3, updateCycle: 2, dutyCode: bytes32("D-MKT-01"), systemCode: bytes32("SYS-PD-LICENCE"), uri: "https://catalogue.sh.gov.cn/r/1",
  dataItems: [] as string[], ...over,
});

export async function measureCatalogue(): Promise<Record<string, number>> {
  await ethers.provider.send("evm_setNextBlockTimestamp", [CATALOGUE_GAS_TIME]);
  await ethers.provider.send("evm_mine", []);
  const c = await deployOpen();
  await (await c.ledger.grantRole(M.govA, Role.Cataloguer)).wait();
  const factory = await ethers.getContractFactory("DataCatalogue");
  const deployed = await factory.deploy(await c.ledger.getAddress());
  const cat = deployed as unknown as Catalogue;
  const out: Record<string, number> = {};
  out["deploy"] = Number((await deployed.deploymentTransaction()!.wait())!.gasUsed);
  out["bytecode size (bytes)"] = ((await artifacts.readArtifact("DataCatalogue")).deployedBytecode.length - 2) / 2;
  const provider = cat.connect(c.issuer);
  const consumer = cat.connect(c.authXuhui);
  const cataloguer = cat.connect(c.gov[0]);

  out["registerDuty"] = await gas(provider.registerDuty(bytes32("D-MKT-01"), h("market supervision")));
  out["registerSystem"] = await gas(provider.registerSystem(bytes32("SYS-PD-LICENCE"), h("Pudong licence system")));
  await (await provider.registerSystem(bytes32("SYS-SPARE"), h("spare"))).wait();
  out["registerEntry (no data item)"] = await gas(provider.registerEntry(entry("R-0")));
  out["registerEntry (2 data items)"] = await gas(provider.registerEntry(entry("R-1", { dataItems: [bytes32("DE0001"), bytes32("DE0002")] })));
  out["registerEntry (conditional, 1 data item)"] = await gas(provider.registerEntry(entry("R-2", { sharing: Sharing.Conditional, dataItems: [bytes32("DE0003")] })));
  out["updateEntry (new version, same items)"] = await gas(provider.updateEntry(entry("R-1", { titleHash: h("title v2"), dataItems: [bytes32("DE0001"), bytes32("DE0002")] })));
  out["publishEntry"] = await gas(cataloguer.publishEntry(bytes32("R-1"), 2));
  await (await cataloguer.publishEntry(bytes32("R-2"), 1)).wait();
  await (await cataloguer.publishEntry(bytes32("R-0"), 1)).wait();
  out["correctClassification (Cataloguer)"] = await gas(cataloguer.correctClassification(bytes32("R-0"), { grade: Grade.Important, level: 3, sharing: Sharing.Conditional, open: 3 }, h("reason")));

  out["registerScenario (1 resource)"] = await gas(consumer.registerScenario(bytes32("SCN-1"), h("purpose 1"), h("basis 1"), [bytes32("R-1")]));
  out["registerScenario (2 resources, 1 conditional)"] = await gas(consumer.registerScenario(bytes32("SCN-2"), h("purpose 2"), h("basis 2"), [bytes32("R-1"), bytes32("R-2")]));
  out["drawResources (1 conditional)"] = await gas(consumer.drawResources(bytes32("SCN-1"), [bytes32("R-2")]));
  out["approveUse"] = await gas(provider.approveUse(bytes32("SCN-2"), bytes32("R-2"), CATALOGUE_GAS_TIME + 86_400));
  out["denyUse"] = await gas(provider.denyUse(bytes32("SCN-1"), bytes32("R-2"), h("no")));
  out["canUse (eth_call, approved conditional)"] = Number(await cat.canUse.estimateGas(bytes32("SCN-2"), bytes32("R-2")));
  out["canUse (eth_call, unconditional)"] = Number(await cat.canUse.estimateGas(bytes32("SCN-2"), bytes32("R-1")));
  out["closeScenario"] = await gas(consumer.closeScenario(bytes32("SCN-1")));
  out["withdrawEntry"] = await gas(provider.withdrawEntry(bytes32("R-0"), h("merged")));
  out["deregisterSystem"] = await gas(provider.deregisterSystem(bytes32("SYS-SPARE")));
  return out;
}

if (require.main === module) {
  measureCatalogue().then((out) => console.log(JSON.stringify(out, null, 2))).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
