/**
 * Canonical hashing of catalogue texts (version 1). The chain holds only these hashes; the texts live off
 * chain (the provider's node, the entry's `uri`). Frozen by test/vectors/catalogue.json.
 *
 * TEXT (title, description, standard, purpose, legal basis, reasons):
 *   1. Unicode NFC normalisation;
 *   2. CRLF and CR become LF;
 *   3. trailing white space (JS `trimEnd`, which includes U+3000) is removed from every line;
 *   4. leading and trailing white space of the whole text is removed (JS `trim`); inner spacing is kept.
 *   The result must not be empty.
 *   hash = keccak256( UTF-8("tongban.catalogue.v1." + kind) || 0x00 || UTF-8(canonical text) )
 *
 * FIELD LIST: an ordered, non-empty array of fields {name, label, type, required, length?, dataItem?,
 *   description?}; `name` matches ^[A-Za-z][A-Za-z0-9_]{0,63}$ and is unique; `label` and `description` are
 *   canonical TEXT; `type` is one of FIELD_TYPES; `length` a positive integer; `dataItem` a catalogue code
 *   (as text). The canonical form is the JSON array in the given order, each object with its keys in sorted
 *   order, absent optional keys omitted, no white space (JSON.stringify of such objects), and
 *   hash = keccak256( UTF-8("tongban.catalogue.v1.fields") || 0x00 || UTF-8(canonical JSON) ).
 */
import { keccak256, toUtf8Bytes, concat } from "ethers";
import { CatalogueInputError } from "./codes.js";

export const CATALOGUE_HASH_VERSION = 1;

/** Kinds of catalogue text, each hashed under its own tag (domain separation). */
export type CatalogueTextKind = "title" | "description" | "standard" | "purpose" | "legal-basis" | "reason" | "system" | "duty";

export const FIELD_TYPES = ["string", "integer", "decimal", "boolean", "date", "datetime", "binary"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** One field (column) of a data resource. */
export interface CatalogueField {
  /** column identifier */
  name: string;
  /** display name, e.g. 统一社会信用代码 */
  label: string;
  type: FieldType;
  required: boolean;
  length?: number;
  /** data-element code of the city standard this field carries */
  dataItem?: string;
  description?: string;
}

/**
 * The canonical form of a text (rules in the module header). Throws {@link CatalogueInputError} if empty.
 * @example canonicalText("  营业执照信息 \r\n") // => "营业执照信息"
 */
export function canonicalText(text: string, field = "text"): string {
  if (typeof text !== "string") throw new CatalogueInputError(`${field} must be a string`, { field, value: text });
  const out = text.normalize("NFC").replace(/\r\n?/g, "\n").split("\n").map((l) => l.trimEnd()).join("\n").trim();
  if (out.length === 0) throw new CatalogueInputError(`${field} must not be empty`, { field, value: text });
  return out;
}

function tagged(tag: string, body: string): string {
  return keccak256(concat([toUtf8Bytes(`tongban.catalogue.v1.${tag}`), new Uint8Array([0]), toUtf8Bytes(body)]));
}

/**
 * keccak256 of a canonical catalogue text under its kind's tag.
 * @example hashCatalogueText("title", "企业营业执照信息") // => "0x…"
 */
export function hashCatalogueText(kind: CatalogueTextKind, text: string): string {
  return tagged(kind, canonicalText(text, kind));
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const ITEM_RE = /^[\x21-\x7e]{1,31}$/;

/**
 * The canonical JSON of a field list (rules in the module header). Throws {@link CatalogueInputError} naming
 * the field (`fields[i].name`, ...).
 * @example canonicalFields([{ name: "uscc", label: " 代码 ", type: "string", required: true }])
 *   // => '[{"label":"代码","name":"uscc","required":true,"type":"string"}]'
 */
export function canonicalFields(fields: readonly CatalogueField[]): string {
  if (!Array.isArray(fields) || fields.length === 0) throw new CatalogueInputError("fields must be a non-empty array", { field: "fields", value: fields });
  const seen = new Set<string>();
  const out = fields.map((f, i) => {
    const at = `fields[${i}]`;
    if (typeof f !== "object" || f === null) throw new CatalogueInputError(`${at} must be an object`, { field: at, value: f });
    if (typeof f.name !== "string" || !NAME_RE.test(f.name)) throw new CatalogueInputError(`${at}.name must match ${NAME_RE}`, { field: `${at}.name`, value: f.name });
    if (seen.has(f.name)) throw new CatalogueInputError(`${at}.name is a duplicate`, { field: `${at}.name`, value: f.name });
    seen.add(f.name);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type)) throw new CatalogueInputError(`${at}.type must be one of ${FIELD_TYPES.join(", ")}`, { field: `${at}.type`, value: f.type });
    if (typeof f.required !== "boolean") throw new CatalogueInputError(`${at}.required must be a boolean`, { field: `${at}.required`, value: f.required });
    const o: Record<string, unknown> = {};
    // keys in sorted order: dataItem, description, label, length, name, required, type
    if (f.dataItem !== undefined) {
      if (typeof f.dataItem !== "string" || !ITEM_RE.test(f.dataItem)) throw new CatalogueInputError(`${at}.dataItem must be a catalogue code`, { field: `${at}.dataItem`, value: f.dataItem });
      o.dataItem = f.dataItem;
    }
    if (f.description !== undefined) o.description = canonicalText(f.description, `${at}.description`);
    o.label = canonicalText(f.label, `${at}.label`);
    if (f.length !== undefined) {
      if (!Number.isSafeInteger(f.length) || f.length < 1) throw new CatalogueInputError(`${at}.length must be a positive integer`, { field: `${at}.length`, value: f.length });
      o.length = f.length;
    }
    o.name = f.name;
    o.required = f.required;
    o.type = f.type;
    return o;
  });
  return JSON.stringify(out);
}

/**
 * keccak256 of the canonical field list.
 * @example hashFields([{ name: "uscc", label: "统一社会信用代码", type: "string", length: 18, required: true }])
 */
export function hashFields(fields: readonly CatalogueField[]): string {
  return tagged("fields", canonicalFields(fields));
}
