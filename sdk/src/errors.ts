/**
 * Typed SDK errors. Every error has a literal `name`, a short `message`, structured `details` naming the record
 * concerned, and an optional `cause`. Catch by class (`instanceof`) or by `name`.
 */

/** Base of every error the SDK throws. */
export class TongbanError<D extends Record<string, unknown> = Record<string, unknown>> extends Error {
  override name: string = "TongbanError";
  /** Structured facts about the failure (which record, which field, what was expected). */
  readonly details: D;

  constructor(message: string, details: D, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = details;
  }

  /**
   * Walks the cause chain, returning the first error for which `fn` is true (or the last error if no `fn`).
   * @example err.walk((e) => e instanceof InvalidIdError)
   */
  walk(fn?: (e: unknown) => boolean): unknown {
    let e: unknown = this;
    let last: unknown = this;
    while (e !== undefined && e !== null) {
      if (fn?.(e)) return e;
      last = e;
      e = e instanceof Error ? e.cause : undefined;
    }
    return fn ? undefined : last;
  }
}

/** A value that should be 0x-prefixed hex of a given byte length is not. */
export class InvalidHexError extends TongbanError<{ field: string; value: unknown; expectedBytes?: number }> {
  override name = "InvalidHexError" as const;
}

/** A Merkle tree or proof request is malformed (empty tree, index out of range, bad leaf). */
export class MerkleError extends TongbanError<{ reason: string; index?: number; size?: number; leaf?: string }> {
  override name = "MerkleError" as const;
}
