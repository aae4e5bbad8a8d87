import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3";
import { keccak64 } from "../../../sdk/src/merkle/keccak64.js";

describe("sdk/merkle/keccak64 (generated unrolled keccak256 of 64 bytes)", () => {
  it("equals @noble/hashes keccak_256 on 2,000 random inputs and the all-zero input", () => {
    const inputs = [new Uint8Array(64), ...Array.from({ length: 2000 }, () => new Uint8Array(randomBytes(64)))];
    for (const input of inputs) {
      const w = new Int32Array(input.slice().buffer);
      const out = new Int32Array(8);
      keccak64(w, 0, 8, out, 0);
      expect(Buffer.from(out.buffer).toString("hex")).to.equal(Buffer.from(keccak_256(input)).toString("hex"));
    }
  });

  it("writes in place when out === w", () => {
    const input = new Uint8Array(randomBytes(64));
    const w = new Int32Array(input.slice().buffer);
    keccak64(w, 8, 0, w, 0); // swapped halves
    const swapped = new Uint8Array(64);
    swapped.set(input.subarray(32), 0);
    swapped.set(input.subarray(0, 32), 32);
    expect(Buffer.from(w.buffer, 0, 32).toString("hex")).to.equal(Buffer.from(keccak_256(swapped)).toString("hex"));
  });
});
