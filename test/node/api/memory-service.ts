/**
 * An in-memory MaterialService for API tests ONLY (never shipped): it follows the core's contract (validate
 * everything first, persist all or nothing, typed errors naming the record) without a chain. Anchoring is
 * simulated by `anchorAll()`.
 */
import { AbiCoder, keccak256, encodeBytes32String, ZeroHash, sha256, hexlify } from "ethers";
import type { MaterialService } from "../../../node/src/core/service.js";
import type { ChangeEvent, MaterialRecord, RegisterAck, RegisterRequest, ServiceStats, StatusOp, HeaderJson } from "../../../node/src/core/types.js";
import {
  ValidationError,
  InvalidIdError,
  UnknownTypeError,
  NotEntitledError,
  NotFoundError,
  ConflictError,
  NoContentError,
} from "../../../node/src/core/errors.js";

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
export function residentIdOk(id: string): boolean {
  if (!/^\d{17}[\dXx]$/.test(id)) return false;
  const s = W.reduce((a, w, i) => a + w * Number(id[i]), 0);
  return "10X98765432"[s % 11] === id[17].toUpperCase();
}

export class MemoryService implements MaterialService {
  readonly records = new Map<string, MaterialRecord>();
  readonly content = new Map<string, Uint8Array>();
  readonly ops = new Map<string, StatusOp>();
  private listeners = new Set<(e: ChangeEvent) => void>();
  private idem = new Map<string, { body: string; acks: RegisterAck[] }>();
  private n = 0;
  constructor(
    readonly issuerUscc = "11310115002418321F",
    readonly knownTypes = new Set(["BIZ_LICENCE", "BIRTH_CERT", "FORBIDDEN_TYPE"]),
    readonly entitled = new Set(["BIZ_LICENCE", "BIRTH_CERT"]),
  ) {}
  async start() {}
  async stop() {}

