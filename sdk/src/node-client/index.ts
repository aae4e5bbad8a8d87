/**
 * Typed client of a member node's HTTP API (`/v1`, see the node's `/openapi.json`): small functions over a
 * {@link NodeClient}, each `verbNoun(client, params)`, errors as classes carrying the API `code`.
 *
 * @example
 *   const client = createNodeClient({ url: "http://127.0.0.1:8080", token: process.env.TONGBAN_TOKEN });
 *   const [ack] = await registerMaterials(client, { materials: [{ typeCode: "BIZ_LICENCE", jurisdiction: 310104,
 *     content: bytes, holder: { idType: "RESIDENT_ID", idNumber: "11010519491231002X" }, validFrom: 1767225600 }] });
 *   const material = await waitForAnchored(client, { id: ack.id });
 *   const bundle = await getBundle(client, { id: ack.id });
 */
import type { HolderId } from "../holder-ref.js";
import { computeAddress, encodeBytes32String } from "ethers";
import { InvalidGrantTermsError, grantDomain, signDelegation, type GrantTerms, type GranteeDelegation, type HolderSigner } from "../grants/typed-data.js";
import { NodeTransportError, nodeApiError, NodeNotAnchoredError, type NodeApiError } from "./errors.js";

export * from "./errors.js";

export interface NodeClientOptions {
  /** base URL of the node, e.g. "http://127.0.0.1:8080" */
  url: string;
  /** bearer token */
  token?: string;
  /** per-request timeout, ms (default 60 s) */
  timeoutMs?: number;
  /** fetch implementation (default globalThis.fetch) */
  fetch?: typeof fetch;
}

export interface NodeClient {
  readonly url: string;
  readonly token?: string;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
}

/** @example const client = createNodeClient({ url: "http://127.0.0.1:8080", token }) */
export function createNodeClient(opts: NodeClientOptions): NodeClient {
  return { url: opts.url.replace(/\/+$/, ""), token: opts.token, timeoutMs: opts.timeoutMs ?? 60_000, fetch: opts.fetch ?? globalThis.fetch };
}

// ------------------------------------------------------------------------------------------------- types

/** One material to register: `content` (bytes or base64) or `contentHash`; `holder` or `holderRef`. */
export interface NodeMaterialInput {
  typeCode: string;
  jurisdiction: number;
  content?: Uint8Array | string;
  contentHash?: string;
  hashAlg?: number;
  holder?: HolderId;
  holderRef?: string;
  issuedAt?: number;
  validFrom: number;
  validUntil?: number;
  version?: number;
  supersedes?: string;
}

export type NodeMaterialState = "pending" | "anchoring" | "anchored" | "failed" | "unknown";
export type NodeMaterialStatus = "active" | "suspended" | "revoked";

export interface NodeRegisterAck {
  id: string;
  state: NodeMaterialState;
  duplicate: boolean;
  acceptedAt: number;
}

export interface NodeStatusOp {
  opId: string;
  kind: "revoke" | "suspend" | "reinstate" | "supersede";
  leaf: string;
  reason: number;
  newLeaf?: string;
  state: "pending" | "sent" | "done" | "failed";
  createdAt: number;
  txHash?: string;
  blockNumber?: number;
  error?: { code: string; message: string };
}

export interface NodeChainState {
  leaf: string;
  anchored: boolean;
  root: string | null;
  anchoredBlock: number | null;
  anchoredAt: number | null;
  issuer: string | null;
  typeCode: string | null;
  jurisdiction: number | null;
  status: NodeMaterialStatus;
  reason: number;
  statusBy: string | null;
  statusBlock: number | null;
  supersededBy: string | null;
  supersedes: string | null;
  headerKnown: boolean;
}

export interface NodeHeaderJson {
  typeCode: string;
  issuer: string;
  holderRef: string;
  contentHash: string;
  hashAlg: number;
  issuedAt: string;
  validFrom: string;
  validUntil: string;
  version: number;
  supersedes: string;
}

export interface NodeMaterial {
  id: string;
  type?: string;
  jurisdiction?: number;
  header?: NodeHeaderJson;
  state: NodeMaterialState;
  status: NodeMaterialStatus;
  statusReason?: number;
  supersededBy?: string;
  hasContent?: boolean;
  acceptedAt?: number;
  anchor?: { root: string; proof: string[]; index: number; count: number; blockNumber: number; txHash: string; chainId: number; contract: string };
  error?: { code: string; message: string };
  /** the indexer's view of the material on chain (null if it knows nothing) */
  chain: NodeChainState | null;
}

