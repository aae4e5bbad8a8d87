/**
 * `/tongban/exchange/1.1.0` and `/1.0.0`: the custodian's handler ({@link ExchangeServer}) and the requester's client
 * ({@link ExchangeClient}). See messages.ts for frames, codes and the signed request.
 *
 * CUSTODIAN, per request (every refusal is a status, never an exception across the wire; each request has a
 * deadline): well-formed -> addressed to this member -> fresh (expiry within [now, now + maxLifetime]) ->
 * signature (its own, or with version 1.1 its batch's, checked once per batch) recovers a current account of
 * the requesting member (directory of `getMembers()`, refreshed on a miss) and that member is ACTIVE -> the
 * connection's peer is registered to that member -> nonce not used ->
 * `checkGrant` Allowed and uses left after this node's unanchored uses -> the material is held and covered
 * by the grant (its type/leaf in scope, the grant's holder is the material's; a requester whose grant does
 * not cover it gets the same answer whether it is held or not) -> the SERVED record is written to the use
 * log (atomically with the nonce) -> content sealed to the requester's key and sent.
 *
 * CONTENT ENCRYPTION. The noise channel already encrypts between the two peer ids. The content is in
 * addition sealed to the ephemeral X25519 key the requester put in its SIGNED request (X25519 + HKDF-SHA256
 * + AES-256-GCM, request id as salt and associated data): the content is bound to that one signed request,
 * stays sealed past any relay or TLS-terminating proxy between nodes, and a response swapped or replayed
 * onto another request fails to open. Both sides' ephemeral keys rotate every minute (forward secrecy per
 * key period) and their shared secret is cached meanwhile, so a fetch costs one HKDF and one AES-GCM.
 */
import { createCipheriv, createDecipheriv, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import type { Stream, Connection } from "@libp2p/interface";
import { FrameChannel } from "./frames.js";
import type { ProofBundle, VerificationResult } from "@tongban/sdk";
import type { UseLog } from "../audit/use-log.js";
import { DuplicateKeyError } from "../audit/use-log.js";
import type { Logger } from "../core/log.js";
import { MemberStatus } from "./chain.js";
import type { GrantGate } from "./grants.js";
import type { MaterialSource } from "./materials.js";
import type { MemberDirectory } from "./members.js";
import {
  EXCHANGE_PROTOCOL_1_1,
  ExchangeStatus,
  MalformedError,
  BatchChecks,
  batchDigest,
  batchTree,
  decodeFrame,
  encodeFrame,
  encodeFrameJson,
  keccak,
  SignerKeys,
  requestDigest,
  signDigest,
  b32,
  type ExchangeRequest,
  type ExchangeResponseHead,
  type ExchangeStatusName,
  type RequestFields,
} from "./messages.js";

export const MAX_FRAME = 64 * 1024 * 1024;
const INFO = Buffer.from("tongban/exchange/1.0.0 content");

// ------------------------------------------------------------------------------------------ content sealing

/**
 * An ephemeral X25519 key, used for the requests/responses of at most `rotateMs` (see {@link KeyRing}).
 * Shared secrets with peer keys are cached for the key's life: per fetch, only HKDF (salted with the
 * request id, so every content key is distinct) and AES-GCM remain.
 */
export class EphemeralKey {
  readonly privateKey: KeyObject;
  readonly publicRaw: Buffer;
  readonly #dh = new Map<string, Buffer>();
  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync("x25519");
    this.privateKey = privateKey;
    this.publicRaw = Buffer.from((publicKey.export({ format: "jwk" }) as { x: string }).x, "base64url");
  }
  shared(peerRaw: Buffer): Buffer {
    const k = peerRaw.toString("hex");
    let s = this.#dh.get(k);
    if (!s) {
      s = diffieHellman({ privateKey: this.privateKey, publicKey: x25519Public(peerRaw) });
      if (this.#dh.size > 10_000) this.#dh.clear();
      this.#dh.set(k, s);
    }
    return s;
  }
}

/** The current ephemeral key, replaced every `rotateMs` (default 60 s; 0 = a new key per use). */
export class KeyRing {
  #key: EphemeralKey | undefined;
  #at = 0;
  constructor(readonly rotateMs = 60_000) {}
  current(): EphemeralKey {
    const now = Date.now();
    if (!this.#key || this.rotateMs <= 0 || now - this.#at >= this.rotateMs) {
      this.#key = new EphemeralKey();
      this.#at = now;
    }
    return this.#key;
  }
}

function x25519Public(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: raw.toString("base64url") }, format: "jwk" });
}

