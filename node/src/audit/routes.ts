/**
 * The audit API under /v1/audit (registered through buildApi's `plugins`; bearer token, `{code,message,details}`
 * errors, OpenAPI document):
 *
 *   POST /v1/audit/history/holder        {idType, idNumber, from?, to?, limit?}: a holder's data-use history
 *                                        (the ID travels in the body, never in a URL; the node keys it into a
 *                                        holderRef and does not keep it)
 *   GET  /v1/audit/history/:by/:key      by = holder-ref | material | member | matter | grant (and any further
 *                                        index of the log, e.g. scenario | resource for data uses)
 *                                        (member: USCC or bytes32 id; matter, resource: code text or bytes32)
 *        ?from=&to= (unix seconds or ISO dates) &limit= &format=json|csv
 *   GET  /v1/audit/heads                 this log's size, latest signed head, latest anchored head, and the
 *                                        heads on chain (IAuthorisations.useLogHead)
 *   POST /v1/audit/check                 the audit check of this log against its heads on chain (inclusion,
 *                                        consistency, use counts per anchor) and, with `peer`, reconciliation
 *                                        of this log with a peer's exported records
 *
 * Every history record carries its inclusion proof (RFC 9162 audit path) against the anchored head (or the
 * latest signed head for records appended after it); `chainHead` is the anchored head as read from the chain
 * at query time, so a client checks the proof against the chain's root, not against the node's word
 * (`tongban audit history` does: see cli/audit.ts).
 */
import type { FastifyPluginAsync } from "fastify";
import { ApiError } from "../api/errors.js";
import { HEX32 } from "../api/schemas.js";
import { code32, holderRefOf, member32 } from "../api/exchange-routes.js";
import type { Interface } from "ethers";
import { authorisationsInterface as authIface, type AuthorisationsView } from "../p2p/chain.js";

const authorisationsInterface = authIface as unknown as Interface;

interface ChainUseLogHead {
  treeSize: number;
  rootHash: string;
  anchoredBlock: number;
  anchoredAt: number;
}
import { INDEX_KIND, historyToCsv, type HistoryQuery, type HistoryResult, type IndexKind, type UseLog } from "./use-log.js";
import { auditLog, auditUseCounts, type Finding } from "./check.js";
import { decodeUseRecord, type UseRecord } from "./record.js";

export interface AuditRoutesOptions {
  useLog: UseLog;
  /** this member (bytes32) */
  memberId: string;
  /** chain views of the Authorisations contract (heads, anchors) */
  authorisations?: AuthorisationsView;
  holderRef(idType: string, idNumber: string): string;
}

const secured = { security: [{ bearer: [] }] };
const tags = ["audit"];
const errors = (...s: number[]) => Object.fromEntries(s.map((x) => [x, { $ref: "Error#", description: `error (${x})` }]));

/** URL names of the history indexes: every index of the log (holder as `holder-ref`; the ID goes by POST). */
const BY: Record<string, IndexKind> = Object.fromEntries(Object.keys(INDEX_KIND).map((k) => [k === "holder" ? "holder-ref" : k, k as IndexKind]));
/** indexes keyed by a code (text or bytes32) rather than a 32-byte hash */
const CODE_KEYED = new Set(["matter", "resource"]);

const timeField = (d: string) => ({ type: "string", maxLength: 40, description: `${d}: unix seconds or an ISO 8601 date` }) as const;
const rangeProps = {
  from: timeField("start of the range, inclusive"),
  to: timeField("end of the range, inclusive"),
  limit: { type: "integer", minimum: 1, maximum: 100_000, default: 1000 },
} as const;
const formatQuery = {
  type: "object",
  properties: { ...rangeProps, format: { type: "string", enum: ["json", "csv"], default: "json" } },
  additionalProperties: false,
} as const;

