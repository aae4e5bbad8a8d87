/**
 * Three member nodes as separate processes on loopback (plus a non-member), a real hardhat chain with the
 * ledger and the authorisations contract: a holder's grant lets district B's bureau obtain a material from
 * district A's node; every refusal has its code; both use logs hold the use with proofs against heads
 * anchored on chain; a custodian whose LevelDB was edited is caught by the audit check.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { Wallet, encodeBytes32String, ZeroHash, type Contract } from "ethers";
import { buildMerkleTree, buildBundle, computeLeaf, usccCheckChar, verifyInclusion, type MaterialHeader, type ProofBundle } from "@tongban/sdk";
import { startChain, deployLedger, bootstrap, devWallet, rpc, type Chain, type TongbanLedger } from "../helpers/chain.js";
import { NodeProcess, deployAuthorisations, runConfig, AUTHORISATIONS_ARTIFACT } from "./fixture.js";
import { UseLog, LK, type HistoryResult } from "../../../node/src/audit/use-log.js";
import { auditLog, reconcileLogs, auditUseCounts } from "../../../node/src/audit/check.js";
import { AuthorisationsView, ChainRpc } from "../../../node/src/p2p/chain.js";

const uscc = (first17: string) => first17 + usccCheckChar(first17);
const USCC = { A: uscc("11310104MB2F00001"), B: uscc("11310115MB2F00002"), C: uscc("12310000MB2F00003"), D: uscc("11310000MB2F00004"), X: uscc("11310000MB2F00005") };
const id = (u: string) => encodeBytes32String(u).toLowerCase();
const TYPE = encodeBytes32String("BIZ_LICENCE").toLowerCase();
const MATTER = encodeBytes32String("ENTERPRISE_CHANGE_REG").toLowerCase();
const OTHER_MATTER = encodeBytes32String("TAX_REGISTRATION").toLowerCase();
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

type Fetched = { code: string; status: number; message?: string; contentSha256?: string; verificationOk?: boolean; requestId: string; servedSeq?: number; receivedSeq?: number };

describe("p2p: material exchange between member node processes", function () {
  this.timeout(240_000);
  let chain: Chain;
  let ledger: TongbanLedger;
  let auth: Contract;
  let authAddr: string;
  let ledgerAddr: string;
  const dirs: string[] = [];
  const w = { A: devWallet(3), B: devWallet(4), C: devWallet(5), D: devWallet(6), X: devWallet(7) };
  let A: NodeProcess, B: NodeProcess, C: NodeProcess;
  const holderRef = "0x" + randomBytes(32).toString("hex");
  const contents = [randomBytes(10 * 1024), randomBytes(10 * 1024), randomBytes(10 * 1024)];
  let bundles: ProofBundle[] = [];
  let chainNow: () => Promise<number>;

  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "p2p-"));
    dirs.push(d);
    return d;
  };

  /** The identity provider C records a grant on the holder's behalf; returns its id. */
  async function grant(terms: Partial<{ grantee: string; typeCodes: string[]; leaves: string[]; notBefore: number; notAfter: number; maxUses: number; matter: string; holderRef: string }> = {}, by = w.C): Promise<string> {
    const now = await chainNow();
    const t = {
      holderRef: terms.holderRef ?? holderRef,
      grantee: terms.grantee ?? id(USCC.B),
      matter: terms.matter ?? MATTER,
      typeCodes: terms.typeCodes ?? [TYPE],
      leaves: terms.leaves ?? [],
      notBefore: terms.notBefore ?? now - 60,
      notAfter: terms.notAfter ?? now + 86_400,
      maxUses: terms.maxUses ?? 100,
    };
    const c = auth.connect(new Wallet(by.privateKey, chain.provider)) as Contract;
    const rc = await (await c.grantByIdentityProvider(t, "0x" + randomBytes(32).toString("hex"), "0x" + randomBytes(32).toString("hex"))).wait();
    const ev = rc.logs.map((l: { topics: string[]; data: string }) => auth.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "GrantCreated");
    return String(ev!.args.grantId).toLowerCase();
  }

  const fetch = (p: NodeProcess, leaf: string, grantId: string, extra: Record<string, unknown> = {}) =>
    p.call<Fetched>("fetch", { custodian: id(USCC.A), leaf, grantId, matter: MATTER, ...extra });

  before(async function () {
    if (!existsSync(AUTHORISATIONS_ARTIFACT)) {
      // the authorisations contract is written by another engineer; without its artifact nothing here can run
      this.skip();
    }
    chain = await startChain();
    chainNow = async () => Number((await rpc<{ timestamp: string }>(chain.url, "eth_getBlockByNumber", ["latest", false])).timestamp);
    let admin: Wallet;
    ({ ledger, address: ledgerAddr, admin } = await deployLedger(chain));
    auth = await deployAuthorisations(admin, ledgerAddr);
    authAddr = (await auth.getAddress()).toLowerCase();
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [310104, 310000], [310115, 310000]],
      types: ["BIZ_LICENCE"],
      members: [
        { uscc: USCC.A, jurisdiction: 310104, accounts: [w.A.address], entitlements: [["BIZ_LICENCE", 310104]] },
        { uscc: USCC.B, jurisdiction: 310115, accounts: [w.B.address] },
        { uscc: USCC.C, jurisdiction: 310000, accounts: [w.C.address], roles: [1] },
        { uscc: USCC.D, jurisdiction: 310000, accounts: [w.D.address] },
      ],
    });
    // A issues and anchors three 10 KiB materials of the holder (one batch)
    const now = BigInt(await chainNow());
    const headers: MaterialHeader[] = contents.map((c) => ({
      typeCode: TYPE,
      issuer: id(USCC.A),
      holderRef,
      contentHash: "0x" + sha(c),
      hashAlg: 1,
      issuedAt: now,
      validFrom: now - 10n,
      validUntil: 0n,
      version: 1,
      supersedes: ZeroHash,
    }));
    const tree = buildMerkleTree(headers.map(computeLeaf));
    const asA = ledger.connect(new Wallet(w.A.privateKey, chain.provider));
    const rc = await (await asA.anchor(tree.root, TYPE, 310104, headers.length)).wait();
    bundles = headers.map((h, i) => buildBundle({ header: h, proof: tree.getProof(i), root: tree.root, chainId: 31337, contract: ledgerAddr, blockNumber: rc!.blockNumber, txHash: rc!.hash }));
    // three member nodes, each its own process and data dir
    const cfg = (k: "A" | "B" | "C") => runConfig(chain, ledgerAddr, authAddr, id(USCC[k]), w[k].privateKey, tmp());
    [A, B, C] = await Promise.all([NodeProcess.start(cfg("A")), NodeProcess.start(cfg("B")), NodeProcess.start(cfg("C"))]);
    for (let i = 0; i < bundles.length; i++) await A.call("putMaterial", { bundle: bundles[i], content: contents[i]!.toString("base64") });
    await Promise.all([A, B, C].map((n) => n.call("refresh")));
  });

  after(async () => {
    for (const n of [A, B, C]) await n?.stop();
    await chain?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("each node published its peer id and listen address on chain (setPeers)", async () => {
    for (const [k, n] of [["A", A], ["B", B], ["C", C]] as const) {
      const m = await ledger.getMember(id(USCC[k]));
      expect([...m.peerIds]).to.deep.equal([n.ready!.peerId]);
      expect([...m.multiaddrs][0]).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    }
  });

  it("B obtains a material from A under the holder's grant, verifies it, and the use is in both logs with proofs against anchored heads", async () => {
    const g = await grant();
    const r = await fetch(B, bundles[0]!.leaf, g);
    expect(r.code, r.message).to.equal("OK");
    expect(r.contentSha256).to.equal(sha(contents[0]!));
    expect(r.verificationOk).to.equal(true);
    // both logs anchor their heads through the authorisations contract
    const ha = await A.call<{ size: number; root: string }>("anchor");
    const hb = await B.call<{ size: number; root: string }>("anchor");
    const views = new AuthorisationsView(new ChainRpc(chain.url), authAddr);
    const chainA = (await views.useLogHeads(id(USCC.A))).at(-1)!;
    const chainB = (await views.useLogHeads(id(USCC.B))).at(-1)!;
    expect([chainA.treeSize, chainA.rootHash]).to.deep.equal([ha.size, ha.root]);
    expect([chainB.treeSize, chainB.rootHash]).to.deep.equal([hb.size, hb.root]);
    // the anchor counted the SERVED use against the grant
    const gv = await auth.getGrant(g, 0);
    expect(Number(gv.used)).to.equal(1);
    // the holder's history at A (SERVED) and the material's history at B (RECEIVED), proofs vs chain roots
    const hA = await A.call<HistoryResult>("history", { by: "holder", key: holderRef });
    const served = hA.records.find((x) => x.record.requestId === r.requestId)!;
    expect(served.record.direction).to.equal("SERVED");
    expect(served.anchored).to.equal(true);
    expect(verifyInclusion(served.leafHash, served.record.seq, served.treeSize, served.proof, chainA.rootHash).status).to.equal("VALID");
    const hB = await B.call<HistoryResult>("history", { by: "material", key: bundles[0]!.leaf });
    const received = hB.records.find((x) => x.record.requestId === r.requestId)!;
    expect(received.record.direction).to.equal("RECEIVED");
    expect(verifyInclusion(received.leafHash, received.record.seq, received.treeSize, received.proof, chainB.rootHash).status).to.equal("VALID");
    const { seq: _a, direction: _d1, ...s } = served.record;
    const { seq: _b, direction: _d2, ...q } = received.record;
    expect(q).to.deep.equal(s);
    const csv = await A.call<string>("history", { by: "grant", key: g, csv: true });
    expect(csv.trim().split("\r\n")).to.have.length(2);
  });

  it("refuses a revoked grant (GRANT_REVOKED)", async () => {
    const g = await grant();
    await (await (auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract).revokeGrant(g)).wait();
    expect((await fetch(B, bundles[0]!.leaf, g)).code).to.equal("GRANT_REVOKED");
  });

  it("refuses an exhausted grant: locally before anchoring, and from the chain after (GRANT_EXHAUSTED)", async () => {
    const g = await grant({ maxUses: 1 });
    expect((await fetch(B, bundles[1]!.leaf, g)).code).to.equal("OK");
    expect((await fetch(B, bundles[1]!.leaf, g)).code).to.equal("GRANT_EXHAUSTED");
    await A.call("anchor");
    const gv = await auth.getGrant(g, 0);
    expect(Number(gv.usesLeft)).to.equal(0);
    expect((await fetch(B, bundles[1]!.leaf, g)).code).to.equal("GRANT_EXHAUSTED");
  });

  it("refuses the child of a revoked parent (ANCESTOR_REVOKED), after serving it while the parent was valid", async () => {
    const root = await grant({ grantee: id(USCC.D), maxUses: 10 });
    const now = await chainNow();
    const asD = auth.connect(new Wallet(w.D.privateKey, chain.provider)) as Contract;
    const rc = await (
      await asD.delegateGrant(root, { holderRef, grantee: id(USCC.B), matter: MATTER, typeCodes: [TYPE], leaves: [], notBefore: now - 30, notAfter: now + 3600, maxUses: 5 }, "0x" + randomBytes(32).toString("hex"))
    ).wait();
    const child = String(rc.logs.map((l: { topics: string[]; data: string }) => auth.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "GrantCreated")!.args.grantId).toLowerCase();
    expect((await fetch(B, bundles[2]!.leaf, child)).code).to.equal("OK");
    await (await (auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract).revokeGrant(root)).wait();
    expect((await fetch(B, bundles[2]!.leaf, child)).code).to.equal("ANCESTOR_REVOKED");
  });

  it("refuses a grant naming another member (WRONG_GRANTEE), another matter (WRONG_MATTER), a leaf outside its scope or another holder (OUT_OF_SCOPE)", async () => {
    const toD = await grant({ grantee: id(USCC.D) });
    expect((await fetch(B, bundles[0]!.leaf, toD)).code).to.equal("WRONG_GRANTEE");
    const g = await grant();
    expect((await fetch(B, bundles[0]!.leaf, g, { matter: OTHER_MATTER })).code).to.equal("WRONG_MATTER");
    const onlyLeaf0 = await grant({ typeCodes: [], leaves: [bundles[0]!.leaf] });
    expect((await fetch(B, bundles[0]!.leaf, onlyLeaf0)).code).to.equal("OK");
    expect((await fetch(B, bundles[1]!.leaf, onlyLeaf0)).code).to.equal("OUT_OF_SCOPE");
    // another holder's grant for the same type does not open this holder's materials
    const otherHolder = await grant({ holderRef: "0x" + randomBytes(32).toString("hex") });
    expect((await fetch(B, bundles[0]!.leaf, otherHolder)).code).to.equal("OUT_OF_SCOPE");
  });

  it("a member without a grant covering the material cannot tell held from not-held materials; NOT_FOUND only under a valid grant naming the leaf", async () => {
    const held = bundles[1]!.leaf;
    const notHeld = "0x" + randomBytes(32).toString("hex");
    const revoked = await grant();
    await (await (auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract).revokeGrant(revoked)).wait();
    const valid = await grant();
    const exhausted = await grant({ maxUses: 1 });
    expect((await fetch(B, bundles[0]!.leaf, exhausted)).code).to.equal("OK");
    const cases: { label: string; node: NodeProcess; grantId: string; matter?: string; code: string }[] = [
      { label: "no such grant", node: B, grantId: "0x" + randomBytes(32).toString("hex"), code: "GRANT_UNKNOWN" },
      { label: "another member's grant", node: B, grantId: await grant({ grantee: id(USCC.D) }), code: "WRONG_GRANTEE" },
      { label: "B's valid grant used by C", node: C, grantId: valid, code: "WRONG_GRANTEE" },
      { label: "revoked grant", node: B, grantId: revoked, code: "GRANT_REVOKED" },
      { label: "another matter", node: B, grantId: valid, matter: OTHER_MATTER, code: "WRONG_MATTER" },
      { label: "another holder's type grant", node: B, grantId: await grant({ holderRef: "0x" + randomBytes(32).toString("hex") }), code: "OUT_OF_SCOPE" },
      { label: "a grant listing another leaf", node: B, grantId: await grant({ typeCodes: [], leaves: [bundles[0]!.leaf] }), code: "OUT_OF_SCOPE" },
      { label: "exhausted grant (locally, before anchoring)", node: B, grantId: exhausted, code: "GRANT_EXHAUSTED" },
    ];
    for (const c of cases) {
      const ask = (leaf: string) => c.node.call<Fetched>("fetch", { custodian: id(USCC.A), leaf, grantId: c.grantId, matter: c.matter ?? MATTER });
      const [a, b] = [await ask(held), await ask(notHeld)];
      // the whole answer (code, status, message with the asked leaf masked) is the same for both materials
      const seen = (r: Fetched, leaf: string) => ({ code: r.code, status: r.status, message: r.message?.split(leaf).join("<leaf>") });
      expect(seen(a, held), c.label).to.deep.equal(seen(b, notHeld));
      expect(a.code, c.label).to.equal(c.code);
    }
    // a valid grant naming both leaves: the held one is served, the other is NOT_FOUND
    const both = await grant({ typeCodes: [], leaves: [held, notHeld] });
    expect((await fetch(B, held, both)).code).to.equal("OK");
    expect((await fetch(B, notHeld, both)).code).to.equal("NOT_FOUND");
  });

  it("refuses forged (BAD_SIGNATURE), replayed (REPLAYED), stale (STALE_REQUEST), misaddressed (WRONG_CUSTODIAN) requests", async () => {
    const g = await grant();
    const params = { custodian: id(USCC.A), leaf: bundles[0]!.leaf, grantId: g, matter: MATTER };
    const [forged] = await B.call<Fetched[]>("crafted", { params, wrongKey: true });
    expect(forged!.code).to.equal("BAD_SIGNATURE");
    const [first, again] = await B.call<Fetched[]>("crafted", { params, sendTwice: true });
    expect(first!.code).to.equal("OK");
    expect(again!.code).to.equal("REPLAYED");
    const [stale] = await B.call<Fetched[]>("crafted", { params, overrides: { expiry: Math.floor(Date.now() / 1000) - 5 } });
    expect(stale!.code).to.equal("STALE_REQUEST");
    const [misaddressed] = await B.call<Fetched[]>("crafted", { params, overrides: { custodian: id(USCC.C) } });
    expect(misaddressed!.code).to.equal("WRONG_CUSTODIAN");
    // C's own node signs for C: a request from C's node claiming to be B's does not recover B's account
    const [impostor] = await C.call<Fetched[]>("crafted", { params, overrides: { requester: id(USCC.B) } });
    expect(impostor!.code).to.equal("BAD_SIGNATURE");
    // a material not held, under a type-scoped grant: not distinguishable from one out of scope
    expect((await fetch(B, "0x" + randomBytes(32).toString("hex"), g)).code).to.equal("OUT_OF_SCOPE");
  });

  type BatchStats = { requests: number; signatures: number; largest: number };
  const batchStats = async (n: NodeProcess) => (await n.call<{ batchSigned: BatchStats }>("info")).batchSigned;

  it("version 1.1: the fetches of one turn are signed as ONE batch and all served; a batched request with a changed proof or field is BAD_SIGNATURE, a bad proof MALFORMED, a replay REPLAYED", async () => {
    const g = await grant();
    const params = { custodian: id(USCC.A), leaf: bundles[0]!.leaf, grantId: g, matter: MATTER };
    const before = await batchStats(B);
    // 24 fetches started together (the bench command starts its 24 workers in one turn)
    const run = await B.call<{ codes: Record<string, number> }>("bench", { params, count: 24, concurrency: 24 });
    expect(run.codes).to.deep.equal({ OK: 24 });
    const after = await batchStats(B);
    expect(after.requests - before.requests).to.equal(24);
    expect(after.signatures - before.signatures, JSON.stringify({ before, after })).to.be.at.most(3);
    expect(after.largest).to.be.at.least(8);
    // a batch built by hand: every request served once; sent again, each is a replay
    const ok = await B.call<Fetched[]>("craftedBatch", { params, count: 3 });
    expect(ok.map((r) => r.code)).to.deep.equal(["OK", "OK", "OK"]);
    expect(ok.every((r) => r.verificationOk)).to.equal(true);
    expect((await B.call<Fetched>("resend", { custodian: id(USCC.A), nonce: ok[1]!.requestId })).code).to.equal("REPLAYED");
    // request 0 spoiled after signing; its batch mates are still served
    for (const [tamper, code] of [["proof", "BAD_SIGNATURE"], ["field", "BAD_SIGNATURE"], ["long-proof", "MALFORMED"], ["not-a-list", "MALFORMED"]] as const) {
      const r = await B.call<Fetched[]>("craftedBatch", { params, count: 3, tamper });
      expect(r.map((x) => x.code), tamper).to.deep.equal([code, "OK", "OK"]);
    }
    // another member's node cannot pass a batch off as B's: C signs a batch whose requests claim requester B
    const impostor = await C.call<Fetched[]>("craftedBatch", { params, count: 2, overrides: { requester: id(USCC.B) } });
    expect(impostor.map((r) => r.code)).to.deep.equal(["BAD_SIGNATURE", "BAD_SIGNATURE"]);
  });

  it("versions meet: a 1.0-only node fetches from a 1.1 custodian and serves a 1.1 requester (one signature per request); a batch proof on a 1.0 stream is MALFORMED", async () => {
    const D = await NodeProcess.start(runConfig(chain, ledgerAddr, authAddr, id(USCC.D), w.D.privateKey, tmp(), { protocols: ["/tongban/exchange/1.0.0"] }));
    try {
      await D.call("putMaterial", { bundle: bundles[0], content: contents[0]!.toString("base64") });
      await Promise.all([A, B, D].map((n) => n.call("refresh")));
      // D (1.0) asks A (1.1): negotiated down to 1.0, every request signed alone, all served
      const toD = await grant({ grantee: id(USCC.D) });
      const run = await D.call<{ codes: Record<string, number> }>("bench", { params: { custodian: id(USCC.A), leaf: bundles[0]!.leaf, grantId: toD, matter: MATTER }, count: 8, concurrency: 8 });
      expect(run.codes).to.deep.equal({ OK: 8 });
      expect((await batchStats(D)).requests).to.equal(0);
      // B (1.1) asks D (1.0): B signs each request alone and is served
      const g = await grant();
      const params = { custodian: id(USCC.D), leaf: bundles[0]!.leaf, grantId: g, matter: MATTER };
      const before = await batchStats(B);
      const fromD = await B.call<{ codes: Record<string, number> }>("bench", { params, count: 8, concurrency: 8 });
      expect(fromD.codes).to.deep.equal({ OK: 8 });
      expect((await batchStats(B)).requests).to.equal(before.requests);
      // a batch-signed request sent anyway on the 1.0 stream: refused, not misread
      const batch = await B.call<Fetched[]>("craftedBatch", { params, count: 2 });
      expect(batch.map((r) => r.code)).to.deep.equal(["MALFORMED", "MALFORMED"]);
      expect(batch[0]!.message).to.contain("batchProof needs /tongban/exchange/1.1.0");
    } finally {
      await D.stop();
    }
  });

  it("refuses an expired grant (GRANT_EXPIRED) once the chain's time passes its window", async () => {
    const now = await chainNow();
    const g = await grant({ notAfter: now + 30 });
    expect((await fetch(B, bundles[0]!.leaf, g)).code).to.equal("OK");
    await rpc(chain.url, "evm_increaseTime", [120]);
    await rpc(chain.url, "evm_mine", []);
    expect((await fetch(B, bundles[0]!.leaf, g)).code).to.equal("GRANT_EXPIRED");
  });

  it("the custodian's grant check (the grant asked once per batch, its scope applied by the view) answers exactly what the contract's checkGrant answers", async () => {
    const other = "0x" + randomBytes(32).toString("hex");
    const zero = "0x" + "0".repeat(64);
    const [leaf0, leaf1] = [bundles[0]!.leaf.toLowerCase(), bundles[1]!.leaf.toLowerCase()];
    const revoked = await grant({ leaves: [leaf1] });
    await (await (auth.connect(new Wallet(w.C.privateKey, chain.provider)) as Contract).revokeGrant(revoked)).wait();
    const grants = [
      await grant(), // the holder's BIZ_LICENCE materials
      await grant({ typeCodes: [], leaves: [leaf0] }), // one leaf
      await grant({ typeCodes: [], leaves: [leaf1, leaf0] }), // two leaves
      await grant({ grantee: id(USCC.D) }),
      await grant({ matter: OTHER_MATTER }),
      revoked,
      "0x" + randomBytes(32).toString("hex"), // unknown
    ];
    const queries: [string, string, string, string, string][] = [];
    for (const g of grants) for (const req of [id(USCC.B), id(USCC.D)]) for (const m of [MATTER, OTHER_MATTER]) for (const t of [TYPE, other, zero]) for (const l of [leaf0, leaf1, other]) queries.push([g, req, m, t, l]);
    const c = auth.connect(chain.provider) as Contract;
    const want = await Promise.all(queries.map(async (q) => Number((await c.checkGrant(...q, 0))[0])));
    // every verdict the scope step can change or must keep is among them
    for (const v of [0, 1, 4, 8, 9, 10]) expect(want, `verdict ${v}`).to.include(v);
    const coalesced = new AuthorisationsView(new ChainRpc(chain.url), authAddr);
    const got = await Promise.all(queries.map((q) => coalesced.checkGrant(...q)));
    expect(got.map((x) => x.verdict)).to.deep.equal(want);
    // many materials' checks under one grant, requester and matter are one question to the chain
    expect(coalesced.coalesced!.asked).to.be.at.most(grants.length * 4);
    const single = new AuthorisationsView(new ChainRpc(chain.url), authAddr, { coalesce: false });
    expect((await Promise.all(queries.map((q) => single.checkGrant(...q)))).map((x) => x.verdict)).to.deep.equal(want);
  });

  it("a non-member's peer is refused by the gater before any request (TRANSPORT at the caller)", async () => {
    const before = (await A.call<{ refusedPeers: number }>("info")).refusedPeers;
    const X = await NodeProcess.start(runConfig(chain, ledgerAddr, authAddr, id(USCC.X), w.X.privateKey, tmp(), { publish: false }));
    try {
      const g = await grant();
      const r = await X.call<Fetched>("fetch", { custodian: id(USCC.A), leaf: bundles[0]!.leaf, grantId: g, matter: MATTER, timeoutMs: 5000 });
      expect(r.code).to.equal("TRANSPORT");
      expect((await A.call<{ refusedPeers: number }>("info")).refusedPeers).to.be.greaterThan(before);
    } finally {
      await X.stop();
    }
  });

  it("keeps its peer id across a restart (Ed25519 key in the data dir), serves again, and still refuses a request it served before (REPLAYED)", async () => {
    const peerId = A.ready!.peerId;
    const g0 = await grant();
    const [before] = await B.call<Fetched[]>("crafted", { params: { custodian: id(USCC.A), leaf: bundles[2]!.leaf, grantId: g0, matter: MATTER, lifetimeSec: 200 } });
    expect(before!.code).to.equal("OK");
    await A.stop();
    A = await NodeProcess.start(A.config);
    expect(A.ready!.peerId).to.equal(peerId);
    const g = await grant();
    const r = await fetch(B, bundles[2]!.leaf, g);
    expect(r.code, r.message).to.equal("OK");
    // the nonce was consumed before the restart: refused from the use log (atomically at append)
    const again = await B.call<Fetched>("resend", { custodian: id(USCC.A), nonce: before!.requestId });
    expect(again.code, again.message).to.equal("REPLAYED");
  });

  it("the audit check passes on the honest logs and catches a record deleted or altered in A's LevelDB", async () => {
    await A.call("anchor");
    await B.call("anchor");
    const views = new AuthorisationsView(new ChainRpc(chain.url), authAddr);
    const headsA = (await views.useLogHeads(id(USCC.A))).map((h) => ({ treeSize: h.treeSize, rootHash: h.rootHash }));
    expect(headsA.length).to.be.greaterThan(2);
    const dirA = A.config.dataDir;
    const dirB = B.config.dataDir;
    await A.stop();
    await B.stop();
    const open = async (dir: string, member: string) => {
      const db = new ClassicLevel<Buffer, Buffer>(join(dir, "uselog"), { keyEncoding: "buffer", valueEncoding: "buffer" });
      await db.open();
      const log = new UseLog({ db, logId: member }, { anchorIntervalMs: 0 });
      await log.start();
      return { db, log, close: async () => (await log.stop(), await db.close()) };
    };
    let a = await open(dirA, id(USCC.A));
    const b = await open(dirB, id(USCC.B));
    const honest = await auditLog(a.log, headsA);
    expect(honest.findings).to.deep.equal([]);
    // the SERVED uses per grant A declared on chain with each anchor match its records
    const anchorsA = await views.useLogAnchors(id(USCC.A));
    expect(anchorsA.map((x) => x.treeSize)).to.deep.equal(headsA.map((h) => h.treeSize));
    expect(anchorsA.reduce((n, x) => n + x.uses.reduce((m, u) => m + u.count, 0), 0)).to.equal(a.log.size); // A only serves
    expect(await auditUseCounts(a.log, anchorsA)).to.deep.equal([]);
    expect(await reconcileLogs(a.log, id(USCC.A), b.log, id(USCC.B))).to.deep.equal([]);
    // the custodian deletes one SERVED record and alters another, straight in LevelDB
    const victim = (await a.log.getRecord(0))!;
    const raw = Buffer.from((await a.log.rawRecord(1))!);
    raw[80] ^= 0x01;
    await a.close();
    const db = new ClassicLevel<Buffer, Buffer>(join(dirA, "uselog"), { keyEncoding: "buffer", valueEncoding: "buffer" });
    await db.del(LK.record(0));
    await db.put(LK.record(1), raw);
    await db.close();
    a = await open(dirA, id(USCC.A));
    const report = await auditLog(a.log, headsA);
    expect(report.ok).to.equal(false);
    expect(report.findings.filter((f) => f.kind === "RECORD_MISSING").map((f) => f.seq)).to.deep.equal([0]);
    expect(report.findings.filter((f) => f.kind === "RECORD_ALTERED").map((f) => f.seq)).to.deep.equal([1]);
    expect(report.findings.some((f) => f.kind === "HEAD_MISMATCH")).to.equal(true);
    const rec = await reconcileLogs(a.log, id(USCC.A), b.log, id(USCC.B));
    expect(rec.find((f) => f.kind === "UNMATCHED_RECEIVED")!.requestId).to.equal(victim.requestId);
    expect(rec.find((f) => f.kind === "RECORD_MISMATCH")!.seq).to.equal(1);
    await a.close();
    await b.close();
  });
});