export interface NodeHistoryEvent {
  event: string;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  timestamp: number;
  args: Record<string, string | number | string[]>;
}

export interface QueryMaterialsParameters {
  holderRef?: string;
  /** USCC or bytes32 member id */
  issuer?: string;
  /** catalogue code or bytes32 */
  type?: string;
  /** issuedAt >= from, unix seconds */
  from?: number;
  to?: number;
  limit?: number;
  after?: string;
}

export interface QueryMaterialsReturnType {
  items: { id: string; header: NodeHeaderJson; chain: NodeChainState }[];
  next?: string;
}

/** Every route this client calls: [method, OpenAPI path]. A test checks each against the live /openapi.json. */
export const NODE_CLIENT_ROUTES = [
  ["post", "/v1/materials"],
  ["post", "/v1/materials/bulk"],
  ["get", "/v1/materials/{id}"],
  ["get", "/v1/materials/{id}/bundle"],
  ["get", "/v1/materials/{id}/content"],
  ["get", "/v1/materials/{id}/history"],
  ["post", "/v1/materials/{id}/revoke"],
  ["post", "/v1/materials/{id}/suspend"],
  ["post", "/v1/materials/{id}/reinstate"],
  ["post", "/v1/materials/{id}/supersede"],
  ["get", "/v1/ops/{opId}"],
  ["get", "/v1/query/materials"],
  ["post", "/v1/query/materials/by-holder"],
  ["get", "/readyz"],
] as const;

// ------------------------------------------------------------------------------------------------- transport

interface Call {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  idempotencyKey?: string;
  raw?: boolean;
  /** statuses answered with a JSON body that are not errors (e.g. 503 from /readyz) */
  okStatuses?: number[];
}

