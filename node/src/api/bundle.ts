/**
 * The proof bundle the API serves: the SDK's bundle format (`tongban/proof-bundle@1`, validated by the SDK's
 * JSON Schema). If the core's record already carries a valid SDK bundle (possibly with an e-seal), it is served
 * as is; otherwise the bundle is built from the record's header and anchor by the core's `bundleFromRecord`
 * (core/bundle.ts, the SDK's `buildBundle`), which also checks that the proof leads to the root. A record that yields neither is an internal error, never a
 * half-valid document.
 */
import { loadBundle, type ProofBundle } from "@tongban/sdk";
import type { MaterialRecord } from "../core/types.js";
import { bundleFromRecord } from "../core/bundle.js";
import { ApiError } from "./errors.js";

export function bundleOf(rec: MaterialRecord): ProofBundle {
  if (rec.bundle !== undefined) {
    try {
      return loadBundle(rec.bundle);
    } catch {
      /* not the SDK format: rebuild from the record */
    }
  }
  const a = rec.anchor;
  if (!a) throw new ApiError(409, "NOT_ANCHORED", `material ${rec.id} has no anchor yet (state ${rec.state})`, { id: rec.id, state: rec.state });
  try {
    return bundleFromRecord(rec);
  } catch (e) {
    throw Object.assign(new Error(`cannot build the bundle of material ${rec.id}: ${(e as Error).message}`), { cause: e, details: { id: rec.id } });
  }
}
