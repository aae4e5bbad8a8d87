/**
 * Fastify plugin: the catalogue routes. Register it ONCE, after the API's auth hook and error handler, with
 * the `/v1/catalogue` prefix; it inherits both (Fastify encapsulation), so every route needs the bearer token
 * and errors leave as `{code, message, details}`:
 *
 *   await app.register(catalogueRoutes, { prefix: "/v1/catalogue", service: catalogueService });
 *
 * Routes (bodies/queries validated by ./schemas.ts):
 *   GET  /entries?provider&grade&sharing&open&duty&system&status&text&limit   search the index
 *   GET  /entries/:code                       one indexed entry with the texts this node holds
 *   POST /entries                             publish (register or version) one of this member's entries
 *   POST /entries/:code/withdraw  {reason}    withdraw (provider or Cataloguer)
 *   POST /entries/:code/publish   {version}   Cataloguer: publish a version
 *   POST /entries/:code/correct   {grade, level, sharing, open, reason}  Cataloguer: correct the classification
 *   POST /entries/:code/texts     {title?, description?, fields?}  import texts checked against the chain
 *   POST /duties   {code, description}        register a duty of this member
 *   POST /systems  {code, description}        register an information system of this member
 *   POST /scenarios {scenarioId, purpose, legalBasis, resources}
 *   GET  /scenarios/:code                     indexed scenario with its draws
 *   GET  /requests?status                     draws on this member's resources (approval inbox)
 *   POST /scenarios/:scenarioId/resources/:code/approve {expiresAt}
 *   POST /scenarios/:scenarioId/resources/:code/deny    {reason}
 *   GET  /scenarios/:scenarioId/resources/:code/can-use  on-chain canUse now
 *   POST /uses {scenarioId, resourceCode, matter, queryHash, requestId?, consumer?}
 *        record a data use under a scenario in this node's use log (basis SCENARIO), after `canUse` on chain;
 *        201 {seq, leafHash, direction, record}. Refusals are 403 (404 for UNKNOWN_SCENARIO) whose `code` is
 *        the canUse reason: RESOURCE_NOT_SHARED, APPROVAL_MISSING, APPROVAL_EXPIRED, APPROVAL_DENIED,
 *        RESOURCE_WITHDRAWN, CONSUMER_SUSPENDED, PROVIDER_SUSPENDED, RESOURCE_NOT_DRAWN, ...
 *   GET  /uses?scenario|resource|member|matter&from&to&limit   (needs the `useLog` option) the data uses of
 *        this node's log with their inclusion proofs against the latest anchored / signed head
 */
import type { FastifyPluginAsync } from "fastify";
import type { CatalogueEntryDoc, CatalogueField, DataGradeName, DrawStatusName, OpenTypeName, SharingTypeName } from "@tongban/sdk";
import { NotFoundError, ValidationError } from "../core/errors.js";
import { ApiError } from "../api/errors.js";
import type { UseLog, IndexKind } from "../audit/use-log.js";
import { DataUseRefusedError, type CatalogueSearch, type CatalogueService, type DataUseInput } from "./service.js";
import {
  approveSchema, correctionSchema, catalogueEntrySchema, catalogueSearchSchema, codeDescriptionSchema, codeParams, importTextsSchema, publishVersionSchema,
  reasonSchema, scenarioSchema, useParams, dataUseSchema, dataUseQuerySchema,
} from "./schemas.js";
import { catalogueCode } from "@tongban/sdk";
import { encodeBytes32String } from "ethers";

export interface CatalogueRoutesOptions {
  service: CatalogueService;
  /** the node's use log: serves GET /uses (data-use history with proofs); POST /uses logs through the service */
  useLog?: UseLog;
}

const tags = ["catalogue"];
const secured = { security: [{ bearer: [] }] };

