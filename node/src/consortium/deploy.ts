/**
 * Deploy the ledger and bootstrap a consortium from a {@link ConsortiumSpec} in one `bootstrapBatch`
 * transaction, then set the governance threshold and close the bootstrap phase (irreversible): from then on
 * every change needs M-of-N governors.
 */
import { encodeBytes32String, type Signer } from "ethers";
import { contracts } from "@tongban/sdk";
import type { ConsortiumSpec, RoleName } from "./spec.js";
import { ConsortiumSpecError } from "./spec.js";

/** `Role` enum of IConsortium (revocation authority is per jurisdiction, not a global role). */
const ROLE_INDEX: Partial<Record<RoleName, number>> = { GOVERNOR: 0, IDENTITY_PROVIDER: 1, CATALOGUER: 2, AUDITOR: 3 };

export interface DeployedConsortium {
  ledgerAddress: string;
  /** grants (授权调证) and use-log heads; reads membership from the ledger */
  authorisationsAddress: string;
  /** the data catalogue (数据目录); reads membership from the ledger */
  catalogueAddress: string;
  /** block of the deployment: indexers start here */
  deployBlock: number;
  chainId: bigint;
  bootstrapTx: string;
}

export interface DeployOptions {
  /**
   * signing accounts per member key (at least one each). A member node uses two: its keystore's signing
   * account (material anchoring) and its ops account (use-log heads, setPeers, grants, catalogue); register
   * and fund both, e.g. `{ xuhui: [keys.wallet.address, keys.ops.address] }` (see scripts/start-local.mjs)
   */
  accounts: Record<string, string[]>;
  /** libp2p peer ids and multiaddrs per member key, published on chain for the connection gater */
  peers?: Record<string, { peerIds: string[]; multiaddrs: string[] }>;
  /** leave the bootstrap phase open (tests); default false */
  keepBootstrapOpen?: boolean;
}

/** The ABI-encoded bootstrap calls for a spec, in dependency order. Pure: exported for tests and dry runs. */
export function bootstrapCalls(spec: ConsortiumSpec, opts: DeployOptions): string[] {
  const i = contracts.TongbanLedger__factory.createInterface();
  const calls: string[] = [];
  for (const j of spec.jurisdictions) calls.push(i.encodeFunctionData("registerJurisdiction", [j.code, j.parent]));
  for (const t of spec.materialTypes) calls.push(i.encodeFunctionData("registerMaterialType", [encodeBytes32String(t.code)]));
  for (const m of spec.members) {
    const id = encodeBytes32String(m.uscc);
    const accounts = opts.accounts[m.key];
    if (!accounts?.length) throw new ConsortiumSpecError(`accounts.${m.key}`, "every member needs at least one signing account");
    calls.push(i.encodeFunctionData("admitMember", [id, m.jurisdiction, accounts]));
    for (const r of m.roles ?? []) {
      if (r === "REVOCATION_AUTHORITY") calls.push(i.encodeFunctionData("grantRevocationAuthority", [id, m.jurisdiction]));
      else calls.push(i.encodeFunctionData("grantRole", [id, ROLE_INDEX[r]!]));
    }
    for (const e of m.entitlements ?? []) {
      calls.push(i.encodeFunctionData("grantEntitlement", [id, encodeBytes32String(e.type), e.jurisdiction]));
    }
    const p = opts.peers?.[m.key];
    if (p) calls.push(i.encodeFunctionData("setPeers", [id, p.peerIds, p.multiaddrs]));
  }
  calls.push(i.encodeFunctionData("setThreshold", [spec.governance.threshold]));
  return calls;
}

/**
 * Deploy TongbanLedger from `admin` (the bootstrap admin), bootstrap `spec`, and deploy the Authorisations
 * and DataCatalogue contracts bound to the ledger.
 * @example const { ledgerAddress } = await deployConsortium(adminWallet, loadConsortiumSpec("config/local-consortium.json"), { accounts })
 */
export async function deployConsortium(admin: Signer, spec: ConsortiumSpec, opts: DeployOptions): Promise<DeployedConsortium> {
  const calls = bootstrapCalls(spec, opts);
  const ledger = await new contracts.TongbanLedger__factory(admin).deploy();
  const deployReceipt = await ledger.deploymentTransaction()!.wait();
  const tx = await ledger.bootstrapBatch(calls);
  await tx.wait();
  if (!opts.keepBootstrapOpen) await (await ledger.closeBootstrap()).wait();
  const ledgerAddress = await ledger.getAddress();
  const authorisations = await new contracts.Authorisations__factory(admin).deploy(ledgerAddress);
  await authorisations.waitForDeployment();
  const catalogue = await new contracts.DataCatalogue__factory(admin).deploy(ledgerAddress);
  await catalogue.waitForDeployment();
  const network = await admin.provider!.getNetwork();
  return {
    ledgerAddress,
    authorisationsAddress: await authorisations.getAddress(),
    catalogueAddress: await catalogue.getAddress(),
    deployBlock: deployReceipt!.blockNumber,
    chainId: network.chainId,
    bootstrapTx: tx.hash,
  };
}
