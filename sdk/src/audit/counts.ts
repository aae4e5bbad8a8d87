/**
 * The per-grant use counts an anchor reports (IAuthorisations.anchorUseLog `uses`): the number of SERVED
 * records under each grant, in the records the anchor adds. The custodian computes them when it anchors; the
 * auditor recomputes them from the log and compares with what the `UseLogAnchored` event carried.
 */
import type { UseRecord } from "./record.js";

/** Uses of one grant (IAuthorisations.GrantUses). */
export interface GrantUseCount {
  grantId: string;
  count: number;
}

/**
 * SERVED records under a GRANT basis, counted per grant, in first-seen order (the order an anchor lists them).
 * Only records whose `custodian` is `custodian` count (a log holds the member's own SERVED records and its
 * RECEIVED ones; RECEIVED records and sharing-approval uses are not grant uses of this custodian).
 * @example servedUsesByGrant(recordsSinceLastHead, myMemberId) // => [{ grantId, count: 3 }, ...]
 */
export function servedUsesByGrant(records: readonly UseRecord[], custodian: string): GrantUseCount[] {
  const counts = new Map<string, number>();
  const me = custodian.toLowerCase();
  for (const r of records) {
    if (r.direction !== "SERVED" || r.basis !== "GRANT" || r.custodian.toLowerCase() !== me) continue;
    const id = r.grantId.toLowerCase();
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].map(([grantId, count]) => ({ grantId, count }));
}

/** Result of {@link compareUseCounts}: data, with the grants that differ. */
export interface UseCountCheck {
  status: "VALID" | "INVALID";
  /** grants whose reported count differs from the log's (reported 0 = missing from the anchor) */
  mismatches: { grantId: string; expected: number; reported: number }[];
}

/**
 * Compares the counts an anchor reported with the counts recomputed from the log range (order-insensitive;
 * a grant listed twice is summed, as the contract sums it).
 * @example compareUseCounts(servedUsesByGrant(range, custodian), event.args.uses).status // => "VALID"
 */
export function compareUseCounts(
  expected: readonly GrantUseCount[], reported: readonly { grantId: string; count: number | bigint }[],
): UseCountCheck {
  const sum = (list: readonly { grantId: string; count: number | bigint }[]) => {
    const m = new Map<string, number>();
    for (const u of list) m.set(u.grantId.toLowerCase(), (m.get(u.grantId.toLowerCase()) ?? 0) + Number(u.count));
    return m;
  };
  const e = sum(expected), r = sum(reported);
  const mismatches: UseCountCheck["mismatches"] = [];
  for (const id of new Set([...e.keys(), ...r.keys()])) {
    const a = e.get(id) ?? 0, b = r.get(id) ?? 0;
    if (a !== b) mismatches.push({ grantId: id, expected: a, reported: b });
  }
  return { status: mismatches.length === 0 ? "VALID" : "INVALID", mismatches };
}
