/**
 * The material-exchange protocol `/tongban/exchange/1.0.0`: messages, status codes, the signed request
 * (EIP-712) and the frame format.
 *
 * FRAMES. Each message is one length-prefixed (unsigned varint) frame: u32 BE length of a JSON part, the JSON
 * part (UTF-8), then an optional binary body (the sealed content of a response). A stream carries any number
 * of requests; responses carry the request's `id`, so one long-lived stream per peer is multiplexed (the
 * client's default) and a stream per request also works (measured in node/bench/exchange.ts).
 *
 * SIGNED REQUEST. The requesting member's signing account signs the EIP-712 typed data
 *   ExchangeRequest(bytes32 grantId,bytes32 leaf,bytes32 matter,bytes32 requester,bytes32 custodian,
 *                   bytes32 nonce,uint64 expiry,bytes32 replyKey)
 * in the domain {name "TongbanExchange", version "1", chainId, verifyingContract = the authorisations
 * contract}. `replyKey` is the requester's ephemeral X25519 public key: the signature binds the key the
 * content is encrypted to, so a relay that swaps it breaks the signature. The digest is the request id that
 * both use-log records carry.
 */
import secp256k1 from "secp256k1";
import { keccakParts } from "../core/header.js";

/** Version 1.0: every request carries its own signature. */
export const EXCHANGE_PROTOCOL_1_0 = "/tongban/exchange/1.0.0";
/**
 * Version 1.1: as 1.0, and a request may instead carry a BATCH signature: the requester signs the Merkle root of
 * the digests of all the requests it sends in one event-loop turn (EIP-712 `ExchangeBatch(bytes32 root)`), and
 * each request carries its path to that root (`batchProof`). Same messages, codes and sealing otherwise.
 */
export const EXCHANGE_PROTOCOL_1_1 = "/tongban/exchange/1.1.0";
/** The newest version (what a node offers first). */
export const EXCHANGE_PROTOCOL = EXCHANGE_PROTOCOL_1_1;
/** Every version this node speaks, newest first (the client's multistream-select preference order). */
export const EXCHANGE_PROTOCOLS = [EXCHANGE_PROTOCOL_1_1, EXCHANGE_PROTOCOL_1_0] as const;
/** Longest accepted `batchProof` (a batch of up to 2^16 requests; the client signs at most 256 at once). */
export const MAX_BATCH_PROOF = 16;

/**
 * Status codes of an exchange response. Stable: append only, never renumber or reuse.
 * 0 is success; 1xx request problems; 2xx authorisation refusals (grant verdicts); 3xx custodian-side;
 * 4xx found by the requester (content failed verification, transport, no registered peer).
 */
export const ExchangeStatus = {
  OK: 0,
  MALFORMED: 100,
  BAD_SIGNATURE: 101,
  STALE_REQUEST: 102,
  REPLAYED: 103,
  NOT_MEMBER: 104,
  PEER_MISMATCH: 105,
  WRONG_CUSTODIAN: 106,
  GRANT_UNKNOWN: 200,
  GRANT_NOT_YET_VALID: 201,
  GRANT_EXPIRED: 202,
  GRANT_REVOKED: 203,
  ANCESTOR_REVOKED: 204,
  GRANT_EXHAUSTED: 205,
  GRANTEE_INACTIVE: 206,
  WRONG_GRANTEE: 207,
  WRONG_MATTER: 208,
  OUT_OF_SCOPE: 209,
  /** reserved: no longer sent (it told a requester that a material out of its grant's scope is held); see OUT_OF_SCOPE */
  HOLDER_MISMATCH: 210,
  NOT_FOUND: 300,
  NO_CONTENT: 301,
  UNAVAILABLE: 302,
  BUSY: 303,
  TIMEOUT: 304,
  INTERNAL: 399,
  // requester-side outcomes (never sent by a custodian)
  CONTENT_INVALID: 400,
  TRANSPORT: 401,
  NO_ROUTE: 402,
} as const;
export type ExchangeStatusName = keyof typeof ExchangeStatus;
export const STATUS_NAME: Record<number, ExchangeStatusName> = Object.fromEntries(
  Object.entries(ExchangeStatus).map(([k, v]) => [v, k as ExchangeStatusName]),
);

