/**
 * `tongban import`: registers a department's existing stock through a node's API in bulk requests, resumable.
 *
 * Input: a CSV file (one material per row, columns named like the API's fields; see {@link rowToMaterial}) or a
 * directory of `*.json` material descriptors. A state file records every material the node ACKNOWLEDGED
 * (record key -> material id), written atomically after each acknowledged chunk; a re-run skips what is
 * recorded. A chunk that was sent but whose answer was lost is sent again under the same Idempotency-Key, and
 * the node deduplicates by leaf, so an interruption at any point neither loses nor duplicates a material.
 * `issuedAt` defaults to `validFrom` (not "now") so that a resent record has the same leaf.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  registerMaterials,
  NodeApiError,
  NodeTransportError,
  NodeUnavailableError,
  type NodeClient,
  type NodeMaterialInput,
} from "@tongban/sdk";
import { parseCsv } from "./csv.js";

export interface ImportRecord {
  /** stable identity of the record within the input (row key or line, file name) + digest of its fields */
  key: string;
  /** where it came from, for messages ("stock.csv:17") */
  where: string;
  material: Omit<NodeMaterialInput, "content"> & { file?: string };
}

export interface ImportState {
  version: 1;
  input: string;
  total: number;
  /** record key -> acknowledged material id */
  acknowledged: Record<string, string>;
  complete: boolean;
  updatedAt: string;
}

export interface ImportOptions {
  input: string;
  client: NodeClient;
  /** default: `<input>.import-state.json` */
  statePath?: string;
  /** materials per bulk request (default 500) */
  batchSize?: number;
  /** values for columns the input leaves empty (e.g. typeCode, jurisdiction) */
  defaults?: Partial<NodeMaterialInput>;
  onProgress?: (acknowledged: number, total: number) => void;
  /** stop after the chunk in flight */
  signal?: AbortSignal;
  /** transport retries per chunk (default 5) */
  retries?: number;
}

export interface ImportResult {
  total: number;
  acknowledged: number;
  /** acknowledged in an earlier run */
  resumed: number;
  /** acknowledged in this run */
  sent: number;
  /** of those, the node already had */
  duplicates: number;
  complete: boolean;
  statePath: string;
}

export class ImportError extends Error {
  override name = "ImportError";
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);

