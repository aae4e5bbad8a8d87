/**
 * The fixed-layout checkGrant codec against ethers' ABI coder (the typechain interface of the compiled
 * Authorisations contract): random grants both ways, plus malformed return data.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { authorisationsInterface } from "../../../node/src/p2p/chain.js";
import { decodeCheckGrant, encodeCheckGrant, GrantCodecError } from "../../../node/src/p2p/grant-codec.js";

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
});