const ProvenRecordSchema = {
  type: "object",
  properties: {
    record: { type: "object", additionalProperties: true, description: "seq, direction (SERVED|RECEIVED), basis, time, requestId, grantId, matter, requester, custodian, typeCode, leaf" },
    leafHash: { type: "string", description: "SHA-256(0x00 || encoded) (RFC 6962 leaf)" },
    encoded: { type: "string", description: "the canonical record (what the leaf commits to)" },
    proof: { type: "array", items: { type: "string" }, description: "RFC 9162 audit path to the head of size treeSize" },
    treeSize: { type: "integer" },
    anchored: { type: "boolean", description: "treeSize is an anchored head (false: the latest signed head, anchoring pending)" },
  },
  additionalProperties: true,
} as const;

const HistoryReply = {
  type: "object",
  properties: {
    format: { type: "string" },
    logId: { type: "string" },
    query: { type: "object", additionalProperties: true },
    anchoredHead: { type: "object", additionalProperties: true, description: "the node's latest anchored head {size, root, blockNumber, txHash, at}" },
    chainHead: { type: "object", additionalProperties: true, description: "the same head as read from the chain now {treeSize, rootHash, anchoredBlock, anchoredAt}" },
    signedHead: { type: "object", additionalProperties: true, description: "the latest head signed by the ops account (records after the anchored head are proven against it)" },
    records: { type: "array", items: ProvenRecordSchema },
    truncated: { type: "boolean" },
  },
  additionalProperties: true,
} as const;

/** unix seconds from "1712345678" or an ISO date. */
function toUnix(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ApiError(400, "VALIDATION", `${field} must be unix seconds or an ISO 8601 date`, { field, value: v });
  return Math.floor(t / 1000);
}

