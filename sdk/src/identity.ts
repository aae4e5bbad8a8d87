/**
 * Validation of Chinese identifiers: resident identity numbers (GB 11643-1999) and unified social credit codes
 * (GB 32100-2015). Errors never carry the full number: `details.masked` keeps the first 3 and last 2 characters.
 */
import { TongbanError } from "./errors.js";

/** Why an identifier was rejected. */
export type InvalidIdReason =
  | "EMPTY" | "LENGTH" | "CHARSET" | "DIVISION" | "BIRTH_DATE" | "CHECK_DIGIT" | "ID_TYPE";

/** An identifier failed validation; `details.reason` says which rule, `details.masked` which value. */
export class InvalidIdError extends TongbanError<{
  idType: string; reason: InvalidIdReason; masked: string; expected?: string; got?: string;
}> {
  override name = "InvalidIdError" as const;
}

/**
 * Masks an identifier for errors and logs: first 3 and last 2 characters kept.
 * @example maskId("11010519491231002X") // => "110*************2X"
 */
export function maskId(id: string): string {
  if (id.length <= 5) return "*".repeat(id.length);
  return id.slice(0, 3) + "*".repeat(id.length - 5) + id.slice(-2);
}

const RID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RID_CHECK = "10X98765432";
/** GB/T 2260 province-level prefixes (83 = Taiwan residents' residence permits). */
const PROVINCES = new Set([
  "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
  "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
]);

/**
 * The GB 11643 check character of the first 17 digits.
 * @example residentIdCheckChar("11010519491231002") // => "X"
 */
export function residentIdCheckChar(first17: string): string {
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * RID_WEIGHTS[i]!;
  return RID_CHECK[s % 11]!;
}

/**
 * Validates an 18-character resident identity number (GB 11643): charset, province-level division code, a real
 * birth date not in the future, and the check character. Accepts a lower-case `x`; returns the number
 * normalised (trimmed, upper case). Throws {@link InvalidIdError}.
 * @example validateResidentId("11010519491231002x") // => "11010519491231002X"
 */
export function validateResidentId(input: string, options: { now?: Date } = {}): string {
  const id = String(input ?? "").trim().toUpperCase();
  const fail = (reason: InvalidIdReason, msg: string, extra: { expected?: string; got?: string } = {}): never => {
    throw new InvalidIdError(`resident ID ${maskId(id)}: ${msg}`, { idType: "RESIDENT_ID", reason, masked: maskId(id), ...extra });
  };
  if (id === "") fail("EMPTY", "is empty");
  if (id.length !== 18) fail("LENGTH", `must be 18 characters, got ${id.length}`, { expected: "18", got: String(id.length) });
  if (!/^\d{17}[\dX]$/.test(id)) fail("CHARSET", "must be 17 digits and a digit or X");
  if (!PROVINCES.has(id.slice(0, 2))) fail("DIVISION", `unknown province-level division ${id.slice(0, 2)}`, { got: id.slice(0, 2) });
  const y = Number(id.slice(6, 10)), m = Number(id.slice(10, 12)), d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  const now = options.now ?? new Date();
  if (!real || y < 1850 || date.getTime() > now.getTime()) fail("BIRTH_DATE", `birth date ${id.slice(6, 14)} is not a real past date`, { got: id.slice(6, 14) });
  const expected = residentIdCheckChar(id);
  if (id[17] !== expected) fail("CHECK_DIGIT", "check character does not match", { expected, got: id[17]! });
  return id;
}

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * The GB 32100 check character of the first 17 characters (which must be in the alphabet).
 * @example usccCheckChar("91310104MA1K00001") // => "8"
 */
export function usccCheckChar(first17: string): string {
  let s = 0;
  for (let i = 0; i < 17; i++) s += USCC_ALPHABET.indexOf(first17[i]!) * USCC_WEIGHTS[i]!;
  return USCC_ALPHABET[(31 - (s % 31)) % 31]!;
}

/**
 * Validates an 18-character unified social credit code (GB 32100): alphabet (no I, O, S, V, Z), the
 * province-level division code in positions 3-4, and the check character. Returns it trimmed and upper case.
 * Throws {@link InvalidIdError}.
 * @example validateUscc("91310104ma1k000018") // => "91310104MA1K000018"
 */
export function validateUscc(input: string): string {
  const code = String(input ?? "").trim().toUpperCase();
  const fail = (reason: InvalidIdReason, msg: string, extra: { expected?: string; got?: string } = {}): never => {
    throw new InvalidIdError(`unified social credit code ${maskId(code)}: ${msg}`, { idType: "USCC", reason, masked: maskId(code), ...extra });
  };
  if (code === "") fail("EMPTY", "is empty");
  if (code.length !== 18) fail("LENGTH", `must be 18 characters, got ${code.length}`, { expected: "18", got: String(code.length) });
  for (const ch of code) if (!USCC_ALPHABET.includes(ch)) fail("CHARSET", `character ${ch} is not in the GB 32100 alphabet`, { got: ch });
  if (!PROVINCES.has(code.slice(2, 4)) && code.slice(2, 4) !== "10") {
    // "10" = national-level registrations (e.g. 9110000...): administrative code 100000
    fail("DIVISION", `unknown division ${code.slice(2, 8)}`, { got: code.slice(2, 8) });
  }
  const expected = usccCheckChar(code);
  if (code[17] !== expected) fail("CHECK_DIGIT", "check character does not match", { expected, got: code[17]! });
  return code;
}

/**
 * Whether `s` is a valid resident identity number (see {@link validateResidentId}).
 * @example isResidentId("110105194912310021") // => false
 */
export function isResidentId(s: string): boolean {
  try { validateResidentId(s); return true; } catch { return false; }
}

/**
 * Whether `s` is a valid unified social credit code (see {@link validateUscc}).
 * @example isUscc("91310104MA1K000018") // => true
 */
export function isUscc(s: string): boolean {
  try { validateUscc(s); return true; } catch { return false; }
}
