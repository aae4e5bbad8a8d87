/**
 * Data uses under an application scenario (decision 5). A data use goes to the same tamper-evident use log
 * as material uses (sdk/src/audit: RFC 6962 log of 235-byte use records, version 1). A data use is a record
 * with basis SCENARIO (code 2; formerly named SHARING_APPROVAL, same bytes); it maps onto the record field by
 * field, with no new layout:
 *
 *   use record field   data use
 *   basis              SCENARIO (2)
 *   grantId            scenarioId       (the application scenario whose draw/approval the use relies on)
 *   typeCode           resourceCode     (the catalogue resource)
 *   requester          consumer         (member id of the scenario's consumer)
 *   custodian          provider         (member id of the resource's one provider)
 *   matter             matter           (事项 code, bytes32)
 *   leaf               queryHash        (hash of what was asked/served: request parameters, result digest)
 *   requestId, time, direction as for a material use: the consumer logs RECEIVED, the provider SERVED.
 *
 * Per-grant counts sent with anchored heads cover GRANT records only; scenario uses are audited through the
 * log (inclusion proofs against signed / anchored heads) and its scenario, resource, member and matter indexes.
 */
import { encodeUseRecord, decodeUseRecord, useRecordLeafHash, type UseRecord, type UseDirectionName } from "../audit/record.js";
import { CatalogueInputError, catalogueCode } from "./codes.js";
import { isBytes32 } from "../bytes.js";

/** One use of a catalogue resource under a scenario. bytes32 fields are 0x-hex (codes may be given as text). */
export interface DataUse {
  direction: UseDirectionName;
  /** unix seconds, the provider's judgement time */
  time: bigint;
  requestId: string;
  scenarioId: string;
  resourceCode: string;
  consumer: string;
  provider: string;
  matter: string;
  /** digest of the query and/or served result */
  queryHash: string;
}

function b32(v: string, field: string): string {
  if (isBytes32(v)) return v.toLowerCase();
  if (field === "scenarioId" || field === "resourceCode" || field === "matter") return catalogueCode(v, field);
  throw new CatalogueInputError(`${field} must be a bytes32`, { field, value: v });
}

/**
 * The audit use record of a data use (see the mapping above).
 * @example appendToUseLog(encodeUseRecord(dataUseToUseRecord(use)))
 */
export function dataUseToUseRecord(u: DataUse): UseRecord {
  return {
    direction: u.direction, basis: "SCENARIO", time: BigInt(u.time), requestId: b32(u.requestId, "requestId"),
    grantId: b32(u.scenarioId, "scenarioId"), matter: b32(u.matter, "matter"), requester: b32(u.consumer, "consumer"),
    custodian: b32(u.provider, "provider"), typeCode: b32(u.resourceCode, "resourceCode"), leaf: b32(u.queryHash, "queryHash"),
  };
}

/**
 * The data use a SCENARIO use record stands for; throws for a GRANT (material) record.
 * @example useRecordToDataUse(decodeUseRecord(bytes)).scenarioId
 */
export function useRecordToDataUse(r: UseRecord): DataUse {
  if (r.basis !== "SCENARIO" && r.basis !== "SHARING_APPROVAL") throw new CatalogueInputError("not a data-use record (basis must be SCENARIO)", { field: "basis", value: r.basis });
  return {
    direction: r.direction, time: r.time, requestId: r.requestId, scenarioId: r.grantId, resourceCode: r.typeCode,
    consumer: r.requester, provider: r.custodian, matter: r.matter, queryHash: r.leaf,
  };
}

/**
 * Canonical 235 bytes of a data use (the audit use-record encoding).
 * @example encodeDataUse(use).length // => 235
 */
export function encodeDataUse(u: DataUse): Uint8Array {
  return encodeUseRecord(dataUseToUseRecord(u));
}

/**
 * Decodes canonical bytes into a data use.
 * @example decodeDataUse(encodeDataUse(use)).resourceCode
 */
export function decodeDataUse(bytes: Uint8Array): DataUse {
  return useRecordToDataUse(decodeUseRecord(bytes));
}

/**
 * Leaf hash of a data use in the use log: SHA-256(0x00 || record).
 * @example bytesToHex(dataUseLeafHash(use))
 */
export function dataUseLeafHash(u: DataUse): Uint8Array {
  return useRecordLeafHash(dataUseToUseRecord(u));
}
