import { expect } from "chai";
import Ajv from "ajv";
import {
  loadBundle, buildBundle, buildBundles, loadBundleSchema, BundleValidationError, BundleBuildError, PROOF_BUNDLE_VERSION, headerToJson, headerFromJson,
  buildMerkleTree, computeLeaf,
} from "../../sdk/src/index.js";
import { batchBundle, headerFor, LEDGER } from "./helpers/fixture.js";

function problemsOf(fn: () => unknown) {
  try { fn(); } catch (e) {
    expect(e).to.be.instanceOf(BundleValidationError);
    return (e as BundleValidationError).details.problems;
  }
  throw new Error("expected BundleValidationError");
}

describe("sdk/bundle", () => {
  it("builds a versioned bundle that round-trips through JSON and loadBundle", () => {
    const { bundle } = batchBundle();
    expect(bundle.version).to.equal(PROOF_BUNDLE_VERSION);
    expect(bundle.anchor).to.deep.equal({ chainId: "31337", contract: LEDGER, blockNumber: "7" });
    const again = loadBundle(JSON.stringify(bundle));
    expect(again).to.deep.equal(bundle);
    expect(computeLeaf(headerFromJson(again.header))).to.equal(bundle.leaf);
  });

  it("the published schema is a valid draft-07 schema accepting built bundles", () => {
    const ajv = new (Ajv as unknown as typeof Ajv.default)({ strict: true });
    const validate = ajv.compile(loadBundleSchema());
    expect(validate(batchBundle().bundle)).to.equal(true);
  });

  it("lists every problem with its path", () => {
    const { bundle } = batchBundle();
    const bad = JSON.parse(JSON.stringify(bundle));
    bad.version = "tongban/proof-bundle@2";
    bad.header.hashAlg = 300;
    delete bad.root;
    bad.proof[0] = "0x12";
    bad.extra = 1;
    const problems = problemsOf(() => loadBundle(bad));
    const paths = problems.map((p) => p.path);
    expect(paths).to.include.members(["/version", "/header/hashAlg", "/", "/proof/0"]);
    expect(problems.find((p) => p.reason.includes("root"))).to.not.equal(undefined);
    expect(problems.find((p) => p.reason.includes("extra"))).to.not.equal(undefined);
  });

  it("rejects non-JSON and uint64 overflow; a well-formed but inconsistent bundle loads (verify judges it)", () => {
    expect(problemsOf(() => loadBundle("{nope"))[0]!.path).to.equal("/");
    const { bundle } = batchBundle();
    const overflow = { ...bundle, header: { ...bundle.header, validUntil: "18446744073709551616" } };
    expect(problemsOf(() => loadBundle(overflow))).to.deep.equal([{ path: "/header/validUntil", reason: "exceeds uint64" }]);
    const wrongLeaf = { ...bundle, header: { ...bundle.header, version: 2 } };
    expect(loadBundle(wrongLeaf).header.version).to.equal(2);
  });

  it("validates seals by scheme", () => {
    const { bundle } = batchBundle();
    const problems = problemsOf(() => loadBundle({ ...bundle, seal: { scheme: "sm2-sm3", publicKey: "04ab", signature: "00" } }));
    expect(problems.some((p) => p.path.startsWith("/seal"))).to.equal(true);
  });

  it("buildBundle refuses a proof that does not reach the root", () => {
    const h = [headerFor("a"), headerFor("b"), headerFor("c")];
    const tree = buildMerkleTree(h.map(computeLeaf));
    expect(() => buildBundle({ header: h[0]!, proof: tree.getProof(1), root: tree.root, chainId: 1, contract: LEDGER, blockNumber: 1 }))
      .to.throw(BundleBuildError).with.nested.property("details.reason", "PROOF_MISMATCH");
  });

  it("headerToJson/headerFromJson are inverse", () => {
    const h = headerFor("x");
    expect(headerFromJson(headerToJson(h))).to.deep.equal({ ...h, holderRef: h.holderRef.toLowerCase(), typeCode: h.typeCode.toLowerCase(), issuer: h.issuer.toLowerCase(), contentHash: h.contentHash.toLowerCase(), supersedes: h.supersedes.toLowerCase() });
  });
});

describe("sdk/bundle buildBundles (whole batch)", () => {
  it("gives, for every material, exactly what buildBundle gives; each loads and verifies offline", async () => {
    const { verify } = await import("../../sdk/src/index.js");
    const contents = Array.from({ length: 37 }, (_, i) => `batch material ${i}`);
    const headers = contents.map((c) => headerFor(c));
    const tree = buildMerkleTree(headers.map(computeLeaf));
    const all = buildBundles({ headers, root: tree.root, chainId: 31337n, contract: LEDGER, blockNumber: 9n, txHash: "0x" + "AB".repeat(32) });
    expect(all).to.have.length(37);
    for (let i = 0; i < 37; i++) {
      const one = buildBundle({ header: headers[i]!, proof: tree.getProof(i), root: tree.root, chainId: 31337n, contract: LEDGER, blockNumber: 9n, txHash: "0x" + "ab".repeat(32) });
      expect(all[i]).to.deep.equal(one);
      expect(loadBundle(JSON.stringify(all[i]))).to.deep.equal(one);
      const r = await verify({ content: contents[i]! }, all[i]!, { offline: true, at: Number(headers[i]!.validFrom) });
      expect(r.ok).to.equal(true);
    }
  });

  it("refuses a root that is not the headers' root, and a malformed contract", () => {
    const headers = [headerFor("a"), headerFor("b")];
    expect(() => buildBundles({ headers, root: "0x" + "00".repeat(32), chainId: 1, contract: LEDGER, blockNumber: 1 }))
      .to.throw(BundleBuildError).with.nested.property("details.reason", "ROOT_MISMATCH");
    const root = buildMerkleTree(headers.map(computeLeaf)).root;
    expect(() => buildBundles({ headers, root, chainId: 1, contract: "0x12", blockNumber: 1 })).to.throw(BundleValidationError);
  });
});
