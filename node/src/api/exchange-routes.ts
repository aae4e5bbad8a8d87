/**
 * HTTP routes of the material exchange for the member's departments (registered through buildApi's
 * `plugins`, so they share the bearer-token check, the `{code,message,details}` errors and the OpenAPI
 * document):
 *
 *   POST /v1/exchange/fetch   obtain a material another member's node holds, under a grant: the node signs
 *                             the request, fetches it over libp2p (`/tongban/exchange/1.1.0`), checks it
 *                             against its anchored leaf on chain and logs the use (RECEIVED); answers the
 *                             content (base64), the proof bundle and the checks, or the refusal's exchange
 *                             code with a 4xx (5xx when the custodian could not be reached or misbehaved).
 *   POST /v1/grants           as IDENTITY_PROVIDER member: record a holder's consent (given through the
 *                             unified identity platform) as a grant to a grantee member (grantByIdentityProvider)
 *   POST /v1/grants/by-signature  submit a grant the holder signed (EIP-712 HolderGrant with nonce and
 *                             deadline, by a key bound to the holder): any active member, usually the grantee
 *   POST /v1/grants/holder-keys   as IDENTITY_PROVIDER: bind a holder's signing key after verifying identity
 *   GET  /v1/grants/holder-nonce/:holderRef   the nonce the holder's next signature must carry
 *   POST /v1/grants/:id/delegate  as the grant's grantee (e.g. an agent, 代办人): delegate part of it to another
 *                             member (delegateGrant: same holder and matter, scope/window/uses within the parent's,
 *                             depth <= 2), sent by this node's ops account; or, with `delegatorSignature`, submit
 *                             the delegation the parent's grantee SIGNED (EIP-712 GranteeDelegation, its member's
 *                             delegation nonce + deadline: delegateGrantBySignature) from any member's node, the
 *                             signature checked here before a transaction is sent; idempotent (a retry answers the
 *                             same child grant, 200 instead of 201)
 *   GET  /v1/grants/delegation-nonce/:member  the nonce the member's next signed delegation must carry, and the
 *                             EIP-712 domain to sign in
 *   POST /v1/grants/:id/revoke  revoke as the grantor, as identity provider with `evidenceHash`, or relay the
 *                             holder's EIP-712 HolderRevoke signature (`holderSignature`); idempotent (a retry of
 *                             an applied revocation answers the same final state with `alreadyRevoked: true`)
 *   GET  /v1/grants/:id       the grant and its status on chain
 *
 * Grant writes go through the node's ops sender (core/ops-signer.ts): never the anchorer's account.
 */
import type { FastifyPluginAsync } from "fastify";
import { AbiCoder, Contract, encodeBytes32String, hexlify, isError, keccak256, randomBytes, toBeHex, type ContractRunner, type Signer, type TypedDataDomain } from "ethers";
import { contracts, decodeAuthorisationsError, grantDomain, hashGrantTerms, readGrant, recoverDelegationSigner, type GrantInfo } from "@tongban/sdk";
import { ApiError } from "./errors.js";
import { HEX32 } from "./schemas.js";
import type { P2PNode } from "../p2p/node.js";
import { ExchangeStatus, type ExchangeStatusName } from "../p2p/messages.js";

const secured = { security: [{ bearer: [] }] };
const ZERO32 = "0x" + "0".repeat(64);

/** A code given as text (<= 31 ASCII chars, e.g. "BL", "ENTERPRISE_CHANGE_REG") or already as bytes32 hex. */
export function code32(v: string, field: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(v)) return v.toLowerCase();
  if (!/^[\x21-\x7e]{1,31}$/.test(v)) throw new ApiError(400, "VALIDATION", `${field} must be a code of 1-31 printable ASCII characters or 0x + 32 bytes hex`, { field, value: v });
  return encodeBytes32String(v).toLowerCase();
}

/** A member given by its 18-character unified social credit code or its bytes32 id. */
export function member32(v: string, field: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(v)) return v.toLowerCase();
  if (!/^[0-9A-Za-z]{18}$/.test(v)) throw new ApiError(400, "VALIDATION", `${field} must be an 18-character unified social credit code or a bytes32 member id`, { field, value: v });
  return encodeBytes32String(v.toUpperCase()).toLowerCase();
}

/** The holder's keyed reference; a malformed ID is 400 INVALID_ID naming the field (the number masked). */
export function holderRefOf(fn: (idType: string, idNumber: string) => string, idType: string, idNumber: string, field = "holder"): string {
  try {
    return fn(idType, idNumber);
  } catch (e) {
    const err = e as { name?: string; message?: string; details?: Record<string, unknown> };
    if (err?.name === "InvalidIdError") throw new ApiError(400, "INVALID_ID", err.message ?? "invalid holder ID", { field, idType, reason: err.details?.reason, masked: err.details?.masked });
    throw e;
  }
}

/** HTTP status of an exchange outcome: refusals 4xx, an unreachable or misbehaving custodian 5xx. */
export function httpStatusOfExchange(code: ExchangeStatusName): number {
  switch (code) {
    case "OK":
      return 200;
    case "MALFORMED":
    case "WRONG_CUSTODIAN":
      return 400;
    case "GRANT_UNKNOWN":
    case "NOT_FOUND":
    case "NO_CONTENT":
      return 404;
    case "BUSY":
    case "UNAVAILABLE":
    case "NO_ROUTE":
      return 503;
    case "TIMEOUT":
      return 504;
    case "TRANSPORT":
    case "CONTENT_INVALID":
    case "INTERNAL":
      return 502;
    default:
      return 403; // the authorisation refusals (2xx codes) and request refusals (signature, membership, replay, staleness)
  }
}