/** IAuthorisations.UseVerdict (index) -> exchange status. */
export const VERDICT_STATUS: ExchangeStatusName[] = [
  "GRANT_UNKNOWN", // 0 Unknown
  "OK", // 1 Allowed
  "GRANT_NOT_YET_VALID", // 2
  "GRANT_EXPIRED", // 3
  "GRANT_REVOKED", // 4
  "ANCESTOR_REVOKED", // 5
  "GRANT_EXHAUSTED", // 6
  "GRANTEE_INACTIVE", // 7
  "WRONG_GRANTEE", // 8
  "WRONG_MATTER", // 9
  "OUT_OF_SCOPE", // 10
];

/** The signed fields of a request (all bytes32 hex except expiry, unix seconds). */
export interface RequestFields {
  grantId: string;
  leaf: string;
  matter: string;
  requester: string;
  custodian: string;
  nonce: string;
  expiry: number;
  replyKey: string;
}

export interface ExchangeRequest extends RequestFields {
  /** "fetch" (the only operation of version 1) */
  op: "fetch";
  /** client correlation id, echoed by the response */
  id: number;
  /**
   * 65-byte r || s || v signature by a current account of `requester`: of the request's digest, or (with
   * `batchProof`, version 1.1) of the batch digest of the root that `batchProof` leads the request's digest to
   */
  signature: string;
  /** version 1.1: the sibling hashes from the request's digest to the signed batch root (sorted-pair keccak) */
  batchProof?: string[];
}

export interface ExchangeResponseHead {
  id: number;
  status: number;
  code: ExchangeStatusName;
  message?: string;
  /** request id (EIP-712 digest) the custodian recorded */
  requestId?: string;
  /** the custodian's use-log position of the SERVED record */
  servedSeq?: number;
  /** custodian's ephemeral X25519 public key (hex) */
  ephemeralKey?: string;
  /** proof bundle of the material (SDK format) */
  bundle?: unknown;
  /** unix seconds the custodian judged the request at (both use records carry it) */
  time?: number;
}

export interface Eip712Domain {
  chainId: number | bigint;
  verifyingContract: string;
}

/** keccak256 of the concatenation of `parts` (core/header.ts: one reused native keccak state). */
export function keccak(...parts: Buffer[]): Buffer {
  return keccakParts(...parts);
}

const TYPE_STRING =
  "ExchangeRequest(bytes32 grantId,bytes32 leaf,bytes32 matter,bytes32 requester,bytes32 custodian,bytes32 nonce,uint64 expiry,bytes32 replyKey)";
