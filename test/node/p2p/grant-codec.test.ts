/**
 * The fixed-layout checkGrant codec against ethers' ABI coder (the typechain interface of the compiled
 * Authorisations contract): random grants both ways, plus malformed return data.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { authorisationsInterface, AuthorisationsView, ChainCallError, type ChainRpc } from "../../../node/src/p2p/chain.js";
import { decodeCheckGrant, decodeCheckGrants, encodeCheckGrant, encodeCheckGrants, GrantCodecError } from "../../../node/src/p2p/grant-codec.js";

const w = () => "0x" + randomBytes(32).toString("hex");
const int = (max: number) => Math.floor(Math.random() * max);
const SELECTOR = authorisationsInterface.getFunction("checkGrant")!.selector;

/** what the old ethers-based AuthorisationsView.checkGrant returned */
function viaEthers(out: string) {
  const r = authorisationsInterface.decodeFunctionResult("checkGrant", out);
  const g = r[1];
  return {
    verdict: Number(r[0]),
    grant: {
      grantId: g.grantId.toLowerCase(),
      status: Number(g.status),
      parentId: g.parentId.toLowerCase(),
      rootId: g.rootId.toLowerCase(),
      grantee: g.terms.grantee.toLowerCase(),
      holderRef: g.terms.holderRef.toLowerCase(),
      typeCodes: [...g.terms.typeCodes].map((x: string) => x.toLowerCase()),
      leaves: [...g.terms.leaves].map((x: string) => x.toLowerCase()),
      notBefore: Number(g.terms.notBefore),
      notAfter: Number(g.terms.notAfter),
      maxUses: Number(g.terms.maxUses),
      used: Number(g.used),
      usesLeft: Number(g.usesLeft),
    },
  };
}

function randomView() {
  const u64 = () => [0n, 1n, BigInt(int(2 ** 32)), 2n ** 64n - 1n, BigInt(1_700_000_000 + int(1e8))][int(5)]!;
  return {
    grantId: w(),
    status: int(6),
    terms: {
      holderRef: w(),
      grantee: w(),
      matter: w(),
      typeCodes: Array.from({ length: int(4) }, w),
      leaves: Array.from({ length: int(6) }, w),
      notBefore: u64(),
      notAfter: u64(),
      maxUses: int(2 ** 32),
    },
    parentId: w(),
    rootId: w(),
    grantor: w(),
    origin: int(3),
    depth: int(3),
    createdAt: u64(),
    revokedAt: u64(),
    revokedBy: int(3),
    used: int(2 ** 32),
    usesLeft: int(2 ** 32),
  };
}

describe("p2p/grant-codec: checkGrant without ethers' per-call coders", () => {
  it("encodes the same calldata as ethers for random arguments", () => {
    for (let i = 0; i < 200; i++) {
      const args = [w(), w(), w(), w(), w(), [0, 1, int(2 ** 40), Number.MAX_SAFE_INTEGER][int(4)]!] as const;
      expect(encodeCheckGrant(SELECTOR, ...args)).to.equal(authorisationsInterface.encodeFunctionData("checkGrant", [...args]));
    }
  });

  it("decodes what ethers decodes for 300 random grants (arrays of 0..5, uint64 extremes)", () => {
    for (let i = 0; i < 300; i++) {
      const out = authorisationsInterface.encodeFunctionResult("checkGrant", [int(12), randomView()]);
      expect(decodeCheckGrant(out)).to.deep.equal(viaEthers(out));
    }
  });

  it("refuses malformed return data with a GrantCodecError instead of guessing", () => {
    const good = authorisationsInterface.encodeFunctionResult("checkGrant", [1, { ...randomView(), terms: { ...randomView().terms, leaves: [w(), w()] } }]);
    for (const bad of ["0x", "0x1234", good.slice(0, good.length - 64), good.slice(0, 2 + 64 * 5), "nothex"]) {
      expect(() => decodeCheckGrant(bad), bad.slice(0, 20)).to.throw(GrantCodecError);
    }
    // a verdict word that does not fit a uint8
    const wide = "0x" + "00".repeat(30) + "0100" + good.slice(66);
    expect(() => decodeCheckGrant(wide)).to.throw(GrantCodecError, /uint8/);
  });

  it("refuses arguments that are not bytes32 / uint64", () => {
    expect(() => encodeCheckGrant(SELECTOR, "0x12", w(), w(), w(), w(), 0)).to.throw(GrantCodecError, /grantId/);
    expect(() => encodeCheckGrant(SELECTOR, w(), w(), w(), w(), w(), -1)).to.throw(GrantCodecError, /uint64/);
  });

  it("checkGrants: calldata as ethers encodes it, answers decoded as ethers decodes each one (random batches of 1..12)", () => {
    const BATCH = authorisationsInterface.getFunction("checkGrants")!.selector;
    for (let i = 0; i < 60; i++) {
      const qs = Array.from({ length: 1 + int(12) }, () => ({ grantId: w(), requester: w(), matter: w(), typeCode: w(), leaf: w(), at: [0, int(2 ** 40)][int(2)]! }));
      expect(encodeCheckGrants(BATCH, qs)).to.equal(authorisationsInterface.encodeFunctionData("checkGrants", [qs]));
      const answers = qs.map(() => [int(12), randomView()] as const);
      const out = authorisationsInterface.encodeFunctionResult("checkGrants", [answers.map(([verdict, grant]) => ({ verdict, grant }))]);
      const one = answers.map(([v, g]) => viaEthers(authorisationsInterface.encodeFunctionResult("checkGrant", [v, g])));
      expect(decodeCheckGrants(out, qs.length)).to.deep.equal(one);
    }
    const two = authorisationsInterface.encodeFunctionResult("checkGrants", [[{ verdict: 1, grant: randomView() }, { verdict: 8, grant: randomView() }]]);
    expect(() => decodeCheckGrants(two, 3)).to.throw(GrantCodecError, /2 answers for 3/);
    expect(() => decodeCheckGrants(two.slice(0, two.length - 64), 2)).to.throw(GrantCodecError);
    expect(() => decodeCheckGrants("0x" + "0".repeat(63) + "1" + two.slice(66), 2)).to.throw(GrantCodecError, /word 1/);
  });
});

