/**
 * JSON schemas of the HTTP API. The SAME objects validate requests (Fastify's ajv) and describe them in the
 * OpenAPI 3.1 document (@fastify/swagger), so the document cannot drift from what the server enforces.
 * Shared schemas are registered with `app.addSchema` under their `$id` and referenced as `{ $ref: "Id#" }`;
 * they appear in the document as `components.schemas.<Id>`.
 */

export const HEX32 = "^0x[0-9a-fA-F]{64}$";

const hex32 = (description: string) => ({ type: "string", pattern: HEX32, description }) as const;
/** unix seconds up to 9999-12-31T23:59:59Z (JSON numbers past 2^53 are not exact anyway) */
const unixSeconds = (description: string) => ({ type: "integer", minimum: 0, maximum: 253402300799, description }) as const;

/** `{code, message, details}`: every error the API answers. */
export const ErrorSchema = {
  $id: "Error",
  type: "object",
  required: ["code", "message", "details"],
  properties: {
    code: {
      type: "string",
      description:
        "stable error code: MALFORMED_JSON, VALIDATION, BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNAUTHORIZED, NOT_FOUND, " +
        "NOT_ENTITLED, INVALID_ID, UNKNOWN_TYPE, CONFLICT, NOT_ANCHORED, NO_CONTENT, UNAVAILABLE, NOT_RUNNING, INTERNAL",
    },
    message: { type: "string" },
    details: { type: "object", additionalProperties: true, description: "names the record concerned (id, index, path...)" },
  },
} as const;

export const HolderIdSchema = {
  $id: "HolderId",
  type: "object",
  description: "a holder in clear; the node turns it into a keyed holderRef and does not keep it",
  required: ["idType", "idNumber"],
  additionalProperties: false,
  properties: {
    idType: { type: "string", minLength: 1, maxLength: 32, description: 'e.g. "RESIDENT_ID" (GB 11643) or "USCC" (GB 32100)' },
    idNumber: { type: "string", minLength: 1, maxLength: 64 },
  },
} as const;

/** One material to register (the core's RegisterRequest, content as base64). */
export const RegisterRequestSchema = {
  $id: "RegisterRequest",
  type: "object",
  description:
    "One material. Give `content` (base64; the node hashes and stores it encrypted) or `contentHash`; " +
    "give `holder` (in clear) or `holderRef`.",
  required: ["typeCode", "jurisdiction", "validFrom"],
  additionalProperties: false,
  properties: {
    typeCode: { type: "string", minLength: 1, maxLength: 31, pattern: "^[\\x21-\\x7e]+$", description: "catalogue code, e.g. BIZ_LICENCE" },
    jurisdiction: { type: "integer", minimum: 100000, maximum: 999999, description: "GB/T 2260 division code, e.g. 310104" },
    // no maxLength: ajv counts a string's length character by character (unicode pairs), ~1.5 µs per 600-byte
    // document and item; the size is bounded by the body limit and the node's maxContentBytes (400 VALIDATION)
    content: { type: "string", contentEncoding: "base64", description: "document bytes, base64; at most the node's maxContentBytes (default 32 MiB) decoded" },
    contentHash: hex32("hash of the content under hashAlg, when the node does not receive the content"),
    hashAlg: { type: "integer", enum: [1, 2], description: "1 = SHA-256 (default), 2 = SM3" },
    holder: { $ref: "HolderId#" },
    holderRef: hex32("keyed holder reference"),
    issuedAt: unixSeconds("unix seconds; default now"),
    validFrom: unixSeconds("unix seconds"),
    validUntil: unixSeconds("unix seconds; 0 or absent = no end"),
    version: { type: "integer", minimum: 1, maximum: 4294967295 },
    supersedes: hex32("leaf of the material this one replaces"),
  },
} as const;

export const RegisterAckSchema = {
  $id: "RegisterAck",
  type: "object",
  required: ["id", "state", "duplicate", "acceptedAt"],
  properties: {
    id: hex32("material id = leaf"),
    state: { type: "string", enum: ["pending", "anchoring", "anchored", "failed"] },
    duplicate: { type: "boolean" },
    acceptedAt: { type: "integer", description: "ms since epoch" },
  },
} as const;

