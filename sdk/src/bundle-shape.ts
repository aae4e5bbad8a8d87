/**
 * A hand-written check that a document is a well-formed proof bundle, for `loadBundle`'s hot path (a requester
 * node verifies thousands of bundles a second). It is the published schema (sdk/schema/proof-bundle.schema.json)
 * written out, and it may only err on the side of "no": whenever it says true, ajv compiled from the schema
 * says valid (pinned by test/sdk/bundle-shape.test.ts on built bundles and thousands of mutations of them).
 * When it says false, `loadBundle` asks ajv, which gives the refusal and its problem list exactly as before.
 * So a valid bundle costs no ajv at all (not even loading and compiling it: 90-250 ms once per process). Per
 * bundle it costs about what ajv's compiled validator costs (~3 µs: ~20 pattern tests of ~140 ns each; a
 * character loop is no faster than the regular expression here, measured), so the patterns stay the schema's.
 *
 * It reads the document the way ajv's generated code does: `for...in` for additionalProperties (inherited
 * enumerable keys included), `o[name] === undefined` for a missing required property, `Array.isArray` and
 * indices for arrays, the schema's own regular expressions (same flag "u") for patterns.
 * Not exported from the package index (internal).
 */

// the schema's patterns, as ajv compiles them (unicode flag)
const BYTES32 = /^0x[0-9a-fA-F]{64}$/u;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/u;
const UINT = /^(0|[1-9][0-9]{0,77})$/u;
const UINT64 = /^(0|[1-9][0-9]{0,19})$/u;
const EIP712_SIGNATURE = /^0x[0-9a-fA-F]{130}$/u;
const SM2_PUBLIC_KEY = /^04[0-9a-fA-F]{128}$/u;
const SM2_SIGNATURE = /^[0-9a-fA-F]{128}$/u;

const BUNDLE_KEYS = new Set(["version", "header", "leaf", "proof", "root", "anchor", "seal", "checkpoints"]);
const HEADER_KEYS = new Set(["typeCode", "issuer", "holderRef", "contentHash", "hashAlg", "issuedAt", "validFrom", "validUntil", "version", "supersedes"]);
const ANCHOR_KEYS = new Set(["chainId", "contract", "blockNumber", "txHash"]);
const EIP712_KEYS = new Set(["scheme", "signer", "signature"]);
const SM2_KEYS = new Set(["scheme", "publicKey", "signature", "userId"]);

type Obj = Record<string, unknown>;

/** JSON Schema "type": "object" as ajv tests it */
function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** additionalProperties: false over `allowed` (ajv: for...in) */
function onlyKeys(o: Obj, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

const matches = (re: RegExp, v: unknown): boolean => typeof v === "string" && re.test(v);

/** JSON Schema "type": "integer" with minimum/maximum (Number.isInteger implies ajv's integer test) */
const intIn = (v: unknown, min: number, max: number): boolean => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

function header(h: unknown): boolean {
  return isObject(h) && onlyKeys(h, HEADER_KEYS)
    && matches(BYTES32, h.typeCode) && matches(BYTES32, h.issuer) && matches(BYTES32, h.holderRef) && matches(BYTES32, h.contentHash)
    && intIn(h.hashAlg, 0, 255)
    && matches(UINT64, h.issuedAt) && matches(UINT64, h.validFrom) && matches(UINT64, h.validUntil)
    && intIn(h.version, 0, 4294967295)
    && matches(BYTES32, h.supersedes);
}

function proof(p: unknown): boolean {
  if (!Array.isArray(p) || p.length > 64) return false;
  for (let i = 0; i < p.length; i++) if (!matches(BYTES32, p[i])) return false;
  return true;
}

function anchor(a: unknown): boolean {
  return isObject(a) && onlyKeys(a, ANCHOR_KEYS)
    && matches(UINT, a.chainId) && matches(ADDRESS, a.contract) && matches(UINT, a.blockNumber)
    && (a.txHash === undefined || matches(BYTES32, a.txHash));
}

/** minLength/maxLength as ajv counts them: code points (a surrogate pair is one) */
function codePointsIn(s: string, min: number, max: number): boolean {
  if (s.length >= min && s.length <= max) return true; // code points <= UTF-16 units, and >= 1 if units >= 1
  if (s.length < min || s.length > 2 * max) return false;
  let n = 0;
  for (const _ of s) n++;
  return n >= min && n <= max;
}

/** oneOf: the two branches differ in their `scheme` const, so at most one can match */
function seal(s: unknown): boolean {
  if (!isObject(s)) return false;
  if (s.scheme === "eip712-secp256k1") {
    return onlyKeys(s, EIP712_KEYS) && matches(ADDRESS, s.signer) && matches(EIP712_SIGNATURE, s.signature);
  }
  if (s.scheme === "sm2-sm3") {
    return onlyKeys(s, SM2_KEYS) && matches(SM2_PUBLIC_KEY, s.publicKey) && matches(SM2_SIGNATURE, s.signature)
      && (s.userId === undefined || (typeof s.userId === "string" && codePointsIn(s.userId, 1, 64)));
  }
  return false;
}

function checkpoints(c: unknown): boolean {
  if (!Array.isArray(c)) return false;
  for (let i = 0; i < c.length; i++) {
    const x: unknown = c[i];
    if (!isObject(x) || !matches(UINT, x.chainId) || !matches(ADDRESS, x.contract)) return false; // other properties allowed
  }
  return true;
}

/**
 * True only if `doc` is valid against the proof bundle schema (false may also mean "ask ajv").
 * @internal
 */
export function isWellFormedBundle(doc: unknown): boolean {
  return isObject(doc) && onlyKeys(doc, BUNDLE_KEYS)
    && doc.version === "tongban/proof-bundle@1"
    && header(doc.header) && matches(BYTES32, doc.leaf) && proof(doc.proof) && matches(BYTES32, doc.root) && anchor(doc.anchor)
    && (doc.seal === undefined || seal(doc.seal))
    && (doc.checkpoints === undefined || checkpoints(doc.checkpoints));
}
