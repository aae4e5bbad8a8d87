/**
 * The member node's HTTP API (Fastify 5). Routes under `/v1` need a bearer token; `/healthz`, `/readyz`,
 * `/metrics`, `/openapi.json` and `/docs` do not. Request schemas in `schemas.ts` both validate requests and
 * generate the OpenAPI 3.1 document.
 */
import { createRequire } from "node:module";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { Registry, Histogram, Gauge } from "prom-client";
import type { Logger } from "pino";
import type { MaterialService } from "../core/service.js";
import type { RegisterRequest } from "../core/types.js";
import type { IndexerView } from "../indexer/types.js";
import { TokenVerifier } from "./auth.js";
import { isNodeError } from "../core/errors.js";
import { ApiError, ApiErrorCode, sendError } from "./errors.js";
import {
  SHARED_SCHEMAS,
  idParams,
  reasonBody,
  bulkBody,
  queryMaterialsQuery,
  errorResponses,
} from "./schemas.js";
import { toBytes32Id, toTypeCode } from "./ids.js";
import { bundleOf } from "./bundle.js";
import { EventHub, type EventHubOptions } from "./events.js";

export interface ApiOptions {
  service: MaterialService;
  /** chain-event indexer; query routes answer 503 INDEXER_UNAVAILABLE without it */
  indexer?: IndexerView;
  /** SHA-256 hashes of accepted bearer tokens ("sha256:<hex>") */
  tokens: readonly string[];
  /** Prometheus registry served at /metrics (node-core's); the API adds its own metrics to it */
  registry?: Registry;
  logger?: Logger;
  /**
   * keyed holder reference of a holder ID (the core's `holderRef`, under the consortium key); enables
   * POST /v1/query/materials/by-holder. Throws the SDK's InvalidIdError for a bad number.
   */
  holderRef?: (idType: string, idNumber: string) => string;
  /** resolves the chain head number; used by /readyz ("chain reachable") */
  chainHead?: () => Promise<number>;
  /** /readyz fails while the indexer is more than this many blocks behind (default 5) */
  maxLagBlocks?: number;
  /** body limit of single-material routes, bytes (default 16 MiB) */
  bodyLimit?: number;
  /** body limit of POST /v1/materials/bulk, bytes (default 256 MiB) */
  bulkBodyLimit?: number;
  /** SSE heartbeat interval, ms (default 15 s) */
  heartbeatMs?: number;
  /** SSE replay window for `Last-Event-ID` (see events.ts) */
  events?: EventHubOptions;
  /**
   * further route plugins (e.g. the catalogue's), registered under `prefix` after authentication and the error
   * handler, so they share the bearer-token check, the `{code,message,details}` errors and the OpenAPI document
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugins?: { prefix: string; plugin: FastifyPluginAsync<any>; options: Record<string, unknown> }[];
}

const JSON_ONLY = ["application/json"];

/**
 * Request validation with two ajv instances: bodies are JSON, so their types are checked strictly (no
 * coercion: `"310104"` for an integer or `11010519491231002` for an ID string is a 400 VALIDATION, not a silent
 * conversion that may change the value); query strings and path parameters are text by nature, so their
 * scalars are coerced (`?limit=10` -> 10). Both use Fastify's own ajv compiler (formats, keywords, shared schemas).
 */
type ValidatorFactory = (externalSchemas: unknown, options: { customOptions?: Record<string, unknown> }) => (route: { httpPart?: string }) => unknown;
const ajvSelector = (createRequire(createRequire(import.meta.url).resolve("fastify"))("@fastify/ajv-compiler") as () => ValidatorFactory)();
const AJV_COMMON = { removeAdditional: false, allErrors: false, useDefaults: true };
const buildValidator: ValidatorFactory = (externalSchemas, options) => {
  const strict = ajvSelector(externalSchemas, { ...options, customOptions: { ...options.customOptions, ...AJV_COMMON, coerceTypes: false } });
  const coercing = ajvSelector(externalSchemas, { ...options, customOptions: { ...options.customOptions, ...AJV_COMMON, coerceTypes: "array" } });
  return (route) => (route.httpPart === "body" ? strict(route) : coercing(route));
};

function b64(content: string, index?: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content) || content.length % 4 === 1) {
    throw new ApiError(400, ApiErrorCode.VALIDATION, "content is not valid base64", {
      path: index === undefined ? "body/content" : `body/materials/${index}/content`,
      ...(index === undefined ? {} : { index }),
    });
  }
  // a Buffer is a Uint8Array: no copy
  return Buffer.from(content, "base64");
}

