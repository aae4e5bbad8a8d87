/**
 * Catalogue entries: the document a provider writes (texts + classification), its on-chain EntryInput (hashes
 * and codes), the version hash rule, and decoders for the contract's views.
 */
import { AbiCoder, keccak256 } from "ethers";
import { isBytes32 } from "../bytes.js";
import {
  CatalogueInputError, DataGrade, DrawStatus, EntryStatus, OpenType, SharingType, UpdateCycle, catalogueCode, codeName, codeOf,
  type DataGradeName, type DrawStatusName, type EntryStatusName, type OpenTypeName, type SharingTypeName, type UpdateCycleName,
} from "./codes.js";
import { hashCatalogueText, hashFields, type CatalogueField } from "./hash.js";

export const MAX_DATA_ITEMS = 32;
export const MAX_SCENARIO_RESOURCES = 64;
export const MAX_URI_BYTES = 256;

/** What a provider states about a data resource (the full texts; the chain gets their hashes). */
export interface CatalogueEntryDoc {
  /** resource code (资源代码), 1..31 ASCII */
  resourceCode: string;
  title: string;
  description: string;
  fields: CatalogueField[];
  /** data standard: its text (hashed as kind "standard") or its hash, and a version number */
  standard: { text?: string; hash?: string; version: number };
  grade: DataGradeName;
  /** the city's level code 1..4 */
  level: number;
  sharing: SharingTypeName;
  open: OpenTypeName;
  updateCycle: UpdateCycleName;
  /** one of the provider's registered duty codes (职责) */
  duty: string;
  /** one of the provider's registered active information systems */
  system: string;
  /** where the full text is published (<= 256 bytes) */
  uri?: string;
  /** data-element codes this entry is the one authoritative source of (0..32, distinct) */
  dataItems?: string[];
}

/** The contract's EntryInput tuple, as ethers/typechain take it. */
export interface EntryInputStruct {
  resourceCode: string;
  titleHash: string;
  descriptionHash: string;
  fieldsHash: string;
  standardHash: string;
  standardVersion: number;
  grade: number;
  level: number;
  sharing: number;
  open: number;
  updateCycle: number;
  dutyCode: string;
  systemCode: string;
  uri: string;
  dataItems: string[];
}

/**
 * The classification rules of the contract, checked before sending: level 1..4; CORE has level 4, is never
 * OPEN, never shared UNCONDITIONAL; IMPORTANT has level >= 3 and is never OPEN; OPEN implies UNCONDITIONAL.
 * Throws {@link CatalogueInputError} with field "classification".
 * @example checkClassification({ grade: "CORE", level: 4, sharing: "NOT_SHARED", open: "NOT_OPEN" }) // passes
 */
export function checkClassification(c: { grade: DataGradeName; level: number; sharing: SharingTypeName; open: OpenTypeName }): void {
  codeOf(DataGrade, c.grade, "grade");
  codeOf(SharingType, c.sharing, "sharing");
  codeOf(OpenType, c.open, "open");
  if (!Number.isInteger(c.level) || c.level < 1 || c.level > 4) throw new CatalogueInputError("level must be 1..4", { field: "level", value: c.level });
  const bad =
    (c.grade === "CORE" && (c.level !== 4 || c.sharing === "UNCONDITIONAL" || c.open !== "NOT_OPEN")) ||
    (c.grade === "IMPORTANT" && (c.level < 3 || c.open === "OPEN")) ||
    (c.open === "OPEN" && c.sharing !== "UNCONDITIONAL");
  if (bad) {
    throw new CatalogueInputError(`inconsistent classification ${c.grade}/${c.level}/${c.sharing}/${c.open}`, {
      field: "classification", value: { grade: c.grade, level: c.level, sharing: c.sharing, open: c.open },
      reason: "CORE: level 4, not OPEN, not UNCONDITIONAL; IMPORTANT: level >= 3, not OPEN; OPEN requires UNCONDITIONAL",
    });
  }
}

/**
 * Encodes a provider's document into the contract's EntryInput (hashing texts canonically). Throws
 * {@link CatalogueInputError} naming the bad field.
 * @example const input = encodeEntryInput(doc); await catalogue.registerEntry(input);
 */