const memberField = { type: "string", minLength: 18, maxLength: 66, description: "member: 18-character unified social credit code or bytes32 member id" } as const;
const codeField = (d: string) => ({ type: "string", minLength: 1, maxLength: 66, description: `${d}: code text (<= 31 ASCII) or bytes32 hex` }) as const;

const FetchBody = {
  type: "object",
  required: ["custodian", "grantId", "materialId", "matter"],
  additionalProperties: false,
  properties: {
    custodian: memberField,
    grantId: { type: "string", pattern: HEX32, description: "the grant (授权) naming this member as grantee" },
    materialId: { type: "string", pattern: HEX32, description: "the material's leaf (its id at the custodian)" },
    matter: codeField("matter (事项) the material is used for"),
    timeoutMs: { type: "integer", minimum: 100, maximum: 120_000, description: "deadline (default: the node's p2p.fetchTimeoutMs)" },
  },
} as const;

const CheckSchema = {
  type: "object",
  properties: { check: { type: "string" }, status: { type: "string" }, reason: { type: "string" } },
  additionalProperties: true,
} as const;

const FetchReply = {
  type: "object",
  required: ["code", "requestId", "materialId", "content", "bundle", "verification"],
  properties: {
    code: { type: "string", enum: ["OK"] },
    requestId: { type: "string", description: "the signed request's nonce: the requestId of both use records" },
    digest: { type: "string", description: "EIP-712 digest of the signed request" },
    materialId: { type: "string" },
    custodian: { type: "string" },
    content: { type: "string", contentEncoding: "base64", description: "the material's content, base64" },
    contentBytes: { type: "integer" },
    bundle: { type: "object", additionalProperties: true, description: "the proof bundle the content was checked against (SDK format)" },
    verification: { type: "object", properties: { ok: { type: "boolean" }, checks: { type: "array", items: CheckSchema } }, additionalProperties: true },
    servedSeq: { type: "integer", description: "position of the custodian's SERVED record in its use log" },
    receivedSeq: { type: "integer", description: "position of this node's RECEIVED record in its use log" },
  },
} as const;

/**
 * A reply of /fetch as JSON. The route hands the content over as a Buffer: it is written here as base64, appended
 * unescaped (the base64 alphabet needs no JSON escaping); everything else through JSON.stringify.
 */
export function serializeFetchReply(data: unknown): string {
  const d = data as { content?: unknown } | null;
  if (d === null || typeof d !== "object" || !Buffer.isBuffer(d.content)) return JSON.stringify(data);
  const rest = JSON.stringify({ ...d, content: undefined });
  const b64 = d.content.toString("base64");
  return rest === "{}" ? `{"content":"${b64}"}` : `${rest.slice(0, -1)},"content":"${b64}"}`;
}

const errors = (...s: number[]) => Object.fromEntries(s.map((x) => [x, { $ref: "Error#", description: `error (${x})` }]));

export interface ExchangeRoutesOptions {
  p2p: P2PNode;
  /** this member (bytes32): a fetch from itself is refused */
  memberId: string;
  /** default deadline of a fetch, ms */
  fetchTimeoutMs: number;
}

export const exchangeRoutes: FastifyPluginAsync<ExchangeRoutesOptions> = async (app, opts) => {
  const tags = ["exchange"];
  app.post<{ Body: { custodian: string; grantId: string; materialId: string; matter: string; timeoutMs?: number } }>(
    "/fetch",
    {
      schema: {
        ...secured,
        tags,
        summary: "Obtain a material from another member's node under a grant (libp2p), verified against its anchored leaf",
        description:
          "Refusals carry the exchange code as `code` (e.g. GRANT_REVOKED, GRANT_EXPIRED, GRANT_EXHAUSTED, ANCESTOR_REVOKED, WRONG_GRANTEE, WRONG_MATTER, " +
          "OUT_OF_SCOPE, NOT_FOUND) and `details.exchangeStatus` (its number): 403/404 for refusals, 502/503/504 when the custodian " +
          "could not be reached, did not answer in time or sent content that failed verification.",
        body: FetchBody,
        response: { 200: FetchReply, ...errors(400, 401, 403, 404, 502, 503, 504) },
      },
      // the reply is built here field by field (nothing extra to filter out): the native JSON.stringify, with the
      // ~14 KB base64 content spliced in as it is (base64 needs no escaping), instead of the schema's compiled
      // serializer escaping it char by char
      serializerCompiler: () => serializeFetchReply,
    },
    async (req) => {
      const b = req.body;
      const custodian = member32(b.custodian, "custodian");
      if (custodian === opts.memberId.toLowerCase()) {
        throw new ApiError(400, "VALIDATION", "the custodian is this member: read the material from this node (GET /v1/materials/:id)", { field: "custodian", custodian });
      }
      const matter = code32(b.matter, "matter");
      const r = await opts.p2p.fetch({
        custodian,
        leaf: b.materialId.toLowerCase(),
        grantId: b.grantId.toLowerCase(),
        matter,
        timeoutMs: b.timeoutMs ?? opts.fetchTimeoutMs,
      });
      const details = {
        exchangeStatus: r.status,
        requestId: r.requestId,
        custodian,
        grantId: b.grantId.toLowerCase(),
        materialId: b.materialId.toLowerCase(),
        ...(r.verification ? { checks: r.verification.checks } : {}),
        ...(r.receivedSeq !== undefined ? { receivedSeq: r.receivedSeq } : {}),
      };
      if (r.code !== "OK" || !r.content || !r.bundle || !r.verification) {
        const code = r.code === "OK" ? "INTERNAL" : r.code;
        throw new ApiError(httpStatusOfExchange(code), code, r.message ?? `the exchange ended with ${code} (${ExchangeStatus[code]})`, details);
      }
      return {
        code: "OK",
        requestId: r.requestId,
        digest: r.digest,
        materialId: b.materialId.toLowerCase(),
        custodian,
        content: r.content, // written as base64 by serializeFetchReply
        contentBytes: r.content.length,
        bundle: r.bundle,
        verification: r.verification,
        servedSeq: r.servedSeq,
        receivedSeq: r.receivedSeq,
      };
    },
  );
};