const INFO_1 = Buffer.concat([INFO, Buffer.from([1])]);

/**
 * HKDF-SHA256(ikm = shared, salt = requestId, info = INFO, 32 bytes), RFC 5869, as two HMACs: one output
 * block, so expand is HMAC(prk, info || 0x01). Byte-identical to `hkdfSync` (test/node/p2p/sealing.test.ts)
 * at about half its cost (hkdfSync builds two KeyObjects per call).
 */
export function contentKey(shared: Buffer, requestId: Buffer): Buffer {
  const prk = createHmac("sha256", requestId).update(shared).digest();
  return createHmac("sha256", prk).update(INFO_1).digest();
}

/**
 * Random bytes handed out from a pool refilled 4 KiB at a time from the CSPRNG (`randomBytes`): the same
 * randomness, one system call per 128 nonces instead of one each. Every value is a fresh copy (never reused).
 */
let pool = Buffer.alloc(0);
let poolAt = 0;
export function poolRandom(n: number): Buffer {
  if (n > 256) return randomBytes(n);
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  pool.fill(0, poolAt, poolAt + n); // not left in memory after it was handed out
  poolAt += n;
  return out;
}

/**
 * Seal `content` to the requester's X25519 key: the custodian's ephemeral key and the body iv|tag|ct in parts
 * (iv|tag, ciphertext[, final]) whose concatenation is the body: the frame writer copies them once into the
 * outgoing write instead of assembling the body and then the frame.
 */
