/**
 * Live tests against a real chain: `hardhat node` started as a child process on a free 127.0.0.1 port, contracts
 * deployed through the typechain factories, talked to over JSON-RPC. Checks the SDK's leaf and Merkle rules
 * against the Solidity ones (LeafHarness), and verify() end to end against TongbanLedger.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexlify, ZeroHash, type Signer } from "ethers";
import { LeafHarness__factory } from "../../sdk/src/contracts/types/factories/contracts/test/LeafHarness__factory.js";
import type { LeafHarness } from "../../sdk/src/contracts/types/contracts/test/LeafHarness.js";
import type { TongbanLedger } from "../../sdk/src/contracts/types/contracts/TongbanLedger.js";
import {
  computeLeaf, encodeHeader, headerToJson, buildMerkleTree, verify, chainReaderFromUrl, HashAlg, decodeLedgerError,
  RootAlreadyAnchoredError, NotEntitledError, AccountNotMemberError, withLedgerErrors, readMaterialState, readMaterialStates, coalescingChainReader,
  type MaterialHeader, type ChainReader, type ProofBundle, type CheckName, type VerificationResult,
} from "../../sdk/src/index.js";
import { startHardhatNode, type LocalChain } from "./helpers/hardhat-node.js";
import { deployLedger, anchorBatch, DEPT, TYPE, OTHER_TYPE } from "./helpers/ledger.js";
import { headerFor } from "./helpers/fixture.js";
import { runCli } from "./helpers/run-cli.js";

const MAX64 = (1n << 64n) - 1n;
const rnd32 = () => hexlify(randomBytes(32));
const rndU = (bits: number) => BigInt("0x" + randomBytes(bits / 8).toString("hex"));
const check = (r: VerificationResult, name: CheckName) => r.checks.find((c) => c.check === name)!;

function randomHeader(): MaterialHeader {
  const pick = <T>(...xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  return {
    typeCode: rnd32(), issuer: rnd32(), holderRef: rnd32(), contentHash: rnd32(),
    hashAlg: Number(rndU(8)), issuedAt: pick(0n, MAX64, rndU(64)), validFrom: rndU(64), validUntil: pick(0n, MAX64, rndU(64)),
    version: Number(pick(0n, 1n, 4294967295n, rndU(32))), supersedes: pick(ZeroHash, rnd32()),
  };
}

/** A ChainReader counting eth_call and eth_chainId round trips. */
function counting(inner: ChainReader) {
  const c = { calls: 0, chainIds: 0 };
  const reader: ChainReader = {
    call: (tx) => { c.calls++; return inner.call(tx); },
    getNetwork: () => { c.chainIds++; return inner.getNetwork(); },
  };
  return { reader, c };
}

