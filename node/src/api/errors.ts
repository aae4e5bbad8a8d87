/**
 * Error mapping of the HTTP API: every failure leaves as JSON `{code, message, details}` with the status its
 * code implies. Client mistakes are always 4xx; only bugs and storage failures are 500.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { isNodeError, httpStatusOf } from "../core/errors.js";

/** Codes the API itself adds to the core's. */
export const ApiErrorCode = {
  MALFORMED_JSON: "MALFORMED_JSON",
  VALIDATION: "VALIDATION",
  BODY_TOO_LARGE: "BODY_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  NOT_ANCHORED: "NOT_ANCHORED",
  INDEXER_UNAVAILABLE: "INDEXER_UNAVAILABLE",
  INTERNAL: "INTERNAL",
} as const;

/** An error raised by the API layer itself. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body/materials/3/typeCode" from an ajv error and the part it validated. */
function pathOf(part: string, e: AjvError): string {
  const base = (e.instancePath ?? "").replace(/^\//, "");
  let leaf = "";
  if (e.keyword === "required" && e.params?.missingProperty) leaf = String(e.params.missingProperty);
  if (e.keyword === "additionalProperties" && e.params?.additionalProperty) leaf = String(e.params.additionalProperty);
  return [part, base, leaf].filter(Boolean).join("/");
}

/** The status and body for any error thrown while handling a request. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: { code: err.code, message: err.message, details: err.details }, internal: false };
  }
  if (isNodeError(err)) {
    const status = httpStatusOf(err.code);
    return { status, body: { code: err.code, message: err.message, details: err.details }, internal: status >= 500 };
  }
  // SDK errors that reach the API are about the request's values (a core normally wraps them)
  const named = err as { name?: string; message?: string; details?: Record<string, unknown> };
  if (named?.name === "InvalidIdError") {
    return { status: 400, body: { code: "INVALID_ID", message: named.message ?? "invalid ID", details: named.details ?? {} }, internal: false };
  }
  if (named?.name === "InvalidHexError") {
    return { status: 400, body: { code: ApiErrorCode.VALIDATION, message: named.message ?? "invalid hex", details: named.details ?? {} }, internal: false };
  }
  const fe = err as FastifyError & { validationContext?: string };
  if (Array.isArray(fe?.validation)) {
    const part = fe.validationContext ?? "body";
    const errors = (fe.validation as AjvError[]).slice(0, 20).map((e) => ({
      path: pathOf(part, e),
      message: e.message ?? "invalid",
      ...(e.keyword ? { keyword: e.keyword } : {}),
      // a wrong JSON type names the expected one (bodies are not coerced: "310104" is not an integer)
      ...(e.keyword === "type" && e.params?.type !== undefined ? { expected: e.params.type } : {}),
    }));
    const first = errors[0] ?? { path: part, message: "invalid" };
    return {
      status: 400,
      body: {
        code: ApiErrorCode.VALIDATION,
        message: `${first.path}: ${first.message}`,
        details: { path: first.path, ...("keyword" in first ? { keyword: first.keyword } : {}), ...("expected" in first ? { expected: first.expected } : {}), errors },
      },
      internal: false,
    };
  }
  switch (fe?.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { code: ApiErrorCode.MALFORMED_JSON, message: fe.message, details: {} }, internal: false };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { code: ApiErrorCode.BODY_TOO_LARGE, message: "request body is larger than this route accepts", details: {} }, internal: false };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return {
        status: fe.statusCode ?? 415,
        body: { code: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, message: "send application/json", details: { contentType: fe.message } },
        internal: false,
      };
  }
  // JSON.parse SyntaxError surfaced by the content-type parser
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return { status: 400, body: { code: ApiErrorCode.MALFORMED_JSON, message: err.message, details: {} }, internal: false };
  }
  const sc = fe?.statusCode;
  if (typeof sc === "number" && sc >= 400 && sc < 500) {
    return { status: sc, body: { code: fe.code ?? "BAD_REQUEST", message: fe.message, details: {} }, internal: false };
  }
  return { status: 500, body: { code: ApiErrorCode.INTERNAL, message: "internal error", details: {} }, internal: true };
}

export function sendError(reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply {
  const { status, body, internal } = toErrorBody(err);
  if (internal) req.log.error({ err }, "request failed");
  else req.log.info({ code: body.code, status }, "request refused");
  return reply.code(status).type("application/json").send(body);
}