export function encodeEntryInput(doc: CatalogueEntryDoc): EntryInputStruct {
  if (typeof doc !== "object" || doc === null) throw new CatalogueInputError("entry must be an object", { field: "entry", value: doc });
  checkClassification(doc);
  const std = doc.standard;
  if (typeof std !== "object" || std === null) throw new CatalogueInputError("standard must be an object", { field: "standard", value: std });
  let standardHash: string;
  if (std.hash !== undefined) {
    if (!isBytes32(std.hash) || /^0x0{64}$/.test(std.hash)) throw new CatalogueInputError("standard.hash must be a nonzero bytes32", { field: "standard.hash", value: std.hash });
    standardHash = std.hash.toLowerCase();
  } else {
    standardHash = hashCatalogueText("standard", std.text as string);
  }
  if (!Number.isInteger(std.version) || std.version < 0 || std.version > 0xffffffff) {
    throw new CatalogueInputError("standard.version must be a uint32", { field: "standard.version", value: std.version });
  }
  const uri = doc.uri ?? "";
  if (typeof uri !== "string" || Buffer.byteLength(uri, "utf8") > MAX_URI_BYTES) throw new CatalogueInputError(`uri must be a string of at most ${MAX_URI_BYTES} bytes`, { field: "uri", value: uri });
  const items = (doc.dataItems ?? []).map((c, i) => catalogueCode(c, `dataItems[${i}]`));
  if (items.length > MAX_DATA_ITEMS) throw new CatalogueInputError(`at most ${MAX_DATA_ITEMS} data items`, { field: "dataItems", value: items.length });
  if (new Set(items).size !== items.length) throw new CatalogueInputError("dataItems must be distinct", { field: "dataItems", value: doc.dataItems });
  return {
    resourceCode: catalogueCode(doc.resourceCode, "resourceCode"),
    titleHash: hashCatalogueText("title", doc.title),
    descriptionHash: hashCatalogueText("description", doc.description),
    fieldsHash: hashFields(doc.fields),
    standardHash,
    standardVersion: std.version,
    grade: DataGrade[doc.grade],
    level: doc.level,
    sharing: SharingType[doc.sharing],
    open: OpenType[doc.open],
    updateCycle: codeOf(UpdateCycle, doc.updateCycle, "updateCycle"),
    dutyCode: catalogueCode(doc.duty, "duty"),
    systemCode: catalogueCode(doc.system, "system"),
    uri,
    dataItems: items,
  };
}

export const ENTRY_INPUT_TUPLE =
  "tuple(bytes32 resourceCode,bytes32 titleHash,bytes32 descriptionHash,bytes32 fieldsHash,bytes32 standardHash,uint32 standardVersion,uint8 grade,uint8 level,uint8 sharing,uint8 open,uint8 updateCycle,bytes32 dutyCode,bytes32 systemCode,string uri,bytes32[] dataItems)";

/**
 * The version hash the contract stores: keccak256(abi.encode(resourceCode, version, prevVersionHash, input)).
 * @example entryVersionHash(input, 1, ZeroHash) === (await catalogue.getEntry(code)).versionHash
 */
export function entryVersionHash(input: EntryInputStruct, version: number, prevVersionHash: string): string {
  const t = [input.resourceCode, input.titleHash, input.descriptionHash, input.fieldsHash, input.standardHash, input.standardVersion,
    input.grade, input.level, input.sharing, input.open, input.updateCycle, input.dutyCode, input.systemCode, input.uri, input.dataItems];
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint32", "bytes32", ENTRY_INPUT_TUPLE], [input.resourceCode, version, prevVersionHash, t]));
}

// ------------------------------------------------------------------------------------------------ decoding

/** An entry as read from the chain, with names for codes. */
export interface CatalogueEntry {
  resourceCode: string;
  provider: string;
  titleHash: string;
  descriptionHash: string;
  fieldsHash: string;
  standardHash: string;
  standardVersion: number;
  grade: DataGradeName;
  level: number;
  sharing: SharingTypeName;
  open: OpenTypeName;
  updateCycle: UpdateCycleName;
  dutyCode: string;
  systemCode: string;
  uri: string;
  dataItems: string[];
  versionHash: string;
  prevVersionHash: string;
  version: number;
  publishedVersion: number;
  /** the sharing type that governs use (the published version's); undefined until published */
  publishedSharing?: SharingTypeName;
  status: EntryStatusName;
  /** ACTIVE and the latest version is not yet published */
  pending: boolean;
  registeredAt: number;
  updatedAt: number;
}

