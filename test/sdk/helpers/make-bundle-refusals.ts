/**
 * Writes test/sdk/bundle-refusals.json: what `loadBundle` answers (ACCEPTED, or the BundleValidationError's
 * message and problem list) for the base bundles and the first N mutated bundles of bundle-mutations.ts.
 * test/sdk/bundle-shape.test.ts checks that the SDK still answers exactly that.
 *
 *   npx tsx test/sdk/helpers/make-bundle-refusals.ts [--sdk <path of an sdk/src/index.ts>] [--label <text>]
 *
 * The frozen file was made with the SDK as it was before loadBundle's hand-written fast check (commit 00479cc,
 * ajv only), taken from git the way sdk/bench/verify.ts takes its baseline:
 * `--sdk node_modules/.cache/tongban-verify-bench/<full sha of 00479cc>/sdk/src/index.ts`.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { baseBundles, mutatedBundles } from "./bundle-mutations.js";

export const FROZEN_CASES = 600;

/** loadBundle's answer as data */
export function answer(loadBundle: (doc: unknown) => unknown, doc: unknown): "ACCEPTED" | { error: string; message: string; problems: unknown } {
  try {
    loadBundle(doc);
    return "ACCEPTED";
  } catch (e) {
    const err = e as Error & { details?: { problems?: unknown } };
    return { error: err.name, message: err.message, problems: err.details?.problems };
  }
}

/** the cases: bases (object and JSON text), then mutations; odd mutations are given as JSON text */
export function cases(): { name: string; input: unknown }[] {
  const bases = baseBundles().flatMap((b, i) => [{ name: `base ${i}`, input: b as unknown }, { name: `base ${i} as JSON text`, input: JSON.stringify(b) }]);
  const mutated = mutatedBundles(FROZEN_CASES).map((m, i) => ({ name: m.name, input: i % 2 ? JSON.stringify(m.doc) : (m.doc as unknown) }));
  return [...bases, ...mutated];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  const sdkArg = argv.indexOf("--sdk") >= 0 ? argv[argv.indexOf("--sdk") + 1]! : "sdk/src/index.ts";
  const label = argv.indexOf("--label") >= 0 ? argv[argv.indexOf("--label") + 1]! : sdkArg;
  const sdk = (await import(pathToFileURL(resolve(sdkArg)).href)) as { loadBundle: (doc: unknown) => unknown };
  const out = {
    description: `FROZEN. loadBundle's answer for ${FROZEN_CASES} deterministic mutations (test/sdk/helpers/bundle-mutations.ts) of three well-formed bundles, made with the SDK of ${label} by test/sdk/helpers/make-bundle-refusals.ts. Every refusal must stay the same refusal, with the same message and problem list.`,
    cases: cases().map((c) => ({ name: c.name, answer: answer(sdk.loadBundle, c.input) })),
  };
  // one case per line: reviewable diffs, a third of the indented size
  const text = `{\n "description": ${JSON.stringify(out.description)},\n "cases": [\n${out.cases.map((c) => "  " + JSON.stringify(c)).join(",\n")}\n ]\n}\n`;
  writeFileSync(new URL("../bundle-refusals.json", import.meta.url), text);
  const refused = out.cases.filter((c) => c.answer !== "ACCEPTED").length;
  console.log(`wrote test/sdk/bundle-refusals.json: ${out.cases.length} cases, ${refused} refused, ${out.cases.length - refused} accepted`);
}
