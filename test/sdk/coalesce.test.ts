import { expect } from "chai";
import {
  verify, ledgerInterface, Coalescer, coalescingChainReader, readMaterialStates, ChainReadError, type ChainReader, type BlockPinnedReader, type MaterialState,
  type VerificationResult, type CheckName,
} from "../../sdk/src/index.js";
import { batchBundle, LEDGER, T0 } from "./helpers/fixture.js";
import { stateFor } from "./helpers/fake-chain.js";

const AT = Number(T0) + 86400;
const check = (r: VerificationResult, name: CheckName) => r.checks.find((c) => c.check === name)!;
const tick = () => new Promise((r) => setImmediate(r));

/**
 * A ledger answering materialState and materialStates from a state per leaf (ABI-encoded by ethers, so the SDK's
 * hand-rolled batch calldata and answer splitting are checked against the real ABI), recording every call.
 */
class BatchLedger implements ChainReader {
  readonly log: { fn: string; n: number }[] = [];
  fail?: Error;
  /** replace the answer of a materialStates call */
  mangle?: (raw: string) => string;
  constructor(readonly stateOf: (leaf: string) => MaterialState) {}
  async call(tx: { to: string; data: string }): Promise<string> {
    const iface = ledgerInterface();
    const d = iface.parseTransaction({ data: tx.data })!;
    await tick();
    if (this.fail) throw this.fail;
    if (d.name === "materialState") {
      this.log.push({ fn: d.name, n: 1 });
      return iface.encodeFunctionResult("materialState", [this.stateOf(String(d.args[1]))]);
    }
    if (d.name !== "materialStates") throw new Error(`unexpected call ${d.name}`);
    const qs = d.args[0] as unknown as { root: string; leaf: string; hashAlg: bigint }[];
    this.log.push({ fn: d.name, n: qs.length });
    const raw = iface.encodeFunctionResult("materialStates", [qs.map((q) => this.stateOf(q.leaf))]);
    return this.mangle ? this.mangle(raw) : raw;
  }
  async getNetwork(): Promise<{ chainId: bigint }> {
    return { chainId: 31337n };
  }
}

describe("sdk/chain: Coalescer", () => {
  it("sends a query alone at low load; queries arriving while a batch is out leave together as ONE next batch", async () => {
    const batches: number[][] = [];
    const c = new Coalescer(async (qs: number[]) => {
      batches.push(qs);
      await tick();
      return qs.map((q) => q * 2);
    });
    expect(await c.load(1)).to.equal(2);
    expect(await c.load(2)).to.equal(4);
    expect(batches).to.deep.equal([[1], [2]]);
    batches.length = 0;
    const first = c.load(10); // goes at the end of this turn
    await new Promise((r) => setImmediate(r));
    const rest = [11, 12, 13, 14].map((q) => c.load(q)); // first is in flight: these queue
    expect(await Promise.all([first, ...rest])).to.deep.equal([20, 22, 24, 26, 28]);
    expect(batches).to.deep.equal([[10], [11, 12, 13, 14]]);
    expect(c.stats).to.deep.include({ batches: 4, queries: 7, asked: 7, largest: 4 });
  });

  it("queries of one turn share a batch; maxBatch splits them; maxInFlight bounds the batches out", async () => {
    let out = 0;
    let peak = 0;
    const sizes: number[] = [];
    const c = new Coalescer(async (qs: number[]) => {
      sizes.push(qs.length);
      peak = Math.max(peak, ++out);
      await tick();
      out--;
      return qs;
    }, { maxBatch: 4, maxInFlight: 2 });
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => c.load(i)));
    expect(all).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sizes).to.deep.equal([4, 4, 2]);
    expect(peak).to.equal(2);
  });

  it("with `key`, identical queries of one batch are asked once and all get that answer; nothing is kept across batches", async () => {
    const asked: string[][] = [];
    const c = new Coalescer(async (qs: string[]) => {
      asked.push(qs);
      return qs.map((q) => `${q}:${asked.length}`);
    }, { key: (q) => q });
    expect(await Promise.all(["a", "b", "a", "a", "c", "b"].map((q) => c.load(q)))).to.deep.equal(["a:1", "b:1", "a:1", "a:1", "c:1", "b:1"]);
    expect(await Promise.all(["a", "a"].map((q) => c.load(q)))).to.deep.equal(["a:2", "a:2"]);
    expect(asked).to.deep.equal([["a", "b", "c"], ["a"]]);
    expect(c.stats).to.deep.include({ batches: 2, queries: 8, asked: 4, largest: 6 });
  });

  it("a failed batch rejects every query in it with its error; a batch answered with another count rejects all (BAD_RESPONSE)", async () => {
    let mode: "fail" | "short" | "ok" = "fail";
    const c = new Coalescer(async (qs: number[]) => {
      if (mode === "fail") throw new Error("down");
      return mode === "short" ? qs.slice(1) : qs;
    });
    const failed = await Promise.allSettled([1, 2, 3].map((q) => c.load(q)));
    expect(failed.map((r) => r.status === "rejected" && (r.reason as Error).message)).to.deep.equal(["down", "down", "down"]);
    mode = "short";
    const short = await Promise.allSettled([1, 2, 3].map((q) => c.load(q)));
    for (const r of short) {
      expect(r.status).to.equal("rejected");
      const e = (r as PromiseRejectedResult).reason as ChainReadError;
      expect(e).to.be.instanceOf(ChainReadError);
      expect(e.details.reason).to.equal("BAD_RESPONSE");
    }
    mode = "ok"; // and it keeps working afterwards
    expect(await Promise.all([4, 5].map((q) => c.load(q)))).to.deep.equal([4, 5]);
  });
});

