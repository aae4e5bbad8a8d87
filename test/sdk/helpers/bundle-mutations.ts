/**
 * Deterministic well-formed proof bundles and thousands of mutations of them (seeded PRNG), for the bundle
 * validation tests: test/sdk/bundle-shape.test.ts and the frozen refusals in test/sdk/bundle-refusals.json
 * (made by make-bundle-refusals.ts). Pure data, no SDK import: the same documents whichever SDK judges them.
 * Changing the generator changes the documents: remake the frozen file from the SDK version whose refusals
 * are the reference (see make-bundle-refusals.ts).
 */

const h = (byte: string) => "0x" + byte.repeat(32);

/** Three well-formed bundles: plain with txHash, EIP-712 seal, SM2 seal with userId and a checkpoint. */
export function baseBundles(): Record<string, unknown>[] {
  const header = {
    typeCode: "0x424c2d3331303131352d30303100000000000000000000000000000000000000",
    issuer: "0x3131333130313135303032343138333231460000000000000000000000000000",
    holderRef: h("5a"), contentHash: h("c3"), hashAlg: 1,
    issuedAt: "1767225600", validFrom: "1767225600", validUntil: "1924905600", version: 1, supersedes: h("00"),
  };
  const plain = {
    version: "tongban/proof-bundle@1", header, leaf: h("11"), proof: [h("21"), h("22"), h("23"), h("24")], root: h("31"),
    anchor: { chainId: "31337", contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3", blockNumber: "7", txHash: h("41") },
  };
  const eip712 = {
    ...plain, anchor: { chainId: "1", contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3", blockNumber: "123456" },
    seal: { scheme: "eip712-secp256k1", signer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", signature: "0x" + "ab".repeat(65) },
  };
  const sm2 = {
    ...plain, proof: [],
    seal: { scheme: "sm2-sm3", publicKey: "04" + "cd".repeat(64), signature: "EF".repeat(64), userId: "1234567812345678" },
    checkpoints: [{ chainId: "5", contract: "0x" + "12".repeat(20), extra: { any: true } }],
  };
  return [plain, eip712, sm2].map((b) => JSON.parse(JSON.stringify(b)) as Record<string, unknown>);
}

/** a small deterministic PRNG (mulberry32), so a failure can be replayed from its seed */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** values that are wrong (or right) in interesting ways for some field */
const VALUES: unknown[] = [
  null, true, 0, 1, -1, 1.5, 255, 256, 4294967295, 4294967296, Number.MAX_SAFE_INTEGER, "", "0", "01", "1", "0x", "0x12",
  h("ab"), h("AB"), "0X" + "ab".repeat(32), "0x" + "ab".repeat(31) + "ag", "0x" + "ab".repeat(33), "0x" + "ab".repeat(32) + "\n",
  "0x" + "12".repeat(20), "0x" + "12".repeat(21), "18446744073709551615", "18446744073709551616", "99999999999999999999",
  "100000000000000000000", "1".repeat(78), "1".repeat(79), "tongban/proof-bundle@1", "tongban/proof-bundle@2",
  "eip712-secp256k1", "sm2-sm3", "0x" + "ab".repeat(65), "04" + "cd".repeat(64), "cd".repeat(64), "x".repeat(64), "x".repeat(65),
  "😀".repeat(33), "😀".repeat(32), {}, [], [h("ab")], { chainId: "1", contract: "0x" + "12".repeat(20) },
];

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) {
      const p = [...at, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths((v as Record<string, unknown>)[k], p, out);
    }
  }
  return out;
}

function parentOf(doc: unknown, p: Path): Record<string | number, unknown> | undefined {
  let cur = doc as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) {
    cur = cur[k] as Record<string | number, unknown>;
    if (cur === null || typeof cur !== "object") return undefined;
  }
  return cur;
}

function valueAt(doc: unknown, p: Path): unknown {
  let cur = doc;
  for (const k of p) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

/** one random change to `doc` (in place); returns its description */
function mutateOnce(doc: Record<string, unknown>, rnd: () => number): string {
  const all = paths(doc);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const op = rnd();
  if (op < 0.12) {
    // an unexpected property on the document or on one of its objects
    const isObj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    const p = pick([[], ...all.filter((q) => isObj(valueAt(doc, q)))]);
    const target = valueAt(doc, p) as Record<string, unknown>;
    const key = pick(["extra", "Leaf", "leaf", "userId", "txHash", "__proto__x", "scheme", "0"]);
    target[key] = pick(VALUES);
    return `add ${[...p, key].join("/")}`;
  }
  const p = pick(all);
  const parent = parentOf(doc, p);
  if (!parent) return "noop";
  const k = p[p.length - 1]!;
  if (op < 0.3) {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
    return `delete ${p.join("/")}`;
  }
  if (op < 0.36 && Array.isArray(parent[k])) {
    const arr = parent[k] as unknown[];
    const n = pick([63, 64, 65]);
    while (arr.length < n) arr.push(h("77"));
    return `grow ${p.join("/")} to ${n}`;
  }
  const v = pick(VALUES);
  parent[k] = typeof v === "object" && v !== null ? JSON.parse(JSON.stringify(v)) : v;
  return `set ${p.join("/")} = ${JSON.stringify(v)?.slice(0, 20)}`;
}

/** `count` mutated documents (1-3 changes each) of the base bundles, deterministic for a seed */
export function mutatedBundles(count: number, seed = 20261125): { name: string; doc: Record<string, unknown> }[] {
  const rnd = prng(seed);
  const bases = baseBundles();
  const out: { name: string; doc: Record<string, unknown> }[] = [];
  for (let i = 0; i < count; i++) {
    const b = Math.floor(rnd() * bases.length);
    const doc = JSON.parse(JSON.stringify(bases[b])) as Record<string, unknown>;
    const changes = 1 + Math.floor(rnd() * rnd() * 3);
    const what: string[] = [];
    for (let c = 0; c < changes; c++) what.push(mutateOnce(doc, rnd));
    out.push({ name: `#${i} base ${b}: ${what.join("; ")}`, doc });
  }
  return out;
}
