// libraries/Uscc.sol through TongbanLedger.isValidMemberId: the GB 32100 check agrees with an independent
// TypeScript implementation on random codes, and catches every single-symbol substitution.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { memberId, uscc } from "../helpers/consortium";

const ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/** Deterministic pseudo-random generator (xorshift32) so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

describe("Uscc (via isValidMemberId)", () => {
  const deploy = () => ethers.deployContract("TongbanLedger");

  it("accepts 40 random well-formed codes and rejects each with one symbol substituted", async () => {
    const ledger = await loadFixture(deploy);
    const rand = rng(20261124);
    const pick = () => ALPHABET[Math.floor(rand() * 31)];
    for (let n = 0; n < 40; n++) {
      const code = uscc(Array.from({ length: 17 }, pick).join(""));
      expect(await ledger.isValidMemberId(memberId(code)), code).to.equal(true);
      const pos = Math.floor(rand() * 18);
      const old = ALPHABET.indexOf(code[pos]);
      const sub = ALPHABET[(old + 1 + Math.floor(rand() * 30)) % 31]; // any other symbol
      const bad = code.slice(0, pos) + sub + code.slice(pos + 1);
      expect(await ledger.isValidMemberId(memberId(bad)), bad).to.equal(false);
    }
  });

  it("rejects a valid code followed by garbage in the low bytes", async () => {
    const ledger = await loadFixture(deploy);
    const id = memberId("91310104MA1K000018");
    const dirty = ethers.toBeHex(BigInt(id) | 1n, 32);
    expect(await ledger.isValidMemberId(id)).to.equal(true);
    expect(await ledger.isValidMemberId(dirty)).to.equal(false);
  });
});
