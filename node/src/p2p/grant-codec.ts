/**
 * A fixed-layout codec for `IAuthorisations.checkGrant`, the one eth_call a custodian makes per request in the
 * exact mode. ethers' `Interface.encodeFunctionData` / `decodeFunctionResult` rebuild their ABI coders on every
 * call (~1 ms of CPU per checkGrant in a profile of the exchange bench); this codec reads the ABI words
 * directly. Its selector comes from the typechain interface, and `test/node/p2p/grant-codec.test.ts` checks
 * both directions against ethers on random grants, so a changed struct fails there.
 *
 * Return data layout (ABI, all offsets relative to the start of the enclosing tuple):
 *
 *   word 0 verdict (uint8) · word 1 offset of GrantView (dynamic: its terms hold arrays)
 *   GrantView: grantId · status · offset of terms · parentId · rootId · grantor · origin · depth · createdAt ·
 *              revokedAt · revokedBy · used · usesLeft                                  (13 head words)
 *   GrantTerms: holderRef · grantee · matter · offset of typeCodes · offset of leaves · notBefore · notAfter ·
 *               maxUses                                                                   (8 head words)
 *   bytes32[]: length, then one word per element
 */
import type { GrantCheck } from "./chain.js";

const HEX_WORD = /^0x[0-9a-fA-F]{64}$/;

export class GrantCodecError extends Error {
  override name = "GrantCodecError";
}

function word32(v: string, field: string): string {
  if (!HEX_WORD.test(v)) throw new GrantCodecError(`checkGrant: ${field} must be 0x + 64 hex digits, got ${JSON.stringify(v)}`);
  return v.slice(2).toLowerCase();
}

/** calldata of checkGrant(grantId, requester, matter, typeCode, leaf, at) */
export function encodeCheckGrant(selector: string, grantId: string, requester: string, matter: string, typeCode: string, leaf: string, at: number): string {
  if (!Number.isSafeInteger(at) || at < 0 || at >= 2 ** 64) throw new GrantCodecError(`checkGrant: at must be a uint64, got ${at}`);
  return (
    selector +
    word32(grantId, "grantId") +
    word32(requester, "requester") +
    word32(matter, "matter") +
    word32(typeCode, "typeCode") +
    word32(leaf, "leaf") +
    at.toString(16).padStart(64, "0")
  );
}

/** One checkGrant question (the arguments of `checkGrant`; `IAuthorisations.GrantQuery`). */
export interface GrantQuery {
  grantId: string;
  requester: string;
  matter: string;
  typeCode: string;
  leaf: string;
  at: number;
}

/** calldata of checkGrants(queries): GrantQuery is a static tuple, so each is its six words inline. */
export function encodeCheckGrants(selector: string, queries: readonly GrantQuery[]): string {
  let out = selector + (32).toString(16).padStart(64, "0") + queries.length.toString(16).padStart(64, "0");
  for (const q of queries) out += encodeCheckGrant("", q.grantId, q.requester, q.matter, q.typeCode, q.leaf, q.at);
  return out;
}

/** Decode checkGrant's return data; throws GrantCodecError when it is not the expected layout. */
export function decodeCheckGrant(data: string): GrantCheck {
  const r = reader(data, "checkGrant");
  return r.check(0);
}

/**
 * Decode checkGrants' return data for `n` queries (`GrantCheck[]`: offset of the array, its length, one offset
 * per element relative to the first, each element laid out as checkGrant's answer); throws GrantCodecError
 * unless it holds exactly `n` well-formed answers.
 */
export function decodeCheckGrants(data: string, n: number): GrantCheck[] {
  const r = reader(data, "checkGrants");
  if (r.num(0, 32) !== 32) throw new GrantCodecError("checkGrants: the array does not start at word 1");
  if (r.num(1, 32) !== n) throw new GrantCodecError(`checkGrants: ${r.num(1, 32)} answers for ${n} queries`);
  const out = new Array<GrantCheck>(n);
  for (let i = 0; i < n; i++) out[i] = r.check(r.offset(2 + i, 2));
  return out;
}

function reader(data: string, fn: string) {
  if (typeof data !== "string" || !/^0x[0-9a-fA-F]*$/.test(data) || (data.length - 2) % 64 !== 0) {
    throw new GrantCodecError(`${fn}: return data is not a whole number of ABI words (${typeof data === "string" ? data.length : typeof data})`);
  }
  const hex = data.slice(2).toLowerCase();
  const words = hex.length / 64;
  const at = (i: number): string => {
    if (!Number.isInteger(i) || i < 0 || i >= words) throw new GrantCodecError(`${fn}: return data too short (word ${i} of ${words})`);
    return hex.slice(i * 64, i * 64 + 64);
  };
  const b32 = (i: number) => "0x" + at(i);
  const num = (i: number, bits: number): number => {
    const w = at(i);
    const digits = bits / 4;
    if (!/^0*$/.test(w.slice(0, 64 - digits))) throw new GrantCodecError(`${fn}: word ${i} exceeds uint${bits}`);
    // uint64 times may exceed 2^53 (an open-ended window): converted as ethers' bigint -> Number would be
    return bits > 48 ? Number(BigInt("0x" + w)) : Number.parseInt(w.slice(64 - digits), 16);
  };
  const offset = (i: number, base: number): number => {
    const o = num(i, 32);
    if (o % 32 !== 0) throw new GrantCodecError(`${fn}: misaligned offset in word ${i}`);
    return base + o / 32;
  };
  const array = (start: number): string[] => {
    const n = num(start, 32);
    if (start + n >= words) throw new GrantCodecError(`${fn}: array at word ${start} runs past the data`);
    const out = new Array<string>(n);
    for (let k = 0; k < n; k++) out[k] = b32(start + 1 + k);
    return out;
  };
  /** checkGrant's answer laid out from word `base`: (verdict, offset of GrantView relative to base) */
  const check = (base: number): GrantCheck => {
    const verdict = num(base, 8);
    const g = offset(base + 1, base);
    const t = offset(g + 2, g);
    return {
      verdict,
      grant: {
        grantId: b32(g),
        status: num(g + 1, 8),
        parentId: b32(g + 3),
        rootId: b32(g + 4),
        grantee: b32(t + 1),
        holderRef: b32(t),
        typeCodes: array(offset(t + 3, t)),
        leaves: array(offset(t + 4, t)),
        notBefore: num(t + 5, 64),
        notAfter: num(t + 6, 64),
        maxUses: num(t + 7, 32),
        used: num(g + 11, 32),
        usesLeft: num(g + 12, 32),
      },
    };
  };
  return { check, num, offset };
}
