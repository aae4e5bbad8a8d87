import { encodeBytes32String, ZeroHash, Wallet } from "ethers";
import {
  buildMerkleTree, computeLeaf, hashContent, HashAlg, buildBundle, computeHolderRef, type MaterialHeader, type ProofBundle,
} from "../../../sdk/src/index.js";

export const CONSORTIUM_KEY = "0x" + "11".repeat(32);
export const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
export const ISSUER_USCC = "11310115002418321F";
export const T0 = 1767225600n; // 2026-01-01

/** A header for `content`, issued by the Pudong department to a resident. */
export function headerFor(content: Uint8Array | string, over: Partial<MaterialHeader> = {}): MaterialHeader {
  const hashAlg = over.hashAlg ?? HashAlg.SHA256;
  return {
    typeCode: encodeBytes32String("BL-310115-001"),
    issuer: encodeBytes32String(ISSUER_USCC),
    holderRef: computeHolderRef({ idType: "RESIDENT_ID", idNumber: "31010419900307123X" }, CONSORTIUM_KEY),
    contentHash: hashContent(content, hashAlg),
    hashAlg,
    issuedAt: T0, validFrom: T0, validUntil: T0 + 86400n * 365n * 5n, version: 1, supersedes: ZeroHash,
    ...over,
  };
}

/** A batch of `n` materials; returns the bundle of material `index` and its content. */
export function batchBundle(opts: { n?: number; index?: number; hashAlg?: number; chainId?: bigint; blockNumber?: bigint; contract?: string; header?: Partial<MaterialHeader> } = {}): { bundle: ProofBundle; content: Uint8Array; headers: MaterialHeader[] } {
  const n = opts.n ?? 5, index = opts.index ?? 2;
  const contents = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`e-licence #${i} content`));
  const headers = contents.map((c, i) => headerFor(c, { hashAlg: opts.hashAlg ?? HashAlg.SHA256, ...(i === index ? opts.header : {}) }));
  const tree = buildMerkleTree(headers.map(computeLeaf));
  const bundle = buildBundle({
    header: headers[index]!, proof: tree.getProof(index), root: tree.root,
    chainId: opts.chainId ?? 31337n, contract: opts.contract ?? LEDGER, blockNumber: opts.blockNumber ?? 7n,
  });
  return { bundle, content: contents[index]!, headers };
}

export const ISSUER_KEY = Wallet.createRandom().privateKey;
