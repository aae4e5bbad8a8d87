/**
 * The ledger events the indexer follows, as declared in `contracts/interfaces/IMaterialRegistry.sol` and
 * `IConsortium.sol` (enums are uint8 in the ABI). A test checks every fragment against the compiled
 * TongbanLedger ABI, so a changed event signature fails the build's tests instead of silently not matching.
 */
import { Interface, type LogDescription } from "ethers";

export const MATERIAL_EVENTS = [
  "event Anchored(bytes32 indexed root, bytes32 indexed issuer, bytes32 indexed typeCode, uint32 jurisdiction, uint32 count)",
  "event MaterialRevoked(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by, uint16 reason)",
  "event MaterialSuspended(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by, uint16 reason)",
  "event MaterialReinstated(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by)",
  "event MaterialSuperseded(bytes32 indexed oldLeaf, bytes32 indexed issuer, bytes32 indexed newLeaf, bytes32 newRoot)",
  "event HashAlgAdded(uint8 indexed hashAlg)",
  "event HashAlgRetired(uint8 indexed hashAlg, uint64 retiredAt)",
] as const;

/** Membership events: each carries the member id first. */
export const MEMBER_EVENTS = [
  "event MemberAdmitted(bytes32 indexed memberId, uint32 indexed jurisdiction)",
  "event MemberSuspended(bytes32 indexed memberId)",
  "event MemberReinstated(bytes32 indexed memberId)",
  "event AccountAdded(bytes32 indexed memberId, address indexed account)",
  "event AccountRemoved(bytes32 indexed memberId, address indexed account)",
  "event RoleGranted(bytes32 indexed memberId, uint8 indexed role)",
  "event RoleRevoked(bytes32 indexed memberId, uint8 indexed role)",
  "event RevocationAuthorityGranted(bytes32 indexed memberId, uint32 indexed jurisdiction)",
  "event RevocationAuthorityRevoked(bytes32 indexed memberId, uint32 indexed jurisdiction)",
  "event EntitlementGranted(bytes32 indexed memberId, bytes32 indexed typeCode, uint32 indexed jurisdiction)",
  "event EntitlementRevoked(bytes32 indexed memberId, bytes32 indexed typeCode, uint32 indexed jurisdiction)",
  "event PeersUpdated(bytes32 indexed memberId, bytes32 indexed by, string[] peerIds, string[] multiaddrs)",
] as const;

/** Catalogue and governance events: kept in the full event log only. */
export const OTHER_EVENTS = [
  "event JurisdictionRegistered(uint32 indexed code, uint32 indexed parent)",
  "event MaterialTypeRegistered(bytes32 indexed typeCode, uint32 index)",
  "event ThresholdChanged(uint16 threshold)",
  "event ProposalLifetimeChanged(uint64 lifetime)",
  "event BootstrapClosed(address indexed admin)",
  "event ProposalCreated(uint256 indexed proposalId, bytes32 indexed proposer, bytes4 indexed selector, bytes action, uint64 expiresAt)",
  "event ProposalApproved(uint256 indexed proposalId, bytes32 indexed governor, uint16 approvals)",
  "event ProposalExecuted(uint256 indexed proposalId, bytes32 indexed executor, bytes4 indexed selector)",
] as const;

export const LEDGER_EVENTS_ABI = [...MATERIAL_EVENTS, ...MEMBER_EVENTS, ...OTHER_EVENTS];
export const ledgerEvents = new Interface(LEDGER_EVENTS_ABI);

export const MEMBER_EVENT_NAMES: ReadonlySet<string> = new Set(MEMBER_EVENTS.map((f) => /event (\w+)/.exec(f)![1]));

/** JSON-safe decoded arguments: bigint -> number (or decimal string above 2^53), bytes as lower-case hex. */
export function argsOf(d: LogDescription): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  d.fragment.inputs.forEach((input, i) => {
    const v: unknown = d.args[i];
    if (typeof v === "bigint") out[input.name] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    else if (typeof v === "string") out[input.name] = v.startsWith("0x") ? v.toLowerCase() : v;
    else if (Array.isArray(v) || (v && typeof (v as { toArray?: unknown }).toArray === "function")) {
      out[input.name] = Array.from(v as Iterable<unknown>, (x) => String(x));
    } else out[input.name] = String(v);
  });
  return out;
}
