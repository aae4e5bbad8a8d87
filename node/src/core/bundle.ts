/**
 * The proof bundle of an anchored material, in the SDK's format (`buildBundle`, `tongban/proof-bundle@1`),
 * sealed by this node's signing account (EIP-712 over the leaf, `signLeafEip712`), so a verifier can also
 * check that an account of the issuing member signed it. `bundleFromRecord` is the one place that maps a
 * record (header + anchor) to the SDK's bundle; the API's `bundleOf` (api/bundle.ts) uses it too.
 */
import { buildBundle, headerFromJson, signLeafEip712, type ProofBundle, type Seal } from "@tongban/sdk";
import type { MaterialRecord } from "./types.js";

/**
 * The SDK bundle of an anchored record: its header and anchor (proof, root, chain, contract, block, tx), with
 * `seal` if given. Throws (from `buildBundle`) if the proof does not lead to the root; the record must be anchored.
 */
export function bundleFromRecord(rec: MaterialRecord, seal?: Seal): ProofBundle {
  const a = rec.anchor!;
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

export async function buildMaterialBundle(rec: MaterialRecord, sealKey?: string): Promise<ProofBundle> {
  const a = rec.anchor!;
  const seal = sealKey ? await signLeafEip712(rec.id, sealKey, { chainId: a.chainId, ledger: a.contract }) : undefined;
  return bundleFromRecord(rec, seal);
}