/** A scripted ChainRpc: answers (or fails) each eth_call with `answer`, recording the calldata. */
function scriptedRpc(answer: (data: string) => Promise<string>): { rpc: ChainRpc; calls: string[] } {
  const calls: string[] = [];
  const rpc = { call: (_to: string, data: string) => (calls.push(data), answer(data)) } as unknown as ChainRpc;
  return { rpc, calls };
}

describe("p2p/chain: AuthorisationsView coalesces concurrent checkGrants", () => {
  const SINGLE = authorisationsInterface.getFunction("checkGrant")!.selector;
  const BATCH = authorisationsInterface.getFunction("checkGrants")!.selector;
  const view = randomView();
  /**
   * answers every query with a verdict derived from its grant id's last byte (so answers cannot be mixed up).
   * The view asks about the grant and applies the scope step itself: the chain's Allowed (1) and OutOfScope (10)
   * become OutOfScope here, the random type codes asked being in no grant's scope.
   */
  const verdictOf = (grantId: string) => parseInt(grantId.slice(-2), 16) % 11;
  const expectedOf = (grantId: string) => (verdictOf(grantId) === 1 ? 10 : verdictOf(grantId));
  const gid = (i: number) => "0x" + randomBytes(31).toString("hex") + i.toString(16).padStart(2, "0");
  const chainAnswer = async (data: string): Promise<string> => {
    await new Promise((r) => setImmediate(r));
    if (data.startsWith(SINGLE)) {
      const a = authorisationsInterface.decodeFunctionData("checkGrant", data);
      return authorisationsInterface.encodeFunctionResult("checkGrant", [verdictOf(a[0]), { ...view, grantId: a[0] }]);
    }
    const [qs] = authorisationsInterface.decodeFunctionData("checkGrants", data);
    return authorisationsInterface.encodeFunctionResult("checkGrants", [(qs as { grantId: string; leaf: string }[]).map((q) => ({ verdict: verdictOf(q.grantId), grant: { ...view, grantId: q.grantId } }))]);
  };

  it("one alone: a plain checkGrant; many at once: ONE checkGrants, each answer to its own query; identical ones asked once", async () => {
    const { rpc, calls } = scriptedRpc(chainAnswer);
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
    const req = w(), m = w(), t = w();
    const lone = await v.checkGrant(gid(5), req, m, t, w());
    expect(lone.verdict).to.equal(5);
    expect(calls.map((c) => c.slice(0, 10))).to.deep.equal([SINGLE]);
    const grants = Array.from({ length: 20 }, (_, i) => gid(i));
    const asked = [...grants, grants[3]!, grants[3]!];
    const got = await Promise.all(asked.map((g) => v.checkGrant(g, req, m, t, w())));
    expect(got.map((c) => c.verdict)).to.deep.equal(asked.map(expectedOf));
    expect(got.map((c) => c.grant.grantId)).to.deep.equal(asked.map((g) => g.toLowerCase()));
    expect(calls.slice(1).map((c) => c.slice(0, 10))).to.deep.equal([BATCH]);
    expect(authorisationsInterface.decodeFunctionData("checkGrants", calls[1]!)[0].length).to.equal(20); // grants[3] asked once (the leaf is not asked)
    expect(v.coalesced).to.deep.include({ queries: 23, asked: 21 });
  });

  it("a batch that fails or does not decode fails every check in it with ChainCallError (the custodian's UNAVAILABLE), never an answer", async () => {
    for (const [label, answer, reason] of [
      ["transport", async () => { throw new ChainCallError("eth_call: chain unreachable", "UNREACHABLE"); }, "UNREACHABLE"],
      ["one answer short", async (d: string) => { const out = await chainAnswer(d); return d.startsWith(BATCH) ? out.slice(0, out.length - 64) : out; }, "BAD_RESPONSE"],
      ["count off", async (d: string) => { const out = await chainAnswer(d); return d.startsWith(BATCH) ? out.slice(0, 66) + (5).toString(16).padStart(64, "0") + out.slice(130) : out; }, "BAD_RESPONSE"],
    ] as const) {
      const { rpc } = scriptedRpc(answer as (d: string) => Promise<string>);
      const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
      const rs = await Promise.allSettled(Array.from({ length: 8 }, () => v.checkGrant(w(), w(), w(), w(), w())));
      for (const r of rs) {
        expect(r.status, label).to.equal("rejected");
        const e = (r as PromiseRejectedResult).reason as ChainCallError;
        expect(e.name, label).to.equal("ChainCallError");
        expect(e.reason, label).to.equal(reason);
      }
    }
  });

  it("a batch the chain node refuses (RPC error, e.g. a contract without checkGrants) is asked check by check, each with its own outcome", async () => {
    let singles = 0;
    const { rpc, calls } = scriptedRpc(async (d) => {
      if (d.startsWith(BATCH)) throw new ChainCallError("eth_call: execution reverted", "RPC_ERROR");
      if (singles++ === 2) throw new ChainCallError("eth_call: execution reverted", "RPC_ERROR");
      return chainAnswer(d);
    });
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
    const grants = Array.from({ length: 5 }, (_, i) => "0x" + "00".repeat(31) + (i + 2).toString(16).padStart(2, "0"));
    const rs = await Promise.allSettled(grants.map((g) => v.checkGrant(g, w(), w(), w(), w())));
    expect(rs.map((r) => (r.status === "fulfilled" ? r.value.verdict : (r.reason as ChainCallError).reason))).to.deep.equal([2, 3, "RPC_ERROR", 5, 6]);
    expect(calls.map((c) => c.slice(0, 10))).to.deep.equal([BATCH, SINGLE, SINGLE, SINGLE, SINGLE, SINGLE]);
    // one failed singly, so the next batch is tried again; all succeed singly: then checks go singly for a while
    await Promise.all(grants.map((g) => v.checkGrant(g, w(), w(), w(), w())));
    calls.length = 0;
    expect((await Promise.all(grants.map((g) => v.checkGrant(g, w(), w(), w(), w())))).map((c) => c.verdict)).to.deep.equal([2, 3, 4, 5, 6]);
    expect(calls.map((c) => c.slice(0, 10))).to.deep.equal(grants.map(() => SINGLE));
  });

  it("a malformed argument fails its own check only, not the batch it would have joined", async () => {
    const { rpc, calls } = scriptedRpc(chainAnswer);
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
    const rs = await Promise.allSettled([w(), "0x12", w()].map((g) => v.checkGrant(g, w(), w(), w(), "0x" + "00".repeat(31) + "01")));
    expect(rs.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    expect((rs[1] as PromiseRejectedResult).reason).to.be.instanceOf(GrantCodecError);
    expect(calls.length).to.equal(1);
    expect(authorisationsInterface.decodeFunctionData("checkGrants", calls[0]!)[0].length).to.equal(2);
  });

  it("asks the chain about the grant (zero type code and leaf) and applies the scope step to its answer as _checkGrant does; one query for many materials of one grant", async () => {
    const T = w(), L = w();
    const scopedView = { ...view, terms: { ...view.terms, typeCodes: [w(), T], leaves: [L, w()] } };
    let chainVerdict = 10;
    const { rpc, calls } = scriptedRpc(async (data) => {
      await new Promise((r) => setImmediate(r));
      if (data.startsWith(SINGLE)) return authorisationsInterface.encodeFunctionResult("checkGrant", [chainVerdict, scopedView]);
      const [qs] = authorisationsInterface.decodeFunctionData("checkGrants", data);
      return authorisationsInterface.encodeFunctionResult("checkGrants", [(qs as unknown[]).map(() => ({ verdict: chainVerdict, grant: scopedView }))]);
    });
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
    const g = w(), req = w(), m = w();
    const cases: [string, string, number][] = [[T, w(), 1], [w(), L, 1], [T, L, 1], [T.toUpperCase().replace("0X", "0x"), w(), 1], [w(), w(), 10], ["0x" + "0".repeat(64), w(), 10], ["0x" + "0".repeat(64), L, 1]];
    for (const cv of [10, 1]) {
      chainVerdict = cv;
      calls.length = 0;
      const got = await Promise.all(cases.map(([t, l]) => v.checkGrant(g, req, m, t, l)));
      expect(got.map((c) => c.verdict), `chain verdict ${cv}`).to.deep.equal(cases.map(([, , want]) => want));
      // every check of the batch was the same question about the grant: asked once, with zero type code and leaf
      expect(calls.length).to.equal(1);
      const asked = calls[0]!.startsWith(SINGLE) ? authorisationsInterface.decodeFunctionData("checkGrant", calls[0]!) : authorisationsInterface.decodeFunctionData("checkGrants", calls[0]!)[0][0];
      expect([asked[0], asked[1], asked[2], asked[3], asked[4]].map((x: string) => x.toLowerCase())).to.deep.equal([g, req, m, "0x" + "0".repeat(64), "0x" + "0".repeat(64)]);
    }
    // a verdict before the scope stands whatever the scope says
    for (const cv of [0, 2, 3, 4, 5, 6, 7, 8, 9]) {
      chainVerdict = cv;
      const got = await Promise.all(cases.map(([t, l]) => v.checkGrant(g, req, m, t, l)));
      expect(got.map((c) => c.verdict)).to.deep.equal(cases.map(() => cv));
    }
  });

  it("reuseWithinBlock: a check already asked at the latest block is answered from memory; the others are pinned to that block; a new block asks again", async () => {
    const calls: { data: string; block: string | undefined }[] = [];
    let head = "0x" + "aa".repeat(32);
    let headReads = 0;
    const rpc = {
      call: (_to: string, data: string) => (calls.push({ data, block: undefined }), chainAnswer(data)),
      callAtBlock: (_to: string, data: string, block: string) => (calls.push({ data, block }), chainAnswer(data)),
      latestBlockHash: async () => (headReads++, head),
    } as unknown as ChainRpc;
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20));
    const req = w(), m = w();
    const grants = Array.from({ length: 6 }, (_, i) => gid(i + 2));
    const ask = () => Promise.all(grants.map((g) => v.checkGrant(g, req, m, w(), w())));
    expect((await ask()).map((c) => c.verdict)).to.deep.equal(grants.map(expectedOf));
    expect(calls.map((c) => [c.data.slice(0, 10), c.block])).to.deep.equal([[BATCH, head]]);
    // the same grants again at the same block (other materials: the same grant-level question): nothing asked
    expect((await ask()).map((c) => c.verdict)).to.deep.equal(grants.map(expectedOf));
    expect(calls.length).to.equal(1);
    expect(v.coalesced).to.deep.include({ blocks: 2, reused: 6 });
    // a new block: asked again, pinned to it
    head = "0x" + "bb".repeat(32);
    expect((await ask()).map((c) => c.verdict)).to.deep.equal(grants.map(expectedOf));
    expect(calls.slice(1).map((c) => [c.data.slice(0, 10), c.block])).to.deep.equal([[BATCH, head]]);
    expect(headReads).to.equal(3);
    // off: at "latest", no header read
    const off = new AuthorisationsView(rpc, "0x" + "11".repeat(20), { reuseWithinBlock: false });
    await Promise.all(grants.map((g) => off.checkGrant(g, req, m, w(), w())));
    expect(calls.at(-1)!.block).to.equal(undefined);
    expect(headReads).to.equal(3);
  });

  it("coalesce: false makes one checkGrant eth_call per check", async () => {
    const { rpc, calls } = scriptedRpc(chainAnswer);
    const v = new AuthorisationsView(rpc, "0x" + "11".repeat(20), { coalesce: false });
    await Promise.all(Array.from({ length: 5 }, () => v.checkGrant(w(), w(), w(), w(), w())));
    expect(calls.map((c) => c.slice(0, 10))).to.deep.equal([SINGLE, SINGLE, SINGLE, SINGLE, SINGLE]);
    expect(v.coalesced).to.equal(undefined);
  });
});
