/**
 * Typed errors of the node core. Each has a literal `name`, a stable `code` the HTTP layer maps to a status
 * (see {@link httpStatusOf}), the id of the record it concerns in `details`, and an optional `cause`.
 */
export const ErrorCode = {
  /** malformed request (missing field, bad hex, bad dates) -> 400 */
  VALIDATION: "VALIDATION",
  /** a holder ID number (resident ID / USCC) fails its check -> 400 */
  INVALID_ID: "INVALID_ID",
  /** the material type is not in the ledger's catalogue -> 422 */
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  /** this member may not issue the type in the jurisdiction, or may not change the status -> 403 */
  NOT_ENTITLED: "NOT_ENTITLED",
  /** no such material / operation -> 404 */
  NOT_FOUND: "NOT_FOUND",
  /** the request contradicts stored state (idempotency key reused with another body, revoked material...) -> 409 */
  CONFLICT: "CONFLICT",
  /** the node holds no content for a material registered by hash only -> 404 */
  NO_CONTENT: "NO_CONTENT",
  /** the chain view needed to decide is unavailable and nothing is cached -> 503 */
  UNAVAILABLE: "UNAVAILABLE",
  /** the service is not started / is stopping -> 503 */
  NOT_RUNNING: "NOT_RUNNING",
  /** a bug or an unexpected storage failure -> 500 */
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP: Record<ErrorCode, number> = {
  VALIDATION: 400,
  INVALID_ID: 400,
  UNKNOWN_TYPE: 422,
  NOT_ENTITLED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NO_CONTENT: 404,
  UNAVAILABLE: 503,
  NOT_RUNNING: 503,
  INTERNAL: 500,
};

/** The HTTP status the API answers for an error code. */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP[code];
}

export interface NodeErrorDetails {
  /** the record the error is about: a leaf, an operation id, an idempotency key, a request index... */
  [k: string]: unknown;
}

/** Base class of every error the core throws on purpose. */
export class NodeError extends Error {
  override name = "NodeError";
  readonly code: ErrorCode;
  readonly details: NodeErrorDetails;
  constructor(code: ErrorCode, message: string, details: NodeErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
  toJSON(): { code: ErrorCode; message: string; details: NodeErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export class ValidationError extends NodeError {
  override name = "ValidationError";
  constructor(message: string, details: NodeErrorDetails = {}, options?: { cause?: unknown }) {
    super(ErrorCode.VALIDATION, message, details, options);
  }
}
export class InvalidIdError extends NodeError {
  override name = "InvalidIdError";
  constructor(message: string, details: NodeErrorDetails = {}, options?: { cause?: unknown }) {
    super(ErrorCode.INVALID_ID, message, details, options);
  }
}
export class UnknownTypeError extends NodeError {
  override name = "UnknownTypeError";
  constructor(typeCode: string, details: NodeErrorDetails = {}) {
    super(ErrorCode.UNKNOWN_TYPE, `material type ${typeCode} is not in the catalogue`, { typeCode, ...details });
  }
}
export class NotEntitledError extends NodeError {
  override name = "NotEntitledError";
  constructor(message: string, details: NodeErrorDetails = {}) {
    super(ErrorCode.NOT_ENTITLED, message, details);
  }
}
export class NotFoundError extends NodeError {
  override name = "NotFoundError";
  constructor(what: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${what} ${id} not found`, { [what]: id });
  }
}
export class ConflictError extends NodeError {
  override name = "ConflictError";
  constructor(message: string, details: NodeErrorDetails = {}) {
    super(ErrorCode.CONFLICT, message, details);
  }
}
export class NoContentError extends NodeError {
  override name = "NoContentError";
  constructor(leaf: string) {
    super(ErrorCode.NO_CONTENT, `material ${leaf} was registered by hash only: this node holds no content`, { leaf });
  }
}
export class UnavailableError extends NodeError {
  override name = "UnavailableError";
  constructor(message: string, details: NodeErrorDetails = {}, options?: { cause?: unknown }) {
    super(ErrorCode.UNAVAILABLE, message, details, options);
  }
}
export class NotRunningError extends NodeError {
  override name = "NotRunningError";
  constructor(component: string) {
    super(ErrorCode.NOT_RUNNING, `${component} is not running`, { component });
  }
}

export function isNodeError(e: unknown): e is NodeError {
  return e instanceof NodeError;
}
