import { expect } from "chai";
import { randomBytes, createHash } from "node:crypto";
import { verifyProof, computeLeaf, computeHolderRef, verify, loadBundle, type MaterialHeader } from "@tongban/sdk";
import { startCoreFixture, waitFor, TYPE, OTHER_TYPE, JUR, JUR2, MEMBER_USCC, type CoreFixture } from "../helpers/core.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";
import { NodeError } from "../../../node/src/core/errors.js";
import { headerJson } from "../../../node/src/core/service.js";
import { hex, keccakBuf } from "../../../node/src/core/header.js";

const NOW = Math.floor(Date.now() / 1000);

function req(i: number, over: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    typeCode: TYPE,
    jurisdiction: JUR,
    contentHash: "0x" + createHash("sha256").update(`doc-${i}-${Math.random()}`).digest("hex"),
    holderRef: "0x" + randomBytes(32).toString("hex"),
    issuedAt: NOW,
    validFrom: NOW,
    validUntil: NOW + 86400 * 365,
    ...over,
  };
}

async function expectCode(p: Promise<unknown>, code: string): Promise<NodeError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(NodeError);
    expect((e as NodeError).code, (e as Error).message).to.equal(code);
    return e as NodeError;
  }
  throw new Error(`expected ${code}`);
}

describe("node core: MaterialService on a real chain", function () {
  let fx: CoreFixture;
  let core: Awaited<ReturnType<CoreFixture["newCore"]>>;
  before(async () => {
    fx = await startCoreFixture();
    core = await fx.newCore();
  });
  after(async () => fx?.close());

  it("registers, anchors, and the proof verifies against a root the ledger says is anchored", async () => {
    const content = new TextEncoder().encode("营业执照 electronic licence #1");
    const reqs = [req(0, { content, contentHash: undefined, holder: { idType: "USCC", idNumber: "91310104MA1K000018" }, holderRef: undefined }), ...Array.from({ length: 49 }, (_, i) => req(i + 1, { jurisdiction: i % 2 ? JUR : JUR2 }))];
    const acks = await core.service.register(reqs);
    expect(acks).to.have.length(50);
    expect(acks.every((a) => a.state === "pending" && !a.duplicate)).to.equal(true);
    // the id is the SDK's leaf of the header
    const rec0 = await core.service.getMaterial(acks[0]!.id);
    const h: MaterialHeader = {
      ...rec0.header,
      issuedAt: BigInt(rec0.header.issuedAt),
      validFrom: BigInt(rec0.header.validFrom),
      validUntil: BigInt(rec0.header.validUntil),
    };
    expect(computeLeaf(h)).to.equal(acks[0]!.id);
    expect(rec0.header.holderRef).to.equal(computeHolderRef({ idType: "USCC", idNumber: "91310104MA1K000018" }, fx.keys.holderKey));
    for (const a of acks) {
      const rec = await waitFor(async () => {
        const r = await core.service.getMaterial(a.id);
        return r.state === "anchored" ? r : undefined;
      }, 30_000, `anchor of ${a.id}`);
      expect(verifyProof(a.id, rec.anchor!.proof, rec.anchor!.root)).to.equal(true);
      const st = await fx.ledger.materialState(rec.anchor!.root, a.id, 1);
      expect(st.anchored).to.equal(true);
      expect(Number(st.jurisdiction)).to.equal(rec.jurisdiction);
      expect(Number(st.anchoredBlock)).to.equal(rec.anchor!.blockNumber);
    }
    // grouped by (type, jurisdiction): two jurisdictions -> at least two roots
    const roots = new Set((await Promise.all(acks.map((a) => core.service.getMaterial(a.id)))).map((r) => r.anchor!.root));
    expect(roots.size).to.be.greaterThanOrEqual(2);
    expect(Buffer.from(await core.service.getContent(acks[0]!.id)).toString()).to.equal("营业执照 electronic licence #1");
    // the record's bundle is the SDK's format, sealed by the node's account, and verifies online
    const anchored0 = await core.service.getMaterial(acks[0]!.id);
    const bundle = loadBundle(JSON.parse(JSON.stringify(anchored0.bundle)));
    const v = await verify({ content }, bundle, { provider: fx.chain.url, ledger: fx.ledgerAddress, requireSeal: true, trustedSealSigners: [fx.keys.wallet.address] });
    expect(v.ok, JSON.stringify(v.checks.filter((c) => c.status !== "VALID"))).to.equal(true);
    const forged = await verify({ content: new TextEncoder().encode("forged") }, bundle, { provider: fx.chain.url });
    expect(forged.ok).to.equal(false);
    await expectCode(core.service.getContent(acks[1]!.id), "NO_CONTENT");
    expect(core.service.stats().anchored).to.be.greaterThanOrEqual(50);
  });

  it("large calls (worker crypto) give the same leaves, holder refs and stored content as the inline path; a bad ID in one is refused whole", async () => {
    const inline = await fx.newCore({ hashWorker: false });
    const mk = (i: number, salt: string): RegisterRequest =>
      req(i, { content: new TextEncoder().encode(`licence ${salt} #${i} ` + "x".repeat(i % 300)), contentHash: undefined, holder: { idType: i % 2 ? "USCC" : "BIZ_REG_NO", idNumber: i % 2 ? "91310104MA1K000018" : `REG${i}` }, holderRef: undefined });
    const salt = String(Math.random());
    const a = await core.service.register(Array.from({ length: 300 }, (_, i) => mk(i, salt))); // >= 256: worker
    const b = await inline.service.register(Array.from({ length: 300 }, (_, i) => mk(i, salt)));
    expect(a.map((x) => x.id)).to.deep.equal(b.map((x) => x.id));
    for (const i of [0, 1, 150, 299]) {
      const rec = await core.service.getMaterial(a[i]!.id, { bundle: false });
      expect(rec.header.holderRef).to.equal(computeHolderRef(mk(i, salt).holder!, fx.keys.holderKey));
      expect(Buffer.from(await core.service.getContent(a[i]!.id)).equals(Buffer.from(mk(i, salt).content!))).to.equal(true);
    }
    const bad = Array.from({ length: 300 }, (_, i) => mk(i, salt + "bad"));
    bad[123] = { ...bad[123]!, holder: { idType: "USCC", idNumber: "91310104MA1K000019" } };
    const e = await expectCode(core.service.register(bad), "INVALID_ID");
    expect(e.details.index).to.equal(123);
    const probe = await core.service.register([mk(5, salt + "bad")]);
    expect(probe[0]!.duplicate).to.equal(false); // nothing of the refused call was stored
  });

  it("is idempotent by leaf and by idempotency key: the same header never anchors twice", async () => {
    const r = req(100);
    const [a1] = await core.service.register([r]);
    const [a2, a3] = await core.service.register([r, r]);
    expect(a2!.id).to.equal(a1!.id);
    expect(a2!.duplicate).to.equal(true);
    expect(a3!.duplicate).to.equal(true);
    const batch = [req(101), req(102)];
    const k1 = await core.service.register(batch, { idempotencyKey: "k-1" });
    const k2 = await core.service.register(batch, { idempotencyKey: "k-1" });
    expect(k2).to.deep.equal(k1);
    await expectCode(core.service.register([req(103)], { idempotencyKey: "k-1" }), "CONFLICT");
    const rec = await waitFor(async () => {
      const x = await core.service.getMaterial(a1!.id);
      return x.state === "anchored" ? x : undefined;
    });
    // after anchoring, a re-registration answers anchored and still queues nothing
    const [a4] = await core.service.register([r]);
    expect(a4!.state).to.equal("anchored");
    expect(a4!.duplicate).to.equal(true);
    const topic = fx.ledger.interface.getEvent("Anchored").topicHash;
    const logs = await fx.chain.provider.getLogs({ address: fx.ledgerAddress, topics: [topic, rec.anchor!.root], fromBlock: 0 });
    expect(logs).to.have.length(1);
  });

  it("merges concurrent calls into one commit: shared leaves are new once, an idempotency key answers both callers", async () => {
    const shared = req(500);
    const keyed = req(503);
    const calls = await Promise.all([
      core.service.register([shared, req(501)]),
      core.service.register([req(502), shared]),
      core.service.register([shared]),
      core.service.register([keyed], { idempotencyKey: "k-concurrent" }),
      core.service.register([{ ...keyed }], { idempotencyKey: "k-concurrent" }),
    ]);
    const sharedAcks = [calls[0]![0]!, calls[1]![1]!, calls[2]![0]!] as { id: string; duplicate: boolean }[];
    expect(new Set(sharedAcks.map((a) => a.id)).size).to.equal(1);
    expect(sharedAcks.filter((a) => !a.duplicate)).to.have.length(1);
    // both callers of the key get the one answer; the same key with another body is a CONFLICT
    expect(calls[4]).to.deep.equal(calls[3]);
    expect(calls[3]![0]!.duplicate).to.equal(false);
    const again = await core.service.register([req(504)], { idempotencyKey: "k-concurrent" }).catch((e) => e);
    expect((again as { code?: string }).code).to.equal("CONFLICT");
    const rec = await waitFor(async () => {
      const r = await core.service.getMaterial(sharedAcks[0]!.id);
      return r.state === "anchored" ? r : undefined;
    });
    const topic = fx.ledger.interface.getEvent("Anchored").topicHash;
    expect(await fx.chain.provider.getLogs({ address: fx.ledgerAddress, topics: [topic, rec.anchor!.root], fromBlock: 0 })).to.have.length(1);
  });

  it("keeps content under SM4-CBC + HMAC when configured", async () => {
    const sm = await fx.newCore({ cipher: "sm4-cbc-hmac" });
    const content = new TextEncoder().encode("SM4 protected 电子证照");
    const [a] = await sm.service.register([req(600, { content, contentHash: undefined, hashAlg: 2 })]);
    expect(Buffer.from(await sm.service.getContent(a!.id)).toString()).to.equal("SM4 protected 电子证照");
    const rec = await sm.service.getMaterial(a!.id);
    expect(rec.header.hashAlg).to.equal(2);
    await sm.stop();
  });

  it("refuses at intake: a type the member may not issue, an unknown type, a bad ID, bad fields", async () => {
    const e1 = await expectCode(core.service.register([req(0), req(1, { typeCode: OTHER_TYPE })]), "NOT_ENTITLED");
    expect(e1.details.index).to.equal(1);
    await expectCode(core.service.register([req(0, { jurisdiction: 310000 })]), "NOT_ENTITLED");
    await expectCode(core.service.register([req(0, { typeCode: "NO_SUCH_TYPE" })]), "UNKNOWN_TYPE");
    const e2 = await expectCode(
      core.service.register([req(0, { holderRef: undefined, holder: { idType: "RESIDENT_ID", idNumber: "110105194912310021" } })]),
      "INVALID_ID",
    );
    expect(JSON.stringify(e2.details)).not.to.contain("110105194912310021");
    await expectCode(core.service.register([req(0, { contentHash: "0x1234" })]), "VALIDATION");
    await expectCode(core.service.register([req(0, { validUntil: NOW - 10, validFrom: NOW })]), "VALIDATION");
    await expectCode(core.service.register([]), "VALIDATION");
    await expectCode(core.service.getMaterial("0x" + "ab".repeat(32)), "NOT_FOUND");
    await expectCode(core.service.getMaterial("nope"), "VALIDATION");
  });

  it("revoke, suspend, reinstate and supersede reach the chain", async () => {
    const [a, b, c] = await core.service.register([req(200), req(201), req(202)]);
    const rv = await core.service.revoke(a!.id, 7);
    expect(rv.state).to.equal("pending");
    expect((await core.service.revoke(a!.id, 7)).opId).to.equal(rv.opId); // idempotent
    const sp = await core.service.suspend(b!.id, 3);
    const { ack: nextAck, op: ss } = await core.service.supersede(c!.id, req(203));
    const done = async (opId: string) =>
      waitFor(async () => {
        const o = await core.service.getOp(opId);
        if (o.state === "failed") throw new Error(`op failed: ${JSON.stringify(o.error)}`);
        return o.state === "done" ? o : undefined;
      }, 30_000, `op ${opId}`);
    await done(rv.opId);
    await done(sp.opId);
    await done(ss.opId);
    const ra = await core.service.getMaterial(a!.id);
    expect(ra.status).to.equal("revoked");
    const sa = await fx.ledger.materialState(ra.anchor!.root, a!.id, 1);
    expect(Number(sa.status)).to.equal(2);
    expect(Number(sa.reason)).to.equal(7);
    const vr = await verify({ contentHash: ra.header.contentHash }, loadBundle(ra.bundle), { provider: fx.chain.url });
    expect(vr.ok).to.equal(false);
    expect(vr.checks.find((c) => c.check === "STATUS")!.status).to.equal("INVALID");
    const rb = await core.service.getMaterial(b!.id);
    expect(Number((await fx.ledger.materialState(rb.anchor!.root, b!.id, 1)).status)).to.equal(1);
    await expectCode(core.service.suspend(a!.id, 1), "CONFLICT");
    const rs = await core.service.reinstate(b!.id);
    await done(rs.opId);
    expect(Number((await fx.ledger.materialState(rb.anchor!.root, b!.id, 1)).status)).to.equal(0);
    expect((await core.service.getMaterial(b!.id)).status).to.equal("active");
    const rc = await core.service.getMaterial(c!.id);
    expect(rc.supersededBy).to.equal(nextAck.id);
    const sc = await fx.ledger.materialState(rc.anchor!.root, c!.id, 1);
    expect(sc.supersededBy).to.equal(nextAck.id);
    const rn = await core.service.getMaterial(nextAck.id);
    expect(rn.header.version).to.equal(2);
    expect(rn.header.supersedes).to.equal(c!.id);
  });

  it("answers a batch by its root with leaves and headers; records without bundle on request", async () => {
    const acks = await core.service.register(Array.from({ length: 30 }, (_, i) => req(400 + i)));
    const rec = await waitFor(async () => {
      const r = await core.service.getMaterial(acks[29]!.id);
      return r.state === "anchored" ? r : undefined;
    });
    const b = await core.service.getBatch(rec.batchId!, { headers: true });
    expect(b.state).to.equal("confirmed");
    expect(b.blockNumber).to.equal(rec.anchor!.blockNumber);
    expect(b.leaves).to.include(acks[29]!.id);
    expect(b.leaves).to.have.length(b.count);
    const i = b.leaves.indexOf(acks[29]!.id);
    expect(b.headers![i]).to.deep.equal(rec.header);
    // the header feed's form: the 320-byte ABI headers, same order, the leaf is their keccak
    const raw = await core.service.getBatch(rec.batchId!, { headerBytes: true });
    expect(raw.headers).to.equal(undefined);
    expect(raw.headerBytes).to.have.length(b.count);
    raw.headerBytes!.forEach((h, k) => {
      expect(h.length).to.equal(320);
      expect(hex(keccakBuf(Buffer.from(h)))).to.equal(b.leaves[k]);
      expect(headerJson(Buffer.from(h))).to.deep.equal(b.headers![k]);
    });
    expect((await core.service.getMaterial(acks[0]!.id, { bundle: false })).bundle).to.equal(undefined);
    await expectCode(core.service.getBatch("0x" + "cd".repeat(32)), "NOT_FOUND");
  });

  it("streams state changes", async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const it = (async () => {
      for await (const e of core.service.changes({ signal: ac.signal })) {
        if (e.kind === "material") seen.push(`${e.leaf}:${e.state}`);
        if (seen.some((s) => s.endsWith(":anchored"))) break;
      }
    })();
    const batchOnly: string[] = [];
    const off = core.service.onChange((e) => batchOnly.push(e.kind), { materials: false });
    const [a] = await core.service.register([req(300)]);
    await it;
    ac.abort();
    off();
    expect(batchOnly).to.include("batch");
    expect(batchOnly).not.to.include("material");
    expect(seen).to.include(`${a!.id}:pending`);
    expect(seen).to.include(`${a!.id}:anchored`);
  });
});

export { MEMBER_USCC };