async function call<T>(client: NodeClient, c: Call): Promise<T> {
  const qs = c.query
    ? Object.entries(c.query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join("&")
    : "";
  const url = `${client.url}${c.path}${qs ? `?${qs}` : ""}`;
  const headers: Record<string, string> = { accept: c.raw ? "application/octet-stream" : "application/json" };
  if (client.token) headers.authorization = `Bearer ${client.token}`;
  if (c.idempotencyKey) headers["idempotency-key"] = c.idempotencyKey;
  if (c.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await client.fetch(url, {
      method: c.method,
      headers,
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
      signal: AbortSignal.timeout(client.timeoutMs),
    });
  } catch (e) {
    throw new NodeTransportError(`${c.method} ${c.path}: node unreachable (${(e as Error)?.message ?? e})`, { method: c.method, path: c.path, reason: String((e as Error)?.message ?? e) }, { cause: e });
  }
  if (res.ok && c.raw) return new Uint8Array(await res.arrayBuffer()) as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch (e) {
    throw new NodeTransportError(`${c.method} ${c.path}: answer is not JSON (HTTP ${res.status})`, { method: c.method, path: c.path, status: res.status, reason: text.slice(0, 200) }, { cause: e });
  }
  if (res.ok || c.okStatuses?.includes(res.status)) return json as T;
  const b = (json ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  if (typeof b.code !== "string") {
    throw new NodeTransportError(`${c.method} ${c.path}: HTTP ${res.status} without an API error body`, { method: c.method, path: c.path, status: res.status, reason: text.slice(0, 200) });
  }
  throw nodeApiError({ code: b.code, status: res.status, method: c.method, path: c.path, details: b.details ?? {} }, b.message ?? b.code);
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

function encodeMaterial(m: NodeMaterialInput): Record<string, unknown> {
  return m.content instanceof Uint8Array ? { ...m, content: toBase64(m.content) } : { ...m };
}

const enc = encodeURIComponent;

// ------------------------------------------------------------------------------------------------- actions

export interface RegisterMaterialsParameters {
  materials: NodeMaterialInput[];
  /** makes a retry safe: the node answers the first result again */
  idempotencyKey?: string;
}

/**
 * Register materials (one request; all or nothing). Resolves with one ack per material, once the node has
 * persisted them; anchoring follows.
 * @example const acks = await registerMaterials(client, { materials: [m1, m2], idempotencyKey: "batch-42" })
 */
export async function registerMaterials(client: NodeClient, params: RegisterMaterialsParameters): Promise<NodeRegisterAck[]> {
  if (params.materials.length === 1) {
    return [await call<NodeRegisterAck>(client, { method: "POST", path: "/v1/materials", body: encodeMaterial(params.materials[0]), idempotencyKey: params.idempotencyKey })];
  }
  const r = await call<{ materials: NodeRegisterAck[] }>(client, {
    method: "POST",
    path: "/v1/materials/bulk",
    body: { materials: params.materials.map(encodeMaterial) },
    idempotencyKey: params.idempotencyKey,
  });
  return r.materials;
}

/** @example const m = await getMaterial(client, { id }) */
export async function getMaterial(client: NodeClient, params: { id: string }): Promise<NodeMaterial> {
  return call<NodeMaterial>(client, { method: "GET", path: `/v1/materials/${enc(params.id)}` });
}

/**
 * The proof bundle (SDK bundle format) of an anchored material.
 * @throws NodeNotAnchoredError until the anchor is confirmed
 * @example const bundle = await getBundle(client, { id })
 */
export async function getBundle<B = Record<string, unknown>>(client: NodeClient, params: { id: string }): Promise<B> {
  return call<B>(client, { method: "GET", path: `/v1/materials/${enc(params.id)}/bundle` });
}

/** The document bytes. @example const bytes = await getContent(client, { id }) */
export async function getContent(client: NodeClient, params: { id: string }): Promise<Uint8Array> {
  return call<Uint8Array>(client, { method: "GET", path: `/v1/materials/${enc(params.id)}/content`, raw: true });
}

/** Chain history (anchor and status events). @example const events = await getHistory(client, { id }) */
export async function getHistory(client: NodeClient, params: { id: string }): Promise<NodeHistoryEvent[]> {
  return (await call<{ events: NodeHistoryEvent[] }>(client, { method: "GET", path: `/v1/materials/${enc(params.id)}/history` })).events;
}

/** Revoke (final). @example const op = await revokeMaterial(client, { id, reason: 1 }) */
export async function revokeMaterial(client: NodeClient, params: { id: string; reason?: number; idempotencyKey?: string }): Promise<NodeStatusOp> {
  return call<NodeStatusOp>(client, { method: "POST", path: `/v1/materials/${enc(params.id)}/revoke`, body: { reason: params.reason ?? 0 }, idempotencyKey: params.idempotencyKey });
}

/** Suspend (reversible). @example await suspendMaterial(client, { id, reason: 2 }) */
export async function suspendMaterial(client: NodeClient, params: { id: string; reason?: number; idempotencyKey?: string }): Promise<NodeStatusOp> {
  return call<NodeStatusOp>(client, { method: "POST", path: `/v1/materials/${enc(params.id)}/suspend`, body: { reason: params.reason ?? 0 }, idempotencyKey: params.idempotencyKey });
}

/** Lift this member's suspension. @example await reinstateMaterial(client, { id }) */
export async function reinstateMaterial(client: NodeClient, params: { id: string; idempotencyKey?: string }): Promise<NodeStatusOp> {
  return call<NodeStatusOp>(client, { method: "POST", path: `/v1/materials/${enc(params.id)}/reinstate`, body: {}, idempotencyKey: params.idempotencyKey });
}

/**
 * Register `material` as the successor of `id` (version and `supersedes` default from the old one).
 * @example const { ack, op } = await supersedeMaterial(client, { id: oldId, material: next })
 */
export async function supersedeMaterial(
  client: NodeClient,
  params: { id: string; material: NodeMaterialInput; idempotencyKey?: string },
): Promise<{ ack: NodeRegisterAck; op: NodeStatusOp }> {
  return call(client, { method: "POST", path: `/v1/materials/${enc(params.id)}/supersede`, body: encodeMaterial(params.material), idempotencyKey: params.idempotencyKey });
}

/** A status operation. @example const op = await getOp(client, { opId }) */
export async function getOp(client: NodeClient, params: { opId: string }): Promise<NodeStatusOp> {
  return call<NodeStatusOp>(client, { method: "GET", path: `/v1/ops/${enc(params.opId)}` });
}

/**
 * Materials by holder reference, issuer, type and issue time (the node's index).
 * @example const page = await queryMaterials(client, { holderRef, from: 1700000000 })
 */
export async function queryMaterials(client: NodeClient, params: QueryMaterialsParameters): Promise<QueryMaterialsReturnType> {
  return call<QueryMaterialsReturnType>(client, { method: "GET", path: "/v1/query/materials", query: { ...params } });
}

/**
 * Materials of a holder given by ID: the node computes the keyed holderRef (the ID goes in the body, never in
 * a URL). @throws NodeInvalidIdError for a bad ID number
 * @example const page = await queryMaterialsByHolder(client, { holder: { idType: "RESIDENT_ID", idNumber }, type: "BIZ_LICENCE" })
 */
export async function queryMaterialsByHolder(
  client: NodeClient,
  params: Omit<QueryMaterialsParameters, "holderRef"> & { holder: HolderId },
): Promise<QueryMaterialsReturnType> {
  return call<QueryMaterialsReturnType>(client, { method: "POST", path: "/v1/query/materials/by-holder", body: params });
}

export interface NodeReadiness {
  ready: boolean;
  chain: { ok: boolean; head: number | null; error?: string };
  indexer: { ok: boolean; cursor: number; head: number; lag: number; caughtUp: boolean } | null;
  service: Record<string, unknown>;
}

/** NodeReadiness of the node (chain reachable, indexer caught up). Never throws for a 503. */
export async function getReadiness(client: NodeClient): Promise<NodeReadiness> {
  return call<NodeReadiness>(client, { method: "GET", path: "/readyz", okStatuses: [503] });
}

/**
 * Poll until the material is anchored (or failed).
 * @throws NodeApiError(code FAILED) if its batch failed, NodeTransportError on timeout
 * @example const m = await waitForAnchored(client, { id, timeoutMs: 30_000 })
 */
export async function waitForAnchored(client: NodeClient, params: { id: string; timeoutMs?: number; intervalMs?: number }): Promise<NodeMaterial> {
  const deadline = Date.now() + (params.timeoutMs ?? 60_000);
  for (;;) {
    const m = await getMaterial(client, { id: params.id });
    if (m.state === "anchored") return m;
    if (m.state === "failed") {
      throw nodeApiError(
        { code: m.error?.code ?? "FAILED", status: 200, method: "GET", path: `/v1/materials/${params.id}`, details: { id: params.id, error: m.error } },
        `material ${params.id} failed to anchor: ${m.error?.message ?? "unknown"}`,
      );
    }
    if (Date.now() > deadline) {
      throw new NodeTransportError(`material ${params.id} not anchored after ${params.timeoutMs ?? 60_000} ms (state ${m.state})`, {
        method: "GET",
        path: `/v1/materials/${params.id}`,
        reason: "timeout",
      });
    }
    await new Promise((r) => setTimeout(r, params.intervalMs ?? 250));
  }
}

/** Whether `e` is the API's answer that the bundle is not there yet. */
export function isNotAnchored(e: unknown): e is NodeApiError {
  return e instanceof NodeNotAnchoredError;
}

// ------------------------------------------------------------------------------------------------- grants
// (routes of a node with an `authorisations` section; writes are sent by the node's ops account)

/** The grant routes this client calls: [method, OpenAPI path] (a node with `authorisations` serves them). */
export const NODE_CLIENT_GRANT_ROUTES = [
  ["get", "/v1/grants/{grantId}"],
  ["post", "/v1/grants/{grantId}/delegate"],
  ["post", "/v1/grants/{grantId}/revoke"],
  ["get", "/v1/grants/holder-nonce/{holderRef}"],
  ["get", "/v1/grants/delegation-nonce/{member}"],
] as const;

/** A grant as the node reads it from the chain (the SDK's `GrantInfo` with numbers for the times). */
export interface NodeGrant {
  grantId: string;
  status: { code: number; name: string; usable: boolean };
  terms: { holderRef: string; grantee: string; matter: string; typeCodes: string[]; leaves: string[]; notBefore: number; notAfter: number; maxUses: number };
  parentId: string;
  rootId: string;
  grantor: string;
  origin: string;
  depth: number;
  createdAt: number;
  revokedAt: number;
  revokedBy: string;
  used: number;
  usesLeft: number;
}

export interface DelegateGrantParameters {
  /** the parent grant (this node's member must be its grantee) */
  grantId: string;
  /** the member the grant is delegated to: USCC or bytes32 member id */
  grantee: string;
  /** a subset of the parent's scope; both absent = the parent's scope */
  typeCodes?: string[];
  materialIds?: string[];
  /** unix seconds within the parent's window (default: the parent's) */
  notBefore?: number;
  notAfter?: number;
  /** at most the parent's uses left */
  maxUses: number;
  /** default: derived by the node from the parent and the terms, so a retry names the same child (not with `delegatorSignature`) */
  salt?: string;
  /**
   * Submit the delegation the parent's grantee SIGNED ({@link signNodeDelegation}); then any member's node may
   * send it, and this node's member need not be the grantee.
   */
  delegatorSignature?: DelegatorSignature;
}

/** The parent's grantee's EIP-712 GranteeDelegation signature, relayed by a node. */
export interface DelegatorSignature {
  /** decimal uint256: {@link getDelegationNonce} of the parent's grantee */
  nonce: string;
  /** unix seconds */
  deadline: number;
  /** the signing account: a current account of the parent's grantee member */
  signer: string;
  signature: string;
}

/** {@link getDelegationNonce}'s answer: the member's next delegation nonce and the EIP-712 domain to sign in. */
export interface NodeDelegationNonce {
  memberId: string;
  nonce: string;
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
}

export interface NodeDelegatedGrant {
  grantId: string;
  parentId: string;
  holderRef: string;
  grantee: string;
  depth: number;
  status: string;
  salt: string;
  /** false: the child already existed (a retry), no transaction was sent */
  created: boolean;
  /** signed form: the grantee's signing account and the nonce it consumed */
  signer?: string;
  nonce?: string;
  txHash?: string;
  blockNumber?: number;
}

/** The holder's EIP-712 HolderRevoke signature (SDK `signGrantRevocation`), relayed by the node. */
export interface HolderRevocation {
  /** decimal uint256: {@link getHolderNonce} */
  nonce: string;
  deadline: number;
  signer: string;
  signature: string;
}

export type RevokeGrantParameters =
  | { grantId: string; evidenceHash?: undefined; holderSignature?: undefined }
  | { grantId: string; evidenceHash: string; holderSignature?: undefined }
  | { grantId: string; holderSignature: HolderRevocation; evidenceHash?: undefined };

export interface NodeGrantRevocation {
  grantId: string;
  status: string;
  revokedAt: number;
  revokedBy: "GRANTOR" | "HOLDER_SIGNATURE" | "IDENTITY_PROVIDER";
  /** true: it was revoked before this request (a retry), no transaction was sent */
  alreadyRevoked: boolean;
  txHash?: string;
  blockNumber?: number;
}

/** A grant and its status on chain. @example (await getGrant(client, { grantId })).status.name // => "ACTIVE" */
export async function getGrant(client: NodeClient, params: { grantId: string }): Promise<NodeGrant> {
  return call<NodeGrant>(client, { method: "GET", path: `/v1/grants/${enc(params.grantId)}` });
}

/**
 * Delegate part of a grant this node's member holds as grantee (multi-level: depth <= 2). Idempotent: a retry
 * answers the same child with `created: false`.
 * @example const child = await delegateGrant(agentNode, { grantId: parent, grantee: "11310000002418210Q", maxUses: 1 })
 */
export async function delegateGrant(client: NodeClient, params: DelegateGrantParameters): Promise<NodeDelegatedGrant> {
  const { grantId, ...body } = params;
  return call<NodeDelegatedGrant>(client, { method: "POST", path: `/v1/grants/${enc(grantId)}/delegate`, body });
}

/**
 * Revoke a grant (and all delegated below it): as its grantor (no other field), as identity provider
 * (`evidenceHash`), or by relaying the holder's signature (`holderSignature`). Idempotent: an already revoked
 * grant answers its final state with `alreadyRevoked: true`.
 * @example await revokeGrant(client, { grantId, holderSignature: { nonce, deadline, signer, signature } })
 */
export async function revokeGrant(client: NodeClient, params: RevokeGrantParameters): Promise<NodeGrantRevocation> {
  const body = params.holderSignature ? { holderSignature: params.holderSignature } : params.evidenceHash ? { evidenceHash: params.evidenceHash } : {};
  return call<NodeGrantRevocation>(client, { method: "POST", path: `/v1/grants/${enc(params.grantId)}/revoke`, body });
}

/**
 * The nonce a member's next signed delegation must carry (decimal) and the EIP-712 domain to sign in.
 * @example const { nonce, domain } = await getDelegationNonce(client, { member: "11310115002418321F" })
 */
export async function getDelegationNonce(client: NodeClient, params: { member: string }): Promise<NodeDelegationNonce> {
  return call(client, { method: "GET", path: `/v1/grants/delegation-nonce/${enc(params.member)}` });
}

const HEX32_RE = /^0x[0-9a-fA-F]{64}$/;
/** A code as the node reads it: bytes32 hex as is, otherwise encodeBytes32String of the text. */
const code32 = (v: string) => (HEX32_RE.test(v) ? v.toLowerCase() : encodeBytes32String(v).toLowerCase());
/** A member as the node reads it: bytes32 hex as is, otherwise encodeBytes32String of the upper-cased USCC. */
const member32 = (v: string) => (HEX32_RE.test(v) ? v.toLowerCase() : encodeBytes32String(v.toUpperCase()).toLowerCase());

/**
 * The GranteeDelegation a node builds from a `delegateGrant` request (the same defaults: the parent's scope when
 * neither list is given, the parent's window), i.e. exactly what the parent's grantee must sign for it.
 * @example const d = nodeDelegation(await getGrant(client, { grantId }), { grantee: "11310000002418210Q", maxUses: 1 }, { nonce, deadline })
 */
export function nodeDelegation(
  parent: NodeGrant,
  params: Omit<DelegateGrantParameters, "grantId" | "salt" | "delegatorSignature">,
  at: { nonce: string | bigint; deadline: number | bigint },
): GranteeDelegation {
  const given = params.typeCodes !== undefined || params.materialIds !== undefined;
  const terms: GrantTerms = {
    holderRef: parent.terms.holderRef.toLowerCase(),
    grantee: member32(params.grantee),
    matter: parent.terms.matter.toLowerCase(),
    typeCodes: given ? (params.typeCodes ?? []).map(code32) : parent.terms.typeCodes.map((t) => t.toLowerCase()),
    leaves: given ? (params.materialIds ?? []).map((l) => l.toLowerCase()) : parent.terms.leaves.map((l) => l.toLowerCase()),
    notBefore: BigInt(params.notBefore ?? parent.terms.notBefore),
    notAfter: BigInt(params.notAfter ?? parent.terms.notAfter),
    maxUses: params.maxUses,
  };
  return { parentId: parent.grantId.toLowerCase(), terms, nonce: BigInt(at.nonce), deadline: BigInt(at.deadline) };
}

/**
 * As the parent's grantee (an agent 代办人, holding a current account key of its member): sign a delegation for
 * `delegateGrant(anyNode, { ...params, delegatorSignature })`. Reads the parent, the grantee member's delegation nonce and the
 * domain through `client` (any member's node), signs with `signer` (a private key or a typed-data signer) and
 * returns the request to submit.
 * @example const req = await signNodeDelegation(anyNode, agentKey, { grantId, grantee: "11310000002418210Q", maxUses: 1, deadline: now + 600 }); await delegateGrant(anyNode, req)
 */
export async function signNodeDelegation(
  client: NodeClient,
  signer: HolderSigner,
  params: Omit<DelegateGrantParameters, "salt" | "delegatorSignature"> & { deadline: number },
): Promise<DelegateGrantParameters & { delegatorSignature: DelegatorSignature }> {
  const { deadline, ...request } = params;
  const parent = await getGrant(client, { grantId: params.grantId });
  const { nonce, domain } = await getDelegationNonce(client, { member: parent.terms.grantee });
  const d = nodeDelegation(parent, request, { nonce, deadline });
  const typedDomain = grantDomain(BigInt(domain.chainId), domain.verifyingContract);
  const signature = await signDelegation(signer, typedDomain, d);
  const address = typeof signer === "string" ? computeAddress(signer) : await (signer as { getAddress?: () => Promise<string> }).getAddress?.();
  if (!address) throw new InvalidGrantTermsError("the signer has no address (give a private key or a signer with getAddress())", { field: "signer" });
  return { ...request, delegatorSignature: { nonce, deadline, signer: address, signature } };
}

/** The nonce the holder's next EIP-712 signature must carry (decimal). @example const { nonce } = await getHolderNonce(client, { holderRef }) */
export async function getHolderNonce(client: NodeClient, params: { holderRef: string }): Promise<{ holderRef: string; nonce: string }> {
  return call(client, { method: "GET", path: `/v1/grants/holder-nonce/${enc(params.holderRef)}` });
}
