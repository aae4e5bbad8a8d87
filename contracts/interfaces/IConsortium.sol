// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title IConsortium — membership, roles, entitlements and M-of-N governance of the Tongban consortium.
 *
 * @notice IDENTIFIERS.
 *   - Member id: `bytes32` = ethers.encodeBytes32String(uscc), the organisation's 18-character unified social
 *     credit code (GB 32100-2015). Validated at admission: 18 symbols of `0123456789ABCDEFGHJKLMNPQRTUWXY`
 *     with a correct check character, the remaining 14 bytes zero.
 *   - Jurisdiction: `uint32` GB/T 2260 division code (100000..999999) with a registered parent (0 = top level),
 *     e.g. 310000 Shanghai -> 310104 Xuhui, so "1+N+16" is expressible.
 *   - Material type: `bytes32` = ethers.encodeBytes32String(catalogue code), registered by governance.
 *
 * @notice MEMBERS have one jurisdiction, a status (Active / Suspended), signing accounts (an address belongs to
 *   at most one member, ever: a removed account cannot be re-added anywhere, so its history stays
 *   unambiguous for e-seal checks), libp2p peer ids and multiaddrs, global roles (Governor, IdentityProvider,
 *   Cataloguer, Auditor), revocation authority per jurisdiction (covering that jurisdiction and every
 *   jurisdiction below it), and issuer entitlements per (material type, jurisdiction) — exact match, no
 *   inheritance. A suspended member can do nothing (anchor, status change, propose, approve, execute, set
 *   peers) from the moment of suspension. Views named `is...`/`hasRole` answer "may it act now", so they are
 *   false for a suspended member; `getMember` returns the raw record.
 *
 * @notice GOVERNANCE. Every mutating function of this interface except `propose`, `approve`, `execute`,
 *   `bootstrapBatch` and `closeBootstrap` is GOVERNED (so are IMaterialRegistry's `addHashAlg` and
 *   `retireHashAlg`; `setPeers` is governed OR self-service): it can be called only
 *     (a) by the contract itself, i.e. by `execute` of a proposal whose `action` is the ABI-encoded call, or
 *     (b) during the bootstrap phase, by the bootstrap admin (the deployer), directly or via `bootstrapBatch`.
 *   `closeBootstrap()` ends (b) irreversibly; it requires 1 <= threshold <= governor count. After it, a
 *   governor member (acting through any of its accounts) proposes an action, governors approve (one vote per
 *   member; the proposer's vote counts), and once `threshold` approvals from members that are still active
 *   governors exist, any active governor executes it, once, before `expiresAt`.
 */
interface IConsortium {
    // ------------------------------------------------------------------------------------------------- types

    enum MemberStatus {
        None, // 0: not a member
        Active, // 1
        Suspended // 2: can do nothing until reinstated
    }

    /// Global roles. Revocation authority is scoped per jurisdiction and issuing per (type, jurisdiction);
    /// see `grantRevocationAuthority` and `grantEntitlement`.
    enum Role {
        Governor, // 0: votes on proposals
        IdentityProvider, // 1: vouches for holder identities (used by node services)
        Cataloguer, // 2: maintains the data catalogue
        Auditor // 3: reads and traces uses
    }

    /// A member's full record (raw: `status` tells whether it may act).
    struct Member {
        bytes32 id;
        uint32 jurisdiction;
        MemberStatus status;
        uint8 roles; // bit i set = Role(i) granted
        uint64 admittedAt;
        uint64 statusChangedAt; // last suspension or reinstatement (0 if never)
        address[] accounts; // current signing accounts
        string[] peerIds; // libp2p peer ids of its node(s)
        string[] multiaddrs; // libp2p multiaddrs its node(s) listen on
    }

    /// The history of one signing account.
    struct AccountInfo {
        bytes32 memberId; // 0 if the address was never an account
        bool current; // still a signing account of memberId
        uint64 addedAt;
        uint64 removedAt; // 0 while current
    }

    /// A governance proposal.
    struct Proposal {
        bytes32 proposer;
        uint64 createdAt;
        uint64 expiresAt;
        bool executed;
        uint16 approvals; // votes cast (votes of members since suspended or no longer Governor are discounted at execute)
        bytes action; // ABI-encoded call to a governed function of this contract
    }

    // ------------------------------------------------------------------------------------------------ events

    event JurisdictionRegistered(uint32 indexed code, uint32 indexed parent);
    event MaterialTypeRegistered(bytes32 indexed typeCode, uint32 index);
    event MemberAdmitted(bytes32 indexed memberId, uint32 indexed jurisdiction);
    event MemberSuspended(bytes32 indexed memberId);
    event MemberReinstated(bytes32 indexed memberId);
    event AccountAdded(bytes32 indexed memberId, address indexed account);
    event AccountRemoved(bytes32 indexed memberId, address indexed account);
    event RoleGranted(bytes32 indexed memberId, Role indexed role);
    event RoleRevoked(bytes32 indexed memberId, Role indexed role);
    event RevocationAuthorityGranted(bytes32 indexed memberId, uint32 indexed jurisdiction);
    event RevocationAuthorityRevoked(bytes32 indexed memberId, uint32 indexed jurisdiction);
    event EntitlementGranted(bytes32 indexed memberId, bytes32 indexed typeCode, uint32 indexed jurisdiction);
    event EntitlementRevoked(bytes32 indexed memberId, bytes32 indexed typeCode, uint32 indexed jurisdiction);
    /// `by` is the member that changed them (the member itself, or 0 when done by governance/bootstrap).
    event PeersUpdated(bytes32 indexed memberId, bytes32 indexed by, string[] peerIds, string[] multiaddrs);
    event ThresholdChanged(uint16 threshold);
    event ProposalLifetimeChanged(uint64 lifetime);
    event BootstrapClosed(address indexed admin);
    event ProposalCreated(
        uint256 indexed proposalId, bytes32 indexed proposer, bytes4 indexed selector, bytes action, uint64 expiresAt
    );
    event ProposalApproved(uint256 indexed proposalId, bytes32 indexed governor, uint16 approvals);
    event ProposalExecuted(uint256 indexed proposalId, bytes32 indexed executor, bytes4 indexed selector);

    // ------------------------------------------------------------------------------------------------ errors

    /// A governed function was called by someone other than governance or the bootstrap admin.
    error ConsortiumUnauthorizedCaller(address caller);
    /// A bootstrap-only function was called after `closeBootstrap`.
    error ConsortiumBootstrapClosed();
    /// `closeBootstrap` / `setThreshold` / Governor revocation would leave an unusable governance.
    error ConsortiumInvalidThreshold(uint16 threshold, uint16 governors);
    error ConsortiumInvalidProposalLifetime(uint64 lifetime);
    /// The caller is not a current signing account of any member.
    error AccountNotMember(address account);
    /// The member exists but is suspended (or the action needs an active member).
    error MemberNotActive(bytes32 memberId);
    error MemberNotSuspended(bytes32 memberId);
    error MemberAlreadyExists(bytes32 memberId);
    error UnknownMember(bytes32 memberId);
    /// Not a valid unified social credit code in bytes32 form.
    error InvalidMemberId(bytes32 memberId);
    error InvalidAccount(address account);
    /// The address is, or was, a signing account of `memberId`.
    error AccountAlreadyUsed(address account, bytes32 memberId);
    error AccountNotOfMember(address account, bytes32 memberId);
    error MissingRole(bytes32 memberId, Role role);
    error InvalidJurisdiction(uint32 code, uint32 parent);
    error JurisdictionAlreadyRegistered(uint32 code);
    error UnknownJurisdiction(uint32 code);
    error InvalidMaterialType(bytes32 typeCode);
    error MaterialTypeAlreadyRegistered(bytes32 typeCode);
    error UnknownMaterialType(bytes32 typeCode);
    error TooManyPeers(bytes32 memberId, uint256 count);
    error InvalidProposalAction(uint256 length);
    error UnknownProposal(uint256 proposalId);
    error ProposalExpired(uint256 proposalId, uint64 expiresAt);
    error ProposalAlreadyExecuted(uint256 proposalId);
    error ProposalAlreadyApproved(uint256 proposalId, bytes32 governor);
    error ProposalThresholdNotMet(uint256 proposalId, uint16 approvals, uint16 threshold);

    // -------------------------------------------------------------------------------- governed (see header)

    /// @notice Registers a GB/T 2260 division `code` under `parent` (0 = top level). Emits JurisdictionRegistered.
    function registerJurisdiction(uint32 code, uint32 parent) external;

    /// @notice Registers a material type (catalogue code as bytes32, nonzero). Emits MaterialTypeRegistered.
    function registerMaterialType(bytes32 typeCode) external;

    /// @notice Admits a member with its jurisdiction and initial signing accounts (may be empty).
    /// Emits MemberAdmitted, then AccountAdded per account.
    function admitMember(bytes32 memberId, uint32 jurisdiction, address[] calldata accounts) external;

    /// @notice Suspends an active member: from now on none of its accounts can act. Suspending a governor is
    /// refused (ConsortiumInvalidThreshold) if fewer active governors than the threshold would remain.
    /// Emits MemberSuspended.
    function suspendMember(bytes32 memberId) external;

    /// @notice Reinstates a suspended member. Emits MemberReinstated.
    function reinstateMember(bytes32 memberId) external;

    /// @notice Adds a signing account to a member (key rotation, step 1). Emits AccountAdded.
    function addAccount(bytes32 memberId, address account) external;

    /// @notice Removes a signing account (key rotation, step 2); it can never act or be re-added. Emits AccountRemoved.
    function removeAccount(bytes32 memberId, address account) external;

    /// @notice Grants a global role. A no-op (already granted) emits nothing. Emits RoleGranted.
    function grantRole(bytes32 memberId, Role role) external;

    /// @notice Revokes a global role; revoking Governor must keep threshold <= active governors. No-op emits nothing.
    function revokeRole(bytes32 memberId, Role role) external;

    /// @notice Makes the member a revocation authority for `jurisdiction` and everything below it. No-op emits nothing.
    function grantRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external;

    /// @notice Withdraws a revocation authority scope. No-op emits nothing.
    function revokeRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external;

    /// @notice Entitles the member to anchor materials of `typeCode` in `jurisdiction` (exact). No-op emits nothing.
    function grantEntitlement(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external;

    /// @notice Withdraws an entitlement; anchors made before stay valid (decision 8). No-op emits nothing.
    function revokeEntitlement(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external;

    /// @notice Sets the number of governor approvals a proposal needs (1..governorCount). Emits ThresholdChanged.
    function setThreshold(uint16 threshold) external;

    /// @notice Sets how long a new proposal stays open (1 hour..365 days). Emits ProposalLifetimeChanged.
    function setProposalLifetime(uint64 lifetime) external;

    /// @notice Replaces a member's peer ids and multiaddrs (at most 16 of each). Governed, OR called by a
    /// current account of that member while it is active. Emits PeersUpdated.
    function setPeers(bytes32 memberId, string[] calldata peerIds, string[] calldata multiaddrs) external;

    // ---------------------------------------------------------------------------------------------- bootstrap

    /// @notice Bootstrap admin only, before close: performs each ABI-encoded governed call in order, as the
    /// contract itself (all or nothing). Lets a deployer set a consortium up in one transaction.
    function bootstrapBatch(bytes[] calldata calls) external;

    /// @notice Bootstrap admin only: ends the bootstrap phase irreversibly. Emits BootstrapClosed.
    function closeBootstrap() external;

    // --------------------------------------------------------------------------------------------- proposals

    /// @notice An active governor proposes `action` (ABI-encoded call to a governed function); its own
    /// approval is counted. Emits ProposalCreated then ProposalApproved. Returns the proposal id (1, 2, ...).
    function propose(bytes calldata action) external returns (uint256 proposalId);

    /// @notice An active governor approves (once per member). Emits ProposalApproved.
    function approve(uint256 proposalId) external;

    /// @notice An active governor executes a proposal that has `threshold` approvals from members that are
    /// still active governors, before it expires. Reverts with the action's own error if the action fails.
    /// Emits the action's events, then ProposalExecuted.
    function execute(uint256 proposalId) external;

    // ------------------------------------------------------------------------------------------------- views

    function bootstrapOpen() external view returns (bool);
    function bootstrapAdmin() external view returns (address);
    function threshold() external view returns (uint16);
    /// @notice Number of ACTIVE members holding the Governor role (suspended governors are not counted).
    function governorCount() external view returns (uint16);
    function proposalLifetime() external view returns (uint64);
    function proposalCount() external view returns (uint256);
    function getProposal(uint256 proposalId) external view returns (Proposal memory);
    function hasApproved(uint256 proposalId, bytes32 memberId) external view returns (bool);

    /// @notice Current member of `account` and whether that member is active (0, false if none).
    function memberOf(address account) external view returns (bytes32 memberId, bool active);

    /// @notice True if `account` is a current signing account of an active member.
    function isActiveAccount(address account) external view returns (bool);

    /// @notice History of `account` (memberId 0 if it never was a signing account).
    function accountInfo(address account) external view returns (AccountInfo memory);

    /// @notice Whether `account` was a signing account of `memberId` at unix time `at` (for e-seal checks):
    /// addedAt <= at and (still current or at < removedAt).
    function wasAccountOf(bytes32 memberId, address account, uint64 at) external view returns (bool);

    function isActiveMember(bytes32 memberId) external view returns (bool);
    function memberCount() external view returns (uint256);
    function memberIdAt(uint256 index) external view returns (bytes32);
    function getMember(bytes32 memberId) external view returns (Member memory);

    /// @notice Every member's record (the peer list for node discovery; the consortium is small).
    function getMembers() external view returns (Member[] memory);

    /// @notice The member holds `role` and is active.
    function hasRole(bytes32 memberId, Role role) external view returns (bool);

    /// @notice The member is active and a revocation authority for `jurisdiction` or one of its ancestors.
    function isRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external view returns (bool);

    /// @notice The member is active and entitled to anchor `typeCode` in `jurisdiction`.
    function isEntitled(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external view returns (bool);

    /// @notice (registered, parent) of a jurisdiction code.
    function jurisdictionInfo(uint32 code) external view returns (bool registered, uint32 parent);

    function isMaterialType(bytes32 typeCode) external view returns (bool);
    function materialTypeCount() external view returns (uint256);
    function materialTypeAt(uint256 index) external view returns (bytes32);

    /// @notice True if `memberId` is a well-formed unified social credit code (GB 32100 check character).
    function isValidMemberId(bytes32 memberId) external pure returns (bool);
}
