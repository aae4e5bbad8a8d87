import { encodeBytes32String, type Signer } from "ethers";
import { TongbanLedger__factory } from "../../../sdk/src/contracts/types/factories/contracts/TongbanLedger__factory.js";
import type { TongbanLedger } from "../../../sdk/src/contracts/types/contracts/TongbanLedger.js";
import {
  buildMerkleTree, computeLeaf, buildBundle, type MaterialHeader, type ProofBundle,
} from "../../../sdk/src/index.js";
import type { LocalChain } from "./hardhat-node.js";

export const DEPT = encodeBytes32String("11310115002418321F"); // Pudong department (issuer)
export const COMPANY = encodeBytes32String("91310104MA1K000018"); // a second member
export const TYPE = encodeBytes32String("BL-310115-001");
export const OTHER_TYPE = encodeBytes32String("PERMIT-310104-002");

/** Deploys TongbanLedger (signer 0 = bootstrap admin) and sets up: DEPT (signer 1) entitled for TYPE in 310115,
 * COMPANY (signer 2) entitled for OTHER_TYPE in 310104. */
export async function deployLedger(chain: LocalChain): Promise<{ ledger: TongbanLedger; address: string; chainId: bigint }> {
  const admin = chain.signer(0);
  const ledger = await new TongbanLedger__factory(admin as unknown as Signer).deploy();
  await ledger.waitForDeployment();
  const calls: [string, unknown[]][] = [
    ["registerJurisdiction", [310000, 0]],
    ["registerJurisdiction", [310115, 310000]],
    ["registerJurisdiction", [310104, 310000]],
    ["registerMaterialType", [TYPE]],
    ["registerMaterialType", [OTHER_TYPE]],
    ["admitMember", [DEPT, 310115, [await chain.signer(1).getAddress()]]],
    ["admitMember", [COMPANY, 310104, [await chain.signer(2).getAddress()]]],
    ["grantEntitlement", [DEPT, TYPE, 310115]],
    ["grantEntitlement", [COMPANY, OTHER_TYPE, 310104]],
  ];
  for (const [fn, args] of calls) {
    const tx = await (ledger as unknown as Record<string, (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>>)[fn]!(...args);
    await tx.wait();
  }
  const chainId = (await chain.provider.getNetwork()).chainId;
  return { ledger, address: await ledger.getAddress(), chainId };
}

/** Anchors `headers` as one batch from signer `who`; returns a bundle per header. */
export async function anchorBatch(
  chain: LocalChain, ledger: TongbanLedger, who: number, headers: MaterialHeader[], typeCode = TYPE, jurisdiction = 310115,
): Promise<ProofBundle[]> {
  const tree = buildMerkleTree(headers.map(computeLeaf));
  const tx = await ledger.connect(chain.signer(who) as unknown as Signer).anchor(tree.root, typeCode, jurisdiction, headers.length);
  const receipt = (await tx.wait())!;
  const { chainId } = await chain.provider.getNetwork();
  return headers.map((header, i) => buildBundle({
    header, proof: tree.getProof(i), root: tree.root, chainId, contract: receipt.to!, blockNumber: receipt.blockNumber, txHash: receipt.hash,
  }));
}
