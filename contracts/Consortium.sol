// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {Uscc} from "./libraries/Uscc.sol";

/**
 * @title Consortium — membership, roles, entitlements and M-of-N governance (see IConsortium).
 * @dev Members are numbered 1, 2, ... (`idx`); 0 means "none". Each signing account's record packs the
 * member id, the member index and a copy of "member is active" into ONE slot, so authorising a caller costs
 * one storage read; `_setMemberStatus` keeps the copy in step for every current account of the member.
 */
abstract contract Consortium is IConsortium {
    struct MemberRecord {
        bytes32 id;
        uint32 jurisdiction;
        MemberStatus status;
        uint8 roles;
        uint64 admittedAt;
        uint64 statusChangedAt;
        address[] accounts;
        string[] peerIds;
        string[] multiaddrs;
    }

    /// One slot: bytes18 + uint32 + bool + bool + uint64 = 32 bytes.
    struct AccountRecord {
        bytes18 member; // the member id (a valid id has its low 14 bytes zero)
        uint32 memberIdx;
        bool current;
        bool memberActive;
        uint64 addedAt;
    }

    struct JurisdictionRecord {
        bool registered;
        uint32 parent;
    }

    struct ProposalRecord {
        bytes32 proposer;
        uint64 createdAt;
        uint64 expiresAt;
        bool executed;
        uint16 approvals;
        bytes action;
        uint32[] approvers;
    }

    uint256 private constant MAX_PEERS = 16;

    address private immutable _admin;
    bool private _bootstrapOpen = true;
    uint16 private _threshold;
    uint16 private _governorCount;
    uint64 private _proposalLifetime = 7 days;

    uint32 private _memberCount;
    mapping(uint32 idx => MemberRecord) internal _members;
    mapping(bytes32 memberId => uint32 idx) internal _memberIndex;
    mapping(address account => AccountRecord) internal _accounts;
    mapping(address account => uint64 removedAt) private _accountRemovedAt;

    mapping(uint32 code => JurisdictionRecord) private _jurisdictions;
    uint32 private _typeCount;
    mapping(bytes32 typeCode => uint32 idx) private _typeIndex;
    mapping(uint32 idx => bytes32 typeCode) internal _typeCodes;
    /// Nonzero (the type's index) when the member may anchor that type in that jurisdiction.
    mapping(uint32 memberIdx => mapping(bytes32 typeCode => mapping(uint32 jurisdiction => uint32 typeIdx)))
        internal _entitlements;
    mapping(uint32 memberIdx => mapping(uint32 jurisdiction => bool)) private _authority;

    uint256 private _proposalCount;
    mapping(uint256 proposalId => ProposalRecord) private _proposals;
    mapping(uint256 proposalId => mapping(uint32 memberIdx => bool)) private _approved;

    constructor() {
        _admin = msg.sender;
    }

    /// Governed functions: the contract itself (a proposal's execution, a bootstrap batch) or, while the
    /// bootstrap phase is open, the bootstrap admin.
    modifier governed() {
        if (!_isGovernedCaller()) revert ConsortiumUnauthorizedCaller(msg.sender);
        _;
    }

    modifier onlyBootstrapAdmin() {
        if (!_bootstrapOpen) revert ConsortiumBootstrapClosed();
        if (msg.sender != _admin) revert ConsortiumUnauthorizedCaller(msg.sender);
        _;
    }

    // --------------------------------------------------------------------------------------------- governed

    /// @inheritdoc IConsortium
    function registerJurisdiction(uint32 code, uint32 parent) external governed {
        if (code < 100000 || code > 999999 || code == parent || (parent != 0 && !_jurisdictions[parent].registered)) {
            revert InvalidJurisdiction(code, parent);
        }
        if (_jurisdictions[code].registered) revert JurisdictionAlreadyRegistered(code);
        _jurisdictions[code] = JurisdictionRecord(true, parent);
        emit JurisdictionRegistered(code, parent);
    }

    /// @inheritdoc IConsortium
    function registerMaterialType(bytes32 typeCode) external governed {
        if (typeCode == bytes32(0)) revert InvalidMaterialType(typeCode);
        if (_typeIndex[typeCode] != 0) revert MaterialTypeAlreadyRegistered(typeCode);
        uint32 idx = ++_typeCount;
        _typeIndex[typeCode] = idx;
        _typeCodes[idx] = typeCode;
        emit MaterialTypeRegistered(typeCode, idx);
    }

    /// @inheritdoc IConsortium
    function admitMember(bytes32 memberId, uint32 jurisdiction, address[] calldata accounts) external governed {
        if (!Uscc.isValid(memberId)) revert InvalidMemberId(memberId);
        if (_memberIndex[memberId] != 0) revert MemberAlreadyExists(memberId);
        _requireJurisdiction(jurisdiction);
        uint32 idx = ++_memberCount;
        _memberIndex[memberId] = idx;
        MemberRecord storage m = _members[idx];
        m.id = memberId;
        m.jurisdiction = jurisdiction;
        m.status = MemberStatus.Active;
        m.admittedAt = _time();
        emit MemberAdmitted(memberId, jurisdiction);
        for (uint256 i; i < accounts.length; ++i) {
            _addAccount(idx, memberId, accounts[i]);
        }
    }

    /// @inheritdoc IConsortium
    function suspendMember(bytes32 memberId) external governed {
        uint32 idx = _requireMember(memberId);
        MemberRecord storage m = _members[idx];
        if (m.status != MemberStatus.Active) revert MemberNotActive(memberId);
        if (_isGovernor(m)) _dropActiveGovernor();
        _setMemberStatus(idx, MemberStatus.Suspended);
        emit MemberSuspended(memberId);
    }

    /// @inheritdoc IConsortium
    function reinstateMember(bytes32 memberId) external governed {
        uint32 idx = _requireMember(memberId);
        MemberRecord storage m = _members[idx];
        if (m.status != MemberStatus.Suspended) revert MemberNotSuspended(memberId);
        if (_isGovernor(m)) ++_governorCount;
        _setMemberStatus(idx, MemberStatus.Active);
        emit MemberReinstated(memberId);
    }

    /// @inheritdoc IConsortium
    function addAccount(bytes32 memberId, address account) external governed {
        _addAccount(_requireMember(memberId), memberId, account);
    }

    /// @inheritdoc IConsortium
    function removeAccount(bytes32 memberId, address account) external governed {
        uint32 idx = _requireMember(memberId);
        AccountRecord storage acc = _accounts[account];
        if (acc.memberIdx != idx || !acc.current) revert AccountNotOfMember(account, memberId);
        acc.current = false;
        acc.memberActive = false;
        _accountRemovedAt[account] = _time();
        address[] storage list = _members[idx].accounts;
        uint256 last = list.length - 1;
        for (uint256 i; i <= last; ++i) {
            if (list[i] == account) {
                list[i] = list[last];
                list.pop();
                break;
            }
        }
        emit AccountRemoved(memberId, account);
    }

    /// @inheritdoc IConsortium
    function grantRole(bytes32 memberId, Role role) external governed {
        MemberRecord storage m = _members[_requireMember(memberId)];
        uint8 bit = uint8(1 << uint8(role));
        if (m.roles & bit != 0) return;
        m.roles |= bit;
        if (role == Role.Governor && m.status == MemberStatus.Active) ++_governorCount;
        emit RoleGranted(memberId, role);
    }

    /// @inheritdoc IConsortium
    function revokeRole(bytes32 memberId, Role role) external governed {
        MemberRecord storage m = _members[_requireMember(memberId)];
        uint8 bit = uint8(1 << uint8(role));
        if (m.roles & bit == 0) return;
        if (role == Role.Governor && m.status == MemberStatus.Active) _dropActiveGovernor();
        m.roles &= ~bit;
        emit RoleRevoked(memberId, role);
    }

    /// @inheritdoc IConsortium
    function grantRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external governed {
        uint32 idx = _requireMember(memberId);
        _requireJurisdiction(jurisdiction);
        if (_authority[idx][jurisdiction]) return;
        _authority[idx][jurisdiction] = true;
        emit RevocationAuthorityGranted(memberId, jurisdiction);
    }

    /// @inheritdoc IConsortium
    function revokeRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external governed {
        uint32 idx = _requireMember(memberId);
        if (!_authority[idx][jurisdiction]) return;
        _authority[idx][jurisdiction] = false;
        emit RevocationAuthorityRevoked(memberId, jurisdiction);
    }

    /// @inheritdoc IConsortium
    function grantEntitlement(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external governed {
        uint32 idx = _requireMember(memberId);
        uint32 typeIdx = _typeIndex[typeCode];
        if (typeIdx == 0) revert UnknownMaterialType(typeCode);
        _requireJurisdiction(jurisdiction);
        if (_entitlements[idx][typeCode][jurisdiction] != 0) return;
        _entitlements[idx][typeCode][jurisdiction] = typeIdx;
        emit EntitlementGranted(memberId, typeCode, jurisdiction);
    }

    /// @inheritdoc IConsortium
    function revokeEntitlement(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external governed {
        uint32 idx = _requireMember(memberId);
        if (_entitlements[idx][typeCode][jurisdiction] == 0) return;
        delete _entitlements[idx][typeCode][jurisdiction];
        emit EntitlementRevoked(memberId, typeCode, jurisdiction);
    }

    /// @inheritdoc IConsortium
    function setThreshold(uint16 newThreshold) external governed {
        if (newThreshold == 0 || newThreshold > _governorCount) {
            revert ConsortiumInvalidThreshold(newThreshold, _governorCount);
        }
        if (newThreshold == _threshold) return;
        _threshold = newThreshold;
        emit ThresholdChanged(newThreshold);
    }

    /// @inheritdoc IConsortium
    function setProposalLifetime(uint64 lifetime) external governed {
        if (lifetime < 1 hours || lifetime > 365 days) revert ConsortiumInvalidProposalLifetime(lifetime);
        if (lifetime == _proposalLifetime) return;
        _proposalLifetime = lifetime;
        emit ProposalLifetimeChanged(lifetime);
    }

    /// @inheritdoc IConsortium
    function setPeers(bytes32 memberId, string[] calldata peerIds, string[] calldata multiaddrs) external {
        uint32 idx = _requireMember(memberId);
        bytes32 by;
        if (!_isGovernedCaller()) {
            uint32 callerIdx;
            (callerIdx, by) = _activeCaller();
            if (callerIdx != idx) revert ConsortiumUnauthorizedCaller(msg.sender);
        }
        if (peerIds.length > MAX_PEERS) revert TooManyPeers(memberId, peerIds.length);
        if (multiaddrs.length > MAX_PEERS) revert TooManyPeers(memberId, multiaddrs.length);
        MemberRecord storage m = _members[idx];
        delete m.peerIds;
        delete m.multiaddrs;
        for (uint256 i; i < peerIds.length; ++i) m.peerIds.push(peerIds[i]);
        for (uint256 i; i < multiaddrs.length; ++i) m.multiaddrs.push(multiaddrs[i]);
        emit PeersUpdated(memberId, by, peerIds, multiaddrs);
    }

    // -------------------------------------------------------------------------------------------- bootstrap

    /// @inheritdoc IConsortium
    function bootstrapBatch(bytes[] calldata calls) external onlyBootstrapAdmin {
        for (uint256 i; i < calls.length; ++i) {
            Address.functionCall(address(this), calls[i]);
        }
    }

    /// @inheritdoc IConsortium
    function closeBootstrap() external onlyBootstrapAdmin {
        // setThreshold, revokeRole and suspendMember keep threshold <= governorCount: only "no threshold yet" is left.
        if (_threshold == 0) revert ConsortiumInvalidThreshold(0, _governorCount);
        _bootstrapOpen = false;
        emit BootstrapClosed(msg.sender);
    }

    // -------------------------------------------------------------------------------------------- proposals

    /// @inheritdoc IConsortium
    function propose(bytes calldata action) external returns (uint256 proposalId) {
        (uint32 idx, bytes32 id) = _activeGovernor();
        if (action.length < 4) revert InvalidProposalAction(action.length);
        proposalId = ++_proposalCount;
        ProposalRecord storage p = _proposals[proposalId];
        p.proposer = id;
        p.createdAt = _time();
        p.expiresAt = _time() + _proposalLifetime;
        p.action = action;
        emit ProposalCreated(proposalId, id, bytes4(action[:4]), action, p.expiresAt);
        _approve(p, proposalId, idx, id);
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external {
        (uint32 idx, bytes32 id) = _activeGovernor();
        ProposalRecord storage p = _openProposal(proposalId);
        if (_approved[proposalId][idx]) revert ProposalAlreadyApproved(proposalId, id);
        _approve(p, proposalId, idx, id);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external {
        (, bytes32 id) = _activeGovernor();
        ProposalRecord storage p = _openProposal(proposalId);
        uint16 valid;
        uint8 governorBit = uint8(1 << uint8(Role.Governor));
        for (uint256 i; i < p.approvers.length; ++i) {
            MemberRecord storage m = _members[p.approvers[i]];
            if (m.status == MemberStatus.Active && m.roles & governorBit != 0) ++valid;
        }
        if (valid < _threshold) revert ProposalThresholdNotMet(proposalId, valid, _threshold);
        p.executed = true;
        Address.functionCall(address(this), p.action);
        emit ProposalExecuted(proposalId, id, bytes4(p.action));
    }

    // ------------------------------------------------------------------------------------------------ views

    function bootstrapOpen() external view returns (bool) {
        return _bootstrapOpen;
    }

    function bootstrapAdmin() external view returns (address) {
        return _admin;
    }

    function threshold() external view returns (uint16) {
        return _threshold;
    }

    function governorCount() external view returns (uint16) {
        return _governorCount;
    }

    function proposalLifetime() external view returns (uint64) {
        return _proposalLifetime;
    }

    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        ProposalRecord storage p = _proposals[proposalId];
        return Proposal(p.proposer, p.createdAt, p.expiresAt, p.executed, p.approvals, p.action);
    }

    /// @inheritdoc IConsortium
    function hasApproved(uint256 proposalId, bytes32 memberId) external view returns (bool) {
        uint32 idx = _memberIndex[memberId];
        return idx != 0 && _approved[proposalId][idx];
    }

    /// @inheritdoc IConsortium
    function memberOf(address account) external view returns (bytes32 memberId, bool active) {
        AccountRecord storage acc = _accounts[account];
        if (!acc.current) return (bytes32(0), false);
        return (bytes32(acc.member), acc.memberActive);
    }

    /// @inheritdoc IConsortium
    function isActiveAccount(address account) external view returns (bool) {
        AccountRecord storage acc = _accounts[account];
        return acc.current && acc.memberActive;
    }

    /// @inheritdoc IConsortium
    function accountInfo(address account) external view returns (AccountInfo memory) {
        AccountRecord storage acc = _accounts[account];
        return AccountInfo(bytes32(acc.member), acc.current, acc.addedAt, _accountRemovedAt[account]);
    }

    /// @inheritdoc IConsortium
    function wasAccountOf(bytes32 memberId, address account, uint64 at) external view returns (bool) {
        AccountRecord storage acc = _accounts[account];
        if (acc.memberIdx == 0 || bytes32(acc.member) != memberId || at < acc.addedAt) return false;
        return acc.current || at < _accountRemovedAt[account];
    }

    /// @inheritdoc IConsortium
    function isActiveMember(bytes32 memberId) public view returns (bool) {
        uint32 idx = _memberIndex[memberId];
        return idx != 0 && _members[idx].status == MemberStatus.Active;
    }

    function memberCount() external view returns (uint256) {
        return _memberCount;
    }

    /// @notice Member id at `index` (0-based, in admission order).
    function memberIdAt(uint256 index) external view returns (bytes32) {
        if (index >= _memberCount) revert UnknownMember(bytes32(index));
        return _members[uint32(index + 1)].id;
    }

    /// @inheritdoc IConsortium
    function getMember(bytes32 memberId) external view returns (Member memory) {
        return _memberView(_requireMember(memberId));
    }

    /// @inheritdoc IConsortium
    function getMembers() external view returns (Member[] memory all) {
        all = new Member[](_memberCount);
        for (uint32 i; i < _memberCount; ++i) all[i] = _memberView(i + 1);
    }

    /// @inheritdoc IConsortium
    function hasRole(bytes32 memberId, Role role) external view returns (bool) {
        return isActiveMember(memberId) && _members[_memberIndex[memberId]].roles & (1 << uint8(role)) != 0;
    }

    /// @inheritdoc IConsortium
    function isRevocationAuthority(bytes32 memberId, uint32 jurisdiction) external view returns (bool) {
        return isActiveMember(memberId) && _authorityCovers(_memberIndex[memberId], jurisdiction);
    }

    /// @inheritdoc IConsortium
    function isEntitled(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction) external view returns (bool) {
        return isActiveMember(memberId) && _entitlements[_memberIndex[memberId]][typeCode][jurisdiction] != 0;
    }

    /// @inheritdoc IConsortium
    function jurisdictionInfo(uint32 code) external view returns (bool registered, uint32 parent) {
        JurisdictionRecord storage j = _jurisdictions[code];
        return (j.registered, j.parent);
    }

    function isMaterialType(bytes32 typeCode) external view returns (bool) {
        return _typeIndex[typeCode] != 0;
    }

    function materialTypeCount() external view returns (uint256) {
        return _typeCount;
    }

    /// @notice Type code at `index` (0-based, in registration order).
    function materialTypeAt(uint256 index) external view returns (bytes32) {
        if (index >= _typeCount) revert UnknownMaterialType(bytes32(index));
        return _typeCodes[uint32(index + 1)];
    }

    /// @inheritdoc IConsortium
    function isValidMemberId(bytes32 memberId) external pure returns (bool) {
        return Uscc.isValid(memberId);
    }

    // ------------------------------------------------------------------------------------------- internals

    /// @dev Unix time; virtual so a test harness can move it.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }

    function _isGovernedCaller() private view returns (bool) {
        return msg.sender == address(this) || (_bootstrapOpen && msg.sender == _admin);
    }

    /// @dev The caller's member (index, id); reverts unless it is a current account of an active member.
    /// One storage read.
    function _activeCaller() internal view returns (uint32 idx, bytes32 id) {
        AccountRecord storage acc = _accounts[msg.sender];
        (bytes18 member, uint32 memberIdx, bool current, bool memberActive) =
            (acc.member, acc.memberIdx, acc.current, acc.memberActive);
        if (!current) revert AccountNotMember(msg.sender);
        if (!memberActive) revert MemberNotActive(bytes32(member));
        return (memberIdx, bytes32(member));
    }

    function _activeGovernor() private view returns (uint32 idx, bytes32 id) {
        (idx, id) = _activeCaller();
        if (_members[idx].roles & (1 << uint8(Role.Governor)) == 0) revert MissingRole(id, Role.Governor);
    }

    function _openProposal(uint256 proposalId) private view returns (ProposalRecord storage p) {
        p = _proposals[proposalId];
        if (p.createdAt == 0) revert UnknownProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
        if (_time() > p.expiresAt) revert ProposalExpired(proposalId, p.expiresAt);
    }

    function _approve(ProposalRecord storage p, uint256 proposalId, uint32 idx, bytes32 id) private {
        _approved[proposalId][idx] = true;
        p.approvers.push(idx);
        uint16 approvals = ++p.approvals;
        emit ProposalApproved(proposalId, id, approvals);
    }

    function _requireMember(bytes32 memberId) internal view returns (uint32 idx) {
        idx = _memberIndex[memberId];
        if (idx == 0) revert UnknownMember(memberId);
    }

    function _requireJurisdiction(uint32 code) private view {
        if (!_jurisdictions[code].registered) revert UnknownJurisdiction(code);
    }

    function _addAccount(uint32 idx, bytes32 memberId, address account) private {
        if (account == address(0)) revert InvalidAccount(account);
        AccountRecord storage acc = _accounts[account];
        if (acc.memberIdx != 0) revert AccountAlreadyUsed(account, bytes32(acc.member));
        MemberRecord storage m = _members[idx];
        _accounts[account] = AccountRecord(bytes18(memberId), idx, true, m.status == MemberStatus.Active, _time());
        m.accounts.push(account);
        emit AccountAdded(memberId, account);
    }

    function _isGovernor(MemberRecord storage m) private view returns (bool) {
        return m.roles & (1 << uint8(Role.Governor)) != 0;
    }

    /// @dev One active governor fewer (suspension or role revocation); refuses to go below the threshold,
    /// so governance can always reach its threshold with the governors left.
    function _dropActiveGovernor() private {
        uint16 remaining = _governorCount - 1;
        if (_threshold > remaining) revert ConsortiumInvalidThreshold(_threshold, remaining);
        _governorCount = remaining;
    }

    function _setMemberStatus(uint32 idx, MemberStatus status) private {
        MemberRecord storage m = _members[idx];
        m.status = status;
        m.statusChangedAt = _time();
        bool active = status == MemberStatus.Active;
        for (uint256 i; i < m.accounts.length; ++i) {
            _accounts[m.accounts[i]].memberActive = active;
        }
    }

    /// @dev True if member `idx` is a revocation authority for `jurisdiction` or one of its ancestors.
    /// Terminates: a parent is registered before its children, so the chain is acyclic.
    function _authorityCovers(uint32 idx, uint32 jurisdiction) internal view returns (bool) {
        for (uint32 c = jurisdiction; c != 0; c = _jurisdictions[c].parent) {
            if (_authority[idx][c]) return true;
        }
        return false;
    }

    function _memberView(uint32 idx) private view returns (Member memory) {
        MemberRecord storage m = _members[idx];
        return Member(
            m.id, m.jurisdiction, m.status, m.roles, m.admittedAt, m.statusChangedAt, m.accounts, m.peerIds,
            m.multiaddrs
        );
    }
}