/** unix seconds from "1700000000" or an ISO date/time ("2024-01-31", "2024-01-31T08:00:00+08:00"). */
export function toUnix(v: string, field: string, where: string): number {
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00+08:00` : s);
  if (Number.isNaN(t)) throw new ImportError(`${where}: ${field} "${v}" is neither unix seconds nor an ISO date`, { where, field });
  return Math.floor(t / 1000);
}

/**
 * A CSV row as a material. Columns: typeCode, jurisdiction, holderIdType + holderIdNumber | holderRef,
 * file (content, relative to the CSV) | contentHash, hashAlg, issuedAt, validFrom, validUntil, version,
 * supersedes, key (optional own record id). Dates are unix seconds or ISO dates (a bare date is Beijing time).
 * Empty cells take `defaults`.
 */
export function rowToMaterial(v: Record<string, string>, where: string, defaults: Partial<NodeMaterialInput> = {}): ImportRecord["material"] {
  const get = (k: string) => (v[k] !== undefined && v[k].trim() !== "" ? v[k].trim() : undefined);
  const num = (k: string) => {
    const s = get(k);
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw new ImportError(`${where}: ${k} "${s}" is not a whole number`, { where, field: k });
    return Number(s);
  };
  const date = (k: string) => (get(k) === undefined ? undefined : toUnix(get(k)!, k, where));
  const m: ImportRecord["material"] = { ...(defaults as ImportRecord["material"]) };
  const set = <K extends keyof ImportRecord["material"]>(k: K, val: ImportRecord["material"][K] | undefined) => {
    if (val !== undefined) m[k] = val;
  };
  set("typeCode", get("typeCode"));
  set("jurisdiction", num("jurisdiction"));
  if (get("holderIdNumber") !== undefined) m.holder = { idType: get("holderIdType") ?? "RESIDENT_ID", idNumber: get("holderIdNumber")! };
  set("holderRef", get("holderRef"));
  set("file", get("file"));
  set("contentHash", get("contentHash"));
  set("hashAlg", num("hashAlg"));
  set("validFrom", date("validFrom"));
  set("validUntil", date("validUntil"));
  set("issuedAt", date("issuedAt"));
  set("version", num("version"));
  set("supersedes", get("supersedes"));
  if (m.typeCode === undefined || m.jurisdiction === undefined || m.validFrom === undefined) {
    throw new ImportError(`${where}: typeCode, jurisdiction and validFrom are required (column or --type/--jurisdiction)`, { where });
  }
  if (m.issuedAt === undefined) m.issuedAt = m.validFrom;
  return m;
}

/** Read the input into records (content is loaded later, per chunk). */
export function readInput(input: string, defaults: Partial<NodeMaterialInput> = {}): ImportRecord[] {
  const abs = resolve(input);
  if (!existsSync(abs)) throw new ImportError(`input ${input} does not exist`, { input });
  if (statSync(abs).isDirectory()) {
    const files = readdirSync(abs).filter((f) => f.endsWith(".json")).sort();
    if (files.length === 0) throw new ImportError(`directory ${input} holds no *.json material descriptors`, { input });
    return files.map((f) => {
      const where = join(input, f);
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(readFileSync(join(abs, f), "utf8")) as Record<string, unknown>;
      } catch (e) {
        throw new ImportError(`${where}: not valid JSON`, { where }, { cause: e });
      }
      const material = { ...defaults, ...j } as ImportRecord["material"];
      if (material.issuedAt === undefined && material.validFrom !== undefined) material.issuedAt = material.validFrom;
      if (material.file) material.file = resolve(abs, material.file);
      return { key: `${f}:${digest(material)}`, where, material };
    });
  }
  const { rows } = parseCsv(readFileSync(abs, "utf8"));
  const base = dirname(abs);
  return rows.map((r) => {
    const where = `${basename(input)}:${r.line}`;
    const material = rowToMaterial(r.values, where, defaults);
    if (material.file) material.file = resolve(base, material.file);
    const id = r.values.key?.trim() || `line${r.line}`;
    return { key: `${id}:${digest(material)}`, where, material };
  });
}

function loadState(path: string, input: string, total: number): ImportState {
  if (!existsSync(path)) return { version: 1, input, total, acknowledged: {}, complete: false, updatedAt: new Date().toISOString() };
  let s: ImportState;
  try {
    s = JSON.parse(readFileSync(path, "utf8")) as ImportState;
  } catch (e) {
    throw new ImportError(`state file ${path} is not valid JSON (delete it to start over)`, { statePath: path }, { cause: e });
  }
  if (s.version !== 1 || typeof s.acknowledged !== "object") throw new ImportError(`state file ${path} is not an import state`, { statePath: path });
  return { ...s, input, total };
}

/** Write-then-rename with fsync: the state file is always either the old or the new complete version. */
function saveState(path: string, s: ImportState): void {
  s.updatedAt = new Date().toISOString();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(s, null, 1));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export async function runImport(opts: ImportOptions): Promise<ImportResult> {
  const records = readInput(opts.input, opts.defaults);
  const statePath = resolve(opts.statePath ?? `${opts.input.replace(/\/+$/, "")}.import-state.json`);
  const state = loadState(statePath, resolve(opts.input), records.length);
  const keys = new Set<string>();
  for (const r of records) {
    if (keys.has(r.key)) throw new ImportError(`${r.where}: duplicate record (same key and fields as an earlier one)`, { where: r.where, key: r.key });
    keys.add(r.key);
  }
  const todo = records.filter((r) => !(r.key in state.acknowledged));
  const resumed = records.length - todo.length;
  const size = Math.max(1, opts.batchSize ?? 500);
  let sent = 0;
  let duplicates = 0;
  const ackCount = () => records.length - todo.length + sent;
  opts.onProgress?.(ackCount(), records.length);
  for (let i = 0; i < todo.length; i += size) {
    if (opts.signal?.aborted) break;
    const chunk = todo.slice(i, i + size);
    const materials: NodeMaterialInput[] = chunk.map((r) => {
      const { file, ...m } = r.material;
      if (!file) return m;
      try {
        return { ...m, content: new Uint8Array(readFileSync(file)) };
      } catch (e) {
        throw new ImportError(`${r.where}: cannot read content file ${file}`, { where: r.where, file }, { cause: e });
      }
    });
    const idempotencyKey = `import:${digest(chunk.map((r) => r.key))}`;
    let acks;
    for (let attempt = 0; ; attempt++) {
      try {
        acks = await registerMaterials(opts.client, { materials, idempotencyKey });
        break;
      } catch (e) {
        const retryable = e instanceof NodeTransportError || e instanceof NodeUnavailableError;
        if (retryable && attempt < (opts.retries ?? 5)) {
          await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
          continue;
        }
        saveState(statePath, state);
        if (e instanceof NodeApiError) {
          const idx = (e.details.details as { index?: number }).index;
          const rec = chunk[typeof idx === "number" ? idx : 0];
          throw new ImportError(
            `${typeof idx === "number" ? rec.where : `chunk starting at ${chunk[0].where}`}: node refused (${e.code}): ${e.message}`,
            { where: typeof idx === "number" ? rec.where : chunk[0].where, code: e.code, api: e.details.details },
            { cause: e },
          );
        }
        throw new ImportError(`node unreachable after ${attempt + 1} attempts: ${(e as Error).message}`, { where: chunk[0].where }, { cause: e });
      }
    }
    acks.forEach((a, k) => {
      state.acknowledged[chunk[k].key] = a.id;
      if (a.duplicate) duplicates++;
    });
    sent += chunk.length;
    saveState(statePath, state);
    opts.onProgress?.(ackCount(), records.length);
  }
  state.complete = ackCount() === records.length;
  saveState(statePath, state);
  return { total: records.length, acknowledged: ackCount(), resumed, sent, duplicates, complete: state.complete, statePath };
}
