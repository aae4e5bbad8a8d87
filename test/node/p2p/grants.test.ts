/**
 * The custodian's grant gate (in-process, with a scripted chain view and use log): an answer is never
 * combined with the unanchored-use count of another anchoring epoch, cached or in flight, and a cached
 * answer is not reused past the grant's notAfter. Without the epoch rule a cached `usesLeft` from before an
 * anchor plus the emptied unanchored count would let this node serve a grant's uses twice.
 */
import { expect } from "chai";
import { GrantGate } from "../../../node/src/p2p/grants.js";
import type { AuthorisationsView, GrantCheck } from "../../../node/src/p2p/chain.js";
import type { UseLog } from "../../../node/src/audit/use-log.js";

const h = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const GRANT = h(1);
const HOLDER = h(2);
const B = h(3);
const MATTER = h(4);
const TYPE = h(5);
const LEAF = h(6);

function scripted() {
  const chain = { usesLeft: 3, notAfter: Math.floor(Date.now() / 1000) + 3600, calls: 0, hold: undefined as Promise<void> | undefined };
  const view = {
    async checkGrant(): Promise<GrantCheck> {
      chain.calls++;
      const answer: GrantCheck = {
        verdict: chain.usesLeft > 0 ? 1 : 6,
        grant: { grantId: GRANT, status: 1, parentId: h(0), rootId: GRANT, grantee: B, holderRef: HOLDER, typeCodes: [TYPE], leaves: [], notBefore: 0, notAfter: chain.notAfter, maxUses: 3, used: 3 - chain.usesLeft, usesLeft: chain.usesLeft },
      };
      if (chain.hold) await chain.hold;
      return answer;
    },
  } as unknown as AuthorisationsView;
  const log = { lastAnchoredHead: undefined as unknown, unanchored: 0, unanchoredUses: () => log.unanchored };
  /** this node anchors its head: the chain now counts the unanchored uses, the log no longer does */
  const anchor = () => {
    chain.usesLeft -= log.unanchored;
    log.unanchored = 0;
    log.lastAnchoredHead = { size: Math.random() };
  };
  return { chain, view, log, anchor, useLog: log as unknown as UseLog };
}

const admit = (g: GrantGate) => g.admit(GRANT, B, MATTER, LEAF, { typeCode: TYPE, holderRef: HOLDER });

describe("p2p grant gate: use counting across anchors, cache bounds", () => {
  it("a cached answer is not reused after this node anchors a head (no double counting of anchored uses)", async () => {
    const s = scripted();
    const gate = new GrantGate({ view: s.view, useLog: s.useLog }, { cacheMs: 60_000 });
    s.log.unanchored = 2; // 2 of 3 uses served here, not anchored yet
    const first = await admit(gate);
    expect(first.status).to.equal("OK");
    first.release!();
    s.log.unanchored = 3; // the third use is served
    expect((await admit(gate)).status).to.equal("GRANT_EXHAUSTED");
    expect(s.chain.calls).to.equal(1); // cached so far
    s.anchor(); // chain: usesLeft 0, log: unanchored 0
    const after = await admit(gate);
    expect(after.status).to.equal("GRANT_EXHAUSTED"); // a reused pre-anchor answer (usesLeft 3) would say OK
    expect(s.chain.calls).to.equal(2);
  });

  it("an answer that was in flight while this node anchored is asked again", async () => {
    const s = scripted();
    const gate = new GrantGate({ view: s.view, useLog: s.useLog }, { cacheMs: 0 });
    s.log.unanchored = 3;
    let release!: () => void;
    s.chain.hold = new Promise<void>((r) => (release = r));
    const pending = admit(gate); // the chain answers usesLeft 3 (pre-anchor)...
    await new Promise((r) => setImmediate(r));
    s.anchor(); // ...but the head is anchored before the answer arrives
    s.chain.hold = undefined;
    release();
    const r = await pending;
    expect(r.status).to.equal("GRANT_EXHAUSTED"); // combining usesLeft 3 with unanchored 0 would say OK
    expect(s.chain.calls).to.equal(2);
  });

  it("a cached answer is not reused past the grant's notAfter, nor beyond cacheMs", async () => {
    const s = scripted();
    s.chain.notAfter = Math.floor(Date.now() / 1000) - 1; // (the chain's own verdict decides expiry; here: no reuse)
    const gate = new GrantGate({ view: s.view, useLog: s.useLog }, { cacheMs: 60_000 });
    await admit(gate);
    await admit(gate);
    expect(s.chain.calls).to.equal(2);
    const s2 = scripted();
    const short = new GrantGate({ view: s2.view, useLog: s2.useLog }, { cacheMs: 20 });
    (await admit(short)).release!();
    (await admit(short)).release!();
    expect(s2.chain.calls).to.equal(1);
    await new Promise((r) => setTimeout(r, 30));
    await admit(short);
    expect(s2.chain.calls).to.equal(2);
  });
});