type R = Record<string, unknown> & ArrayLike<unknown>;
const n = (v: unknown) => Number(v as bigint);
const s = (v: unknown) => String(v);

/**
 * Decodes `getEntry(code)`; returns undefined for a code never registered.
 * @example decodeEntry(await catalogue.getEntry(catalogueCode("R310115-0001")))?.pending
 */
export function decodeEntry(raw: unknown): CatalogueEntry | undefined {
  const e = raw as R;
  const status = codeName(EntryStatus, n(e.status), "status");
  if (status === "NONE") return undefined;
  const i = e.input as R;
  const version = n(e.version);
  const publishedVersion = n(e.publishedVersion);
  return {
    resourceCode: s(i.resourceCode), provider: s(e.provider), titleHash: s(i.titleHash), descriptionHash: s(i.descriptionHash),
    fieldsHash: s(i.fieldsHash), standardHash: s(i.standardHash), standardVersion: n(i.standardVersion),
    grade: codeName(DataGrade, n(i.grade), "grade"), level: n(i.level), sharing: codeName(SharingType, n(i.sharing), "sharing"),
    open: codeName(OpenType, n(i.open), "open"), updateCycle: codeName(UpdateCycle, n(i.updateCycle), "updateCycle"),
    dutyCode: s(i.dutyCode), systemCode: s(i.systemCode), uri: s(i.uri), dataItems: Array.from(i.dataItems as ArrayLike<unknown>, s),
    versionHash: s(e.versionHash), prevVersionHash: s(e.prevVersionHash), version, publishedVersion,
    ...(publishedVersion > 0 ? { publishedSharing: codeName(SharingType, n(e.publishedSharing), "publishedSharing") } : {}),
    status, pending: status === "ACTIVE" && publishedVersion < version,
    registeredAt: n(e.registeredAt), updatedAt: n(e.updatedAt),
  };
}

export interface CatalogueScenario {
  scenarioId: string;
  consumer: string;
  purposeHash: string;
  legalBasisHash: string;
  closed: boolean;
  registeredAt: number;
  resources: string[];
}

/**
 * Decodes `getScenario(id)`; undefined for an unknown id.
 * @example decodeScenario(id, await catalogue.getScenario(id))?.resources
 */
export function decodeScenario(scenarioId: string, raw: unknown): CatalogueScenario | undefined {
  const r = raw as R;
  if (/^0x0{64}$/.test(s(r.consumer))) return undefined;
  return {
    scenarioId, consumer: s(r.consumer), purposeHash: s(r.purposeHash), legalBasisHash: s(r.legalBasisHash), closed: Boolean(r.closed),
    registeredAt: n(r.registeredAt), resources: Array.from(r.resources as ArrayLike<unknown>, s),
  };
}

export interface CatalogueDraw {
  status: DrawStatusName;
  /** unix seconds; 0 unless APPROVED */
  expiresAt: number;
  decidedAt: number;
}

/**
 * Decodes `getDraw(scenarioId, resourceCode)`.
 * @example decodeDraw(await catalogue.getDraw(scenarioId, resourceCode)).status // => "APPROVED"
 */
export function decodeDraw(raw: unknown): CatalogueDraw {
  const r = raw as R;
  return { status: codeName(DrawStatus, n(r.status), "drawStatus"), expiresAt: n(r.expiresAt), decidedAt: n(r.decidedAt) };
}

export interface CatalogueSystem {
  systemCode: string;
  owner: string;
  descriptionHash: string;
  active: boolean;
  entryCount: number;
  registeredAt: number;
  deregisteredAt: number;
}

/**
 * Decodes `getSystem(code)`; undefined for a code never registered.
 * @example decodeSystem(code, await catalogue.getSystem(code))?.entryCount
 */
export function decodeSystem(systemCode: string, raw: unknown): CatalogueSystem | undefined {
  const r = raw as R;
  if (/^0x0{64}$/.test(s(r.owner))) return undefined;
  return {
    systemCode, owner: s(r.owner), descriptionHash: s(r.descriptionHash), active: Boolean(r.active), entryCount: n(r.entryCount),
    registeredAt: n(r.registeredAt), deregisteredAt: n(r.deregisteredAt),
  };
}
