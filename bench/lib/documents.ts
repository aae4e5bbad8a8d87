/**
 * The same synthetic e-materials for every system: a business-licence record (about 430 bytes of JSON).
 *  - ours: the record's JSON bytes are the content; the SDK hashes them (SHA-256) into a material header.
 *  - OpenAttestation: the record is the body of an OA v2 document (plus `$template` and `issuers`).
 */
import { ZeroHash } from "ethers";
import {
  computeHolderRef, hashContent, HashAlg, memberIdFromUscc, typeCodeToBytes32, type MaterialHeader,
} from "../../sdk/src/index.js";

export const ISSUER_USCC = "11310115002418321F"; // Pudong market-supervision bureau (valid GB 32100)
export const TYPE = "BL";
export const JURISDICTION = 310115;
export const CONSORTIUM_KEY = "0x" + "5a".repeat(32);
export const T0 = 1767225600; // 2026-01-01T00:00:00Z

export interface LicenceRecord {
  id: string;
  licenceNo: string;
  companyName: string;
  registrationNo: string;
  legalRepresentative: string;
  address: string;
  businessScope: string;
  registeredCapital: string;
  issuedOn: string;
  validUntil: string;
}

/** n licence records; `seed` makes different batches differ. */
export function licenceRecords(n: number, seed = 0): LicenceRecord[] {
  const out: LicenceRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = seed * 1_000_000 + i;
    out[i] = {
      id: `BL-310115-${String(k).padStart(9, "0")}`,
      licenceNo: `310115${String(100_000_000 + k)}`,
      companyName: `Shanghai Pudong Example Trading Co., Ltd. No. ${k}`,
      registrationNo: `REG${String(k).padStart(12, "0")}`,
      legalRepresentative: `Zhang San ${k % 9973}`,
      address: `${(k % 2000) + 1} Century Avenue, Pudong New Area, Shanghai`,
      businessScope: "Wholesale and retail of food; import and export of goods and technology",
      registeredCapital: `${(k % 500) + 1}0000 CNY`,
      issuedOn: "2026-01-01",
      validUntil: "2031-01-01",
    };
  }
  return out;
}

/** The content bytes of a record (what a department would hold as the e-material file). */
export const contentOf = (r: LicenceRecord): Uint8Array => new TextEncoder().encode(JSON.stringify(r));

/** Our material header for a record: SHA-256 content hash, keyed holder reference, 5-year validity. */
export function headerOf(r: LicenceRecord, content: Uint8Array = contentOf(r)): MaterialHeader {
  return {
    typeCode: typeCodeToBytes32(TYPE),
    issuer: memberIdFromUscc(ISSUER_USCC),
    holderRef: computeHolderRef({ idType: "BIZ_REG_NO", idNumber: r.registrationNo }, CONSORTIUM_KEY),
    contentHash: hashContent(content, HashAlg.SHA256),
    hashAlg: HashAlg.SHA256,
    issuedAt: BigInt(T0),
    validFrom: BigInt(T0),
    validUntil: BigInt(T0 + 5 * 365 * 86400),
    version: 1,
    supersedes: ZeroHash,
  };
}

/** The OpenAttestation v2 raw document of a record, issued through a DocumentStore at `documentStore`. */
export function oaDocumentOf(r: LicenceRecord, documentStore: string) {
  return {
    $template: { name: "BUSINESS_LICENCE", type: "EMBEDDED_RENDERER", url: "https://renderer.example.gov.cn" },
    issuers: [
      {
        name: "Pudong New Area Market Supervision Bureau",
        documentStore,
        identityProof: { type: "DNS-TXT", location: "scjgj.pudong.example.gov.cn" },
      },
    ],
    ...r,
  };
}