// ---------------------------------------------------------------------------------------------------- grants

export interface GrantRoutesOptions {
  /** the ops sender; absent = read-only */
  signer?: Signer;
  /** reads (the ops sender's failover provider); default: the signer */
  provider?: ContractRunner;
  /** Authorisations contract */
  address: string;
  memberId: string;
  holderRef(idType: string, idNumber: string): string;
}

const GrantBody = {
  type: "object",
  required: ["grantee", "matter", "notAfter", "maxUses", "evidenceHash"],
  additionalProperties: false,
  properties: {
    holder: { $ref: "HolderId#" },
    holderRef: { type: "string", pattern: HEX32, description: "the holder's keyed reference instead of `holder`" },
    grantee: memberField,
    matter: codeField("matter (事项)"),
    typeCodes: { type: "array", maxItems: 16, items: codeField("material type"), description: "material types of the holder the grantee may obtain" },
    materialIds: { type: "array", maxItems: 16, items: { type: "string", pattern: HEX32 }, description: "or: these materials (leaves)" },
    notBefore: { type: "integer", minimum: 0, description: "unix seconds (default: now)" },
    notAfter: { type: "integer", minimum: 1, description: "unix seconds" },
    maxUses: { type: "integer", minimum: 1, maximum: 4294967295 },
    evidenceHash: { type: "string", pattern: HEX32, description: "hash of the consent record at the unified identity platform" },
    salt: { type: "string", pattern: HEX32, description: "makes the grant id unique (default random)" },
  },
} as const;

const GrantReply = {
  type: "object",
  properties: {
    grantId: { type: "string" },
    holderRef: { type: "string" },
    txHash: { type: "string" },
    blockNumber: { type: "integer" },
  },
} as const;

const SignedTerms = {
  type: "object",
  required: ["holderRef", "grantee", "matter", "notBefore", "notAfter", "maxUses"],
  additionalProperties: false,
  properties: {
    holderRef: { type: "string", pattern: HEX32 },
    grantee: memberField,
    matter: codeField("matter (事项)"),
    typeCodes: { type: "array", maxItems: 16, items: codeField("material type") },
    materialIds: { type: "array", maxItems: 16, items: { type: "string", pattern: HEX32 } },
    notBefore: { type: "integer", minimum: 0 },
    notAfter: { type: "integer", minimum: 1 },
    maxUses: { type: "integer", minimum: 1, maximum: 4294967295 },
  },
} as const;

type SignedTermsT = { holderRef: string; grantee: string; matter: string; typeCodes?: string[]; materialIds?: string[]; notBefore: number; notAfter: number; maxUses: number };

type GrantBodyT = {
  holder?: { idType: string; idNumber: string };
  holderRef?: string;
  grantee: string;
  matter: string;
  typeCodes?: string[];
  materialIds?: string[];
  notBefore?: number;
  notAfter: number;
  maxUses: number;
  evidenceHash: string;
  salt?: string;
};

const GrantIdParams = { type: "object", required: ["grantId"], additionalProperties: false, properties: { grantId: { type: "string", pattern: HEX32, description: "grant id (0x + 32 bytes hex)" } } } as const;

