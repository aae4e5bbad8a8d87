/**
 * What the indexer answers. All values are JSON-safe (hex strings, numbers) so the API returns them as they are.
 */
import type { NodeChainState, NodeHistoryEvent } from "@tongban/sdk";
import type { HeaderJson } from "../core/types.js";

/**
 * One ledger event as indexed (decoded arguments; bytes32 as hex, integers as numbers; `timestamp` = block
 * timestamp, unix seconds): the SDK node client's `NodeHistoryEvent`.
 */
export type IndexedEvent = NodeHistoryEvent;

/** An anchored batch root, from its Anchored event. */
export interface RootInfo {
  root: string;
  issuer: string;
  typeCode: string;
  jurisdiction: number;
  count: number;
  blockNumber: number;
  timestamp: number;
  txHash: string;
}

/** Status of a leaf in one issuer's namespace, as the confirmed chain says. */
export interface LeafStatus {
  issuer: string;
  leaf: string;
  status: "active" | "suspended" | "revoked";
  reason: number;
  statusBy: string | null;
  statusBlock: number | null;
  supersededBy: string | null;
  supersedes: string | null;
}

/**
 * The chain view of one material, joining its header (if known), its root's anchor and its status;
 * `headerKnown` = whether the indexer knows the header (this node issued or received the material). The SDK
 * node client's `NodeChainState`.
 */
export type ChainMaterialState = NodeChainState;

export interface MaterialQuery {
  /** bytes32 keyed holder reference */
  holderRef?: string;
  /** bytes32 member id */
  issuer?: string;
  /** bytes32 type code */
  typeCode?: string;
  /** header issuedAt >= from (unix seconds) */
  from?: number;
  /** header issuedAt <= to */
  to?: number;
  limit?: number;
  /** opaque cursor from a previous page */
  after?: string;
}

export interface QueryItem {
  id: string;
  header: HeaderJson;
  chain: ChainMaterialState;
}

export interface QueryPage {
  items: QueryItem[];
  /** cursor for the next page, absent on the last page */
  next?: string;
}

export interface IndexerProgress {
  running: boolean;
  /** last block indexed (confirmed) */
  cursor: number;
  /** chain head at the last poll */
  head: number;
  /** head - cursor - confirmations, never below 0: blocks the indexer is behind what it may index */
  lag: number;
  caughtUp: boolean;
  reorgs: number;
  lastError?: string;
}

/** What the HTTP API needs from the indexer. */
export interface IndexerView {
  materialState(leaf: string): Promise<ChainMaterialState | null>;
  history(leaf: string): Promise<IndexedEvent[]>;
  queryMaterials(q: MaterialQuery): Promise<QueryPage>;
  root(root: string): Promise<RootInfo | null>;
  memberHistory(memberId: string): Promise<IndexedEvent[]>;
  progress(): IndexerProgress;
  /** Confirmed chain events as they are indexed; returns an unsubscribe function. */
  onEvent(listener: (e: IndexedEvent) => void): () => void;
}
