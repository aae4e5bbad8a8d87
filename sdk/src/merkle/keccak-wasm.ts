/**
 * keccak256 of 64 bytes (two 32-byte tree nodes) as a WebAssembly function using native 64-bit lanes.
 * The module is assembled here, at load time, from the Keccak-f[1600] definition (FIPS 202): 24 fully
 * unrolled rounds over 25 i64 locals, no memory traffic but the 64-byte input and 32-byte output.
 * No binary is shipped; nothing is downloaded. Checked against @noble/hashes in test/sdk/merkle/keccak-wasm.test.ts.
 *
 * Exports of the module: `k(a, b, o)` = keccak256(mem[a..a+32) || mem[b..b+32)) -> mem[o..o+32);
 * `m` = its memory (grown by the caller).
 */

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb64(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** FIPS 202 round constants as signed 64-bit values. */
function roundConstants(): bigint[] {
  const rc: bigint[] = [];
  let r = 1;
  const bit = (): number => {
    const b = r & 1;
    r = r & 0x80 ? ((r << 1) ^ 0x71) & 0xff : (r << 1) & 0xff;
    return b;
  };
  for (let i = 0; i < 24; i++) {
    let v = 0n;
    for (let j = 0; j < 7; j++) if (bit()) v |= 1n << BigInt((1 << j) - 1);
    rc.push(BigInt.asIntN(64, v));
  }
  return rc;
}

/** Rotation offsets r[x][y] (FIPS 202 rho). */
function rotations(): number[][] {
  const rot = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
  let x = 1, y = 0;
  for (let t = 0; t < 24; t++) {
    rot[x]![y] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
  return rot;
}

const OP = {
  end: 0x0b, localGet: 0x20, localSet: 0x21, i64Load: 0x29, i64Store: 0x37, i64Const: 0x42,
  i64And: 0x83, i64Xor: 0x85, i64Rotl: 0x89,
} as const;

/**
 * Assembles the module bytes.
 * @example WebAssembly.validate(assembleKeccak64Wasm()) // => true
 */
export function assembleKeccak64Wasm(): Uint8Array<ArrayBuffer> {
  const A = (i: number) => 3 + i, C = (x: number) => 28 + x, D = (x: number) => 33 + x, B = (i: number) => 38 + i;
  const code: number[] = [];
  const get = (l: number) => code.push(OP.localGet, ...uleb(l));
  const set = (l: number) => code.push(OP.localSet, ...uleb(l));
  const konst = (v: bigint) => code.push(OP.i64Const, ...sleb64(v));
  // init
  for (let k = 0; k < 8; k++) {
    get(k < 4 ? 0 : 1);
    code.push(OP.i64Load, 3, ...uleb(8 * (k % 4)));
    set(A(k));
  }
  konst(1n); set(A(8));
  konst(-(1n << 63n)); set(A(16));
  const rot = rotations();
  for (const rc of roundConstants()) {
    for (let x = 0; x < 5; x++) {
      get(A(x));
      for (let y = 1; y < 5; y++) { get(A(x + 5 * y)); code.push(OP.i64Xor); }
      set(C(x));
    }
    for (let x = 0; x < 5; x++) {
      get(C((x + 4) % 5)); get(C((x + 1) % 5)); konst(1n); code.push(OP.i64Rotl, OP.i64Xor); set(D(x));
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        const j = y + 5 * ((2 * x + 3 * y) % 5);
        get(A(x + 5 * y)); get(D(x)); code.push(OP.i64Xor);
        const r = rot[x]![y]!;
        if (r !== 0) { konst(BigInt(r)); code.push(OP.i64Rotl); }
        set(B(j));
      }
    }
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) {
        get(B(x + 5 * y));
        get(B(((x + 1) % 5) + 5 * y)); konst(-1n); code.push(OP.i64Xor);
        get(B(((x + 2) % 5) + 5 * y)); code.push(OP.i64And, OP.i64Xor);
        set(A(x + 5 * y));
      }
    }
    get(A(0)); konst(rc); code.push(OP.i64Xor); set(A(0));
  }
  for (let k = 0; k < 4; k++) {
    get(2); get(A(k)); code.push(OP.i64Store, 3, ...uleb(8 * k));
  }
  code.push(OP.end);
  const body = [1, 60, 0x7e, ...code]; // one local group: 60 x i64
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, "ascii")];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name("k"), 0x00, 0, ...name("m"), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ];
  return new Uint8Array(bytes);
}

/** The instantiated hasher, or undefined where WebAssembly is unavailable. */
export interface Keccak64Wasm {
  /** keccak256(mem[a..a+32) || mem[b..b+32)) -> mem[o..o+32) */
  k(a: number, b: number, o: number): void;
  memory: WebAssembly.Memory;
}

let instance: Keccak64Wasm | null | undefined;

/**
 * Lazily instantiates the module (synchronously); null if WebAssembly is not available.
 * @example keccak64Wasm()?.k(0, 32, 64)
 */
export function keccak64Wasm(): Keccak64Wasm | null {
  if (instance !== undefined) return instance;
  try {
    const mod = new WebAssembly.Module(assembleKeccak64Wasm());
    const inst = new WebAssembly.Instance(mod, {});
    const ex = inst.exports as unknown as { k: Keccak64Wasm["k"]; m: WebAssembly.Memory };
    instance = { k: ex.k, memory: ex.m };
  } catch {
    instance = null;
  }
  return instance;
}