const DelegateBody = {
  type: "object",
  required: ["grantee", "maxUses"],
  additionalProperties: false,
  properties: {
    grantee: { ...memberField, description: "the member the grant is delegated to (a department): USCC or bytes32 member id; not this member" },
    typeCodes: { type: "array", maxItems: 16, items: codeField("material type"), description: "a subset of the parent's types (default: the parent's scope when neither list is given)" },
    materialIds: { type: "array", maxItems: 16, items: { type: "string", pattern: HEX32 }, description: "a subset of the parent's materials (leaves)" },
    notBefore: { type: "integer", minimum: 0, description: "unix seconds, >= the parent's (default: the parent's)" },
    notAfter: { type: "integer", minimum: 1, description: "unix seconds, <= the parent's (default: the parent's)" },
    maxUses: { type: "integer", minimum: 1, maximum: 4294967295, description: "<= the parent's uses left" },
    salt: { type: "string", pattern: HEX32, description: "default: derived from the parent and the terms (a retry names the same child); not with delegatorSignature (the salt is then bytes32(nonce))" },
    delegatorSignature: {
      type: "object",
      required: ["nonce", "deadline", "signer", "signature"],
      additionalProperties: false,
      description:
        "submit the delegation the parent's grantee signed (delegateGrantBySignature): EIP-712 GranteeDelegation{parentId, terms, nonce, deadline} in the " +
        "domain of GET /v1/grants/delegation-nonce/:member, by a current account of the parent's grantee member; the terms are the ones this request " +
        "names (with the same defaults, in bytes32 form: codes are encodeBytes32String of the text)",
      properties: {
        nonce: { type: "string", pattern: "^[0-9]{1,78}$", description: "decimal uint256: the grantee member's GET /v1/grants/delegation-nonce/:member" },
        deadline: { type: "integer", minimum: 1, description: "unix seconds" },
        signer: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "the signing account (a current account of the parent's grantee)" },
        signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" },
      },
    },
  },
} as const;

type DelegatorSignatureT = { nonce: string; deadline: number; signer: string; signature: string };
type DelegateBodyT = { grantee: string; typeCodes?: string[]; materialIds?: string[]; notBefore?: number; notAfter?: number; maxUses: number; salt?: string; delegatorSignature?: DelegatorSignatureT };

const DelegateReply = {
  type: "object",
  required: ["grantId", "parentId", "holderRef", "grantee", "depth", "status", "salt", "created"],
  additionalProperties: false,
  properties: {
    grantId: { type: "string", description: "the child grant" },
    parentId: { type: "string" },
    holderRef: { type: "string" },
    grantee: { type: "string", description: "bytes32 member id" },
    depth: { type: "integer", description: "1 under a root grant, at most 2" },
    status: { type: "string", description: "the child's status on chain (ACTIVE, ...)" },
    salt: { type: "string" },
    created: { type: "boolean", description: "false: the child already existed (a retry); no transaction was sent" },
    signer: { type: "string", description: "signed form: the grantee's signing account" },
    nonce: { type: "string", description: "signed form: the delegation nonce the signature consumed (decimal)" },
    txHash: { type: "string" },
    blockNumber: { type: "integer" },
  },
} as const;

const RevokeBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    evidenceHash: { type: "string", pattern: HEX32, description: "revoke as identity provider on the holder's behalf (hash of the request at the identity platform)" },
    holderSignature: {
      type: "object",
      required: ["nonce", "deadline", "signer", "signature"],
      additionalProperties: false,
      description: "the holder's EIP-712 HolderRevoke{grantId, nonce, deadline} in the domain {TongbanAuthorisations, 1, chainId, Authorisations address}",
      properties: {
        nonce: { type: "string", pattern: "^[0-9]{1,78}$", description: "decimal uint256: GET /v1/grants/holder-nonce/:holderRef" },
        deadline: { type: "integer", minimum: 1, description: "unix seconds" },
        signer: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "a key bound to the holder" },
        signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" },
      },
    },
  },
} as const;

type RevokeBodyT = { evidenceHash?: string; holderSignature?: { nonce: string; deadline: number; signer: string; signature: string } };

const RevokeReply = {
  type: "object",
  required: ["grantId", "status", "revokedAt", "revokedBy", "alreadyRevoked"],
  additionalProperties: false,
  properties: {
    grantId: { type: "string" },
    status: { type: "string", description: "the grant's status on chain after the revocation (REVOKED)" },
    revokedAt: { type: "integer", description: "unix seconds (block time of the revocation)" },
    revokedBy: { type: "string", enum: ["GRANTOR", "HOLDER_SIGNATURE", "IDENTITY_PROVIDER"] },
    alreadyRevoked: { type: "boolean", description: "true: it was revoked before this request (a retry); no transaction was sent" },
    txHash: { type: "string" },
    blockNumber: { type: "integer" },
  },
} as const;

/** The decoded Authorisations revert in an ethers error, if it is one. */
function decodeRevert(e: unknown) {
  return decodeAuthorisationsError(e) ?? decodeAuthorisationsError((e as { info?: { error?: { data?: string } } })?.info?.error?.data);
}

/**
 * A contract revert as an API error: FORBIDDEN 403, NOT_FOUND 404, CONFLICT 409, INVALID 400 (the Solidity error
 * name as `code`; `what` prefixes the message, e.g. "grant 0x…"). A revert that does not decode (a mined
 * transaction that reverted: no data in the receipt) is 409 CHAIN_REVERTED; other errors pass unchanged (a
 * chain that cannot be reached is 503 UNAVAILABLE from the core's error mapping).
 */
function chainError(e: unknown, details: Record<string, unknown>, what?: string): unknown {
  const d = decodeRevert(e);
  if (!d) {
    if (isError(e, "CALL_EXCEPTION")) {
      return new ApiError(409, "CHAIN_REVERTED", `${what ? what + ": " : ""}the transaction reverted on chain (${e.shortMessage})`, { ...details, txHash: e.receipt?.hash ?? null });
    }
    return e;
  }
  const status = { FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, INVALID: 400, INTERNAL: 400 }[d.details.kind];
  return new ApiError(status, d.details.error, `${what ? what + ": " : ""}${d.message}`, { ...details, kind: d.details.kind, args: JSON.parse(JSON.stringify(d.details.args, (_, v) => (typeof v === "bigint" ? v.toString() : v))) });
}

