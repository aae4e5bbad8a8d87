import { expect } from "chai";
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import { loadBundle, loadBundleSchema, BundleValidationError } from "../../sdk/src/index.js";
import { isWellFormedBundle } from "../../sdk/src/bundle-shape.js";
import { baseBundles, mutatedBundles } from "./helpers/bundle-mutations.js";
import { answer, cases } from "./helpers/make-bundle-refusals.js";
import { batchBundle } from "./helpers/fixture.js";

const frozen = JSON.parse(readFileSync(new URL("./bundle-refusals.json", import.meta.url), "utf8")) as { cases: { name: string; answer: unknown }[] };

/** the schema compiled as loadBundle compiles it: the judge the fast check must never contradict with a "yes" */
const schemaValid = new (Ajv as unknown as typeof Ajv.default)({ allErrors: true, strict: true }).compile(loadBundleSchema());

describe("sdk/bundle-shape (loadBundle's hand-written fast check)", () => {
  it("says yes to well-formed bundles: built ones, with seals of both schemes, userId, checkpoints", () => {
    for (const b of [...baseBundles(), batchBundle().bundle, batchBundle({ n: 1, index: 0 }).bundle]) {
      expect(schemaValid(b)).to.equal(true);
      expect(isWellFormedBundle(b)).to.equal(true);
    }
  });

  it("frozen: every case of test/sdk/bundle-refusals.json gets the same answer as before the fast check (refusal, message, problems)", () => {
    const now = cases();
    expect(now.map((c) => c.name)).to.deep.equal(frozen.cases.map((c) => c.name)); // the generator did not drift
    const refused = frozen.cases.filter((c) => c.answer !== "ACCEPTED").length;
    expect(refused).to.be.greaterThan(500);
    now.forEach((c, i) => expect(answer(loadBundle, c.input), c.name).to.deep.equal(frozen.cases[i]!.answer));
  });

  it("property: on 6,000 mutated JSON documents the fast check says yes exactly when the schema does", () => {
    let yes = 0;
    for (const { name, doc } of mutatedBundles(6000, 7)) {
      const fast = isWellFormedBundle(doc);
      expect(fast, name).to.equal(schemaValid(doc));
      if (fast) yes++;
    }
    expect(yes).to.be.greaterThan(200); // both answers are exercised
  });

  it("objects that are not plain JSON: never a yes the schema would not give; loadBundle still refuses them the same way", () => {
    const base = baseBundles()[0]!;
    const odd: [string, unknown][] = [
      ["inherited enumerable extra", Object.assign(Object.create({ extra: 1 }), base)],
      ["inherited required property only", Object.create(base)],
      ["header value undefined", { ...base, header: { ...(base.header as object), issuer: undefined } }],
      ["seal undefined", { ...base, seal: undefined }],
      ["array as document", [base]],
      ["proof with a hole", { ...base, proof: [, "0x" + "21".repeat(32)] }], // eslint-disable-line no-sparse-arrays
      ["Date as header", { ...base, header: new Date(0) }],
      ["NaN hashAlg", { ...base, header: { ...(base.header as object), hashAlg: NaN } }],
      ["Infinity version", { ...base, header: { ...(base.header as object), version: Infinity } }],
      ["-0 hashAlg", { ...base, header: { ...(base.header as object), hashAlg: -0 } }],
    ];
    const verdicts: string[] = [];
    for (const [name, doc] of odd) {
      const ok = schemaValid(doc);
      const fast = isWellFormedBundle(doc);
      expect(!fast || ok, `${name}: fast yes, schema no`).to.equal(true);
      expect(answer(loadBundle, doc) === "ACCEPTED", name).to.equal(ok); // loadBundle follows the schema
      verdicts.push(`${name}: ${ok}/${fast}`);
    }
    // the schema's verdicts (and the fast check's) on these, so a change in either shows up here
    expect(verdicts).to.deep.equal([
      "inherited enumerable extra: false/false", "inherited required property only: true/true", "header value undefined: false/false",
      "seal undefined: true/true", "array as document: false/false", "proof with a hole: false/false", "Date as header: false/false",
      "NaN hashAlg: false/false", "Infinity version: false/false", "-0 hashAlg: true/true",
    ]);
    // a polluted Object.prototype: ajv's for...in sees the key, so must the fast check
    (Object.prototype as Record<string, unknown>).polluted = 1;
    try {
      expect(isWellFormedBundle(base)).to.equal(false);
      expect(schemaValid(base)).to.equal(false);
      expect(() => loadBundle(base)).to.throw(BundleValidationError, /unexpected property "polluted"/);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(isWellFormedBundle(base)).to.equal(true);
  });

  it("uint64 overflow: refused above 2^64 - 1 only (text comparison of 20-digit strings)", () => {
    const base = baseBundles()[0]! as { header: Record<string, unknown> };
    const at = (v: string) => ({ ...base, header: { ...base.header, validUntil: v } });
    expect(loadBundle(at("18446744073709551615")).header.validUntil).to.equal("18446744073709551615");
    expect(loadBundle(at("9999999999999999999")).header.validUntil).to.equal("9999999999999999999");
    for (const v of ["18446744073709551616", "18446744073709552000", "20000000000000000000", "99999999999999999999"]) {
      expect(() => loadBundle(at(v)), v).to.throw(BundleValidationError).that.satisfies((e: BundleValidationError) => JSON.stringify(e.details.problems) === JSON.stringify([{ path: "/header/validUntil", reason: "exceeds uint64" }]));
    }
  });
});