describe("sdk/chain: readMaterialStates and coalescingChainReader", () => {
  const n = 6;
  const made = Array.from({ length: n }, (_, i) => batchBundle({ n, index: i }));
  // every bundle of one batch; the third is revoked, the fifth suspended
  const states = new Map(made.map(({ bundle }, i) => [bundle.leaf.toLowerCase(), stateFor(bundle, i === 2 ? { status: 2, reason: 7 } : i === 4 ? { status: 1 } : {})]));
  const stateOf = (leaf: string) => states.get(leaf.toLowerCase()) ?? stateFor(made[0]!.bundle, { anchored: false, anchoredBlock: 0n, issuer: "0x" + "0".repeat(64), count: 0 });

  it("readMaterialStates: one eth_call, one decoded state per query, in order", async () => {
    const chain = new BatchLedger(stateOf);
    const got = await readMaterialStates(chain, LEDGER, made.map(({ bundle }) => ({ root: bundle.root, leaf: bundle.leaf, hashAlg: 1 })));
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n }]);
    expect(got).to.deep.equal(made.map(({ bundle }) => stateOf(bundle.leaf)));
    expect(await readMaterialStates(chain, LEDGER, [])).to.deep.equal([]);
  });

  it("concurrent verifications share one materialStates call; each gets its own material's verdict", async () => {
    const chain = new BatchLedger(stateOf);
    const reader = coalescingChainReader(chain);
    const rs = await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n }]); // all asked in one turn: one batch
    expect(rs.map((r) => r.ok)).to.deep.equal([true, true, false, true, false, true]);
    expect(check(rs[2]!, "STATUS")).to.include({ status: "INVALID", reason: "REVOKED" });
    expect(check(rs[4]!, "STATUS")).to.include({ status: "INVALID", reason: "SUSPENDED" });
    expect(reader.stats).to.deep.include({ batches: 1, queries: n, asked: n, largest: n });
    // and one asked while that batch is out waits for it, then leaves with the others queued meanwhile
    const later = verify({ content: made[0]!.content }, made[0]!.bundle, { provider: reader, ledger: LEDGER, at: AT });
    await tick();
    const more = await Promise.all([later, ...made.slice(1, 4).map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT }))]);
    expect(more.map((r) => r.ok)).to.deep.equal([true, true, false, true]);
    expect(chain.log.slice(1)).to.deep.equal([{ fn: "materialState", n: 1 }, { fn: "materialStates", n: 3 }]);
  });

  it("the same material verified twice in one batch is read once; both get its state", async () => {
    const chain = new BatchLedger(stateOf);
    const reader = coalescingChainReader(chain);
    const twice = [made[0]!, made[1]!, made[0]!, made[2]!, made[0]!];
    const rs = await Promise.all(twice.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    expect(rs.map((r) => r.ok)).to.deep.equal([true, true, true, false, true]);
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n: 3 }]);
    expect(reader.stats).to.deep.include({ batches: 1, queries: 5, asked: 3 });
  });

  it("a verification alone makes exactly one plain materialState round trip", async () => {
    const chain = new BatchLedger(stateOf);
    const reader = coalescingChainReader(chain);
    for (const { bundle, content } of [made[0]!, made[1]!, made[3]!]) {
      expect((await verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })).ok).to.equal(true);
    }
    expect(chain.log).to.deep.equal([{ fn: "materialState", n: 1 }, { fn: "materialState", n: 1 }, { fn: "materialState", n: 1 }]);
  });

  it("a batch that fails, and whose reads fail on their own too, fails every verification in it (CHAIN_UNREACHABLE), never VALID", async () => {
    const chain = new BatchLedger(stateOf);
    chain.fail = new Error("ECONNREFUSED");
    const reader = coalescingChainReader(chain);
    const rs = await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    for (const r of rs) {
      expect(r.ok).to.equal(false);
      expect(check(r, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_UNREACHABLE" });
      expect(check(r, "STATUS").status).to.equal("ERROR");
    }
  });

  it("a failed batch is retried read by read: a ledger without materialStates still verifies, each with its own verdict", async () => {
    const chain = new BatchLedger(stateOf);
    const call = chain.call.bind(chain);
    let failNth = -1;
    let singles = 0;
    let batchTries = 0;
    chain.call = async (tx) => {
      if (tx.data.startsWith(ledgerInterface().getFunction("materialStates")!.selector)) { batchTries++; throw new Error("execution reverted"); } // an old ledger
      if (singles++ === failNth) throw new Error("one read failed");
      return call(tx);
    };
    const reader = coalescingChainReader(chain);
    failNth = 1; // the second single read fails: only its verification
    const rs = await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    expect(rs.map((r) => r.ok)).to.deep.equal([true, false, false, true, false, true]);
    expect(check(rs[1]!, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_UNREACHABLE" });
    expect(check(rs[2]!, "STATUS")).to.include({ status: "INVALID", reason: "REVOKED" });
    // now no batch attempt at all: every read singly
    failNth = -1;
    chain.log.length = 0;
    // one read failed, so the next batch is tried again; its reads all succeed singly: reads then go singly
    expect(batchTries).to.equal(1);
    await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    expect(batchTries).to.equal(2);
    chain.log.length = 0;
    const again = await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
    expect(again.map((r) => r.ok)).to.deep.equal([true, true, false, true, false, true]);
    expect(chain.log.map((l) => l.fn)).to.deep.equal(made.map(() => "materialState"));
    expect(batchTries).to.equal(2);
  });

  it("a batch answer with a state missing, a wrong count or a bad word fails every verification in it (BAD_CHAIN_RESPONSE)", async () => {
    const cases: { name: string; mangle: (raw: string) => string; all: boolean }[] = [
      { name: "one word short", mangle: (raw) => raw.slice(0, raw.length - 64), all: true },
      { name: "count off by one", mangle: (raw) => raw.slice(0, 66) + (BigInt("0x" + raw.slice(66, 130)) - 1n).toString(16).padStart(64, "0") + raw.slice(130), all: true },
      { name: "first state's `anchored` = 2 (not a bool)", mangle: (raw) => raw.slice(0, 130) + "2".padStart(64, "0") + raw.slice(194), all: false },
    ];
    for (const c of cases) {
      const chain = new BatchLedger(stateOf);
      chain.mangle = c.mangle;
      const reader = coalescingChainReader(chain);
      const rs = await Promise.all(made.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));
      expect(chain.log, c.name).to.deep.equal([{ fn: "materialStates", n }]);
      // a malformed batch fails all; a malformed state only its own verification (the others decode and are judged)
      const failed = c.all ? rs : rs.slice(0, 1);
      for (const r of failed) {
        expect(r.ok, c.name).to.equal(false);
        expect(check(r, "ANCHORED"), c.name).to.include({ status: "ERROR", reason: "BAD_CHAIN_RESPONSE" });
      }
      if (!c.all) expect(rs.slice(1).map((r) => r.ok), c.name).to.deep.equal([true, false, true, false, true]); // revoked #2, suspended #4
    }
  });

  /** the ledger at a head block: every read is pinned to a block hash, answered from the state of that block */
  class PinnedLedger extends BatchLedger implements BlockPinnedReader {
    head = "0x" + "aa".repeat(32);
    readonly pins: string[] = [];
    headReads = 0;
    /** the state per block hash (a block's state never changes) */
    readonly blocks = new Map<string, (leaf: string) => MaterialState>();
    constructor() {
      super((leaf) => this.blocks.get(this.#at!)!(leaf));
      this.blocks.set(this.head, stateOf);
    }
    #at: string | undefined;
    async latestBlockHash(): Promise<string> {
      this.headReads++;
      await tick();
      return this.head;
    }
    async callAtBlock(tx: { to: string; data: string }, blockHash: string): Promise<string> {
      this.pins.push(blockHash);
      if (!this.blocks.has(blockHash)) throw new Error(`unknown block ${blockHash}`);
      this.#at = blockHash;
      return this.call(tx);
    }
    /** a new block in which `leaf` is revoked */
    mine(hash: string, revoked?: string): void {
      const before = this.blocks.get(this.head)!;
      this.blocks.set(hash, (leaf) => (leaf.toLowerCase() === revoked?.toLowerCase() ? { ...before(leaf), status: 2, reason: 3 } : before(leaf)));
      this.head = hash;
    }
  }
  const verifyAll = (reader: ChainReader, which = made) => Promise.all(which.map(({ bundle, content }) => verify({ content }, bundle, { provider: reader, ledger: LEDGER, at: AT })));

  it("reuseWithinBlock: a read already answered at the latest block is not asked again; every read is pinned to the block read after it was asked", async () => {
    const chain = new PinnedLedger();
    const reader = coalescingChainReader(chain, { reuseWithinBlock: true });
    const first = await verifyAll(reader);
    expect(first.map((r) => r.ok)).to.deep.equal([true, true, false, true, false, true]);
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n }]);
    expect(chain.pins).to.deep.equal([chain.head]);
    // the same materials again, at the same block: one header read, no state read, the same verdicts
    const again = await verifyAll(reader);
    expect(again.map((r) => r.ok)).to.deep.equal(first.map((r) => r.ok));
    expect(again.map((r) => check(r, "STATUS"))).to.deep.equal(first.map((r) => check(r, "STATUS")));
    expect(chain.log.length).to.equal(1);
    expect(chain.headReads).to.equal(2);
    expect(reader.stats).to.deep.include({ batches: 2, blocks: 2, reused: n });
    // a mix: known ones reused, a new question asked pinned to the block
    const c0 = made[0]!;
    const other = batchBundle({ n: n + 1, index: n }); // another batch's material: not asked yet
    await verifyAll(reader, [c0, other]);
    expect(chain.log.slice(1)).to.deep.equal([{ fn: "materialState", n: 1 }]);
    expect(reader.stats.reused).to.equal(n + 1);
  });

  it("reuseWithinBlock: a new block (or another block at the same height) empties the reuse; a revocation is seen by the first verification after its block", async () => {
    const chain = new PinnedLedger();
    const reader = coalescingChainReader(chain, { reuseWithinBlock: true });
    expect((await verifyAll(reader)).map((r) => r.ok)).to.deep.equal([true, true, false, true, false, true]);
    chain.mine("0x" + "bb".repeat(32), made[0]!.bundle.leaf);
    const after = await verifyAll(reader);
    expect(after.map((r) => r.ok)).to.deep.equal([false, true, false, true, false, true]);
    expect(check(after[0]!, "STATUS")).to.include({ status: "INVALID", reason: "REVOKED" });
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n }, { fn: "materialStates", n }]);
    expect(chain.pins).to.deep.equal(["0x" + "aa".repeat(32), "0x" + "bb".repeat(32)]);
    expect(reader.stats.reused).to.equal(0);
  });

  it("reuseWithinBlock: a failed read is never kept; the next batch at the same block asks it again", async () => {
    const chain = new PinnedLedger();
    const reader = coalescingChainReader(chain, { reuseWithinBlock: true });
    chain.fail = new Error("ECONNREFUSED");
    for (const r of await verifyAll(reader)) expect(check(r, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_UNREACHABLE" });
    chain.fail = undefined;
    expect((await verifyAll(reader)).map((r) => r.ok)).to.deep.equal([true, true, false, true, false, true]);
    expect(chain.log).to.deep.equal([{ fn: "materialStates", n }]);
    expect(reader.stats.reused).to.equal(0);
    // a header read that fails fails the batch (never an answer from memory)
    const failing = Object.assign(Object.create(Object.getPrototypeOf(chain)) as PinnedLedger, chain, { latestBlockHash: async () => { throw new Error("ECONNRESET"); } });
    const r2 = coalescingChainReader(failing, { reuseWithinBlock: true });
    for (const r of await verifyAll(r2)) expect(check(r, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_UNREACHABLE" });
  });

  it("reuseWithinBlock needs a reader that reads the latest block and calls at a block", () => {
    expect(() => coalescingChainReader(new BatchLedger(stateOf), { reuseWithinBlock: true })).to.throw(TypeError, /BlockPinnedReader/);
  });

  it("other calls and the chain id pass through unchanged", async () => {
    const seen: string[] = [];
    const reader = coalescingChainReader({
      call: async (tx) => (seen.push(tx.data), "0x01"),
      getNetwork: async () => ({ chainId: 5n }),
    });
    expect(await reader.call({ to: LEDGER, data: "0xdeadbeef" })).to.equal("0x01");
    expect(await reader.getNetwork()).to.deep.equal({ chainId: 5n });
    expect(seen).to.deep.equal(["0xdeadbeef"]);
  });
});
