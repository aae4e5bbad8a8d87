/**
 * The consortium file: jurisdictions, material types, members with their roles and entitlements, and the
 * governance threshold. `npm start` bootstraps the local consortium from `config/local-consortium.json`;
 * `tongban consortium deploy --spec <file>` does the same against any chain.
 */
import { readFileSync } from "node:fs";
import { validateUscc } from "@tongban/sdk";

export const ROLE_NAMES = ["GOVERNOR", "IDENTITY_PROVIDER", "CATALOGUER", "AUDITOR", "REVOCATION_AUTHORITY"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface JurisdictionSpec { code: number; parent: number; name?: string }
export interface MaterialTypeSpec { code: string; name?: string }
export interface EntitlementSpec { type: string; jurisdiction: number }
export interface MemberSpec {
  /** short local name (data folder, log prefix) */
  key: string;
  name?: string;
  /** 18-character unified social credit code (GB 32100) */
  uscc: string;
  jurisdiction: number;
  roles?: RoleName[];
  entitlements?: EntitlementSpec[];
  /** for a local consortium: the HTTP API and libp2p ports of its node */
  apiPort?: number;
  p2pPort?: number;
}
export interface ConsortiumSpec {
  jurisdictions: JurisdictionSpec[];
  materialTypes: MaterialTypeSpec[];
  members: MemberSpec[];
  governance: { threshold: number };
}

/** A consortium file that is wrong, with the JSON path of what is wrong. */
export class ConsortiumSpecError extends Error {
  override readonly name = "ConsortiumSpecError";
  constructor(readonly path: string, reason: string) {
    super(`consortium spec ${path}: ${reason}`);
  }
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

/** Check a parsed consortium file; every error names the JSON path. */
export function validateConsortiumSpec(raw: unknown): ConsortiumSpec {
  const fail = (path: string, why: string): never => { throw new ConsortiumSpecError(path, why); };
  if (typeof raw !== "object" || raw === null) fail("$", "must be an object");
  const s = raw as Record<string, unknown>;
  for (const k of ["jurisdictions", "materialTypes", "members"]) if (!Array.isArray(s[k])) fail(`$.${k}`, "must be an array");
  const codes = new Set<number>([0]);
  (s.jurisdictions as unknown[]).forEach((j, i) => {
    const p = `$.jurisdictions[${i}]`;
    const r = j as JurisdictionSpec;
    if (!isInt(r?.code) || r.code < 100000 || r.code > 999999) fail(`${p}.code`, "must be a 6-digit GB/T 2260 division code");
    if (!isInt(r.parent) || !codes.has(r.parent)) fail(`${p}.parent`, `must be 0 or a jurisdiction listed before it (got ${String(r.parent)})`);
    if (codes.has(r.code)) fail(`${p}.code`, `${r.code} is listed twice`);
    codes.add(r.code);
  });
  const types = new Set<string>();
  (s.materialTypes as unknown[]).forEach((t, i) => {
    const code = (t as MaterialTypeSpec)?.code;
    if (typeof code !== "string" || !/^[\x21-\x7e]{1,31}$/.test(code)) fail(`$.materialTypes[${i}].code`, "must be 1-31 printable ASCII characters");
    if (types.has(code)) fail(`$.materialTypes[${i}].code`, `${code} is listed twice`);
    types.add(code);
  });
  const keys = new Set<string>();
  const usccs = new Set<string>();
  let governors = 0;
  (s.members as unknown[]).forEach((m, i) => {
    const p = `$.members[${i}]`;
    const r = m as MemberSpec;
    if (typeof r?.key !== "string" || !/^[a-z0-9-]{1,32}$/.test(r.key)) fail(`${p}.key`, "must be 1-32 of a-z, 0-9, -");
    if (keys.has(r.key)) fail(`${p}.key`, `${r.key} is used twice`);
    keys.add(r.key);
    try { validateUscc(r.uscc); } catch (e) { fail(`${p}.uscc`, (e as Error).message); }
    if (usccs.has(r.uscc)) fail(`${p}.uscc`, `${r.uscc} is used twice`);
    usccs.add(r.uscc);
    if (!codes.has(r.jurisdiction) || r.jurisdiction === 0) fail(`${p}.jurisdiction`, `${String(r.jurisdiction)} is not a listed jurisdiction`);
    for (const [k, role] of (r.roles ?? []).entries()) {
      if (!ROLE_NAMES.includes(role)) fail(`${p}.roles[${k}]`, `unknown role ${String(role)}; one of ${ROLE_NAMES.join(", ")}`);
      if (role === "GOVERNOR") governors++;
    }
    for (const [k, e] of (r.entitlements ?? []).entries()) {
      if (!types.has(e?.type)) fail(`${p}.entitlements[${k}].type`, `${String(e?.type)} is not a listed material type`);
      if (!codes.has(e.jurisdiction) || e.jurisdiction === 0) fail(`${p}.entitlements[${k}].jurisdiction`, `${String(e.jurisdiction)} is not a listed jurisdiction`);
    }
  });
  const g = s.governance as { threshold?: unknown } | undefined;
  if (!isInt(g?.threshold) || g.threshold < 1 || g.threshold > governors) {
    fail("$.governance.threshold", `must be an integer from 1 to the number of governors (${governors})`);
  }
  return raw as ConsortiumSpec;
}

/** Read and check a consortium file. */
export function loadConsortiumSpec(file: string): ConsortiumSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConsortiumSpecError("$", `${file} cannot be read as JSON: ${(e as Error).message}`);
  }
  return validateConsortiumSpec(raw);
}