/** A grant's decoded view as JSON (bigints as numbers). */
function grantToJson(g: GrantInfo): Record<string, any> {
  return JSON.parse(JSON.stringify(g, (_, v) => (typeof v === "bigint" ? Number(v) : v)));
}

export const grantRoutes: FastifyPluginAsync<GrantRoutesOptions> = async (app, opts) => {
  const tags = ["grants"];
  const write = () => {
    if (!opts.signer) throw new ApiError(503, "UNAVAILABLE", "this node has no ops account to send transactions", {});
    return new Contract(opts.address, contracts.Authorisations__factory.abi, opts.signer);
  };
  const grantInfo = (grantId: string) => readGrant({ runner: opts.provider ?? opts.signer!, address: opts.address, grantId });
  const grantJson = async (grantId: string) => grantToJson(await grantInfo(grantId));
  /** the grant, or 404 NOT_FOUND naming it */
  const existing = async (grantId: string): Promise<GrantInfo> => {
    let g: GrantInfo;
    try {
      g = await grantInfo(grantId);
    } catch (e) {
      throw chainError(e, { grantId }, `grant ${grantId}`);
    }
    if (g.origin === "NONE" || g.status.name === "UNKNOWN") throw new ApiError(404, "NOT_FOUND", `grant ${grantId} does not exist`, { grantId });
    return g;
  };

  app.post<{ Body: GrantBodyT }>(
    "/",
    {
      schema: {
        ...secured,
        tags,
        summary: "Identity provider: record a holder's consent as a grant to a grantee member (grantByIdentityProvider)",
        body: GrantBody,
        response: { 201: GrantReply, ...errors(400, 401, 403, 409, 503) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (!b.holder === !b.holderRef) throw new ApiError(400, "VALIDATION", "give exactly one of holder or holderRef", { field: "holder" });
      if (!(b.typeCodes?.length || b.materialIds?.length)) throw new ApiError(400, "VALIDATION", "give typeCodes or materialIds (the grant's scope)", { field: "typeCodes" });
      const holderRef = b.holderRef?.toLowerCase() ?? holderRefOf(opts.holderRef, b.holder!.idType, b.holder!.idNumber);
      const terms = {
        holderRef,
        grantee: member32(b.grantee, "grantee"),
        matter: code32(b.matter, "matter"),
        typeCodes: (b.typeCodes ?? []).map((t, i) => code32(t, `typeCodes/${i}`)),
        leaves: (b.materialIds ?? []).map((l) => l.toLowerCase()),
        notBefore: b.notBefore ?? Math.floor(Date.now() / 1000) - 60,
        notAfter: b.notAfter,
        maxUses: b.maxUses,
      };
      const c = write();
      let rc;
      try {
        const tx = await c.getFunction("grantByIdentityProvider")(terms, b.salt ?? hexlify(randomBytes(32)), b.evidenceHash);
        rc = await tx.wait();
      } catch (e) {
        throw chainError(e, { grantee: terms.grantee, matter: terms.matter });
      }
      const ev = rc.logs.map((l: { topics: string[]; data: string }) => c.interface.parseLog(l)).find((x: { name: string } | null) => x?.name === "GrantCreated");
      if (!ev) throw new ApiError(500, "INTERNAL", "the transaction emitted no GrantCreated event", { txHash: rc.hash });
      return reply.code(201).send({ grantId: String(ev.args.grantId).toLowerCase(), holderRef, txHash: rc.hash, blockNumber: rc.blockNumber });
    },
  );

  const termsOf = (t: SignedTermsT) => ({
    holderRef: t.holderRef.toLowerCase(),
    grantee: member32(t.grantee, "terms/grantee"),
    matter: code32(t.matter, "terms/matter"),
    typeCodes: (t.typeCodes ?? []).map((x, i) => code32(x, `terms/typeCodes/${i}`)),
    leaves: (t.materialIds ?? []).map((l) => l.toLowerCase()),
    notBefore: t.notBefore,
    notAfter: t.notAfter,
    maxUses: t.maxUses,
  });

  app.post<{ Body: { terms: SignedTermsT; nonce: string; deadline: number; signer: string; signature: string } }>(
    "/by-signature",
    {
      schema: {
        ...secured,
        tags,
        summary: "Submit a grant signed by the holder (EIP-712 HolderGrant, nonce + deadline: no replay) with a key bound to the holder",
        description:
          "The holder signs HolderGrant{terms, nonce, deadline} in the domain {TongbanAuthorisations, 1, chainId, Authorisations address} with the terms " +
          "in bytes32 form (code texts here are encodeBytes32String of the same text). `nonce` = GET /v1/grants/holder-nonce/:holderRef.",
        body: {
          type: "object",
          required: ["terms", "nonce", "deadline", "signer", "signature"],
          additionalProperties: false,
          properties: {
            terms: SignedTerms,
            nonce: { type: "string", pattern: "^[0-9]{1,78}$", description: "decimal uint256" },
            deadline: { type: "integer", minimum: 1, description: "unix seconds" },
            signer: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
            signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" },
          },
        },
        response: { 201: GrantReply, ...errors(400, 401, 403, 409, 503) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const terms = termsOf(b.terms);
      const c = write();
      let rc;
      try {
        rc = await (await c.getFunction("grantBySignature")(terms, BigInt(b.nonce), b.deadline, b.signer, b.signature)).wait();
      } catch (e) {
        throw chainError(e, { holderRef: terms.holderRef, signer: b.signer });
      }
      const ev = rc.logs.map((l: { topics: string[]; data: string }) => c.interface.parseLog(l)).find((x: { name: string } | null) => x?.name === "GrantCreated");
      if (!ev) throw new ApiError(500, "INTERNAL", "the transaction emitted no GrantCreated event", { txHash: rc.hash });
      return reply.code(201).send({ grantId: String(ev.args.grantId).toLowerCase(), holderRef: terms.holderRef, txHash: rc.hash, blockNumber: rc.blockNumber });
    },
  );

  app.post<{ Body: { holder?: { idType: string; idNumber: string }; holderRef?: string; key: string; evidenceHash: string } }>(
    "/holder-keys",
    {
      schema: {
        ...secured,
        tags,
        summary: "Identity provider: bind a holder's signing key (after verifying the holder's identity)",
        body: {
          type: "object",
          required: ["key", "evidenceHash"],
          additionalProperties: false,
          properties: {
            holder: { $ref: "HolderId#" },
            holderRef: { type: "string", pattern: HEX32 },
            key: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "the holder's signing address" },
            evidenceHash: { type: "string", pattern: HEX32, description: "hash of the identity platform's verification record" },
          },
        },
        response: { 201: { type: "object", properties: { holderRef: { type: "string" }, key: { type: "string" }, txHash: { type: "string" }, blockNumber: { type: "integer" } } }, ...errors(400, 401, 403, 409, 503) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (!b.holder === !b.holderRef) throw new ApiError(400, "VALIDATION", "give exactly one of holder or holderRef", { field: "holder" });
      const holderRef = b.holderRef?.toLowerCase() ?? holderRefOf(opts.holderRef, b.holder!.idType, b.holder!.idNumber);
      const c = write();
      try {
        const rc = await (await c.getFunction("bindHolderKey")(holderRef, b.key, b.evidenceHash)).wait();
        return reply.code(201).send({ holderRef, key: b.key, txHash: rc.hash, blockNumber: rc.blockNumber });
      } catch (e) {
        throw chainError(e, { holderRef, key: b.key });
      }
    },
  );

  app.get<{ Params: { holderRef: string } }>(
    "/holder-nonce/:holderRef",
    {
      schema: {
        ...secured,
        tags,
        summary: "The nonce the holder's next EIP-712 signature (grant or revocation) must carry",
        params: { type: "object", required: ["holderRef"], properties: { holderRef: { type: "string", pattern: HEX32 } } },
        response: { 200: { type: "object", properties: { holderRef: { type: "string" }, nonce: { type: "string" } } }, ...errors(401) },
      },
    },
    async (req) => {
      const c = new Contract(opts.address, contracts.Authorisations__factory.abi, opts.provider ?? opts.signer);
      const n = (await c.getFunction("holderNonce")(req.params.holderRef)) as bigint;
      return { holderRef: req.params.holderRef.toLowerCase(), nonce: n.toString() };
    },
  );

  /** The contract's EIP-712 domain (read once: `eip712Domain()`). */
  let domainP: Promise<TypedDataDomain> | undefined;
  const domain = (): Promise<TypedDataDomain> => {
    domainP ??= (async () => {
      const c = new Contract(opts.address, contracts.Authorisations__factory.abi, opts.provider ?? opts.signer);
      const d = await c.getFunction("eip712Domain")();
      return grantDomain(BigInt(d[3]), String(d[4]));
    })();
    domainP.catch(() => (domainP = undefined)); // an unreachable chain is not cached
    return domainP;
  };

  app.get<{ Params: { member: string } }>(
    "/delegation-nonce/:member",
    {
      schema: {
        ...secured,
        tags,
        summary: "The nonce a member's next signed delegation (EIP-712 GranteeDelegation) must carry, and the EIP-712 domain to sign in",
        params: { type: "object", required: ["member"], additionalProperties: false, properties: { member: memberField } },
        response: {
          200: {
            type: "object",
            required: ["memberId", "nonce", "domain"],
            properties: {
              memberId: { type: "string" },
              nonce: { type: "string", description: "decimal uint256" },
              domain: {
                type: "object",
                properties: { name: { type: "string" }, version: { type: "string" }, chainId: { type: "string" }, verifyingContract: { type: "string" } },
              },
            },
          },
          ...errors(400, 401, 503),
        },
      },
    },
    async (req) => {
      const memberId = member32(req.params.member, "member");
      const c = new Contract(opts.address, contracts.Authorisations__factory.abi, opts.provider ?? opts.signer);
      const [n, d] = await Promise.all([c.getFunction("delegationNonce")(memberId) as Promise<bigint>, domain()]);
      return { memberId, nonce: n.toString(), domain: { name: d.name, version: d.version, chainId: String(d.chainId), verifyingContract: d.verifyingContract } };
    },
  );

  app.post<{ Params: { grantId: string }; Body: DelegateBodyT }>(
    "/:grantId/delegate",
    {
      schema: {
        ...secured,
        tags,
        summary: "As the grant's grantee (e.g. an agent, 代办人): delegate part of it to another member (delegateGrant, multi-level)",
        description:
          "The child keeps the parent's holder and matter; its scope (typeCodes / materialIds, default: the parent's), window (default: the " +
          "parent's) and maxUses must lie within the parent's (uses left), and the depth is at most 2. Sent by this node's ops account, so this " +
          "member must be the parent's grantee. Revoking the parent voids the child at once (a fetch under it is refused with ANCESTOR_REVOKED). " +
          "Idempotent: without `salt` the salt is derived from the parent and the terms, so a retry of the same request answers the same " +
          "child grant (200, `created: false`); give a `salt` to create a second child with identical terms. " +
          "With `delegatorSignature` this node SUBMITS the delegation the parent's grantee signed (any member may; the agent need not run a node): " +
          "the signature is checked here against the terms this request names (403 InvalidDelegationSignature, with the terms in `details`, " +
          "before any transaction), an expired deadline is 409 DelegationSignatureExpired, and the contract refuses a signer that is not an account " +
          "of the parent's grantee (403 DelegationSignerNotGrantee) or a spent nonce (409 InvalidDelegationNonce). The child's salt is bytes32(nonce), " +
          "so a retry of the same signed request answers the same child (200, `created: false`).",
        params: GrantIdParams,
        body: DelegateBody,
        response: { 201: DelegateReply, 200: DelegateReply, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req, reply) => {
      const parentId = req.params.grantId.toLowerCase();
      const b = req.body;
      const what = `grant ${parentId}`;
      const parent = await existing(parentId);
      const grantee = member32(b.grantee, "grantee");
      const given = b.typeCodes !== undefined || b.materialIds !== undefined;
      const terms = {
        holderRef: parent.terms.holderRef.toLowerCase(),
        grantee,
        matter: parent.terms.matter.toLowerCase(),
        typeCodes: given ? (b.typeCodes ?? []).map((t, i) => code32(t, `typeCodes/${i}`)) : parent.terms.typeCodes.map((t) => t.toLowerCase()),
        leaves: given ? (b.materialIds ?? []).map((l) => l.toLowerCase()) : parent.terms.leaves.map((l) => l.toLowerCase()),
        notBefore: BigInt(b.notBefore ?? parent.terms.notBefore),
        notAfter: BigInt(b.notAfter ?? parent.terms.notAfter),
        maxUses: b.maxUses,
      };
      const sig = b.delegatorSignature;
      if (sig && b.salt !== undefined) {
        throw new ApiError(400, "VALIDATION", `${what}: a signed delegation's salt is bytes32(nonce); give no salt with delegatorSignature`, { grantId: parentId, field: "salt" });
      }
      // the default salt is a function of the request: a retry names the same child grant
      const salt = sig
        ? toBeHex(BigInt(sig.nonce), 32)
        : b.salt?.toLowerCase() ?? keccak256(AbiCoder.defaultAbiCoder().encode(["string", "bytes32", "bytes32"], ["tongban/delegate/v1", parentId, hashGrantTerms(terms)]));
      if (sig) {
        // at the edge: the signature must be the named signer's over exactly these values (no transaction otherwise)
        let dom: TypedDataDomain;
        try {
          dom = await domain();
        } catch (e) {
          throw chainError(e, { grantId: parentId }, what);
        }
        const delegation = { parentId, terms, nonce: BigInt(sig.nonce), deadline: BigInt(sig.deadline) };
        let recovered: string;
        try {
          recovered = recoverDelegationSigner(dom, delegation, sig.signature);
        } catch (e) {
          throw new ApiError(400, "VALIDATION", `${what}: delegatorSignature/signature is not a secp256k1 signature`, { grantId: parentId, field: "delegatorSignature/signature" });
        }
        if (recovered.toLowerCase() !== sig.signer.toLowerCase()) {
          throw new ApiError(403, "InvalidDelegationSignature", `${what}: the signature is not ${sig.signer}'s over GranteeDelegation{parentId, terms, nonce ${sig.nonce}, deadline ${sig.deadline}} with the terms this request names`, {
            grantId: parentId, signer: sig.signer, recovered, nonce: sig.nonce, deadline: sig.deadline,
            terms: { ...terms, notBefore: terms.notBefore.toString(), notAfter: terms.notAfter.toString() },
          });
        }
      }
      const details = { grantId: parentId, grantee, salt, ...(sig ? { signer: sig.signer, nonce: sig.nonce } : {}) };
      const c = write();
      let childId: string;
      try {
        childId = String(await c.getFunction("grantIdOf")(parentId, 3 /* Origin.Delegation */, terms, salt)).toLowerCase();
      } catch (e) {
        throw chainError(e, details, what);
      }
      const answer = (g: GrantInfo, extra: Record<string, unknown>) => ({
        grantId: childId,
        parentId,
        holderRef: terms.holderRef,
        grantee,
        depth: g.depth,
        status: g.status.name,
        salt,
        ...(sig ? { signer: sig.signer, nonce: sig.nonce } : {}),
        ...extra,
      });
      const already = async (): Promise<GrantInfo | undefined> => {
        const g = await grantInfo(childId);
        return g.origin === "NONE" ? undefined : g;
      };
      const before = await already();
      if (before) return reply.code(200).send(answer(before, { created: false }));
      if (sig && sig.deadline < Math.floor(Date.now() / 1000)) {
        throw new ApiError(409, "DelegationSignatureExpired", `${what}: the signed delegation's deadline ${sig.deadline} has passed`, { ...details, deadline: sig.deadline });
      }
      let rc;
      try {
        const tx = sig
          ? await c.getFunction("delegateGrantBySignature")(parentId, terms, BigInt(sig.nonce), sig.deadline, sig.signer, sig.signature)
          : await c.getFunction("delegateGrant")(parentId, terms, salt);
        rc = await tx.wait();
      } catch (e) {
        const name = decodeRevert(e)?.details.error;
        // a concurrent retry created it first (for a signed one, its nonce is spent by then)
        if (name === "GrantAlreadyExists" || (sig && name === "InvalidDelegationNonce") || (!name && isError(e, "CALL_EXCEPTION"))) {
          const now = await already();
          if (now) return reply.code(200).send(answer(now, { created: false }));
        }
        throw chainError(e, details, what);
      }
      const g = (await already())!;
      return reply.code(201).send(answer(g, { created: true, txHash: rc.hash, blockNumber: rc.blockNumber }));
    },
  );

  app.post<{ Params: { grantId: string }; Body: RevokeBodyT }>(
    "/:grantId/revoke",
    {
      schema: {
        ...secured,
        tags,
        summary: "Revoke a grant (and everything delegated below it): as its grantor, as identity provider with evidenceHash, or by the holder's signature",
        description:
          "Body `{}`: this member revokes as the grant's grantor (revokeGrant). `{evidenceHash}`: as identity provider on the holder's behalf. " +
          "`{holderSignature: {nonce, deadline, signer, signature}}`: relay the holder's EIP-712 HolderRevoke{grantId, nonce, deadline} signed by " +
          "a key bound to the holder (nonce = GET /v1/grants/holder-nonce/:holderRef). Idempotent: when the grant is already revoked (a retry, " +
          "or a holder signature whose nonce the first attempt consumed) the answer is 200 with the same final state and `alreadyRevoked: true`. " +
          "Contract refusals are 4xx with the Solidity error's name as `code` (e.g. 403 NotGrantor, 404 NOT_FOUND, 403 InvalidHolderSignature).",
        params: GrantIdParams,
        body: RevokeBody,
        response: { 200: RevokeReply, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => {
      const grantId = req.params.grantId.toLowerCase();
      const b = req.body ?? {};
      const what = `grant ${grantId}`;
      if (b.evidenceHash && b.holderSignature) throw new ApiError(400, "VALIDATION", `${what}: give at most one of evidenceHash or holderSignature`, { grantId, field: "holderSignature" });
      const by = b.holderSignature ? "holder-signature" : b.evidenceHash ? "identity-provider" : "grantor";
      const details = { grantId, by };
      const final = (g: GrantInfo, extra: Record<string, unknown>) => ({
        grantId,
        status: g.status.name,
        revokedAt: Number(g.revokedAt),
        revokedBy: g.revokedBy,
        ...extra,
      });
      const c = write();
      let rc;
      try {
        const hs = b.holderSignature;
        const tx = hs
          ? await c.getFunction("revokeGrantBySignature")(grantId, BigInt(hs.nonce), hs.deadline, hs.signer, hs.signature)
          : b.evidenceHash
            ? await c.getFunction("revokeGrantByIdentityProvider")(grantId, b.evidenceHash)
            : await c.getFunction("revokeGrant")(grantId);
        rc = await tx.wait();
      } catch (e) {
        const name = decodeRevert(e)?.details.error;
        // already revoked: a retry of an applied revocation (for a holder signature, its nonce is spent by then)
        const retry = name === "GrantAlreadyRevoked" || (b.holderSignature && (name === "InvalidHolderNonce" || name === "SignatureExpired")) || (!name && isError(e, "CALL_EXCEPTION"));
        if (retry) {
          const g = await grantInfo(grantId).catch(() => undefined);
          if (g && g.revokedAt > 0n) return final(g, { alreadyRevoked: true });
        }
        if (name === "UnknownGrant") throw new ApiError(404, "NOT_FOUND", `grant ${grantId} does not exist`, details);
        throw chainError(e, details, what);
      }
      return final(await grantInfo(grantId), { alreadyRevoked: false, txHash: rc.hash, blockNumber: rc.blockNumber });
    },
  );

  app.get<{ Params: { grantId: string } }>(
    "/:grantId",
    {
      schema: {
        ...secured,
        tags,
        summary: "A grant and its status on chain",
        params: { type: "object", required: ["grantId"], properties: { grantId: { type: "string", pattern: HEX32 } } },
        response: { 200: { type: "object", additionalProperties: true }, ...errors(401, 404) },
      },
    },
    async (req) => {
      const g = await grantJson(req.params.grantId.toLowerCase()).catch((e) => {
        throw chainError(e, { grantId: req.params.grantId });
      });
      if (g.grantId === ZERO32 || g.status?.name === "UNKNOWN") throw new ApiError(404, "NOT_FOUND", `grant ${req.params.grantId} does not exist`, { grantId: req.params.grantId });
      return g;
    },
  );
};