describe("sdk against a live hardhat node", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let harness: LeafHarness;
  let ledger: TongbanLedger;
  let ledgerAddress: string;

  before(async () => {
    chain = await startHardhatNode();
    harness = await new LeafHarness__factory(chain.signer(0) as unknown as Signer).deploy();
    await harness.waitForDeployment();
    ({ ledger, address: ledgerAddress } = await deployLedger(chain));
  });
  after(async () => { await chain?.stop(); });

  describe("leaf and tree == Solidity", () => {
    it("frozen leaf vectors: Solidity encodes and hashes them identically", async () => {
      const file = JSON.parse(readFileSync(new URL("../vectors/leaf.json", import.meta.url), "utf8"));
      for (const v of file.vectors) {
        const h = { ...v.header, issuedAt: BigInt(v.header.issuedAt), validFrom: BigInt(v.header.validFrom), validUntil: BigInt(v.header.validUntil) };
        expect(await harness.encodeHeader(h), v.name).to.equal(v.encoded);
        expect(await harness.leafOf(h), v.name).to.equal(v.leaf);
      }
    });

    it("property: 150 random headers (edge values mixed in), SDK leaf == contract leaf", async () => {
      for (let i = 0; i < 150; i++) {
        const h = randomHeader();
        expect(await harness.leafOf(h), JSON.stringify(h, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).to.equal(computeLeaf(h));
        if (i % 25 === 0) expect(await harness.encodeHeader(h)).to.equal(encodeHeader(h));
      }
    });

    it("frozen Merkle vectors and random trees: every SDK proof passes OpenZeppelin MerkleProof.verify", async () => {
      const file = JSON.parse(readFileSync(new URL("../vectors/merkle.json", import.meta.url), "utf8"));
      for (const v of file.vectors) {
        for (let i = 0; i < v.leaves.length; i++) expect(await harness.verify(v.proofs[i], v.root, v.leaves[i]), `${v.name} #${i}`).to.equal(true);
      }
      for (const n of [1, 2, 3, 6, 11, 17, 40]) {
        const leaves = Array.from({ length: n }, rnd32);
        const tree = buildMerkleTree(leaves);
        for (let i = 0; i < n; i++) {
          expect(await harness.processProof(tree.getProof(i), leaves[i]!)).to.equal(tree.root);
        }
        expect(await harness.verify(tree.getProof(0), tree.root, rnd32())).to.equal(false);
      }
    });
  });

  describe("verify() online against TongbanLedger", () => {
    let bundles: ProofBundle[];
    let contents: Uint8Array[];

    before(async () => {
      contents = Array.from({ length: 4 }, (_, i) => new TextEncoder().encode(`live material ${i} ${Date.now()}`));
      bundles = await anchorBatch(chain, ledger, 1, contents.map((c) => headerFor(c)));
    });

    it("a fresh material verifies: every check VALID but the absent seal/checkpoint; one eth_call per verification", async () => {
      const { reader, c } = counting(chainReaderFromUrl(chain.url));
      for (let i = 0; i < bundles.length; i++) {
        const r = await verify({ content: contents[i]! }, bundles[i]!, { provider: reader, ledger: ledgerAddress });
        expect(r.ok, JSON.stringify(r.checks, null, 1)).to.equal(true);
        expect(r.mode).to.equal("online");
      }
      expect(c.calls).to.equal(bundles.length);
      expect(c.chainIds).to.equal(1);
    });

    it("coalescingChainReader: concurrent verifications make ONE materialStates eth_call, each answer as materialState's", async () => {
      const { reader: inner, c } = counting(chainReaderFromUrl(chain.url));
      const reader = coalescingChainReader(inner);
      const rs = await Promise.all(bundles.map((b, i) => verify({ content: contents[i]! }, b, { provider: reader, ledger: ledgerAddress })));
      expect(rs.map((r) => r.ok)).to.deep.equal(bundles.map(() => true));
      expect(c.calls).to.equal(1);
      expect(reader.stats).to.deep.include({ batches: 1, queries: bundles.length });
      const qs = bundles.map((b) => ({ root: b.root, leaf: b.leaf, hashAlg: 1 }));
      const one = await Promise.all(qs.map((q) => readMaterialState(chain.provider, ledgerAddress, q)));
      expect(await readMaterialStates(chain.provider, ledgerAddress, qs)).to.deep.equal(one);
    });

    it("an ethers JsonRpcProvider works as the provider too", async () => {
      const r = await verify({ content: contents[0]! }, bundles[0]!, { provider: chain.provider });
      expect(r.ok).to.equal(true);
      const state = await readMaterialState(chain.provider, ledgerAddress, { root: bundles[0]!.root, leaf: bundles[0]!.leaf, hashAlg: 1 });
      expect(state).to.include({ anchored: true, issuer: DEPT, typeCode: TYPE, jurisdiction: 310115, count: 4 });
    });

    it("revoked, suspended and superseded materials fail STATUS with the right code", async () => {
      const issuer = ledger.connect(chain.signer(1) as unknown as Signer);
      await (await issuer.revokeMaterial(bundles[0]!.leaf, 7)).wait();
      await (await issuer.suspendMaterial(bundles[1]!.leaf, 3)).wait();
      const v2content = new TextEncoder().encode("material 2, version 2");
      const [v2] = await anchorBatch(chain, ledger, 1, [headerFor(v2content, { version: 2, supersedes: bundles[2]!.leaf })]);
      await (await issuer.supersedeMaterial(bundles[2]!.leaf, v2!.root, v2!.leaf, v2!.proof)).wait();

      const run = (i: number) => verify({ content: contents[i]! }, bundles[i]!, { provider: chain.url });
      expect(check(await run(0), "STATUS")).to.include({ status: "INVALID", reason: "REVOKED" });
      expect(check(await run(0), "STATUS").details).to.include({ reasonCode: 7, by: DEPT });
      expect(check(await run(1), "STATUS")).to.include({ status: "INVALID", reason: "SUSPENDED" });
      const sup = await run(2);
      expect(check(sup, "STATUS")).to.include({ status: "INVALID", reason: "SUPERSEDED" });
      expect(check(sup, "STATUS").details.successor).to.equal(v2!.leaf);
      const fresh = await verify({ content: v2content }, v2!, { provider: chain.url });
      expect(fresh.ok).to.equal(true);
      expect(check(fresh, "STATUS").details.supersedes).to.equal(bundles[2]!.leaf);
      expect((await run(3)).ok).to.equal(true);
      await (await issuer.reinstateMaterial(bundles[1]!.leaf)).wait();
      expect((await run(1)).ok).to.equal(true);
    });

    it("coalescingChainReader reuseWithinBlock: a read made at the latest block is reused while no block arrives; a revocation's block is seen by the next verification", async () => {
      const cs = [0, 1, 2].map((i) => new TextEncoder().encode(`reused material ${i} ${Date.now()}`));
      const bs = await anchorBatch(chain, ledger, 1, cs.map((c) => headerFor(c)));
      const reader = coalescingChainReader(chainReaderFromUrl(chain.url), { reuseWithinBlock: true });
      const all = () => Promise.all(bs.map((b, i) => verify({ content: cs[i]! }, b, { provider: reader, ledger: ledgerAddress })));
      expect((await all()).map((r) => r.ok)).to.deep.equal([true, true, true]);
      expect((await all()).map((r) => r.ok)).to.deep.equal([true, true, true]);
      expect(reader.stats).to.deep.include({ batches: 2, blocks: 2, reused: 3 });
      await (await ledger.connect(chain.signer(1) as unknown as Signer).revokeMaterial(bs[0]!.leaf, 7)).wait();
      const after = await all();
      expect(check(after[0]!, "STATUS")).to.include({ status: "INVALID", reason: "REVOKED" });
      expect(after.slice(1).map((r) => r.ok)).to.deep.equal([true, true]);
      expect(reader.stats).to.deep.include({ batches: 3, blocks: 3, reused: 3 });
    });

    it("ISSUER_ENTITLED: a member cannot anchor a header naming another issuer or another type", async () => {
      const content = new TextEncoder().encode("slipped in by the company");
      // the company (entitled for OTHER_TYPE) anchors a header claiming DEPT as issuer
      const [forged] = await anchorBatch(chain, ledger, 2, [headerFor(content)], OTHER_TYPE, 310104);
      const r = await verify({ content }, forged!, { provider: chain.url });
      expect(check(r, "ISSUER_ENTITLED")).to.include({ status: "INVALID", reason: "ISSUER_MISMATCH" });
      expect(r.ok).to.equal(false);
    });

    it("HASH_ALGORITHM: SM3 retired after anchoring stays VALID; anchored after retirement is INVALID", async () => {
      const before = new TextEncoder().encode("SM3 material anchored before retirement");
      const [b1] = await anchorBatch(chain, ledger, 1, [headerFor(before, { hashAlg: HashAlg.SM3 })]);
      await (await ledger.connect(chain.signer(0) as unknown as Signer).retireHashAlg(HashAlg.SM3)).wait();
      const after = new TextEncoder().encode("SM3 material anchored after retirement");
      const [b2] = await anchorBatch(chain, ledger, 1, [headerFor(after, { hashAlg: HashAlg.SM3 })]);
      const r1 = await verify({ content: before }, b1!, { provider: chain.url });
      expect(check(r1, "HASH_ALGORITHM")).to.include({ status: "VALID", reason: "HASH_ALG_RETIRED_AFTER_ANCHOR" });
      expect(r1.ok).to.equal(true);
      const r2 = await verify({ content: after }, b2!, { provider: chain.url });
      expect(check(r2, "HASH_ALGORITHM")).to.include({ status: "INVALID", reason: "HASH_ALG_RETIRED_BEFORE_ANCHOR" });
    });

    it("not anchored, wrong chain id and a non-ledger contract fail closed", async () => {
      const content = new TextEncoder().encode("never anchored");
      const h = headerFor(content);
      const unanchored: ProofBundle = { ...bundles[3]!, header: headerToJson(h), leaf: computeLeaf(h), root: computeLeaf(h), proof: [] };
      const r = await verify({ content }, unanchored, { provider: chain.url });
      expect(check(r, "INTEGRITY").status).to.equal("VALID");
      expect(check(r, "ANCHORED")).to.include({ status: "INVALID", reason: "NOT_ANCHORED" });
      const wrongChain = await verify({ content: contents[3]! }, { ...bundles[3]!, anchor: { ...bundles[3]!.anchor, chainId: "1" } }, { provider: chain.url });
      expect(check(wrongChain, "ANCHORED")).to.include({ status: "ERROR", reason: "CHAIN_ID_MISMATCH" });
      const harnessAddr = await harness.getAddress();
      const notLedger = await verify({ content: contents[3]! }, { ...bundles[3]!, anchor: { ...bundles[3]!.anchor, contract: harnessAddr } }, { provider: chain.url });
      expect(check(notLedger, "ANCHORED").status).to.equal("ERROR");
      expect(notLedger.ok).to.equal(false);
    });
  });

  describe("typed revert errors from the live contract", () => {
    it("decodes RootAlreadyAnchored, NotEntitled and AccountNotMember with their arguments", async () => {
      const root = rnd32();
      const dept = ledger.connect(chain.signer(1) as unknown as Signer);
      await (await dept.anchor(root, TYPE, 310115, 1)).wait();
      try { await dept.anchor.staticCall(root, TYPE, 310115, 1); expect.fail("no revert"); } catch (e) {
        const err = decodeLedgerError(e);
        expect(err).to.be.instanceOf(RootAlreadyAnchoredError);
        expect(err!.details).to.deep.include({ error: "RootAlreadyAnchored", kind: "CONFLICT" });
        expect(err!.details.args).to.deep.equal({ root, issuer: DEPT });
        expect(err!.message).to.include(root);
      }
      await withLedgerErrors(() => dept.anchor.staticCall(rnd32(), OTHER_TYPE, 310104, 1)).then(() => expect.fail("no revert"), (e) => {
        expect(e).to.be.instanceOf(NotEntitledError);
        expect((e as NotEntitledError).details.args).to.deep.equal({ memberId: DEPT, typeCode: OTHER_TYPE, jurisdiction: 310104n });
      });
      const stranger = ledger.connect(chain.signer(3) as unknown as Signer);
      await withLedgerErrors(() => stranger.anchor.staticCall(rnd32(), TYPE, 310115, 1)).then(() => expect.fail("no revert"), (e) => {
        expect(e).to.be.instanceOf(AccountNotMemberError);
      });
    });
  });

  describe("tongban-verify --rpc", () => {
    it("exits 0 for a valid material and 1 for a revoked one", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tongban-cli-live-"));
      try {
        const content = new TextEncoder().encode("CLI live material");
        const [b] = await anchorBatch(chain, ledger, 1, [headerFor(content), headerFor("other")]);
        writeFileSync(join(dir, "m.bin"), content);
        writeFileSync(join(dir, "m.json"), JSON.stringify(b));
        const ok = await runCli([join(dir, "m.bin"), "--bundle", join(dir, "m.json"), "--rpc", chain.url, "--ledger", ledgerAddress]);
        expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
        expect(ok.stdout).to.match(/^VERIFIED/);
        await (await ledger.connect(chain.signer(1) as unknown as Signer).revokeMaterial(b!.leaf, 1)).wait();
        const bad = await runCli([join(dir, "m.bin"), "--bundle", join(dir, "m.json"), "--rpc", chain.url, "--json"]);
        expect(bad.code).to.equal(1);
        expect(JSON.parse(bad.stdout).checks.find((c: { check: string }) => c.check === "STATUS")).to.include({ status: "INVALID", code: 501 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
