/**
 * The data catalogue through a member node's HTTP API (`/v1/catalogue/...`, node/src/catalogue/routes.ts),
 * with the same {@link NodeClient} as the material API (sdk/src/node-client). A node answer
 * `{code, message, details}` becomes a {@link NodeApiError} of that code: a refused data use carries the
 * `canUse` reason as its code (APPROVAL_EXPIRED, RESOURCE_NOT_SHARED, ...), a contract revert its error name
 * in `details.details.error`.
 *
 * @example
 *   const c = createNodeClient({ url, token });
 *   await publishCatalogueEntry(c, doc);
 *   const { entries } = await searchCatalogue(c, { sharing: "CONDITIONAL", text: "营业执照" });
 *   const use = await recordCatalogueUse(c, { scenarioId: "SCN-OPEN-SHOP", resourceCode: "R310115-0001", matter: "M-42", queryHash });
 */
import { NodeTransportError, nodeApiError } from "../node-client/errors.js";
import type { NodeClient } from "../node-client/index.js";
import type { CatalogueEntryDoc } from "./entry.js";
import type { CatalogueField } from "./hash.js";
import type { DataGradeName, DrawStatusName, OpenTypeName, SharingTypeName, UseReasonName } from "./codes.js";

/** Every route these functions call: [method, OpenAPI path]. */
export const CATALOGUE_HTTP_ROUTES = [
  ["get", "/v1/catalogue/entries"],
  ["get", "/v1/catalogue/entries/{code}"],
  ["post", "/v1/catalogue/entries"],
  ["post", "/v1/catalogue/entries/{code}/withdraw"],
  ["post", "/v1/catalogue/entries/{code}/publish"],
  ["post", "/v1/catalogue/duties"],
  ["post", "/v1/catalogue/systems"],
  ["post", "/v1/catalogue/scenarios"],
  ["get", "/v1/catalogue/scenarios/{code}"],
  ["get", "/v1/catalogue/requests"],
  ["post", "/v1/catalogue/scenarios/{scenarioId}/resources/{code}/approve"],
  ["post", "/v1/catalogue/scenarios/{scenarioId}/resources/{code}/deny"],
  ["get", "/v1/catalogue/scenarios/{scenarioId}/resources/{code}/can-use"],
  ["post", "/v1/catalogue/uses"],
  ["get", "/v1/catalogue/uses"],
] as const;

/** A transaction the node sent. */
export interface CatalogueTxReceipt {
  txHash: string;
  blockNumber: number;
  gasUsed: number;
}

/** An indexed entry as the node serves it (with the texts it holds). */
export interface CatalogueEntryView {
  resourceCode: string;
  code: string;
  provider: string;
  version: number;
  publishedVersion: number;
  status: "ACTIVE" | "WITHDRAWN";
  pending: boolean;
  grade: DataGradeName;
  level: number;
  sharing: SharingTypeName;
  open: OpenTypeName;
  dutyCode: string;
  systemCode: string;
  uri: string;
  dataItems: string[];
  versionHash: string;
  title?: string;
  description?: string;
  fields?: CatalogueField[];
  [k: string]: unknown;
}

/** Catalogue search filters (GET /v1/catalogue/entries); the node's CatalogueService takes the same type. */
export interface CatalogueSearchQuery {
  provider?: string;
  grade?: DataGradeName;
  sharing?: SharingTypeName;
  open?: OpenTypeName;
  /** duty code (with `provider`, or any provider's duty of that code) */
  duty?: string;
  system?: string;
  /** default ACTIVE */
  status?: "ACTIVE" | "WITHDRAWN" | "ANY";
  /** case-insensitive substring of the title or description (texts the node holds) */
  text?: string;
  /** default 100, max 1,000 */
  limit?: number;
}

export interface CatalogueScenarioView {
  scenarioId: string;
  consumer: string;
  purposeHash: string;
  legalBasisHash: string;
  closed: boolean;
  draws: Record<string, { provider: string; needsApproval: boolean; status: DrawStatusName; expiresAt: number }>;
}

/** A data use to record under a scenario (codes as text or bytes32). */
export interface CatalogueUseInput {
  scenarioId: string;
  resourceCode: string;
  matter: string;
  /** bytes32 digest of the query / served result */
  queryHash: string;
  requestId?: string;
  consumer?: string;
}

/** The record the node appended to its use log. */
export interface CatalogueUseAck {
  seq: number;
  leafHash: string;
  direction: "SERVED" | "RECEIVED";
  record: { direction: string; basis: "SCENARIO"; time: number; requestId: string; grantId: string; matter: string; requester: string; custodian: string; typeCode: string; leaf: string };
}

/** Data uses of the node's log with their proofs (UseLog.history shape). */
export interface CatalogueUseHistory {
  records: { record: { seq: number; basis: string; direction: string; time: number; grantId: string; typeCode: string; requester: string; custodian: string; matter: string; leaf: string; requestId: string }; leafHash: string; encoded: string; proof: string[]; treeSize: number; anchored: boolean }[];
  anchoredHead?: { size: number; root: string; blockNumber: number; txHash: string };
  signedHead?: { size: number; root: string; signer: string; signature: string; timestamp: number; logId: string };
  truncated: boolean;
}

