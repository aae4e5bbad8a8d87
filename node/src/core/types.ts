/**
 * Public data types of the node core: what a department submits, what the node acknowledges, and the record
 * it keeps per material. All values are JSON-safe (hex strings, numbers, no bigint) so the HTTP layer can
 * return them as they are. Types the SDK's node client already declares for the same JSON (header, holder,
 * material status, status operation, registration input) are the SDK's, imported here, not declared twice.
 */
import type { HolderId, MaterialHeaderJson, NodeMaterialInput, NodeMaterialStatus, NodeStatusOp } from "@tongban/sdk";

export type { HolderId };

/** Lifecycle of a registration on this node. */
export type MaterialState =
  /** persisted, waiting for the next batch */
  | "pending"
  /** in a planned batch whose anchor transaction is sent / awaiting confirmations */
  | "anchoring"
  /** the batch root is anchored with the configured confirmations; the record carries the proof */
  | "anchored"
  /** the chain refused the batch for good (e.g. entitlement withdrawn after intake); see `error` */
  | "failed";

/** On-chain status of an anchored material, as far as this node has written it. */
export type MaterialStatus = NodeMaterialStatus;

/** Status operations that go through the durable queue: revoke, suspend, reinstate, supersede. */
export type StatusOpKind = NodeStatusOp["kind"];

/** Lifecycle of a status operation: pending, sent, done, failed. */
export type OpState = NodeStatusOp["state"];

/**
 * One material to register: the SDK node client's `NodeMaterialInput`, with the content as bytes (the HTTP
 * layer decodes the base64). Give either `content` (document bytes: the node hashes it and keeps it encrypted,
 * content-addressed) or `contentHash` (0x 32 bytes, + `hashAlg`: 1 = SHA-256 default, 2 = SM3); either `holder`
 * (in clear, turned into a holderRef) or `holderRef` (0x 32-byte keyed reference). `typeCode`: catalogue code
 * (<= 31 ASCII chars, e.g. "BIZ_LICENCE"); `jurisdiction`: GB/T 2260 division code (e.g. 310104); times in
 * unix seconds: `issuedAt` default now (give it to make re-submission of the same header idempotent by leaf),
 * `validFrom`, `validUntil` (0 or absent = no end); `version` default 1, or the predecessor's + 1 when
 * `supersedes` (the leaf this one replaces; the node also records the supersession on chain) is set.
 */
export interface RegisterRequest extends Omit<NodeMaterialInput, "content"> {
  content?: Uint8Array;
}

/** The header the leaf commits to, JSON-safe (uint64 fields as decimal strings, bytes32 as hex). */
export type HeaderJson = MaterialHeaderJson;

/** Answer to one registration, given once the request is durably persisted. */
export interface RegisterAck {
  /** material id = leaf (0x-prefixed, 32 bytes) */
  id: string;
  state: MaterialState;
  /** true if this leaf was already registered (nothing new was queued) */
  duplicate: boolean;
  /** ms since epoch when the node first accepted the leaf */
  acceptedAt: number;
}

/** Where a material's leaf sits on chain, once anchored. */
export interface AnchorInfo {
  root: string;
  /** sibling hashes from leaf to root (OpenZeppelin MerkleProof order) */
  proof: string[];
  /** index of the leaf in its batch */
  index: number;
  /** number of leaves in the batch */
  count: number;
  blockNumber: number;
  txHash: string;
  chainId: number;
  contract: string;
  /** ms since epoch when the node saw the anchor confirmed */
  confirmedAt: number;
}

/** What the node knows about one material. */
export interface MaterialRecord {
  id: string;
  /** human catalogue code, e.g. "BIZ_LICENCE" */
  type: string;
  jurisdiction: number;
  header: HeaderJson;
  state: MaterialState;
  status: MaterialStatus;
  /** reason code of the last status change sent by this node */
  statusReason?: number;
  supersededBy?: string;
  /** whether this node holds the (encrypted) content */
  hasContent: boolean;
  acceptedAt: number;
  /** id of the batch it is planned in */
  batchId?: string;
  anchor?: AnchorInfo;
  /** the verifiable proof bundle (SDK `ProofBundle`, `tongban/proof-bundle@1`, EIP-712 sealed) once anchored */
  bundle?: unknown;
  /** why the batch failed, when state == "failed" */
  error?: { code: string; message: string };
}

/**
 * A durable status operation (revoke / suspend / reinstate / supersede): `newLeaf` is the successor leaf of a
 * supersede; `txHash`/`blockNumber` once sent, `error` once failed.
 */
export type StatusOp = NodeStatusOp;

/** A state change, as pushed to subscribers (server-sent events). */
export type ChangeEvent =
  | { kind: "material"; leaf: string; state: MaterialState; root?: string; blockNumber?: number; txHash?: string; at: number }
  | { kind: "op"; opId: string; op: StatusOpKind; leaf: string; state: OpState; txHash?: string; at: number }
  | { kind: "batch"; batchId: string; state: "planned" | "sent" | "confirmed" | "failed"; root: string; count: number; txHash?: string; at: number };

/** Figures for dashboards and /metrics. */
export interface ServiceStats {
  /** materials persisted but not yet anchored */
  pending: number;
  /** materials in sent-but-unconfirmed batches */
  anchoring: number;
  anchored: number;
  failed: number;
  /** status ops not yet done */
  opsPending: number;
  batchesSent: number;
  /** whether the last chain call succeeded */
  chainUp: boolean;
  lastAnchorBlock?: number;
}

/** A batch (one Merkle root = one type in one jurisdiction) as planned/anchored by this node. */
export interface BatchInfo {
  /** batch id = Merkle root */
  root: string;
  type: string;
  jurisdiction: number;
  count: number;
  state: "planned" | "sent" | "confirmed" | "failed";
  plannedAt: number;
  blockNumber?: number;
  txHash?: string;
  confirmedAt?: number;
  error?: { code: string; message: string };
  /** leaves in tree order */
  leaves: string[];
  /** headers of the leaves, same order (when asked for) */
  headers?: HeaderJson[];
  /**
   * the leaves' 320-byte ABI headers (`encodeHeader`), same order, when asked for with `headerBytes`: what the
   * indexer's header feed reads (no hex/JSON per field)
   */
  headerBytes?: Uint8Array[];
}