export function sealContentParts(eph: EphemeralKey, replyKey: Buffer, requestId: Buffer, content: Uint8Array): { ephemeralKey: Buffer; parts: Buffer[] } {
  const key = contentKey(eph.shared(replyKey), requestId);
  const iv = poolRandom(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(requestId);
  const ct = c.update(content);
  const fin = c.final(); // empty for GCM (a stream mode); kept for generality
  const ivTag = Buffer.allocUnsafe(28);
  iv.copy(ivTag, 0);
  c.getAuthTag().copy(ivTag, 12);
  return { ephemeralKey: eph.publicRaw, parts: fin.length ? [ivTag, ct, fin] : [ivTag, ct] };
}

export function openContent(reply: EphemeralKey, ephemeralKey: Buffer, requestId: Buffer, body: Buffer): Buffer {
  if (body.length < 28) throw new Error("sealed content too short");
  const key = contentKey(reply.shared(ephemeralKey), requestId);
  const d = createDecipheriv("aes-256-gcm", key, body.subarray(0, 12));
  d.setAAD(requestId);
  d.setAuthTag(body.subarray(12, 28));
  const pt = d.update(body.subarray(28));
  const fin = d.final(); // throws if the tag does not verify; empty for GCM
  return fin.length ? Buffer.concat([pt, fin]) : pt;
}

/** The replay key of a request: keccak(requester || nonce). */
export function replayKey(requester: string, nonce: string): string {
  return "0x" + keccak(b32(requester, "requester"), b32(nonce, "nonce")).toString("hex");
}

const lower = (s: string) => s.toLowerCase();

// ------------------------------------------------------------------------------------------------ server

export interface ExchangeServerComponents {
  /** this member's id (bytes32 hex) */
  memberId: string;
  /** EIP-712 domain separator of the exchange */
  domain: Buffer;
  directory: MemberDirectory;
  grants: GrantGate;
  materials: MaterialSource;
  useLog: UseLog;
  logger?: Logger;
}

export interface ExchangeServerInit {
  /** longest accepted request lifetime (expiry - now), seconds (default 300) */
  maxLifetimeSec?: number;
  /** per-request deadline, ms (default 10,000) */
  requestTimeoutMs?: number;
  /** a stream with no request for this long is closed, ms (default 60,000) */
  idleTimeoutMs?: number;
  /** requests handled at once per stream; more are answered BUSY (default 256) */
  maxInFlightPerStream?: number;
  /** the custodian's ephemeral X25519 key is replaced this often, ms (default 60,000) */
  keyRotateMs?: number;
}

type Reply = {
  head: Omit<ExchangeResponseHead, "id" | "code"> & { code: ExchangeStatusName };
  /** the binary body, in parts that are concatenated on the wire */
  body?: Buffer[];
  /** the head's bundle already serialised (spliced in instead of serialising it again) */
  bundleJson?: string;
};

/** Nonces (replay keys) this process consumed, until their expiry; at most `max` (oldest dropped first). */
class RecentNonces {
  readonly #m = new Map<string, number>();
  constructor(readonly max = 200_000) {}
  seen(k: string): boolean {
    const e = this.#m.get(k);
    return e !== undefined && e >= Date.now();
  }
  add(k: string, expiryMs: number): void {
    this.#m.set(k, expiryMs);
    const now = Date.now();
    // drop expired entries from the front (roughly in expiry order) and the oldest beyond the cap
    for (const [key, e] of this.#m) {
      if (e >= now && this.#m.size <= this.max) break;
      this.#m.delete(key);
    }
  }
}

function refuse(code: ExchangeStatusName, message: string): Reply {
  return { head: { status: ExchangeStatus[code], code, message } };
}

export class ExchangeServer {
  readonly #c: ExchangeServerComponents;
  readonly #maxLifetime: number;
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  readonly #maxInFlight: number;
  readonly #ring: KeyRing;
  readonly #keys = new SignerKeys();
  readonly #batches = new BatchChecks(this.#keys);
  readonly #recent = new RecentNonces();
  /** counters by status name (metrics) */
  readonly counts = new Map<ExchangeStatusName, number>();

  constructor(components: ExchangeServerComponents, init: ExchangeServerInit = {}) {
    this.#c = components;
    this.#maxLifetime = init.maxLifetimeSec ?? 300;
    this.#timeoutMs = init.requestTimeoutMs ?? 10_000;
    this.#idleMs = init.idleTimeoutMs ?? 60_000;
    this.#maxInFlight = init.maxInFlightPerStream ?? 256;
    this.#ring = new KeyRing(init.keyRotateMs ?? 60_000);
  }

  /**
   * The libp2p stream handler: any number of requests per stream, answered as they complete (responses that
   * complete in the same event-loop turn leave in one write, see frames.ts). The stream is closed after the
   * remote closes its end and every answer is sent, or after `idleTimeoutMs` without a request.
   */
  handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const remote = connection.remotePeer.toString();
    let inFlight = 0;
    const tasks = new Set<Promise<void>>();
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    const idle = setTimeout(() => ended(), this.#idleMs);
    const ch: FrameChannel = new FrameChannel(stream, {
      maxFrame: MAX_FRAME,
      onEnd: () => ended(),
      onFrame: (frame) => {
        idle.refresh();
        let id = 0;
        let req: ExchangeRequest | undefined;
        try {
          req = decodeFrame<ExchangeRequest>(frame).head;
          id = typeof req?.id === "number" && Number.isSafeInteger(req.id) ? req.id : 0;
        } catch {
          req = undefined;
        }
        if (inFlight >= this.#maxInFlight) {
          ch.send(this.#frame(id, refuse("BUSY", `more than ${this.#maxInFlight} requests in flight on this stream`)));
          return;
        }
        inFlight++;
        const t: Promise<void> = this.#answer(req, remote, stream.protocol)
          .then((r) => ch.send(this.#frame(id, r)))
          .finally(() => {
            inFlight--;
            tasks.delete(t);
          });
        tasks.add(t);
      },
    });
    await end;
    clearTimeout(idle);
    await Promise.allSettled([...tasks]);
    await ch.close();
  };

  /** The response frame in parts (JSON part, then the body's parts), concatenated by the frame writer. */
  #frame(id: number, r: Reply): Buffer[] {
    this.counts.set(r.head.code, (this.counts.get(r.head.code) ?? 0) + 1);
    let json: string;
    if (r.bundleJson && r.head.bundle !== undefined) {
      const { bundle: _b, ...rest } = r.head;
      json = `${JSON.stringify({ id, ...rest }).slice(0, -1)},"bundle":${r.bundleJson}}`;
    } else {
      json = JSON.stringify({ id, ...r.head });
    }
    return r.body ? [encodeFrameJson(json), ...r.body] : [encodeFrameJson(json)];
  }

  /** Answer one request within the deadline; never throws. */
  async #answer(req: ExchangeRequest | undefined, remotePeer: string, protocol: string): Promise<Reply> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Reply>((res) => {
      timer = setTimeout(() => res(refuse("TIMEOUT", `not answered within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#serve(req, remotePeer, protocol), deadline]);
    } catch (e) {
      if (e instanceof MalformedError) return refuse("MALFORMED", e.message);
      const msg = String((e as Error)?.message ?? e).slice(0, 200);
      if ((e as { name?: string }).name === "ChainCallError") return refuse("UNAVAILABLE", `chain view unavailable: ${msg}`);
      this.#c.logger?.error({ err: msg }, "exchange handler failed");
      return refuse("INTERNAL", "internal error");
    } finally {
      clearTimeout(timer);
    }
  }

  async #serve(req: ExchangeRequest | undefined, remotePeer: string, protocol: string): Promise<Reply> {
    const { directory, useLog, grants, materials, memberId, domain } = this.#c;
    if (!req || typeof req !== "object" || req.op !== "fetch") return refuse("MALFORMED", "not a fetch request");
    const fields: RequestFields = {
      grantId: lower(String(req.grantId)),
      leaf: lower(String(req.leaf)),
      matter: lower(String(req.matter)),
      requester: lower(String(req.requester)),
      custodian: lower(String(req.custodian)),
      nonce: lower(String(req.nonce)),
      expiry: req.expiry,
      replyKey: lower(String(req.replyKey)),
    };
    const digest = requestDigest(domain, fields); // validates every field (MalformedError)
    if (fields.custodian !== memberId) return refuse("WRONG_CUSTODIAN", `this node serves member ${memberId}`);
    const now = Math.floor(Date.now() / 1000);
    if (fields.expiry < now) return refuse("STALE_REQUEST", `request expired at ${fields.expiry}, now ${now}`);
    if (fields.expiry > now + this.#maxLifetime) return refuse("STALE_REQUEST", `request lifetime exceeds ${this.#maxLifetime} s`);
    // verified against the claimed requester's known account keys; recovered when none verifies. A batch
    // signature (1.1) signs the root the request's digest and its proof lead to: checked once per batch.
    const accounts = directory.member(fields.requester)?.accounts;
    let signer: string | undefined;
    if (req.batchProof === undefined) signer = this.#keys.signer(digest, req.signature, accounts);
    else if (protocol !== EXCHANGE_PROTOCOL_1_1) return refuse("MALFORMED", `batchProof needs ${EXCHANGE_PROTOCOL_1_1} (this stream speaks ${protocol})`);
    else signer = this.#batches.signer(domain, digest, req.batchProof, req.signature, accounts);
    if (!signer) return refuse("BAD_SIGNATURE", "signature is malformed or does not recover");
    let acct = directory.byAccount(signer);
    if (!acct) {
      await directory.refreshSoon();
      acct = directory.byAccount(signer);
    }
    if (!acct || acct.id !== fields.requester) return refuse("BAD_SIGNATURE", `signer ${signer} is not a current account of ${fields.requester}`);
    if (acct.status !== MemberStatus.Active) return refuse("NOT_MEMBER", `member ${fields.requester} is not active`);
    const peerMember = directory.byPeer(remotePeer);
    if (!peerMember || peerMember.id !== fields.requester) return refuse("PEER_MISMATCH", `peer ${remotePeer} is not registered to ${fields.requester}`);
    const rk = replayKey(fields.requester, fields.nonce);
    // nonces this process served are refused here, from memory; any other consumed nonce (served before a
    // restart) is refused atomically by the use-log append below (DuplicateKeyError), after the grant check
    if (this.#recent.seen(rk)) return refuse("REPLAYED", `nonce ${fields.nonce} was already used`);
    // The grant is judged BEFORE anything about this node's holdings is said: the lookup is local and its
    // outcome only chooses what the gate checks; a requester whose grant does not cover the material gets
    // the same answer whether it is held or not (see GrantGate.admit). NOT_FOUND / NO_CONTENT only after.
    const mat = await materials.get(fields.leaf);
    const bundle = "missing" in mat ? (mat.missing === "NO_CONTENT" ? mat.bundle : undefined) : mat.bundle;
    const typeCode = bundle ? lower(bundle.header.typeCode) : undefined;
    const holderRef = bundle ? lower(bundle.header.holderRef) : undefined;
    const gate = await grants.admit(fields.grantId, fields.requester, fields.matter, fields.leaf, bundle ? { typeCode: typeCode!, holderRef: holderRef! } : undefined);
    if (gate.status !== "OK") return refuse(gate.status, gate.message ?? gate.status);
    if ("missing" in mat) {
      gate.release!();
      return refuse(mat.missing, mat.message);
    }
    let seq: number;
    try {
      ({ seq } = await useLog.append(
        {
          direction: "SERVED",
          time: now,
          requestId: fields.nonce,
          grantId: fields.grantId,
          matter: fields.matter,
          requester: fields.requester,
          custodian: fields.custodian,
          typeCode: typeCode!,
          leaf: fields.leaf,
          holderRef: holderRef!,
        },
        { key: rk, expiry: (fields.expiry + 60) * 1000 },
      ));
      this.#recent.add(rk, (fields.expiry + 60) * 1000);
    } catch (e) {
      if (e instanceof DuplicateKeyError) return refuse("REPLAYED", `nonce ${fields.nonce} was already used`);
      throw e;
    } finally {
      gate.release!();
    }
    const sealed = sealContentParts(this.#ring.current(), Buffer.from(fields.replyKey.slice(2), "hex"), digest, mat.content);
    return {
      head: {
        status: ExchangeStatus.OK,
        code: "OK",
        requestId: "0x" + digest.toString("hex"),
        servedSeq: seq,
        ephemeralKey: "0x" + sealed.ephemeralKey.toString("hex"),
        bundle: mat.bundle,
        time: now,
      },
      body: sealed.parts,
      bundleJson: mat.bundleJson,
    };
  }
}

// ------------------------------------------------------------------------------------------------ client

/** A multiplexed request/response session over one stream (requests sent in one turn leave in one write). */
class Session {
  readonly #ch: FrameChannel;
  readonly #pending = new Map<number, { resolve: (r: { head: ExchangeResponseHead; body: Buffer }) => void; reject: (e: unknown) => void }>();
  closed = false;

  constructor(readonly stream: Stream) {
    this.#ch = new FrameChannel(stream, {
      maxFrame: MAX_FRAME,
      onFrame: (f) => {
        let r: { head: ExchangeResponseHead; body: Buffer };
        try {
          r = decodeFrame<ExchangeResponseHead>(f);
        } catch (e) {
          this.fail(e);
          stream.abort(e as Error);
          return;
        }
        const p = this.#pending.get(r.head.id);
        if (p) {
          this.#pending.delete(r.head.id);
          p.resolve(r);
        }
      },
      onEnd: (err) => this.fail(err ?? new Error("stream ended")),
    });
  }

  fail(e: unknown): void {
    this.closed = true;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** Send one request frame; the answer, or TimeoutError after `timeoutMs` (a plain timer: an AbortSignal per request cost ~10 µs). */
  request(id: number, frame: Buffer, timeoutMs: number): Promise<{ head: ExchangeResponseHead; body: Buffer }> {
    if (this.closed) return Promise.reject(new Error("session closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError());
      }, Math.max(0, timeoutMs));
      this.#pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#ch.send(frame);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.#ch.close();
  }
}

class TimeoutError extends Error {
  override name = "TimeoutError";
}

class DialError extends Error {
  override name = "DialError";
  constructor(cause: unknown) {
    super(String((cause as Error)?.message ?? cause), { cause });
  }
}

export interface ExchangeClientComponents {
  memberId: string;
  /** the member's signing key (32 bytes) */
  privateKey: Buffer;
  domain: Buffer;
  directory: MemberDirectory;
  useLog: UseLog;
  /** open a stream of the exchange protocol to one of these multiaddrs */
  openStream(multiaddrs: string[], signal: AbortSignal): Promise<Stream>;
  /** verify received content against its bundle (SDK `verify`, online) */
  verify(content: Uint8Array, bundle: ProofBundle): Promise<VerificationResult>;
  logger?: Logger;
}

export interface FetchParams {
  /** custodian member id (bytes32) */
  custodian: string;
  leaf: string;
  grantId: string;
  matter: string;
  /** request lifetime, seconds (default 60) */
  lifetimeSec?: number;
  /** deadline, ms (default 10,000) */
  timeoutMs?: number;
  /** one long-lived multiplexed stream per custodian (default) or a new stream per request */
  mode?: "multiplexed" | "stream-per-request";
}

export interface FetchResult {
  status: number;
  code: ExchangeStatusName;
  message?: string;
  /** the request's nonce = the use records' requestId */
  requestId: string;
  /** EIP-712 digest of the signed request */
  digest: string;
  content?: Buffer;
  bundle?: ProofBundle;
  verification?: VerificationResult;
  servedSeq?: number;
  receivedSeq?: number;
}

/** A signed request plus the private half of its reply key (tests use it to replay or forge). */
export interface SignedRequest {
  request: ExchangeRequest;
  digest: Buffer;
  reply: EphemeralKey;
  /**
   * signed by the client's key when it is sent ({@link ExchangeClient.prepare}): batch-signed with the other
   * requests sent in that event-loop turn if the custodian's stream speaks 1.1, alone otherwise; until then
   * `request.signature` is ""
   */
  signAtSend?: boolean;
}

/** Batches signed by a {@link BatchSigner}: requests, signatures, largest batch. */
export interface BatchSignerStats {
  requests: number;
  signatures: number;
  largest: number;
}

/**
 * Signs request digests in batches: every digest asked for during one event-loop turn (until `setImmediate`)
 * goes into one batch tree ({@link batchTree}, at most `max` leaves) whose root is signed once
 * (`ExchangeBatch(bytes32 root)`); each request gets the signature and its proof. A batch of one is signed as
 * the request itself (no proof), exactly what version 1.0 sends.
 */
export class BatchSigner {
  #queue: { digest: Buffer; resolve: (s: { signature: string; proof: Buffer[] }) => void; reject: (e: unknown) => void }[] = [];
  readonly stats: BatchSignerStats = { requests: 0, signatures: 0, largest: 0 };
  constructor(
    readonly privateKey: Buffer,
    readonly domain: Buffer,
    readonly max = 256,
  ) {}

  sign(digest: Buffer): Promise<{ signature: string; proof: Buffer[] }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ digest, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const q = this.#queue;
    this.#queue = [];
    for (let i = 0; i < q.length; i += this.max) {
      const part = q.slice(i, i + this.max);
      try {
        this.stats.requests += part.length;
        this.stats.signatures++;
        this.stats.largest = Math.max(this.stats.largest, part.length);
        if (part.length === 1) {
          part[0]!.resolve({ signature: signDigest(part[0]!.digest, this.privateKey), proof: [] });
          continue;
        }
        const { root, proofs } = batchTree(part.map((x) => x.digest));
        const signature = signDigest(batchDigest(this.domain, root), this.privateKey);
        part.forEach((x, j) => x.resolve({ signature, proof: proofs[j]! }));
      } catch (e) {
        for (const x of part) x.reject(e);
      }
    }
  }
}

export class ExchangeClient {
  readonly #c: ExchangeClientComponents;
  readonly #sessions = new Map<string, Promise<Session>>();
  readonly #ring: KeyRing;
  readonly #batches: BatchSigner | undefined;
  #id = 0;

  /** `batchSign` (default true): sign the requests of one turn as one batch where the custodian speaks 1.1 */
  constructor(components: ExchangeClientComponents, init: { keyRotateMs?: number; batchSign?: boolean } = {}) {
    this.#c = components;
    this.#ring = new KeyRing(init.keyRotateMs ?? 60_000);
    this.#batches = init.batchSign === false ? undefined : new BatchSigner(components.privateKey, components.domain);
  }

  /** The EIP-712 domain separator requests are signed in. */
  get domain(): Buffer {
    return this.#c.domain;
  }

  /** Requests signed in batches so far (undefined when batch signing is off). */
  get batchStats(): BatchSignerStats | undefined {
    return this.#batches?.stats;
  }

  /** Build and sign a request (EIP-712, the member's signing key). */
  sign(p: Omit<FetchParams, "timeoutMs" | "mode">, overrides: Partial<RequestFields> = {}, privateKey = this.#c.privateKey): SignedRequest {
    const r = this.prepare(p, overrides);
    r.request.signature = signDigest(r.digest, privateKey);
    delete r.signAtSend;
    return r;
  }

  /** Build a request to be signed by this client's key when it is sent (batched where the custodian speaks 1.1). */
  prepare(p: Omit<FetchParams, "timeoutMs" | "mode">, overrides: Partial<RequestFields> = {}): SignedRequest {
    const reply = this.#ring.current();
    const fields: RequestFields = {
      grantId: lower(p.grantId),
      leaf: lower(p.leaf),
      matter: lower(p.matter),
      requester: this.#c.memberId,
      custodian: lower(p.custodian),
      nonce: "0x" + poolRandom(32).toString("hex"),
      expiry: Math.floor(Date.now() / 1000) + (p.lifetimeSec ?? 60),
      replyKey: "0x" + reply.publicRaw.toString("hex"),
      ...overrides,
    };
    const digest = requestDigest(this.#c.domain, fields);
    return { request: { op: "fetch", id: 0, ...fields, signature: "" }, digest, reply, signAtSend: true };
  }

  /** Obtain a material from its custodian under a grant; never throws (the outcome is a status). */
  async fetch(p: FetchParams): Promise<FetchResult> {
    return this.send(p.custodian, this.prepare(p), p);
  }

  /** The request's frame for a stream speaking `protocol`, signing it first if it is to be signed at send. */
  async #frame(signed: SignedRequest, id: number, protocol: string): Promise<Buffer> {
    if (signed.signAtSend) {
      if (this.#batches && protocol === EXCHANGE_PROTOCOL_1_1) {
        const { signature, proof } = await this.#batches.sign(signed.digest);
        signed.request.signature = signature;
        if (proof.length > 0) signed.request.batchProof = proof.map((h) => "0x" + h.toString("hex"));
      } else {
        signed.request.signature = signDigest(signed.digest, this.#c.privateKey);
      }
      delete signed.signAtSend;
    }
    return encodeFrame({ ...signed.request, id });
  }

  /** Send a signed request (possibly crafted) and process the answer like {@link fetch}; never throws. */
  async send(custodian: string, signed: SignedRequest, p: Pick<FetchParams, "timeoutMs" | "mode"> = {}): Promise<FetchResult> {
    try {
      return await this.#send(custodian, signed, p);
    } catch (e) {
      this.#c.logger?.error({ err: String((e as Error)?.message ?? e).slice(0, 200) }, "exchange fetch failed");
      return { status: ExchangeStatus.INTERNAL, code: "INTERNAL", message: String((e as Error)?.message ?? e).slice(0, 200), requestId: signed.request.nonce, digest: "0x" + signed.digest.toString("hex") };
    }
  }

  async #send(custodian: string, signed: SignedRequest, p: Pick<FetchParams, "timeoutMs" | "mode">): Promise<FetchResult> {
    const { request, digest } = signed;
    const base = { requestId: request.nonce, digest: "0x" + digest.toString("hex") };
    const out = (code: ExchangeStatusName, message?: string, extra: Partial<FetchResult> = {}): FetchResult => ({
      status: ExchangeStatus[code],
      code,
      ...(message ? { message } : {}),
      ...base,
      ...extra,
    });
    const timeoutMs = p.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    // an AbortSignal only when a stream must be opened (dial); a request on an open session uses a plain timer
    let dialSignal: AbortSignal | undefined;
    const signal = (): AbortSignal => (dialSignal ??= AbortSignal.timeout(Math.max(1, deadline - Date.now())));
    const id = ++this.#id;
    let resp: { head: ExchangeResponseHead; body: Buffer } | undefined;
    // a dial failure (nothing was sent) is retried once after re-reading the custodian's registered addresses:
    // its node may have restarted on another address. A failure after sending is not retried (the nonce is
    // spent; the custodian would answer REPLAYED).
    for (let attempt = 0; !resp; attempt++) {
      let member = this.#c.directory.member(custodian);
      if (!member || member.multiaddrs.length === 0) {
        // a custodian that registered its peer since the last directory read: read again before refusing
        await this.#c.directory.refreshSoon();
        member = this.#c.directory.member(custodian);
      }
      if (!member || member.multiaddrs.length === 0) return out("NO_ROUTE", `custodian ${custodian} has no registered peer`);
      try {
        if ((p.mode ?? "multiplexed") === "multiplexed") {
          const s = await this.#session(lower(custodian), member.multiaddrs, signal).catch((e) => {
            throw new DialError(e);
          });
          resp = await s.request(id, await this.#frame(signed, id, s.stream.protocol), deadline - Date.now());
        } else {
          const stream = await this.#c.openStream(member.multiaddrs, signal()).catch((e) => {
            throw new DialError(e);
          });
          const s = new Session(stream);
          try {
            resp = await s.request(id, await this.#frame(signed, id, stream.protocol), deadline - Date.now());
          } finally {
            await s.close();
          }
        }
      } catch (e) {
        if (e instanceof TimeoutError || dialSignal?.aborted || Date.now() >= deadline) return out("TIMEOUT", `no answer within ${timeoutMs} ms`);
        if (e instanceof DialError && attempt === 0) {
          await this.#c.directory.refresh().catch(() => undefined);
          continue;
        }
        const cause = e instanceof DialError ? e.cause : e;
        return out("TRANSPORT", String((cause as Error)?.message ?? cause).slice(0, 200));
      }
    }
    const h = resp.head;
    if (h.status !== ExchangeStatus.OK) return out((h.code in ExchangeStatus ? h.code : "INTERNAL") as ExchangeStatusName, h.message);
    // open, then check against the anchored leaf before anything else sees it
    let content: Buffer;
    try {
      content = openContent(signed.reply, b32(String(h.ephemeralKey), "ephemeralKey"), digest, resp.body);
    } catch {
      return out("CONTENT_INVALID", "sealed content does not open under this request's key");
    }
    const bundle = h.bundle as ProofBundle;
    if (!bundle || typeof bundle !== "object" || lower(String(bundle.leaf)) !== request.leaf) {
      return out("CONTENT_INVALID", "the bundle is not the requested material's");
    }
    let verification: VerificationResult;
    try {
      verification = await this.#c.verify(content, bundle);
    } catch (e) {
      return out("CONTENT_INVALID", `verification failed: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
    }
    // the use happened (content arrived): record it, whatever the verification says
    const { seq } = await this.#c.useLog.append({
      direction: "RECEIVED",
      time: Number(h.time),
      requestId: request.nonce,
      grantId: request.grantId,
      matter: request.matter,
      requester: request.requester,
      custodian: request.custodian,
      typeCode: lower(bundle.header.typeCode),
      leaf: request.leaf,
      holderRef: lower(bundle.header.holderRef),
    });
    if (!verification.ok) {
      const bad = verification.checks.filter((c) => c.status !== "VALID" && c.status !== "SKIPPED").map((c) => `${c.check}:${c.reason}`);
      return out("CONTENT_INVALID", `material failed verification (${bad.join(", ")})`, { verification, bundle, servedSeq: h.servedSeq, receivedSeq: seq });
    }
    return out("OK", undefined, { content, bundle, verification, servedSeq: h.servedSeq, receivedSeq: seq });
  }

  async #session(custodian: string, addrs: string[], signal: () => AbortSignal): Promise<Session> {
    const cur = this.#sessions.get(custodian);
    if (cur) {
      const s = await cur.catch(() => undefined);
      if (s && !s.closed) return s;
      if (this.#sessions.get(custodian) === cur) this.#sessions.delete(custodian);
    }
    const p = this.#c.openStream(addrs, signal()).then((stream) => new Session(stream));
    this.#sessions.set(custodian, p);
    p.catch(() => {
      if (this.#sessions.get(custodian) === p) this.#sessions.delete(custodian);
    });
    return p;
  }

  /** Close every session. */
  async close(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const p of all) {
      const s = await p.catch(() => undefined);
      await s?.close();
    }
  }
}
