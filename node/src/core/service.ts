/**
 * The material service: the node's core, as the HTTP API, the CLI and the libp2p exchange see it.
 *
 * A request enters through {@link MaterialService.register}, is validated (IDs, type, entitlement of this
 * member for the type in the jurisdiction, judged against a briefly cached chain view), persisted in
 * LevelDB with its leaf (content encrypted), and only then acknowledged. The anchorer batches persisted
 * leaves by (type, jurisdiction), plans each batch durably, anchors its Merkle root, waits for
 * confirmations and marks the leaves anchored with their proofs. Status changes go through the same
 * durable queue.
 */
import type {
  ChangeEvent,
  MaterialRecord,
  RegisterAck,
  RegisterRequest,
  ServiceStats,
  StatusOp,
} from "./types.js";

export interface RegisterOptions {
  /**
   * Client-chosen key (e.g. the HTTP `Idempotency-Key` header). A retry with the same key and the same
   * requests returns the first answer; the same key with different requests is a CONFLICT.
   */
  idempotencyKey?: string;
}

export interface StatusOptions {
  idempotencyKey?: string;
}

/** js-libp2p style Startable. */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface MaterialService extends Startable {
  /**
   * Validate, persist and acknowledge materials. All requests are validated first: if any fails, none is
   * persisted and the error names the request index (`details.index`). Resolves after the leaves are on
   * disk; anchoring follows asynchronously.
   * @throws ValidationError | InvalidIdError | UnknownTypeError | NotEntitledError | ConflictError | UnavailableError
   */
  register(requests: RegisterRequest[], opts?: RegisterOptions): Promise<RegisterAck[]>;

  /** The record of a material this node registered. @throws NotFoundError */
  getMaterial(leaf: string): Promise<MaterialRecord>;

  /** Decrypted content of a material registered with content. @throws NotFoundError | NoContentError */
  getContent(leaf: string): Promise<Uint8Array>;

  /**
   * Queue a revocation (final) of a material this node issued. `reason` is a uint16 reason code.
   * Revoking a leaf whose anchor is still pending is allowed: the op is sent after the anchor confirms.
   * @throws NotFoundError | ConflictError (already revoked by another op)
   */
  revoke(leaf: string, reason: number, opts?: StatusOptions): Promise<StatusOp>;
  /** Queue a (reversible) suspension. @throws NotFoundError | ConflictError (revoked) */
  suspend(leaf: string, reason: number, opts?: StatusOptions): Promise<StatusOp>;
  /** Queue a reinstatement of a suspended material. @throws NotFoundError | ConflictError (revoked) */
  reinstate(leaf: string, opts?: StatusOptions): Promise<StatusOp>;
  /**
   * Register `next` as the successor of `oldLeaf` (version = old version + 1, supersedes = oldLeaf) and
   * queue the on-chain supersession once both are anchored. Returns the new material's ack and the op.
   */
  supersede(oldLeaf: string, next: RegisterRequest, opts?: StatusOptions): Promise<{ ack: RegisterAck; op: StatusOp }>;

  /** A status operation by id. @throws NotFoundError */
  getOp(opId: string): Promise<StatusOp>;

  /** Counters for /metrics and dashboards (O(1), from memory). */
  stats(): ServiceStats;

  /**
   * State changes as they happen (for server-sent events). Ends when `signal` aborts or the service stops.
   * Slow consumers get the latest events; at most `highWaterMark` (default 10,000) are buffered.
   */
  changes(opts?: { signal?: AbortSignal; highWaterMark?: number }): AsyncIterable<ChangeEvent>;

  /** Same events as a callback; returns an unsubscribe function. */
  onChange(listener: (e: ChangeEvent) => void): () => void;
}

/**
 * Everything a member node's core is, as node-api wires it: build with `createNodeCore(config)` from
 * `./node.js`, `await core.start()`, serve `core.service` over HTTP and `core.metrics.registry` at /metrics,
 * `await core.stop()` on shutdown.
 */
export interface NodeCore extends Startable {
  readonly config: import("./config.js").NodeConfig;
  readonly service: MaterialService;
  readonly metrics: import("./metrics.js").CoreMetrics;
  readonly logger: import("./log.js").Logger;
  /** this node's signing account */
  readonly account: string;
  /** this member's id as bytes32 (encodeBytes32String of the USCC) */
  readonly memberId: string;
  /** the consortium holder-ref key (32 bytes): node-api needs it only to compute holderRefs for queries */
  holderRef(idType: string, idNumber: string): string;
}
