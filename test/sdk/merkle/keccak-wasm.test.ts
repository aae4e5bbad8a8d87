import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3";
import { keccak64Wasm, assembleKeccak64Wasm } from "../../../sdk/src/merkle/keccak-wasm.js";

describe("sdk/merkle/keccak-wasm (assembled WebAssembly keccak256 of 64 bytes)", () => {
  it("assembles a valid module", () => {
    expect(WebAssembly.validate(assembleKeccak64Wasm())).to.equal(true);
  });

  it("equals @noble/hashes keccak_256 on 2,000 random inputs, with separate and overlapping output", () => {
    const w = keccak64Wasm()!;
    for (let i = 0; i < 2000; i++) {
      const input = new Uint8Array(randomBytes(64));
      const mem = new Uint8Array(w.memory.buffer);
      mem.set(input.subarray(32), 1000); // b at 1000, a at 64: non-adjacent operands
      mem.set(input.subarray(0, 32), 64);
      const out = i % 2 === 0 ? 4096 : 64; // odd rounds write over operand a
      w.k(64, 1000, out);
      expect(Buffer.from(new Uint8Array(w.memory.buffer, out, 32)).toString("hex"))
        .to.equal(Buffer.from(keccak_256(input)).toString("hex"));
    }
  });
});