type RegisterBody = Omit<RegisterRequest, "content"> & { content?: string };

/** Convert a JSON body item to the core's request (base64 content decoded; exactly one content source). */
function toRegisterRequest(b: RegisterBody, index?: number): RegisterRequest {
  const at = (f: string) => (index === undefined ? `body/${f}` : `body/materials/${index}/${f}`);
  const idx = index === undefined ? {} : { index };
  if ((b.content === undefined) === (b.contentHash === undefined)) {
    throw new ApiError(400, ApiErrorCode.VALIDATION, `${at("content")}: give exactly one of content or contentHash`, { path: at("content"), ...idx });
  }
  if ((b.holder === undefined) === (b.holderRef === undefined)) {
    throw new ApiError(400, ApiErrorCode.VALIDATION, `${at("holder")}: give exactly one of holder or holderRef`, { path: at("holder"), ...idx });
  }
  // the body object is this request's own (parsed JSON): decode the content in place instead of copying it
  if (b.content === undefined) return b as RegisterRequest;
  (b as unknown as RegisterRequest).content = b64(b.content, index);
  return b as unknown as RegisterRequest;
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** the event hubs of the APIs registered on a registry (their gauges are read at scrape time) */
const hubsOf = new WeakMap<Registry, Set<EventHub>>();

/** Build the API (not listening). `await app.listen({ host, port })` to serve. */
export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const verifier = new TokenVerifier(opts.tokens);
  const registry = opts.registry ?? new Registry();
  const maxLag = opts.maxLagBlocks ?? 5;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const sseMaxBuffer = 4 * 1024 * 1024;
  const httpSeconds = metric(
    registry,
    "tongban_http_request_duration_seconds",
    () =>
      new Histogram({
        name: "tongban_http_request_duration_seconds",
        help: "HTTP API latency by method, route and status",
        labelNames: ["method", "route", "status"],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  );

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as unknown as FastifyBaseLogger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    ajv: { customOptions: { ...AJV_COMMON, coerceTypes: "array" } },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    schemaController: { compilersFactory: { buildValidator: buildValidator as any } },
    // on close: idle keep-alive sockets are closed, requests in flight finish, event streams are ended (preClose)
    return503OnClosing: true,
  });

  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  /** open event streams, ended when the server closes */
  const streams = new Set<() => void>();
  /** set when close() begins: answers in flight then close their connection instead of keeping it alive */
  let closing = false;
  const hub = new EventHub(opts.service, opts.indexer, opts.events);
  const hubs = hubsOf.get(registry) ?? new Set<EventHub>();
  hubsOf.set(registry, hubs);
  hubs.add(hub);
  metric(registry, "tongban_api_event_streams", () => new Gauge({
    name: "tongban_api_event_streams",
    help: "open server-sent event streams (/v1/events)",
    registers: [registry],
    collect() {
      let n = 0;
      for (const h of hubsOf.get(registry) ?? []) n += h.streamCount;
      this.set(n);
    },
  }));
  metric(registry, "tongban_api_material_events_recorded", () => new Gauge({
    name: "tongban_api_material_events_recorded",
    help: "1 while per-material events are recorded for replay (a stream is open, or the last closed less than materialLingerMs ago)",
    registers: [registry],
    collect() {
      this.set([...(hubsOf.get(registry) ?? [])].some((h) => h.recordingMaterials) ? 1 : 0);
    },
  }));
  app.addHook("preClose", async () => {
    closing = true;
    for (const end of streams) end();
    streams.clear();
    hub.close();
    hubs.delete(hub);
  });
  app.addHook("onSend", async (_req, reply) => {
    if (closing) reply.header("connection", "close");
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Tongban member node API",
        version: "1.0.0",
        description:
          "Register e-materials, follow their anchoring, change their status and query the ledger index. " +
          "Errors are `{code, message, details}`. Authenticate with `Authorization: Bearer <token>`.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      tags: [
        { name: "materials", description: "registration, state, bundles, status changes" },
        { name: "query", description: "the chain-event index" },
        { name: "events", description: "server-sent events" },
        { name: "ops", description: "health, readiness, metrics" },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => String((json as { $id?: string }).$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  app.setErrorHandler((err, req, reply) => sendError(reply, req, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, req, new ApiError(404, ApiErrorCode.NOT_FOUND, `no route ${req.method} ${req.url.split("?")[0]}`, { method: req.method, url: req.url.split("?")[0] })),
  );

  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unknown";
    httpSeconds.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // Authentication: every /v1 route. Done in onRequest, before the body is read or parsed.
  app.addHook("onRequest", async (req: FastifyRequest) => {
    if (!req.url.startsWith("/v1/") && req.url !== "/v1") return;
    const token = TokenVerifier.bearer(req.headers.authorization);
    if (!token) throw new ApiError(401, ApiErrorCode.UNAUTHORIZED, "missing bearer token", { header: "authorization" });
    if (!verifier.verify(token)) throw new ApiError(401, ApiErrorCode.UNAUTHORIZED, "token not accepted", { header: "authorization" });
  });

  const secured = { security: [{ bearer: [] }] };
  const svc = opts.service;
  const indexer = () => {
    if (!opts.indexer) throw new ApiError(503, ApiErrorCode.INDEXER_UNAVAILABLE, "this node runs without an indexer", {});
    return opts.indexer;
  };
  const idemKey = (req: FastifyRequest) => {
    const k = req.headers["idempotency-key"];
    return typeof k === "string" && k.length > 0 ? k.slice(0, 200) : undefined;
  };
  const chainOf = async (leaf: string) => (opts.indexer ? await opts.indexer.materialState(leaf) : null);
  const emptyBodyIsObject = async (req: FastifyRequest) => {
    if (req.body === undefined || req.body === null) req.body = {};
  };

  // ---------------------------------------------------------------------------------------- materials
  app.post<{ Body: RegisterBody }>(
    "/v1/materials",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Register one material",
        description: "Persisted before the answer; anchored asynchronously. Header `Idempotency-Key` makes retries safe.",
        consumes: JSON_ONLY,
        body: { $ref: "RegisterRequest#" },
        response: { 202: { $ref: "RegisterAck#" }, ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503) },
      },
    },
    async (req, reply) => {
      const [ack] = await svc.register([toRegisterRequest(req.body)], { idempotencyKey: idemKey(req) });
      return reply.code(202).send(ack);
    },
  );

  app.post<{ Body: { materials: RegisterBody[] } }>(
    "/v1/materials/bulk",
    {
      bodyLimit: opts.bulkBodyLimit ?? 256 * 1024 * 1024,
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Register many materials in one request",
        description: "All or nothing: if any item is refused, none is persisted and `details.index` names it.",
        consumes: JSON_ONLY,
        body: bulkBody,
        response: {
          202: { type: "object", required: ["materials"], properties: { materials: { type: "array", items: { $ref: "RegisterAck#" } } } },
          ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503),
        },
      },
    },
    async (req, reply) => {
      const requests = req.body.materials.map((m, i) => toRegisterRequest(m, i));
      const acks = await svc.register(requests, { idempotencyKey: idemKey(req) });
      return reply.code(202).send({ materials: acks });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/materials/:id",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "State of a material",
        description: "This node's record (for materials it registered) joined with the indexer's chain view.",
        params: idParams,
        response: { 200: { $ref: "Material#" }, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => {
      const id = req.params.id.toLowerCase();
      const chain = await chainOf(id);
      try {
        const { bundle: _bundle, ...rec } = await svc.getMaterial(id);
        return { ...rec, chain };
      } catch (e) {
        // not registered on this node: answer from the chain index if it knows the leaf
        const known = chain && (chain.anchored || chain.statusBlock !== null || chain.headerKnown);
        if (!(isNodeError(e) && e.code === "NOT_FOUND" && known)) throw e;
        return { id, state: chain.anchored ? "anchored" : "unknown", status: chain.status, chain };
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/materials/:id/bundle",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Proof bundle of an anchored material (SDK format tongban/proof-bundle@1)",
        params: idParams,
        response: { 200: { type: "object", additionalProperties: true }, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (req) => {
      const id = req.params.id.toLowerCase();
      const rec = await svc.getMaterial(id);
      if (rec.state !== "anchored") {
        throw new ApiError(409, ApiErrorCode.NOT_ANCHORED, `material ${id} is not anchored yet (state ${rec.state})`, { id, state: rec.state });
      }
      return bundleOf(rec);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/materials/:id/content",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Document content (decrypted)",
        params: idParams,
        response: {
          200: { description: "the document bytes", content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (req, reply) => {
      const bytes = await svc.getContent(req.params.id.toLowerCase());
      return reply.type("application/octet-stream").send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );

  for (const kind of ["revoke", "suspend"] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: number } }>(
      `/v1/materials/:id/${kind}`,
      {
        preValidation: emptyBodyIsObject,
        schema: {
          ...secured,
          tags: ["materials"],
          summary: kind === "revoke" ? "Revoke a material (final)" : "Suspend a material (reversible)",
          params: idParams,
          body: reasonBody,
          response: { 202: { $ref: "StatusOp#" }, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        const id = req.params.id.toLowerCase();
        const reason = req.body.reason ?? 0;
        const op = kind === "revoke" ? await svc.revoke(id, reason, { idempotencyKey: idemKey(req) }) : await svc.suspend(id, reason, { idempotencyKey: idemKey(req) });
        return reply.code(202).send(op);
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    "/v1/materials/:id/reinstate",
    {
      preValidation: emptyBodyIsObject,
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Lift this node's suspension of a material",
        params: idParams,
        body: { type: "object", additionalProperties: false, properties: {} },
        response: { 202: { $ref: "StatusOp#" }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => reply.code(202).send(await svc.reinstate(req.params.id.toLowerCase(), { idempotencyKey: idemKey(req) })),
  );

  app.post<{ Params: { id: string }; Body: RegisterBody }>(
    "/v1/materials/:id/supersede",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "Register the successor of a material and record the supersession on chain",
        description: "`supersedes` and `version` default to the old material and its version + 1.",
        params: idParams,
        consumes: JSON_ONLY,
        body: { $ref: "RegisterRequest#" },
        response: {
          202: { type: "object", required: ["ack", "op"], properties: { ack: { $ref: "RegisterAck#" }, op: { $ref: "StatusOp#" } } },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
        },
      },
    },
    async (req, reply) => {
      const res = await svc.supersede(req.params.id.toLowerCase(), toRegisterRequest(req.body), { idempotencyKey: idemKey(req) });
      return reply.code(202).send(res);
    },
  );

  app.get<{ Params: { opId: string } }>(
    "/v1/ops/:opId",
    {
      schema: {
        ...secured,
        tags: ["materials"],
        summary: "A status operation",
        params: { type: "object", required: ["opId"], properties: { opId: { type: "string", minLength: 1, maxLength: 200 } } },
        response: { 200: { $ref: "StatusOp#" }, ...errorResponses(401, 404) },
      },
    },
    async (req) => svc.getOp(req.params.opId),
  );

  // ---------------------------------------------------------------------------------------- query
  type QueryBody = { holderRef?: string; issuer?: string; type?: string; from?: number; to?: number; limit?: number; after?: string };
  const queryPageSchema = {
    type: "object",
    required: ["items"],
    properties: {
      items: {
        type: "array",
        items: {
          type: "object",
          properties: { id: { type: "string" }, header: { type: "object", additionalProperties: true }, chain: { $ref: "ChainState#" } },
        },
      },
      next: { type: "string" },
    },
  } as const;
  const runQuery = async (q: QueryBody) => {
    if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
      throw new ApiError(400, ApiErrorCode.VALIDATION, "from is after to", { path: "from", from: q.from, to: q.to });
    }
    return indexer().queryMaterials({
      holderRef: q.holderRef?.toLowerCase(),
      issuer: q.issuer === undefined ? undefined : toBytes32Id(q.issuer),
      typeCode: q.type === undefined ? undefined : toTypeCode(q.type),
      from: q.from,
      to: q.to,
      limit: q.limit,
      after: q.after,
    });
  };
  app.get<{ Params: { id: string } }>(
    "/v1/materials/:id/history",
    {
      schema: {
        ...secured,
        tags: ["query"],
        summary: "Chain history of a material: its anchor and every status event, oldest first",
        params: idParams,
        response: {
          200: { type: "object", required: ["id", "events"], properties: { id: { type: "string" }, events: { type: "array", items: { $ref: "HistoryEntry#" } } } },
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (req) => {
      const id = req.params.id.toLowerCase();
      return { id, events: await indexer().history(id) };
    },
  );

  app.get<{ Querystring: QueryBody }>(
    "/v1/query/materials",
    {
      schema: {
        ...secured,
        tags: ["query"],
        summary: "Materials by holder reference, issuer, type and issue time",
        description:
          "Answers from the index of headers this node knows (its own materials and those it received), joined with chain " +
          "state. `from`/`to` bound the header's issuedAt.",
        querystring: queryMaterialsQuery,
        response: {
          200: queryPageSchema,
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (req) => runQuery(req.query),
  );

  app.post<{ Body: QueryBody & { holder: { idType: string; idNumber: string } } }>(
    "/v1/query/materials/by-holder",
    {
      schema: {
        ...secured,
        tags: ["query"],
        summary: "Materials of a holder given by ID (the node computes the keyed holderRef; the ID stays out of URLs and logs)",
        consumes: JSON_ONLY,
        body: {
          type: "object",
          required: ["holder"],
          additionalProperties: false,
          properties: {
            holder: { $ref: "HolderId#" },
            issuer: queryMaterialsQuery.properties.issuer,
            type: queryMaterialsQuery.properties.type,
            from: queryMaterialsQuery.properties.from,
            to: queryMaterialsQuery.properties.to,
            limit: queryMaterialsQuery.properties.limit,
            after: queryMaterialsQuery.properties.after,
          },
        },
        response: { 200: queryPageSchema, ...errorResponses(400, 401, 503) },
      },
    },
    async (req) => {
      if (!opts.holderRef) throw new ApiError(503, ApiErrorCode.INDEXER_UNAVAILABLE, "this node cannot compute holder references", {});
      const { holder, ...rest } = req.body;
      let holderRef: string;
      try {
        holderRef = opts.holderRef(holder.idType, holder.idNumber);
      } catch (e) {
        const err = e as { name?: string; message?: string; details?: Record<string, unknown> };
        if (err?.name === "InvalidIdError") {
          throw new ApiError(400, "INVALID_ID", err.message ?? "invalid holder ID", { path: "body/holder/idNumber", ...(err.details ?? {}) });
        }
        throw e;
      }
      return runQuery({ ...rest, holderRef });
    },
  );

  app.get<{ Params: { memberId: string } }>(
    "/v1/query/members/:memberId/history",
    {
      schema: {
        ...secured,
        tags: ["query"],
        summary: "Membership events of a member (admission, suspension, accounts, roles, entitlements)",
        params: { type: "object", required: ["memberId"], properties: { memberId: queryMaterialsQuery.properties.issuer } },
        response: {
          200: { type: "object", properties: { memberId: { type: "string" }, events: { type: "array", items: { $ref: "HistoryEntry#" } } } },
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (req) => {
      const memberId = toBytes32Id(req.params.memberId);
      return { memberId, events: await indexer().memberHistory(memberId) };
    },
  );

  // ---------------------------------------------------------------------------------------- events
  app.get(
    "/v1/events",
    {
      schema: {
        ...secured,
        tags: ["events"],
        summary: "Server-sent events: this node's material/op/batch changes and confirmed chain events",
        description:
          "`text/event-stream`. Event names: `material`, `op`, `batch` (from the node core) and `chain` (from the indexer). " +
          "Data is JSON. A comment line is sent as heartbeat. Every event has an id: reconnect with header `Last-Event-ID` " +
          "to get the events missed since (kept: the last 10,000 batch/op/chain and 100,000 material events; material events " +
          "only while a client listens and 60 s after). When that cannot be exact (node restarted, id too old) the stream starts " +
          "with `event: reset` `{reason, lastEventId}`: re-read the state you follow. A consumer more than 4 MiB behind gets " +
          "`overflow` and is closed (reconnect with Last-Event-ID).",
        headers: {
          type: "object",
          properties: { "last-event-id": { type: "string", maxLength: 100, description: "id of the last event processed: the stream first replays what came after it" } },
        },
        response: { 200: { description: "event stream", content: { "text/event-stream": { schema: { type: "string" } } } }, ...errorResponses(400, 401) },
      },
    },
    async (req, reply) => {
      const lastId = req.headers["last-event-id"];
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      raw.write(": tongban events\nretry: 1000\n\n");
      let cut = false;
      const write = (frame: string) => {
        if (cut || raw.writableEnded || raw.destroyed) return;
        // a consumer that does not read is cut off (it reconnects with Last-Event-ID and gets the rest replayed)
        // instead of growing this process's memory
        if (raw.writableLength > sseMaxBuffer) {
          cut = true;
          raw.end(`event: overflow\ndata: ${JSON.stringify({ reason: "slow consumer", buffered: raw.writableLength })}\n\n`);
          return;
        }
        raw.write(frame);
      };
      const { events, reset, detach } = hub.attach((e) => write(e.frame), typeof lastId === "string" && lastId.length > 0 ? lastId.slice(0, 100) : undefined);
      if (reset) raw.write(`id: ${hub.lastEventId}\nevent: reset\ndata: ${JSON.stringify(reset)}\n\n`);
      // replay in chunks so that a large window does not become one huge string
      for (let i = 0; i < events.length; i += 1000) raw.write(events.slice(i, i + 1000).map((e) => e.frame).join(""));
      const beat = setInterval(() => !raw.writableEnded && raw.write(": heartbeat\n\n"), heartbeatMs);
      beat.unref();
      const close = () => {
        clearInterval(beat);
        detach();
      };
      const end = () => {
        close();
        // a stream never becomes idle: end it and drop its socket so close() does not wait for keep-alive
        if (!raw.writableEnded) raw.end(() => raw.socket?.destroy());
        else raw.socket?.destroy();
      };
      streams.add(end);
      req.raw.on("close", () => {
        streams.delete(end);
        close();
      });
    },
  );

  // ---------------------------------------------------------------------------------------- ops
  app.get("/healthz", { schema: { tags: ["ops"], summary: "Liveness", response: { 200: { type: "object", properties: { ok: { type: "boolean" } } } } } }, async () => ({
    ok: true,
  }));

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["ops"],
        summary: "Readiness: chain reachable and indexer caught up",
        response: {
          200: { type: "object", additionalProperties: true, properties: { ready: { type: "boolean" } } },
          503: { type: "object", additionalProperties: true, properties: { ready: { type: "boolean" } } },
        },
      },
    },
    async (_req, reply) => {
      let head: number | null = null;
      let chainError: string | undefined;
      if (opts.chainHead) {
        try {
          head = await Promise.race([
            opts.chainHead(),
            new Promise<number>((_, rej) => setTimeout(() => rej(new Error("chain head timed out after 3 s")), 3000).unref()),
          ]);
        } catch (e) {
          chainError = String((e as Error)?.message ?? e).slice(0, 200);
        }
      }
      const chainOk = opts.chainHead ? head !== null : true;
      const p = opts.indexer?.progress();
      const indexerOk = p ? p.running && p.lag <= maxLag : true;
      const ready = chainOk && indexerOk;
      const stats = svc.stats();
      return reply.code(ready ? 200 : 503).send({
        ready,
        chain: { ok: chainOk, head, error: chainError },
        indexer: p ? { ok: indexerOk, ...p } : null,
        service: stats,
      });
    },
  );

  app.get("/metrics", { schema: { tags: ["ops"], summary: "Prometheus metrics", produces: ["text/plain"] } }, async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  for (const p of opts.plugins ?? []) await app.register(p.plugin, { ...p.options, prefix: p.prefix });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  return app;
}
