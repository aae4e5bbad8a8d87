/**
 * The proof bundle of an anchored material. Uses the SDK's bundle format when the SDK provides it
 * (`buildBundle`); until then, the same facts in a versioned object.
 */
import type { MaterialRecord } from "./types.js";

export function buildMaterialBundle(rec: MaterialRecord): unknown {
  const a = rec.anchor!;
  return {
    version: 1,
    header: rec.header,
    leaf: rec.id,
    proof: a.proof,
    root: a.root,
    chainId: a.chainId,
    contract: a.contract,
    anchorBlock: a.blockNumber,
    anchorTx: a.txHash,
  };
}