  private header(r: RegisterRequest, i: number): HeaderJson {
    const at = (f: string) => ({ index: i, field: f });
    if (!this.knownTypes.has(r.typeCode)) throw new UnknownTypeError(r.typeCode, { index: i });
    if (!this.entitled.has(r.typeCode)) throw new NotEntitledError(`member may not issue ${r.typeCode} in ${r.jurisdiction}`, { index: i, typeCode: r.typeCode });
    let holderRef = r.holderRef;
    if (r.holder) {
      if (r.holder.idType !== "RESIDENT_ID" || !residentIdOk(r.holder.idNumber)) throw new InvalidIdError(`holder id of request ${i} fails its check`, at("holder.idNumber"));
      holderRef = keccak256(Buffer.from("holder:" + r.holder.idNumber.toUpperCase()));
    }
    if (!holderRef) throw new ValidationError("holder missing", at("holder"));
    const contentHash = r.content ? sha256(r.content) : r.contentHash!;
    if (r.validUntil && r.validUntil < r.validFrom) throw new ValidationError(`validUntil before validFrom in request ${i}`, at("validUntil"));
    return {
      typeCode: encodeBytes32String(r.typeCode),
      issuer: encodeBytes32String(this.issuerUscc),
      holderRef,
      contentHash,
      hashAlg: r.hashAlg ?? 1,
      issuedAt: String(r.issuedAt ?? 1_700_000_000),
      validFrom: String(r.validFrom),
      validUntil: String(r.validUntil ?? 0),
      version: r.version ?? 1,
      supersedes: r.supersedes ?? ZeroHash,
    };
  }
  static leaf(h: HeaderJson): string {
    return keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64", "uint64", "uint32", "bytes32"],
        [h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg, h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes],
      ),
    );
  }
  async register(requests: RegisterRequest[], opts?: { idempotencyKey?: string }): Promise<RegisterAck[]> {
    const body = JSON.stringify(requests, (_k, v) => (v instanceof Uint8Array ? hexlify(v) : v));
    if (opts?.idempotencyKey) {
      const prev = this.idem.get(opts.idempotencyKey);
      if (prev && prev.body !== body) throw new ConflictError("idempotency key reused with another body", { idempotencyKey: opts.idempotencyKey });
      if (prev) return prev.acks;
    }
    const headers = requests.map((r, i) => this.header(r, i)); // all validated before anything is stored
    const acks = headers.map((h, i) => {
      const id = MemoryService.leaf(h);
      const dup = this.records.has(id);
      if (!dup) {
        this.records.set(id, {
          id, type: requests[i].typeCode, jurisdiction: requests[i].jurisdiction, header: h, state: "pending", status: "active",
          hasContent: !!requests[i].content, acceptedAt: Date.now(),
        });
        if (requests[i].content) this.content.set(id, requests[i].content!);
      }
      return { id, state: this.records.get(id)!.state, duplicate: dup, acceptedAt: this.records.get(id)!.acceptedAt };
    });
    if (opts?.idempotencyKey) this.idem.set(opts.idempotencyKey, { body, acks });
    return acks;
  }
  /** Simulate the anchorer: every pending record becomes anchored with a bundle. */
  anchorAll(): void {
    for (const r of this.records.values()) {
      if (r.state !== "pending") continue;
      r.state = "anchored";
      // a batch of one: root == leaf, empty proof (the API builds the SDK bundle from this anchor)
      r.anchor = { root: r.id, proof: [], index: 0, count: 1, blockNumber: 7, txHash: "0x" + "77".repeat(32), chainId: 31337, contract: "0x" + "11".repeat(20), confirmedAt: Date.now() };
      this.emit({ kind: "material", leaf: r.id, state: "anchored", root: r.id, at: Date.now() });
    }
  }
  async getMaterial(leaf: string) {
    const r = this.records.get(leaf);
    if (!r) throw new NotFoundError("material", leaf);
    return structuredClone(r);
  }
  async getContent(leaf: string) {
    await this.getMaterial(leaf);
    const c = this.content.get(leaf);
    if (!c) throw new NoContentError(leaf);
    return c;
  }
  private op(kind: StatusOp["kind"], leaf: string, reason: number, newLeaf?: string): StatusOp {
    const op: StatusOp = { opId: `op-${++this.n}`, kind, leaf, reason, newLeaf, state: "pending", createdAt: Date.now() };
    this.ops.set(op.opId, op);
    this.emit({ kind: "op", opId: op.opId, op: kind, leaf, state: "pending", at: Date.now() });
    return op;
  }
  async revoke(leaf: string, reason: number) {
    const r = await this.getMaterial(leaf);
    if (r.status === "revoked") throw new ConflictError(`material ${leaf} is already revoked`, { leaf });
    this.records.get(leaf)!.status = "revoked";
    return this.op("revoke", leaf, reason);
  }
  async suspend(leaf: string, reason: number) {
    const r = await this.getMaterial(leaf);
    if (r.status === "revoked") throw new ConflictError(`material ${leaf} is revoked`, { leaf });
    this.records.get(leaf)!.status = "suspended";
    return this.op("suspend", leaf, reason);
  }
  async reinstate(leaf: string) {
    const r = await this.getMaterial(leaf);
    if (r.status !== "suspended") throw new ConflictError(`material ${leaf} is not suspended`, { leaf });
    this.records.get(leaf)!.status = "active";
    return this.op("reinstate", leaf, 0);
  }
  async supersede(oldLeaf: string, next: RegisterRequest) {
    const old = await this.getMaterial(oldLeaf);
    const [ack] = await this.register([{ ...next, supersedes: oldLeaf, version: old.header.version + 1 }]);
    this.records.get(oldLeaf)!.supersededBy = ack.id;
    return { ack, op: this.op("supersede", oldLeaf, 0, ack.id) };
  }
  async getOp(opId: string) {
    const o = this.ops.get(opId);
    if (!o) throw new NotFoundError("op", opId);
    return o;
  }
  stats(): ServiceStats {
    const v = [...this.records.values()];
    return { pending: v.filter((r) => r.state === "pending").length, anchoring: 0, anchored: v.filter((r) => r.state === "anchored").length, failed: 0, opsPending: this.ops.size, batchesSent: 0, chainUp: true };
  }
  emit(e: ChangeEvent) {
    for (const l of this.listeners) l(e);
  }
  onChange(l: (e: ChangeEvent) => void) {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
  async *changes(): AsyncIterable<ChangeEvent> {
    throw new Error("not used by the API");
  }
}