async function req<T>(client: NodeClient, method: "GET" | "POST", path: string, opts: { query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<T> {
  const qs = opts.query
    ? Object.entries(opts.query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&")
    : "";
  const headers: Record<string, string> = { accept: "application/json" };
  if (client.token) headers.authorization = `Bearer ${client.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await client.fetch(`${client.url}${path}${qs ? `?${qs}` : ""}`, {
      method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(client.timeoutMs),
    });
  } catch (e) {
    throw new NodeTransportError(`${method} ${path}: node unreachable (${(e as Error)?.message ?? e})`, { method, path, reason: String((e as Error)?.message ?? e) }, { cause: e });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch (e) {
    throw new NodeTransportError(`${method} ${path}: answer is not JSON (HTTP ${res.status})`, { method, path, status: res.status, reason: text.slice(0, 200) }, { cause: e });
  }
  if (res.ok) return json as T;
  const b = (json ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  if (typeof b.code !== "string") throw new NodeTransportError(`${method} ${path}: HTTP ${res.status} without an API error body`, { method, path, status: res.status, reason: text.slice(0, 200) });
  throw nodeApiError({ code: b.code, status: res.status, method, path, details: b.details ?? {} }, b.message ?? b.code);
}

const seg = encodeURIComponent;

/** Searches the node's catalogue index (filters AND-ed). */
export function searchCatalogue(client: NodeClient, q: CatalogueSearchQuery = {}): Promise<{ entries: CatalogueEntryView[] }> {
  return req(client, "GET", "/v1/catalogue/entries", { query: { ...q } });
}
/** One indexed entry with the texts the node holds. */
export function getCatalogueEntry(client: NodeClient, params: { code: string }): Promise<CatalogueEntryView> {
  return req(client, "GET", `/v1/catalogue/entries/${seg(params.code)}`);
}
/** Publishes (registers or versions) one of the node's member's entries. */
export function publishCatalogueEntry(client: NodeClient, doc: CatalogueEntryDoc): Promise<{ resourceCode: string; version: number; versionHash: string; txHash: string; blockNumber: number }> {
  return req(client, "POST", "/v1/catalogue/entries", { body: doc });
}
/** Withdraws an entry (its provider or a Cataloguer). */
export function withdrawCatalogueEntry(client: NodeClient, params: { code: string; reason: string }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", `/v1/catalogue/entries/${seg(params.code)}/withdraw`, { body: { reason: params.reason } });
}
/** Cataloguer: publishes a version of an entry. */
export function approveCatalogueEntry(client: NodeClient, params: { code: string; version: number }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", `/v1/catalogue/entries/${seg(params.code)}/publish`, { body: { version: params.version } });
}
/** Registers a duty (职责) of the node's member. */
export function registerCatalogueDuty(client: NodeClient, params: { code: string; description: string }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", "/v1/catalogue/duties", { body: params });
}
/** Registers an information system of the node's member. */
export function registerCatalogueSystem(client: NodeClient, params: { code: string; description: string }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", "/v1/catalogue/systems", { body: params });
}
/** Consumer: registers an application scenario drawing on resources. */
export function registerCatalogueScenario(client: NodeClient, params: { scenarioId: string; purpose: string; legalBasis: string; resources: string[] }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", "/v1/catalogue/scenarios", { body: params });
}
/** One indexed scenario with its draws. */
export function getCatalogueScenario(client: NodeClient, params: { scenarioId: string }): Promise<CatalogueScenarioView> {
  return req(client, "GET", `/v1/catalogue/scenarios/${seg(params.scenarioId)}`);
}
/** Draws on the node's member's resources (its approval inbox). */
export function listCatalogueRequests(client: NodeClient, params: { status?: DrawStatusName } = {}): Promise<{ requests: { scenarioId: string; resourceCode: string; consumer: string; needsApproval: boolean; status: DrawStatusName; expiresAt: number }[] }> {
  return req(client, "GET", "/v1/catalogue/requests", { query: { status: params.status } });
}
/** Provider: approves a conditional resource for a scenario until `expiresAt` (unix seconds). */
export function approveCatalogueUse(client: NodeClient, params: { scenarioId: string; code: string; expiresAt: number }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", `/v1/catalogue/scenarios/${seg(params.scenarioId)}/resources/${seg(params.code)}/approve`, { body: { expiresAt: params.expiresAt } });
}
/** Provider: denies (or withdraws the approval of) a resource for a scenario. */
export function rejectCatalogueUse(client: NodeClient, params: { scenarioId: string; code: string; reason: string }): Promise<CatalogueTxReceipt> {
  return req(client, "POST", `/v1/catalogue/scenarios/${seg(params.scenarioId)}/resources/${seg(params.code)}/deny`, { body: { reason: params.reason } });
}
/** May the scenario use the resource now (on chain)? */
export function canUseCatalogue(client: NodeClient, params: { scenarioId: string; code: string }): Promise<{ ok: boolean; reason: UseReasonName; code: number }> {
  return req(client, "GET", `/v1/catalogue/scenarios/${seg(params.scenarioId)}/resources/${seg(params.code)}/can-use`);
}
/** Records a data use under a scenario in the node's use log (refused with the canUse reason as the code). */
export function recordCatalogueUse(client: NodeClient, use: CatalogueUseInput): Promise<CatalogueUseAck> {
  return req(client, "POST", "/v1/catalogue/uses", { body: use });
}
/** Data uses in the node's log by exactly one of scenario, resource, member, matter, with proofs. */
export function listCatalogueUses(client: NodeClient, q: { scenario?: string; resource?: string; member?: string; matter?: string; from?: number; to?: number; limit?: number }): Promise<CatalogueUseHistory> {
  return req(client, "GET", "/v1/catalogue/uses", { query: { ...q } });
}