export const StatusOpSchema = {
  $id: "StatusOp",
  type: "object",
  required: ["opId", "kind", "leaf", "reason", "state", "createdAt"],
  properties: {
    opId: { type: "string" },
    kind: { type: "string", enum: ["revoke", "suspend", "reinstate", "supersede"] },
    leaf: hex32("material id"),
    reason: { type: "integer" },
    newLeaf: hex32("successor, for supersede"),
    state: { type: "string", enum: ["pending", "sent", "done", "failed"] },
    createdAt: { type: "integer" },
    txHash: { type: "string" },
    blockNumber: { type: "integer" },
    error: { type: "object", additionalProperties: true },
  },
} as const;

/** What the indexer knows about a material from the chain (null parts when unknown). */
export const ChainStateSchema = {
  $id: "ChainState",
  type: "object",
  description: "the indexer's view of the material on chain, at its confirmed cursor",
  properties: {
    anchored: { type: "boolean" },
    root: { type: ["string", "null"] },
    anchoredBlock: { type: ["integer", "null"] },
    anchoredAt: { type: ["integer", "null"] },
    issuer: { type: ["string", "null"] },
    status: { type: "string", enum: ["active", "suspended", "revoked"] },
    reason: { type: "integer" },
    statusBy: { type: ["string", "null"] },
    statusBlock: { type: ["integer", "null"] },
    supersededBy: { type: ["string", "null"] },
    supersedes: { type: ["string", "null"] },
  },
  additionalProperties: true,
} as const;

export const MaterialSchema = {
  $id: "Material",
  type: "object",
  required: ["id", "state", "status"],
  description: "the node's record of a material, with the indexer's chain view in `chain`",
  additionalProperties: true,
  properties: {
    id: hex32("material id = leaf"),
    type: { type: "string" },
    jurisdiction: { type: "integer" },
    header: { type: "object", additionalProperties: true },
    state: { type: "string", enum: ["pending", "anchoring", "anchored", "failed", "unknown"] },
    status: { type: "string", enum: ["active", "suspended", "revoked"] },
    statusReason: { type: "integer" },
    supersededBy: { type: "string" },
    hasContent: { type: "boolean" },
    acceptedAt: { type: "integer" },
    batchId: { type: "string" },
    anchor: { type: "object", additionalProperties: true },
    error: { type: "object", additionalProperties: true },
    chain: { anyOf: [{ $ref: "ChainState#" }, { type: "null" }] },
  },
} as const;

export const HistoryEntrySchema = {
  $id: "HistoryEntry",
  type: "object",
  additionalProperties: true,
  required: ["event", "blockNumber", "logIndex", "txHash"],
  properties: {
    event: { type: "string", description: "Anchored, MaterialRevoked, MaterialSuspended, MaterialReinstated, MaterialSuperseded" },
    blockNumber: { type: "integer" },
    blockHash: { type: "string" },
    logIndex: { type: "integer" },
    txHash: { type: "string" },
    timestamp: { type: "integer" },
    args: { type: "object", additionalProperties: true },
  },
} as const;

export const SHARED_SCHEMAS = [
  ErrorSchema,
  HolderIdSchema,
  RegisterRequestSchema,
  RegisterAckSchema,
  StatusOpSchema,
  ChainStateSchema,
  MaterialSchema,
  HistoryEntrySchema,
] as const;

export const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: hex32("material id (leaf)") },
} as const;

export const reasonBody = {
  type: "object",
  additionalProperties: false,
  properties: { reason: { type: "integer", minimum: 0, maximum: 65535, description: "uint16 reason code; default 0" } },
} as const;

export const bulkBody = {
  type: "object",
  required: ["materials"],
  additionalProperties: false,
  properties: {
    materials: { type: "array", minItems: 1, maxItems: 100000, items: { $ref: "RegisterRequest#" } },
  },
} as const;

export const queryMaterialsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    holderRef: hex32("keyed holder reference"),
    issuer: { type: "string", description: "issuer: 18-character USCC or bytes32 member id", pattern: "^([0-9A-HJ-NPQRTUWXY]{18}|0x[0-9a-fA-F]{64})$" },
    type: { type: "string", minLength: 1, maxLength: 66, description: "catalogue code or its bytes32" },
    from: unixSeconds("issuedAt >= from (unix seconds)"),
    to: unixSeconds("issuedAt <= to (unix seconds)"),
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
    after: { type: "string", maxLength: 200, description: "pagination cursor from the previous page's `next`" },
  },
} as const;

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { $ref: "Error#", description: `error (${s})` }]));