export const auditRoutes: FastifyPluginAsync<AuditRoutesOptions> = async (app, opts) => {
  const log = opts.useLog;

  // the chain's record of an anchored head: immutable once anchored (a custodian's heads only advance), so
  // each is read once (one eth_call for the latest head; older ones walked back only if asked for)
  const chainHeads = new Map<number, ChainUseLogHead>();
  const chainHeadOf = async (size: number | undefined): Promise<ChainUseLogHead | undefined> => {
    if (!opts.authorisations || !size) return undefined;
    const hit = chainHeads.get(size);
    if (hit) return hit;
    try {
      const view = opts.authorisations;
      const read = async (fn: "latestUseLogHead" | "useLogHead", args: unknown[]): Promise<ChainUseLogHead> => {
        const raw = await view.rpc.call(view.address, authorisationsInterface.encodeFunctionData(fn, args));
        const h = authorisationsInterface.decodeFunctionResult(fn, raw)[0] as unknown as { treeSize: bigint; rootHash: string; anchoredBlock: bigint; anchoredAt: bigint };
        return { treeSize: Number(h.treeSize), rootHash: h.rootHash.toLowerCase(), anchoredBlock: Number(h.anchoredBlock), anchoredAt: Number(h.anchoredAt) };
      };
      let h = await read("latestUseLogHead", [opts.memberId]);
      if (h.treeSize !== size) {
        const n = Number(authorisationsInterface.decodeFunctionResult("useLogHeadCount", await view.rpc.call(view.address, authorisationsInterface.encodeFunctionData("useLogHeadCount", [opts.memberId])))[0]);
        for (let i = n - 1; i >= 0 && h.treeSize > size; i--) h = await read("useLogHead", [opts.memberId, i]);
      }
      if (h.treeSize !== size) return undefined;
      if (chainHeads.size > 10_000) chainHeads.clear();
      chainHeads.set(size, h);
      return h;
    } catch {
      return undefined; // chain unreachable: the answer says so by having no chainHead
    }
  };

  const answer = async (q: HistoryQuery, format: string | undefined, reply: { type(t: string): unknown; header(k: string, v: string): unknown }) => {
    if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new ApiError(400, "VALIDATION", "from is after to", { field: "from" });
    const h: HistoryResult = await log.history(q);
    if (format === "csv") {
      reply.type("text/csv; charset=utf-8");
      reply.header("content-disposition", `attachment; filename="use-history-${q.by}.csv"`);
      return historyToCsv(h);
    }
    return { format: "tongban/use-history@1", logId: opts.memberId, ...h, chainHead: await chainHeadOf(h.anchoredHead?.size) };
  };

  app.post<{ Body: { idType: string; idNumber: string; from?: string; to?: string; limit?: number }; Querystring: { format?: "json" | "csv" } }>(
    "/history/holder",
    {
      schema: {
        ...secured,
        tags,
        summary: "Data-use history of a holder (ID in the body, never in the URL), each record with its inclusion proof",
        body: {
          type: "object",
          required: ["idType", "idNumber"],
          additionalProperties: false,
          properties: { idType: { type: "string", minLength: 1, maxLength: 32 }, idNumber: { type: "string", minLength: 1, maxLength: 64 }, ...rangeProps },
        },
        querystring: { type: "object", properties: { format: { type: "string", enum: ["json", "csv"], default: "json" } }, additionalProperties: false },
        response: { 200: HistoryReply, ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const key = holderRefOf(opts.holderRef, b.idType, b.idNumber, "idNumber");
      return answer({ by: "holder", key, from: toUnix(b.from, "from"), to: toUnix(b.to, "to"), limit: b.limit }, req.query.format, reply);
    },
  );

  app.get<{ Params: { by: string; key: string }; Querystring: { from?: string; to?: string; limit?: number; format?: "json" | "csv" } }>(
    "/history/:by/:key",
    {
      schema: {
        ...secured,
        tags,
        summary: "Data-use history of a holder reference, a material, a member, a matter or a grant over a time range, with proofs (JSON or CSV)",
        params: {
          type: "object",
          required: ["by", "key"],
          properties: {
            by: { type: "string", enum: Object.keys(BY) },
            key: { type: "string", minLength: 1, maxLength: 66, description: "holderRef / leaf / grant id: bytes32 hex; member: USCC or bytes32; matter: code or bytes32" },
          },
        },
        querystring: formatQuery,
        response: { 200: HistoryReply, ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      const by = BY[req.params.by]!;
      const raw = req.params.key;
      let key: string;
      if (by === "member") key = member32(raw, "key");
      else if (CODE_KEYED.has(by)) key = code32(raw, "key");
      else if (new RegExp(HEX32).test(raw)) key = raw.toLowerCase();
      else throw new ApiError(400, "VALIDATION", `key of ${req.params.by} must be 0x + 32 bytes hex`, { field: "key", value: raw });
      const q = req.query;
      return answer({ by, key, from: toUnix(q.from, "from"), to: toUnix(q.to, "to"), limit: q.limit }, q.format, reply);
    },
  );

  app.get(
    "/heads",
    {
      schema: {
        ...secured,
        tags,
        summary: "This node's use log: size, latest signed head, and the heads anchored on chain",
        response: { 200: { type: "object", additionalProperties: true }, ...errors(401) },
      },
    },
    async () => {
      const signedHead = await log.signHead();
      const chainHeads = opts.authorisations ? await opts.authorisations.useLogHeads(opts.memberId) : [];
      return { logId: opts.memberId, size: log.size, signedHead, chainHeads };
    },
  );

  app.post<{ Body: { peer?: { memberId: string; records: { encoded: string; record?: { seq?: number } }[] } } }>(
    "/check",
    {
      schema: {
        ...secured,
        tags,
        summary: "Audit check: this log against its heads on chain (inclusion, consistency, use counts); with `peer`, reconcile with the peer's exported records",
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            peer: {
              type: "object",
              required: ["memberId", "records"],
              description: "the peer's records naming this member (its /v1/audit/history/member/<this member> export)",
              properties: {
                memberId: { type: "string", minLength: 18, maxLength: 66 },
                records: { type: "array", maxItems: 100_000, items: { type: "object", required: ["encoded"], properties: { encoded: { type: "string", pattern: "^0x[0-9a-fA-F]+$" } }, additionalProperties: true } },
              },
            },
          },
        },
        response: { 200: { type: "object", additionalProperties: true }, ...errors(400, 401, 503) },
      },
    },
    async (req) => {
      if (!opts.authorisations) throw new ApiError(503, "UNAVAILABLE", "no authorisations contract configured: no anchored heads to check against", {});
      const heads = await opts.authorisations.useLogHeads(opts.memberId);
      const anchors = await opts.authorisations.useLogAnchors(opts.memberId);
      const report = await auditLog(log, heads);
      const counts = await auditUseCounts(log, anchors);
      const findings: Finding[] = [...report.findings, ...counts];
      let reconciled: { peer: string; records: number } | undefined;
      if (req.body?.peer) {
        const peer = member32(req.body.peer.memberId, "peer.memberId");
        const theirs: UseRecord[] = req.body.peer.records.map((r, i) => {
          try {
            return decodeUseRecord(Buffer.from(r.encoded.slice(2), "hex"), r.record?.seq ?? i);
          } catch (e) {
            throw new ApiError(400, "VALIDATION", `peer record ${i} does not decode: ${(e as Error).message}`, { field: `peer/records/${i}` });
          }
        });
        findings.push(...(await reconcile(log, opts.memberId, peer, theirs)));
        reconciled = { peer, records: theirs.length };
      }
      return { logId: opts.memberId, records: report.records, heads: report.heads, anchors: anchors.length, ...(reconciled ? { reconciled } : {}), findings, ok: findings.length === 0 };
    },
  );
};

/**
 * Reconcile this log with a peer's records by request id, in both roles: this node's SERVED records for the
 * peer must have the peer's RECEIVED record with the same fields and vice versa (UNMATCHED_SERVED /
 * UNMATCHED_RECEIVED / RECORD_MISMATCH, as check.ts's reconcileLogs).
 */
export async function reconcile(log: UseLog, me: string, peer: string, theirs: UseRecord[]): Promise<Finding[]> {
  const mine: UseRecord[] = [];
  for await (const { seq, raw } of log.scan()) {
    try {
      const r = decodeUseRecord(raw, seq);
      if ((r.custodian === me && r.requester === peer) || (r.custodian === peer && r.requester === me)) mine.push(r);
    } catch {
      // reported by the log check
    }
  }
  const findings: Finding[] = [];
  const pair = (servedSide: UseRecord[], receivedSide: UseRecord[], custodian: string, requester: string, servedIsMine: boolean) => {
    const served = new Map(servedSide.filter((r) => r.direction === "SERVED" && r.custodian === custodian && r.requester === requester).map((r) => [r.requestId, r]));
    const received = new Map(receivedSide.filter((r) => r.direction === "RECEIVED" && r.custodian === custodian && r.requester === requester).map((r) => [r.requestId, r]));
    const who = (mineSide: boolean) => (mineSide ? "this node" : "the peer");
    for (const [id, s] of served) {
      const r = received.get(id);
      if (!r) {
        findings.push({ kind: "UNMATCHED_SERVED", seq: s.seq, requestId: id, message: `SERVED record ${s.seq} of ${who(servedIsMine)} has no RECEIVED record at ${who(!servedIsMine)}` });
        continue;
      }
      const diff = (["time", "grantId", "matter", "typeCode", "leaf"] as const).filter((k) => s[k] !== r[k]);
      if (diff.length) findings.push({ kind: "RECORD_MISMATCH", seq: s.seq, requestId: id, message: `SERVED ${s.seq} and RECEIVED ${r.seq} differ in ${diff.join(", ")}`, details: { fields: diff } });
    }
    for (const [id, r] of received) {
      if (!served.has(id)) findings.push({ kind: "UNMATCHED_RECEIVED", requestId: id, message: `RECEIVED record ${r.seq} of ${who(!servedIsMine)} has no SERVED record at ${who(servedIsMine)}` });
    }
  };
  pair(mine, theirs, me, peer, true); // this node as custodian
  pair(theirs, mine, peer, me, false); // this node as requester
  return findings;
}
