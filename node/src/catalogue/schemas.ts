/**
 * JSON Schemas (draft 2020-12 compatible, as Fastify/ajv and OpenAPI 3.1 take them) of the catalogue's
 * inputs, for the HTTP API (`/v1/catalogue/...`, see ./routes.ts). Codes are catalogue codes as text
 * (1..31 printable ASCII) or bytes32 hex.
 */
const code = { type: "string", pattern: "^([\\x21-\\x7e]{1,31}|0x[0-9a-fA-F]{64})$" } as const;
const member = { type: "string", pattern: "^(0x[0-9a-fA-F]{64}|[0-9A-HJ-NPQRTUWXY]{18})$" } as const;
const text = { type: "string", minLength: 1, maxLength: 65536 } as const;
const bytes32 = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } as const;

export const catalogueFieldSchema = {
  $id: "CatalogueField",
  type: "object",
  additionalProperties: false,
  required: ["name", "label", "type", "required"],
  properties: {
    name: { type: "string", pattern: "^[A-Za-z][A-Za-z0-9_]{0,63}$" },
    label: { type: "string", minLength: 1, maxLength: 1000 },
    type: { enum: ["string", "integer", "decimal", "boolean", "date", "datetime", "binary"] },
    required: { type: "boolean" },
    length: { type: "integer", minimum: 1 },
    dataItem: { type: "string", pattern: "^[\\x21-\\x7e]{1,31}$" },
    description: { type: "string", maxLength: 10000 },
  },
} as const;

export const catalogueEntrySchema = {
  $id: "CatalogueEntryDoc",
  type: "object",
  additionalProperties: false,
  required: ["resourceCode", "title", "description", "fields", "standard", "grade", "level", "sharing", "open", "updateCycle", "duty", "system"],
  properties: {
    resourceCode: code,
    title: text,
    description: text,
    fields: { type: "array", minItems: 1, maxItems: 2000, items: catalogueFieldSchema },
    standard: {
      type: "object",
      additionalProperties: false,
      required: ["version"],
      properties: { text, hash: bytes32, version: { type: "integer", minimum: 0, maximum: 4294967295 } },
    },
    grade: { enum: ["GENERAL", "IMPORTANT", "CORE"] },
    level: { type: "integer", minimum: 1, maximum: 4 },
    sharing: { enum: ["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"] },
    open: { enum: ["OPEN", "CONDITIONAL", "NOT_OPEN"] },
    updateCycle: { enum: ["REAL_TIME", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "IRREGULAR"] },
    duty: code,
    system: code,
    uri: { type: "string", maxLength: 256 },
    dataItems: { type: "array", maxItems: 32, uniqueItems: true, items: code },
  },
} as const;

export const catalogueSearchSchema = {
  $id: "CatalogueSearch",
  type: "object",
  additionalProperties: false,
  properties: {
    provider: member,
    grade: { enum: ["GENERAL", "IMPORTANT", "CORE"] },
    sharing: { enum: ["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"] },
    open: { enum: ["OPEN", "CONDITIONAL", "NOT_OPEN"] },
    duty: code,
    system: code,
    status: { enum: ["ACTIVE", "WITHDRAWN", "ANY"] },
    text: { type: "string", minLength: 1, maxLength: 200 },
    limit: { type: "integer", minimum: 1, maximum: 1000 },
  },
} as const;

export const codeDescriptionSchema = {
  $id: "CatalogueCodeDescription",
  type: "object",
  additionalProperties: false,
  required: ["code", "description"],
  properties: { code, description: text },
} as const;

export const scenarioSchema = {
  $id: "CatalogueScenario",
  type: "object",
  additionalProperties: false,
  required: ["scenarioId", "purpose", "legalBasis", "resources"],
  properties: { scenarioId: code, purpose: text, legalBasis: text, resources: { type: "array", maxItems: 64, uniqueItems: true, items: code } },
} as const;

export const approveSchema = {
  $id: "CatalogueApproval",
  type: "object",
  additionalProperties: false,
  required: ["expiresAt"],
  properties: { expiresAt: { type: "integer", minimum: 1, description: "unix seconds" } },
} as const;

export const reasonSchema = {
  $id: "CatalogueReason",
  type: "object",
  additionalProperties: false,
  required: ["reason"],
  properties: { reason: text },
} as const;

export const correctionSchema = {
  $id: "CatalogueCorrection",
  type: "object",
  additionalProperties: false,
  required: ["grade", "level", "sharing", "open", "reason"],
  properties: {
    grade: { enum: ["GENERAL", "IMPORTANT", "CORE"] },
    level: { type: "integer", minimum: 1, maximum: 4 },
    sharing: { enum: ["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"] },
    open: { enum: ["OPEN", "CONDITIONAL", "NOT_OPEN"] },
    reason: text,
  },
} as const;

export const publishVersionSchema = {
  $id: "CataloguePublishVersion",
  type: "object",
  additionalProperties: false,
  required: ["version"],
  properties: { version: { type: "integer", minimum: 1, maximum: 4294967295 } },
} as const;

export const importTextsSchema = {
  $id: "CatalogueTexts",
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: { title: text, description: text, fields: { type: "array", minItems: 1, maxItems: 2000, items: catalogueFieldSchema } },
} as const;

export const codeParams = { type: "object", required: ["code"], properties: { code } } as const;
export const useParams = { type: "object", required: ["scenarioId", "code"], properties: { scenarioId: code, code } } as const;

/** POST /uses: a data use under a scenario, recorded in this member's use log (basis SCENARIO). */
export const dataUseSchema = {
  $id: "CatalogueDataUse",
  type: "object",
  additionalProperties: false,
  required: ["scenarioId", "resourceCode", "matter", "queryHash"],
  properties: {
    scenarioId: code,
    resourceCode: code,
    matter: code,
    queryHash: bytes32,
    requestId: bytes32,
    consumer: member,
  },
} as const;

/** GET /uses: data-use history of this node's log by scenario, resource, member or matter. */
export const dataUseQuerySchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    scenario: code,
    resource: code,
    member,
    matter: code,
    from: { type: "integer", minimum: 0 },
    to: { type: "integer", minimum: 0 },
    limit: { type: "integer", minimum: 1, maximum: 10000 },
  },
} as const;

/** Every input schema, by name (for mounting and for the OpenAPI document). */
export const CATALOGUE_SCHEMAS = {
  CatalogueField: catalogueFieldSchema,
  CatalogueEntryDoc: catalogueEntrySchema,
  CatalogueSearch: catalogueSearchSchema,
  CatalogueCodeDescription: codeDescriptionSchema,
  CatalogueScenario: scenarioSchema,
  CatalogueDataUse: dataUseSchema,
  CatalogueApproval: approveSchema,
  CatalogueReason: reasonSchema,
  CataloguePublishVersion: publishVersionSchema,
  CatalogueCorrection: correctionSchema,
  CatalogueTexts: importTextsSchema,
} as const;
