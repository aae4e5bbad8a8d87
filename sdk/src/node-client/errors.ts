/**
 * Errors of the node API client. An answer `{code, message, details}` from the node becomes the class of its
 * `code` (all extend {@link NodeApiError}, which carries `code`, `status` and `details`); a failure to reach
 * the node is a {@link NodeTransportError}.
 */
import { TongbanError } from "../errors.js";

export interface NodeApiErrorDetails extends Record<string, unknown> {
  /** the API's error code, e.g. "NOT_ANCHORED" */
  code: string;
  /** HTTP status */
  status: number;
  method: string;
  path: string;
  /** the API's own `details` (names the record: id, index, path...) */
  details: Record<string, unknown>;
}

/** The node answered with an error. */
export class NodeApiError extends TongbanError<NodeApiErrorDetails> {
  override name: string = "NodeApiError";
  get code(): string {
    return this.details.code;
  }
  get status(): number {
    return this.details.status;
  }
}
/** 400 VALIDATION / MALFORMED_JSON: the request is malformed; `details.details.path` names the field. */
export class NodeValidationError extends NodeApiError {
  override name = "NodeValidationError" as const;
}
/** 400 INVALID_ID: a holder ID number fails its check. */
export class NodeInvalidIdError extends NodeApiError {
  override name = "NodeInvalidIdError" as const;
}
/** 401 UNAUTHORIZED: missing or unknown token. */
export class NodeUnauthorizedError extends NodeApiError {
  override name = "NodeUnauthorizedError" as const;
}
/** 403 NOT_ENTITLED: the member may not issue this type here / may not change this status. */
export class NodeNotEntitledError extends NodeApiError {
  override name = "NodeNotEntitledError" as const;
}
/** 404 NOT_FOUND / NO_CONTENT. */
export class NodeNotFoundError extends NodeApiError {
  override name = "NodeNotFoundError" as const;
}
/** 409 CONFLICT: contradicts stored state (idempotency key reuse, revoked material...). */
export class NodeConflictError extends NodeApiError {
  override name = "NodeConflictError" as const;
}
/** 409 NOT_ANCHORED: the bundle is not there until the anchor confirms. */
export class NodeNotAnchoredError extends NodeApiError {
  override name = "NodeNotAnchoredError" as const;
}
/** 413 BODY_TOO_LARGE: split the bulk request. */
export class NodeBodyTooLargeError extends NodeApiError {
  override name = "NodeBodyTooLargeError" as const;
}
/** 422 UNKNOWN_TYPE: the material type is not in the ledger's catalogue. */
export class NodeUnknownTypeError extends NodeApiError {
  override name = "NodeUnknownTypeError" as const;
}
/** 503 UNAVAILABLE / NOT_RUNNING / INDEXER_UNAVAILABLE: retry later. */
export class NodeUnavailableError extends NodeApiError {
  override name = "NodeUnavailableError" as const;
}

/** The node could not be reached, timed out, or answered something that is not the API's JSON. */
export class NodeTransportError extends TongbanError<{ method: string; path: string; status?: number; reason: string }> {
  override name = "NodeTransportError" as const;
}

const BY_CODE: Record<string, new (m: string, d: NodeApiErrorDetails) => NodeApiError> = {
  VALIDATION: NodeValidationError,
  MALFORMED_JSON: NodeValidationError,
  UNSUPPORTED_MEDIA_TYPE: NodeValidationError,
  INVALID_ID: NodeInvalidIdError,
  UNAUTHORIZED: NodeUnauthorizedError,
  NOT_ENTITLED: NodeNotEntitledError,
  NOT_FOUND: NodeNotFoundError,
  NO_CONTENT: NodeNotFoundError,
  CONFLICT: NodeConflictError,
  NOT_ANCHORED: NodeNotAnchoredError,
  BODY_TOO_LARGE: NodeBodyTooLargeError,
  UNKNOWN_TYPE: NodeUnknownTypeError,
  UNAVAILABLE: NodeUnavailableError,
  NOT_RUNNING: NodeUnavailableError,
  INDEXER_UNAVAILABLE: NodeUnavailableError,
};

/** The typed error for an API error answer. */
export function nodeApiError(d: NodeApiErrorDetails, message: string): NodeApiError {
  const C = BY_CODE[d.code] ?? NodeApiError;
  return new C(message, d);
}
