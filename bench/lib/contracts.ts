/**
 * Everything deployed on the one local chain: our TongbanLedger (bootstrapped with one issuer), the
 * Ethereum Attestation Service (SchemaRegistry + EAS + one registered schema) and OpenAttestation's
 * DocumentStore — the peers' bytecode exactly as published in their npm packages
 * (`@ethereum-attestation-service/eas-contracts` artifacts, `@govtechsg/document-store` typechain factory).
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, ContractFactory, Wallet, type InterfaceAbi } from "ethers";
import { startChain, deployLedger, bootstrap, devWallet, REPO_ROOT, type Chain } from "../../test/node/helpers/chain.js";
import type { TongbanLedger } from "../../sdk/src/contracts/types/index.js";
import { ISSUER_USCC, TYPE, JURISDICTION } from "./documents.js";

const require = createRequire(import.meta.url);
interface Artifact { abi: InterfaceAbi; bytecode: string }
const EAS_ARTIFACT = require("@ethereum-attestation-service/eas-contracts/artifacts/contracts/EAS.sol/EAS.json") as Artifact;
const REGISTRY_ARTIFACT = require("@ethereum-attestation-service/eas-contracts/artifacts/contracts/SchemaRegistry.sol/SchemaRegistry.json") as Artifact;
const { DocumentStoreFactory: DocumentStore__factory } = require("@govtechsg/document-store") as {
  DocumentStoreFactory: { abi: InterfaceAbi; bytecode: string };
};
const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
/** The peers' package versions, as installed (recorded in results.json). */
export const PEER_VERSIONS = Object.fromEntries(
  ["@ethereum-attestation-service/eas-contracts", "@govtechsg/document-store", "@govtechsg/open-attestation", "@govtechsg/oa-verify", "@openzeppelin/merkle-tree"].map((n) => [n, versionOf(n)]),
);

/** The EAS schema each material is attested under: the material leaf only (EAS's cheapest possible record). */
export const EAS_SCHEMA = "bytes32 materialLeaf";

export interface Deployed {
  chain: Chain;
  ledger: TongbanLedger;
  ledgerAddress: string;
  /** the ledger connected to the bootstrap admin (dev account 0; bootstrap left open) */
  adminLedger: TongbanLedger;
  admin: Wallet;
  /** dev account 2, the Pudong bureau's signing account on the ledger */
  issuer: Wallet;
  eas: Contract;
  easAddress: string;
  schemaUid: string;
  /** dev account 3, the EAS attester */
  attester: Wallet;
  documentStore: Contract;
  documentStoreAddress: string;
  /** dev account 4, the DocumentStore owner / issuer */
  dsOwner: Wallet;
  chainId: bigint;
}

export async function deployAll(): Promise<Deployed> {
  const chain = await startChain();
  try {
    const { ledger, address: ledgerAddress, admin } = await deployLedger(chain, 0);
    const issuer = new Wallet(devWallet(2).privateKey, chain.provider);
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [JURISDICTION, 310000]],
      types: [TYPE],
      members: [{ uscc: ISSUER_USCC, jurisdiction: JURISDICTION, accounts: [issuer.address], entitlements: [[TYPE, JURISDICTION]] }],
    });

    const attester = new Wallet(devWallet(3).privateKey, chain.provider);
    const registry = await new ContractFactory(REGISTRY_ARTIFACT.abi, REGISTRY_ARTIFACT.bytecode, attester).deploy();
    await registry.waitForDeployment();
    const easC = await new ContractFactory(EAS_ARTIFACT.abi, EAS_ARTIFACT.bytecode, attester).deploy(await registry.getAddress());
    await easC.waitForDeployment();
    const easAddress = await easC.getAddress();
    const eas = new Contract(easAddress, EAS_ARTIFACT.abi, attester);
    const reg = new Contract(await registry.getAddress(), REGISTRY_ARTIFACT.abi, attester);
    const rtx = await reg.getFunction("register")(EAS_SCHEMA, "0x0000000000000000000000000000000000000000", true);
    const rrc = await rtx.wait();
    const registered = rrc.logs.map((l: { topics: string[]; data: string }) => { try { return reg.interface.parseLog(l); } catch { return null; } }).find((e: { name: string } | null) => e?.name === "Registered");
    const schemaUid = registered!.args[0] as string;

    const dsOwner = new Wallet(devWallet(4).privateKey, chain.provider);
    const ds = await new ContractFactory(DocumentStore__factory.abi, DocumentStore__factory.bytecode, dsOwner).deploy("Pudong MSB document store", dsOwner.address);
    await ds.waitForDeployment();
    const documentStoreAddress = await ds.getAddress();
    const documentStore = new Contract(documentStoreAddress, DocumentStore__factory.abi, dsOwner);
    const chainId = (await chain.provider.getNetwork()).chainId;
    return { chain, ledger: ledger.connect(issuer) as TongbanLedger, ledgerAddress, adminLedger: ledger, admin, issuer, eas, easAddress, schemaUid, attester, documentStore, documentStoreAddress, dsOwner, chainId };
  } catch (e) {
    await chain.stop();
    throw e;
  }
}