export const catalogueRoutes: FastifyPluginAsync<CatalogueRoutesOptions> = async (app, opts) => {
  const svc = opts.service;

  app.get<{ Querystring: CatalogueSearch }>("/entries", { schema: { ...secured, tags, summary: "Search catalogue entries", querystring: catalogueSearchSchema } },
    async (req) => ({ entries: await svc.search(req.query) }));

  app.get<{ Params: { code: string } }>("/entries/:code", { schema: { ...secured, tags, summary: "One catalogue entry", params: codeParams } },
    async (req) => {
      const e = await svc.getEntry(req.params.code);
      if (!e) throw new NotFoundError("resource", req.params.code);
      return e;
    });

  app.post<{ Body: CatalogueEntryDoc }>("/entries", { schema: { ...secured, tags, summary: "Publish (register or version) an entry of this member", body: catalogueEntrySchema } },
    async (req, reply) => reply.code(201).send(await svc.publish(req.body)));

  app.post<{ Params: { code: string }; Body: { reason: string } }>("/entries/:code/withdraw", { schema: { ...secured, tags, summary: "Withdraw an entry", params: codeParams, body: reasonSchema } },
    async (req) => svc.withdraw(req.params.code, req.body.reason).then(receipt));

  app.post<{ Params: { code: string }; Body: { version: number } }>("/entries/:code/publish", { schema: { ...secured, tags, summary: "Cataloguer: publish a version", params: codeParams, body: publishVersionSchema } },
    async (req) => svc.approveEntry(req.params.code, req.body.version).then(receipt));

  app.post<{ Params: { code: string }; Body: { grade: DataGradeName; level: number; sharing: SharingTypeName; open: OpenTypeName; reason: string } }>("/entries/:code/correct",
    { schema: { ...secured, tags, summary: "Cataloguer: correct the classification (published at once)", params: codeParams, body: correctionSchema } },
    async (req) => {
      const { reason, ...c } = req.body;
      return receipt(await svc.correctClassification(req.params.code, c, reason));
    });

  app.post<{ Params: { code: string }; Body: { title?: string; description?: string; fields?: CatalogueField[] } }>("/entries/:code/texts",
    { schema: { ...secured, tags, summary: "Import texts of an entry, checked against the chain hashes", params: codeParams, body: importTextsSchema } },
    async (req, reply) => { await svc.importTexts(req.params.code, req.body); return reply.code(204).send(); });

  app.post<{ Body: { code: string; description: string } }>("/duties", { schema: { ...secured, tags, summary: "Register a duty (职责) of this member", body: codeDescriptionSchema } },
    async (req, reply) => reply.code(201).send(receipt(await svc.registerDuty(req.body.code, req.body.description))));

  app.post<{ Body: { code: string; description: string } }>("/systems", { schema: { ...secured, tags, summary: "Register an information system of this member", body: codeDescriptionSchema } },
    async (req, reply) => reply.code(201).send(receipt(await svc.registerSystem(req.body.code, req.body.description))));

  app.post<{ Body: { scenarioId: string; purpose: string; legalBasis: string; resources: string[] } }>("/scenarios",
    { schema: { ...secured, tags, summary: "Register an application scenario", body: scenarioSchema } },
    async (req, reply) => reply.code(201).send(receipt(await svc.registerScenario(req.body.scenarioId, req.body.purpose, req.body.legalBasis, req.body.resources))));

  app.get<{ Params: { code: string } }>("/scenarios/:code", { schema: { ...secured, tags, summary: "One scenario with its draws", params: codeParams } },
    async (req) => {
      const s = await svc.getScenario(req.params.code);
      if (!s) throw new NotFoundError("scenario", req.params.code);
      return s;
    });

  app.get<{ Querystring: { status?: DrawStatusName } }>("/requests",
    { schema: { ...secured, tags, summary: "Draws on this member's resources", querystring: { type: "object", additionalProperties: false, properties: { status: { enum: ["DRAWN", "APPROVED", "DENIED"] } } } } },
    async (req) => ({ requests: await svc.requests(req.query.status ? { status: req.query.status } : {}) }));

  app.post<{ Params: { scenarioId: string; code: string }; Body: { expiresAt: number } }>("/scenarios/:scenarioId/resources/:code/approve",
    { schema: { ...secured, tags, summary: "Provider: approve a conditional resource for a scenario", params: useParams, body: approveSchema } },
    async (req) => receipt(await svc.approveUse(req.params.scenarioId, req.params.code, req.body.expiresAt)));

  app.post<{ Params: { scenarioId: string; code: string }; Body: { reason: string } }>("/scenarios/:scenarioId/resources/:code/deny",
    { schema: { ...secured, tags, summary: "Provider: deny or withdraw an approval", params: useParams, body: reasonSchema } },
    async (req) => receipt(await svc.denyUse(req.params.scenarioId, req.params.code, req.body.reason)));

  app.get<{ Params: { scenarioId: string; code: string } }>("/scenarios/:scenarioId/resources/:code/can-use",
    { schema: { ...secured, tags, summary: "May the scenario use the resource now (on chain)?", params: useParams } },
    async (req) => svc.canUse(req.params.scenarioId, req.params.code));

  app.post<{ Body: Omit<DataUseInput, "time"> }>("/uses",
    { schema: { ...secured, tags, summary: "Record a data use under a scenario (checked by canUse on chain) in this node's use log", body: dataUseSchema } },
    async (req, reply) => {
      try {
        const r = await svc.recordDataUse(req.body);
        return reply.code(201).send({ seq: r.seq, leafHash: r.leafHash, direction: r.record.direction, record: { ...r.record, time: Number(r.record.time) } });
      } catch (e) {
        if (e instanceof DataUseRefusedError) {
          const reason = String(e.details.reason);
          throw new ApiError(reason === "UNKNOWN_SCENARIO" ? 404 : 403, reason, e.message, e.details);
        }
        throw e;
      }
    });

  app.get<{ Querystring: { scenario?: string; resource?: string; member?: string; matter?: string; from?: number; to?: number; limit?: number } }>("/uses",
    { schema: { ...secured, tags, summary: "Data uses under scenarios in this node's use log, with inclusion proofs", querystring: dataUseQuerySchema } },
    async (req) => {
      if (!opts.useLog) throw new ApiError(503, "UNAVAILABLE", "this node has no use log", {});
      const q = req.query;
      const given = (["scenario", "resource", "member", "matter"] as const).filter((k) => q[k] !== undefined);
      if (given.length !== 1) throw new ValidationError("give exactly one of scenario, resource, member, matter", { field: "query" });
      const by = given[0]!;
      const raw = q[by]!;
      const key = by === "member"
        ? (raw.startsWith("0x") ? raw.toLowerCase() : encodeBytes32String(raw).toLowerCase())
        : catalogueCode(raw, by).toLowerCase();
      const kind: IndexKind = by;
      const h = await opts.useLog.history({ by: kind, key, ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) });
      // member and matter indexes hold material uses too: this route answers data uses only
      return { ...h, records: h.records.filter((r) => r.record.basis === "SCENARIO") };
    });
};

function receipt(r: { txHash: string; blockNumber: number; gasUsed: bigint }) {
  return { txHash: r.txHash, blockNumber: r.blockNumber, gasUsed: Number(r.gasUsed) };
}

export default catalogueRoutes;