const TYPE_HASH = keccak(Buffer.from(TYPE_STRING));
const DOMAIN_TYPE_HASH = keccak(Buffer.from("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));

export const EXCHANGE_EIP712_TYPES = {
  ExchangeRequest: [
    { name: "grantId", type: "bytes32" },
    { name: "leaf", type: "bytes32" },
    { name: "matter", type: "bytes32" },
    { name: "requester", type: "bytes32" },
    { name: "custodian", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "expiry", type: "uint64" },
    { name: "replyKey", type: "bytes32" },
  ],
};
export const EXCHANGE_DOMAIN_NAME = "TongbanExchange";

function word(n: number | bigint): Buffer {
  const b = Buffer.alloc(32);
  let v = BigInt(n);
  for (let i = 31; i >= 0 && v > 0n; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

export function b32(hex: string, field: string): Buffer {
  // same acceptance as /^0x[0-9a-fA-F]{64}$/ without the regex: Buffer's hex decoder stops at
  // the first non-hex pair, so 32 decoded bytes from 64 characters mean all of them were hex
  if (typeof hex !== "string" || hex.length !== 66 || hex.charCodeAt(0) !== 48 || hex.charCodeAt(1) !== 120) throw new MalformedError(`${field} must be 0x + 32 bytes hex`);
  const b = Buffer.allocUnsafe(32);
  if (b.write(hex.slice(2), "hex") !== 32) throw new MalformedError(`${field} must be 0x + 32 bytes hex`);
  return b;
}

export class MalformedError extends Error {
  override name = "MalformedError";
}

/** EIP-712 domain separator of the exchange. */
export function domainSeparator(d: Eip712Domain): Buffer {
  const addr = Buffer.alloc(32);
  Buffer.from(d.verifyingContract.slice(2), "hex").copy(addr, 12);
  return keccak(DOMAIN_TYPE_HASH, keccak(Buffer.from(EXCHANGE_DOMAIN_NAME)), keccak(Buffer.from("1")), word(d.chainId), addr);
}

/** EIP-712 digest of a request (its request id). Native keccak; pinned against ethers' TypedDataEncoder by tests. */
export function requestDigest(separator: Buffer, f: RequestFields): Buffer {
  if (!Number.isSafeInteger(f.expiry) || f.expiry < 0) throw new MalformedError("expiry must be unix seconds");
  // one contiguous encoding, one keccak (about half the cost of nine updates)
  const enc = Buffer.allocUnsafe(32 * 9);
  TYPE_HASH.copy(enc, 0);
  b32(f.grantId, "grantId").copy(enc, 32);
  b32(f.leaf, "leaf").copy(enc, 64);
  b32(f.matter, "matter").copy(enc, 96);
  b32(f.requester, "requester").copy(enc, 128);
  b32(f.custodian, "custodian").copy(enc, 160);
  b32(f.nonce, "nonce").copy(enc, 192);
  word(f.expiry).copy(enc, 224);
  b32(f.replyKey, "replyKey").copy(enc, 256);
  const struct = keccak(enc);
  const outer = Buffer.allocUnsafe(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  separator.copy(outer, 2);
  struct.copy(outer, 34);
  return keccak(outer);
}

const BATCH_TYPE_HASH = keccak(Buffer.from("ExchangeBatch(bytes32 root)"));

export const EXCHANGE_BATCH_EIP712_TYPES = { ExchangeBatch: [{ name: "root", type: "bytes32" }] };

/** EIP-712 digest of a batch: `ExchangeBatch(bytes32 root)` in the exchange's domain. Pinned against ethers by tests. */
export function batchDigest(separator: Buffer, root: Buffer): Buffer {
  const outer = Buffer.allocUnsafe(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  separator.copy(outer, 2);
  keccak(BATCH_TYPE_HASH, root).copy(outer, 34);
  return keccak(outer);
}

/** keccak256 of the two hashes in ascending byte order (OpenZeppelin MerkleProof's commutative pair hash). */
function hashPair(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) <= 0 ? keccak(a, b) : keccak(b, a);
}

/**
 * The batch tree over request digests: leaves in order, each level pairs neighbours with {@link hashPair}, an odd
 * last node moves up unchanged. Returns the root and every leaf's proof (sibling hashes, leaf to root). One leaf:
 * the root is the leaf, its proof empty.
 */
export function batchTree(leaves: readonly Buffer[]): { root: Buffer; proofs: Buffer[][] } {
  if (leaves.length === 0) throw new Error("batchTree: no leaves");
  const proofs: Buffer[][] = leaves.map(() => []);
  // members[i]: the leaf indexes under node i of the current level
  let level = leaves.slice();
  let members: number[][] = leaves.map((_, i) => [i]);
  while (level.length > 1) {
    const up: Buffer[] = [];
    const upMembers: number[][] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        up.push(level[i]!);
        upMembers.push(members[i]!);
        continue;
      }
      for (const m of members[i]!) proofs[m]!.push(level[i + 1]!);
      for (const m of members[i + 1]!) proofs[m]!.push(level[i]!);
      up.push(hashPair(level[i]!, level[i + 1]!));
      upMembers.push(members[i]!.concat(members[i + 1]!));
    }
    level = up;
    members = upMembers;
  }
  return { root: level[0]!, proofs };
}

/** The root a request digest and its batch proof lead to. @throws MalformedError (not a list of hashes, too long) */
export function batchRoot(digest: Buffer, proof: unknown): Buffer {
  const p = batchProofList(proof);
  let h = digest;
  for (let i = 0; i < p.length; i++) h = hashPair(h, b32(p[i]!, `batchProof[${i}]`));
  return h;
}

/** `proof` as a list of 1..MAX_BATCH_PROOF elements (each checked by `b32` when it is used). @throws MalformedError */
function batchProofList(proof: unknown): string[] {
  if (!Array.isArray(proof)) throw new MalformedError("batchProof must be a list of 0x + 32 bytes hex");
  if (proof.length === 0 || proof.length > MAX_BATCH_PROOF) throw new MalformedError(`batchProof must hold 1..${MAX_BATCH_PROOF} hashes`);
  return proof as string[];
}

/** Sign a digest with a secp256k1 private key (native): 65 bytes r || s || v (27/28), hex. */
export function signDigest(digest: Buffer, privateKey: Buffer): string {
  const { signature, recid } = secp256k1.ecdsaSign(digest, privateKey);
  return "0x" + Buffer.concat([Buffer.from(signature), Buffer.from([27 + recid])]).toString("hex");
}

function parseSignature(sigHex: string): { sig: Buffer; recid: number } | undefined {
  if (typeof sigHex !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(sigHex)) return undefined;
  const sig = Buffer.from(sigHex.slice(2), "hex");
  const v = sig[64]!;
  const recid = v >= 27 ? v - 27 : v;
  if (recid !== 0 && recid !== 1) return undefined;
  // reject high-s (malleable) signatures, as OpenZeppelin's ECDSA does
  if (sig[32]! >= 0x80) return undefined;
  return { sig, recid };
}

const addressOf = (pub: Uint8Array) => "0x" + keccak(Buffer.from(pub.subarray(1))).subarray(12).toString("hex");

/** The address (lowercase 0x) whose key signed `digest` as r || s (64 bytes) with recovery id 0/1 (native), or undefined. */
export function ecrecoverAddress(digest: Uint8Array, rs: Uint8Array, recoveryId: number): string | undefined {
  if (recoveryId !== 0 && recoveryId !== 1) return undefined;
  try {
    return addressOf(secp256k1.ecdsaRecover(rs, recoveryId, digest, false));
  } catch {
    return undefined;
  }
}

/** Recover the signing address (checksum-free lowercase 0x) of a 65-byte signature, or undefined if invalid. */
export function recoverSigner(digest: Buffer, sigHex: string): string | undefined {
  const p = parseSignature(sigHex);
  if (!p) return undefined;
  try {
    return addressOf(secp256k1.ecdsaRecover(p.sig.subarray(0, 64), p.recid, digest, false));
  } catch {
    return undefined;
  }
}

/**
 * Signature checks with known public keys: once an account's public key was recovered from one valid
 * signature it is kept, and later signatures claimed to be by that account are VERIFIED against it
 * (secp256k1 verify costs about two thirds of a recovery). Same outcome as {@link recoverSigner}: the
 * address whose key verifies the signature; a signature no known key verifies falls back to recovery.
 */
export class SignerKeys {
  readonly #keys = new Map<string, Uint8Array>();
  /** outcomes of batch signatures already checked: digest + signature -> signer (or undefined) */
  readonly #checked = new Map<string, string | undefined>();
  constructor(readonly maxKeys = 10_000) {}

  /**
   * {@link signer}, remembered per (digest, signature): the requests of one batch share one signature over one
   * batch digest, so it is checked once for all of them (same outcome: the check is deterministic).
   */
  signerOnce(digest: Buffer, sigHex: string, candidates: readonly string[] = []): string | undefined {
    const k = digest.toString("latin1") + sigHex;
    if (this.#checked.has(k)) return this.#checked.get(k);
    const a = this.signer(digest, sigHex, candidates);
    if (this.#checked.size >= 4096) this.#checked.clear();
    this.#checked.set(k, a);
    return a;
  }

  /** The signer of `digest`, trying the keys of `candidates` (lowercase addresses) first. */
  signer(digest: Buffer, sigHex: string, candidates: readonly string[] = []): string | undefined {
    const p = parseSignature(sigHex);
    if (!p) return undefined;
    const rs = p.sig.subarray(0, 64);
    for (const a of candidates) {
      const pub = this.#keys.get(a);
      if (pub && secp256k1.ecdsaVerify(rs, digest, pub)) return a;
    }
    let pub: Uint8Array;
    try {
      pub = secp256k1.ecdsaRecover(rs, p.recid, digest, false);
    } catch {
      return undefined;
    }
    const a = addressOf(pub);
    if (candidates.includes(a)) {
      if (this.#keys.size >= this.maxKeys) this.#keys.clear();
      this.#keys.set(a, pub);
    }
    return a;
  }
}

/**
 * The custodian's check of batch-signed requests (version 1.1). The first request of a batch folds its digest up
 * its proof to the root and the root's batch signature is checked ({@link SignerKeys.signerOnce}); every node
 * of that path is then known to lie under a root that signature signed. A later request of the same batch
 * stops folding at the first known node provided the rest of its proof is the rest that led from that node to
 * the root: the same outcome as folding all the way (same root, same signature), at about two hashes instead of
 * eight for a batch of 256. A malformed proof is refused whatever is known (same outcome in any order).
 */
export class BatchChecks {
  /** node (latin1) -> the signature, its signer, and the proof (from `from` on) that leads from the node to the root */
  readonly #known = new Map<string, { sig: string; signer: string; proof: readonly string[]; from: number }>();
  constructor(
    readonly keys: SignerKeys,
    readonly maxNodes = 65_536,
  ) {}

  /** The account whose batch signature covers `digest` with `proof` (undefined: none does). @throws MalformedError */
  signer(separator: Buffer, digest: Buffer, proof: unknown, sigHex: string, candidates: readonly string[] = []): string | undefined {
    // siblings are decoded (validated) as they are used: the ones after a known node are compared equal to
    // the proof that node was reached with, every element of which was decoded when it was first folded
    const p = batchProofList(proof);
    const path: string[] = [];
    let h = digest;
    for (let i = 0; i < p.length; i++) {
      h = hashPair(h, b32(p[i]!, `batchProof[${i}]`));
      const k = h.toString("latin1");
      const hit = this.#known.get(k);
      if (hit && hit.sig === sigHex && sameRest(p, i + 1, hit.proof, hit.from)) {
        this.#remember(path, p, sigHex, hit.signer);
        return hit.signer;
      }
      path.push(k);
    }
    const signer = this.keys.signerOnce(batchDigest(separator, h), sigHex, candidates);
    if (signer) this.#remember(path, p, sigHex, signer);
    return signer;
  }

  /** path[i] is the node reached after proof[i]: the rest of the proof from it starts at i + 1 */
  #remember(path: string[], proof: readonly string[], sig: string, signer: string): void {
    if (this.#known.size + path.length > this.maxNodes) this.#known.clear();
    for (let i = 0; i < path.length; i++) this.#known.set(path[i]!, { sig, signer, proof, from: i + 1 });
  }
}

/** a[i..] and b[j..] hold the same strings */
function sameRest(a: readonly string[], i: number, b: readonly string[], j: number): boolean {
  if (a.length - i !== b.length - j) return false;
  for (; i < a.length; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}

/** The JSON part of a frame, already a string (e.g. spliced with a pre-serialised bundle); a body follows as further parts (FrameChannel.send). */
export function encodeFrameJson(json: string): Buffer {
  const n = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(4 + n);
  out.writeUInt32BE(n, 0);
  out.write(json, 4, "utf8");
  return out;
}

// ------------------------------------------------------------------------------------------------- frames

/** Encode a frame: u32 JSON length | JSON | body. */
export function encodeFrame(head: unknown, body?: Uint8Array): Buffer {
  const j = Buffer.from(JSON.stringify(head));
  const out = Buffer.allocUnsafe(4 + j.length + (body?.length ?? 0));
  out.writeUInt32BE(j.length, 0);
  j.copy(out, 4);
  if (body) out.set(body, 4 + j.length);
  return out;
}

/** Decode a frame. @throws MalformedError */
export function decodeFrame<T>(frame: Uint8Array): { head: T; body: Buffer } {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 4) throw new MalformedError("frame too short");
  const n = b.readUInt32BE(0);
  if (4 + n > b.length) throw new MalformedError("frame JSON length exceeds frame");
  let head: T;
  try {
    head = JSON.parse(b.toString("utf8", 4, 4 + n)) as T;
  } catch {
    throw new MalformedError("frame JSON is not valid");
  }
  return { head, body: b.subarray(4 + n) };
}
