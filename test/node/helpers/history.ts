/**
 * Assertions on the audit history the node's API answers (`GET /v1/audit/history/...`): a record's stored
 * encoding hashes to its leaf hash, the head the node signed is the one anchored on chain, its inclusion proof
 * verifies against that on-chain root, and the same proof with its first node zeroed does not.
 */
import { expect } from "chai";
import { bytesToHex, logLeafHash, verifyInclusion } from "@tongban/sdk";

/** One record of a history answer (the fields the proof check reads). */
export interface ProvenRecord {
  encoded: string;
  leafHash: string;
  treeSize: number;
  proof: string[];
  record: { seq: number };
}

/** Expect `rec` of the history answer `body` to be proven against the head anchored on chain (and a tampered proof not). */
export function expectProvenOnChain(body: { chainHead: { rootHash: string }; anchoredHead: { root: string } }, rec: ProvenRecord): void {
  expect(bytesToHex(logLeafHash(Buffer.from(rec.encoded.slice(2), "hex")))).to.equal(rec.leafHash);
  expect(body.chainHead.rootHash).to.equal(body.anchoredHead.root);
  expect(verifyInclusion(rec.leafHash, rec.record.seq, rec.treeSize, rec.proof, body.chainHead.rootHash).status).to.equal("VALID");
  // a tampered proof does not verify
  const bad = [...rec.proof];
  if (bad.length) {
    bad[0] = "0x" + "00".repeat(32);
    expect(verifyInclusion(rec.leafHash, rec.record.seq, rec.treeSize, bad, body.chainHead.rootHash).status).to.not.equal("VALID");
  }
}
