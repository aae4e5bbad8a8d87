/**
 * The proof bundle of an anchored material, in the SDK's format (`buildBundle`, `tongban/proof-bundle@1`),
 * sealed by this node's signing account (EIP-712 over the leaf, `signLeafEip712`), so a verifier can also
 * check that an account of the issuing member signed it.
 */
import { buildBundle, headerFromJson, signLeafEip712, type ProofBundle } from "@tongban/sdk";
import type { MaterialRecord } from "./types.js";

export async function buildMaterialBundle(rec: MaterialRecord, sealKey?: string): Promise<ProofBundle> {
  const a = rec.anchor!;
  const seal = sealKey ? await signLeafEip712(rec.id, sealKey, { chainId: a.chainId, ledger: a.contract }) : undefined;
  return buildBundle({
    header: headerFromJson(rec.header),
    proof: a.proof,
    root: a.root,
    chainId: a.chainId,
    contract: a.contract,
    blockNumber: a.blockNumber,
    txHash: a.txHash,
    seal,
  });
}
