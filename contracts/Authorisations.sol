// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IAuthorisations} from "./interfaces/IAuthorisations.sol";

/**
 * @title Authorisations — holder grants (授权调证), delegation, holder keys and use-log heads.
 * @notice See IAuthorisations for the rules and the trust model. Deployed with the ledger (IConsortium) address.
 */
contract Authorisations is IAuthorisations, EIP712 {
    /// @inheritdoc IAuthorisations
    uint8 public constant MAX_DEPTH = 2;
    /// @inheritdoc IAuthorisations
    uint256 public constant MAX_SCOPE_ITEMS = 16;

    bytes32 private constant GRANT_TERMS_TYPEHASH = keccak256(
        "GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)"
    );
    bytes32 private constant HOLDER_GRANT_TYPEHASH = keccak256(
        "HolderGrant(GrantTerms terms,uint256 nonce,uint256 deadline)GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)"
    );
    bytes32 private constant GRANTEE_DELEGATION_TYPEHASH = keccak256(
        "GranteeDelegation(bytes32 parentId,GrantTerms terms,uint256 nonce,uint256 deadline)GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,uint64 notBefore,uint64 notAfter,uint32 maxUses)"
    );
    bytes32 private constant HOLDER_REVOKE_TYPEHASH =
        keccak256("HolderRevoke(bytes32 grantId,uint256 nonce,uint256 deadline)");

    /// One grant. Slots: 5 ids, then (window, uses, depth, origin, created) written at creation, then (revoked)
    /// written only at revocation, then the scope. uint40 seconds last until the year 36812.
    struct GrantRecord {
        bytes32 holderRef;
        bytes32 grantee;
        bytes32 matter;
        bytes32 parentId;
        bytes32 grantor;
        uint64 notBefore;
        uint64 notAfter;
        uint32 maxUses;
        uint32 used;
        uint8 depth;
        Origin origin;
        uint40 createdAt;
        uint64 revokedAt;
        Revoker revokedBy;
        bytes32[] typeCodes;
        bytes32[] leaves;
    }

    /// @inheritdoc IAuthorisations
    IConsortium public immutable ledger;

    mapping(bytes32 grantId => GrantRecord) private _grants;
    mapping(bytes32 holderRef => uint256) private _nonces;
    mapping(bytes32 memberId => uint256) private _delegationNonces;
    mapping(address key => bytes32 holderRef) private _holderOfKey;
    mapping(bytes32 custodian => UseLogHead[]) private _heads;

    constructor(IConsortium ledger_) EIP712("TongbanAuthorisations", "1") {
        ledger = ledger_;
    }

    // ------------------------------------------------------------------------------------------ holder keys

    /// @inheritdoc IAuthorisations
    function bindHolderKey(bytes32 holderRef, address key, bytes32 evidenceHash) external {
        bytes32 by = _identityProviderCaller();
        if (holderRef == bytes32(0)) revert InvalidHolderRef(holderRef);
        if (key == address(0)) revert InvalidHolderKey(key);
        if (evidenceHash == bytes32(0)) revert InvalidEvidence(evidenceHash);
        bytes32 bound = _holderOfKey[key];
        if (bound != bytes32(0)) revert HolderKeyAlreadyBound(key, bound);
        _holderOfKey[key] = holderRef;
        emit HolderKeyBound(holderRef, key, by, evidenceHash);
    }

    /// @inheritdoc IAuthorisations
    function unbindHolderKey(bytes32 holderRef, address key, bytes32 evidenceHash) external {
        bytes32 by = _identityProviderCaller();
        if (evidenceHash == bytes32(0)) revert InvalidEvidence(evidenceHash);
        if (holderRef == bytes32(0) || _holderOfKey[key] != holderRef) revert HolderKeyNotBound(holderRef, key);
        delete _holderOfKey[key];
        emit HolderKeyUnbound(holderRef, key, by, evidenceHash);
    }

    // ----------------------------------------------------------------------------------------------- grants

    /// @inheritdoc IAuthorisations
    function grantBySignature(
        GrantTerms calldata terms,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external returns (bytes32 grantId) {
        _activeCaller();
        _checkTerms(terms);
        bytes32 structHash = keccak256(abi.encode(HOLDER_GRANT_TYPEHASH, _hashTerms(terms), nonce, deadline));
        _useHolderSignature(terms.holderRef, structHash, nonce, deadline, signer, signature);
        return _create(bytes32(0), Origin.HolderSignature, terms, bytes32(nonce), bytes32(0), 0, bytes32(0));
    }

    /// @inheritdoc IAuthorisations
    function grantByIdentityProvider(GrantTerms calldata terms, bytes32 salt, bytes32 evidenceHash)
        external
        returns (bytes32 grantId)
    {
        bytes32 by = _identityProviderCaller();
        if (evidenceHash == bytes32(0)) revert InvalidEvidence(evidenceHash);
        _checkTerms(terms);
        return _create(bytes32(0), Origin.IdentityProvider, terms, salt, by, 0, evidenceHash);
    }

    /// @inheritdoc IAuthorisations
    function delegateGrant(bytes32 parentId, GrantTerms calldata terms, bytes32 salt)
        external
        returns (bytes32 grantId)
    {
        bytes32 me = _activeCaller();
        GrantRecord storage p = _existing(parentId);
        if (p.grantee != me) revert NotGrantee(parentId, me);
        return _delegate(parentId, p, me, terms, salt);
    }

    /// @inheritdoc IAuthorisations
    function delegateGrantBySignature(
        bytes32 parentId,
        GrantTerms calldata terms,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external returns (bytes32 grantId) {
        bytes32 submitter = _activeCaller();
        GrantRecord storage p = _existing(parentId);
        _useDelegationSignature(parentId, p.grantee, _hashTerms(terms), nonce, deadline, signer, signature);
        grantId = _delegate(parentId, p, p.grantee, terms, bytes32(nonce));
        emit GrantDelegatedBySignature(grantId, parentId, p.grantee, signer, nonce, submitter);
    }

    /// @inheritdoc IAuthorisations
    function revokeGrant(bytes32 grantId) external {
        bytes32 me = _activeCaller();
        GrantRecord storage g = _existing(grantId);
        if (g.grantor != me) revert NotGrantor(grantId, me);
        _revoke(g, grantId, me, Revoker.Grantor, bytes32(0));
    }

    /// @inheritdoc IAuthorisations
    function revokeGrantBySignature(
        bytes32 grantId,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external {
        _activeCaller();
        GrantRecord storage g = _existing(grantId);
        bytes32 structHash = keccak256(abi.encode(HOLDER_REVOKE_TYPEHASH, grantId, nonce, deadline));
        _useHolderSignature(g.holderRef, structHash, nonce, deadline, signer, signature);
        _revoke(g, grantId, bytes32(0), Revoker.HolderSignature, bytes32(0));
    }

    /// @inheritdoc IAuthorisations
    function revokeGrantByIdentityProvider(bytes32 grantId, bytes32 evidenceHash) external {
        bytes32 by = _identityProviderCaller();
        if (evidenceHash == bytes32(0)) revert InvalidEvidence(evidenceHash);
        GrantRecord storage g = _existing(grantId);
        _revoke(g, grantId, by, Revoker.IdentityProvider, evidenceHash);
    }

    // ---------------------------------------------------------------------------------------------- use log

    /// @inheritdoc IAuthorisations
    function anchorUseLog(uint64 treeSize, bytes32 rootHash, GrantUses[] calldata uses)
        external
        returns (uint256 headIndex)
    {
        bytes32 custodian = _activeCaller();
        UseLogHead[] storage heads = _heads[custodian];
        headIndex = heads.length;
        uint64 previous = headIndex == 0 ? 0 : heads[headIndex - 1].treeSize;
        if (treeSize <= previous) revert UseLogNotAdvancing(custodian, previous, treeSize);
        if (rootHash == bytes32(0)) revert InvalidUseLogRoot(custodian, rootHash);
        uint256 counted;
        for (uint256 i; i < uses.length; ++i) {
            bytes32 grantId = uses[i].grantId;
            uint32 count = uses[i].count;
            if (count == 0) revert InvalidUseCount(grantId, count);
            counted += count;
            GrantRecord storage g = _existing(grantId);
            uint32 used = _addUses(g, grantId, custodian, count);
            // a child's use is also a use of each ancestor (at most MAX_DEPTH of them)
            for (bytes32 a = g.parentId; a != bytes32(0); a = _grants[a].parentId) {
                _addUses(_grants[a], a, custodian, count);
            }
            emit GrantUsesRecorded(grantId, custodian, headIndex, count, used);
        }
        if (counted > treeSize - previous) revert UseCountsExceedRecords(custodian, counted, treeSize - previous);
        heads.push(UseLogHead(treeSize, _time(), uint64(block.number), rootHash));
        emit UseLogAnchored(custodian, headIndex, treeSize, rootHash, uses);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IAuthorisations
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IAuthorisations
    function holderNonce(bytes32 holderRef) external view returns (uint256) {
        return _nonces[holderRef];
    }

    /// @inheritdoc IAuthorisations
    function delegationNonce(bytes32 memberId) external view returns (uint256) {
        return _delegationNonces[memberId];
    }

    /// @inheritdoc IAuthorisations
    function holderOfKey(address key) external view returns (bytes32) {
        return _holderOfKey[key];
    }

    /// @inheritdoc IAuthorisations
    function hashGrantTerms(GrantTerms calldata terms) external pure returns (bytes32) {
        return _hashTerms(terms);
    }

    /// @inheritdoc IAuthorisations
    function grantIdOf(bytes32 parentId, Origin origin, GrantTerms calldata terms, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _grantId(parentId, origin, _hashTerms(terms), salt);
    }

    /// @inheritdoc IAuthorisations
    function getGrant(bytes32 grantId, uint64 at) public view returns (GrantView memory v) {
        GrantRecord storage g = _grants[grantId];
        v.grantId = grantId;
        if (g.origin == Origin.None) return v;
        (v.status, v.usesLeft) = _status(g, at == 0 ? _time() : at);
        v.terms = GrantTerms(
            g.holderRef, g.grantee, g.matter, g.typeCodes, g.leaves, g.notBefore, g.notAfter, g.maxUses
        );
        v.parentId = g.parentId;
        v.rootId = grantId;
        for (bytes32 a = g.parentId; a != bytes32(0); a = _grants[a].parentId) v.rootId = a;
        v.grantor = g.grantor;
        v.origin = g.origin;
        v.depth = g.depth;
        v.createdAt = g.createdAt;
        v.revokedAt = g.revokedAt;
        v.revokedBy = g.revokedBy;
        v.used = g.used;
    }

    /// @inheritdoc IAuthorisations
    function grantStatus(bytes32 grantId, uint64 at) external view returns (GrantStatus status) {
        (status,) = _status(_grants[grantId], at == 0 ? _time() : at);
    }

    /// @inheritdoc IAuthorisations
    function checkGrant(bytes32 grantId, bytes32 requester, bytes32 matter, bytes32 typeCode, bytes32 leaf, uint64 at)
        external
        view
        returns (UseVerdict verdict, GrantView memory grant)
    {
        return _checkGrant(grantId, requester, matter, typeCode, leaf, at);
    }

    /// @inheritdoc IAuthorisations
    function checkGrants(GrantQuery[] calldata queries) external view returns (GrantCheck[] memory checks) {
        checks = new GrantCheck[](queries.length);
        for (uint256 i = 0; i < queries.length; ++i) {
            GrantQuery calldata q = queries[i];
            (checks[i].verdict, checks[i].grant) = _checkGrant(q.grantId, q.requester, q.matter, q.typeCode, q.leaf, q.at);
        }
    }

    function _checkGrant(bytes32 grantId, bytes32 requester, bytes32 matter, bytes32 typeCode, bytes32 leaf, uint64 at)
        private
        view
        returns (UseVerdict verdict, GrantView memory grant)
    {
        grant = getGrant(grantId, at);
        if (grant.status != GrantStatus.Active) return (UseVerdict(uint8(grant.status)), grant);
        if (requester != grant.terms.grantee) return (UseVerdict.WrongGrantee, grant);
        if (matter != grant.terms.matter) return (UseVerdict.WrongMatter, grant);
        if (!(_contains(grant.terms.typeCodes, typeCode) || _contains(grant.terms.leaves, leaf))) {
            return (UseVerdict.OutOfScope, grant);
        }
        return (UseVerdict.Allowed, grant);
    }

    /// @inheritdoc IAuthorisations
    function useLogHeadCount(bytes32 custodian) external view returns (uint256) {
        return _heads[custodian].length;
    }

    /// @inheritdoc IAuthorisations
    function useLogHead(bytes32 custodian, uint256 index) external view returns (UseLogHead memory) {
        if (index >= _heads[custodian].length) revert UnknownUseLogHead(custodian, index);
        return _heads[custodian][index];
    }

    /// @inheritdoc IAuthorisations
    function latestUseLogHead(bytes32 custodian) external view returns (UseLogHead memory head) {
        uint256 n = _heads[custodian].length;
        if (n != 0) head = _heads[custodian][n - 1];
    }

    // --------------------------------------------------------------------------------------------- internal

    /// @dev The clock (overridable in tests).
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }

    /// @dev The caller's member id; reverts unless the caller is a current account of an active member.
    function _activeCaller() private view returns (bytes32 memberId) {
        bool active;
        (memberId, active) = ledger.memberOf(msg.sender);
        if (memberId == bytes32(0)) revert AccountNotMember(msg.sender);
        if (!active) revert MemberNotActive(memberId);
    }

    function _identityProviderCaller() private view returns (bytes32 memberId) {
        memberId = _activeCaller();
        if (!ledger.hasRole(memberId, IConsortium.Role.IdentityProvider)) {
            revert MissingRole(memberId, IConsortium.Role.IdentityProvider);
        }
    }

    function _existing(bytes32 grantId) private view returns (GrantRecord storage g) {
        g = _grants[grantId];
        if (g.origin == Origin.None) revert UnknownGrant(grantId);
    }

    function _checkTerms(GrantTerms calldata t) private view {
        if (t.holderRef == bytes32(0)) revert InvalidHolderRef(t.holderRef);
        if (t.matter == bytes32(0)) revert InvalidMatter(t.matter);
        if (!ledger.isActiveMember(t.grantee)) revert InvalidGrantee(t.grantee);
        uint256 nTypes = t.typeCodes.length;
        uint256 nLeaves = t.leaves.length;
        if (nTypes + nLeaves == 0 || nTypes + nLeaves > MAX_SCOPE_ITEMS) revert InvalidScope(nTypes, nLeaves);
        for (uint256 i; i < nTypes; ++i) {
            if (t.typeCodes[i] == bytes32(0)) revert InvalidScope(nTypes, nLeaves);
            if (!ledger.isMaterialType(t.typeCodes[i])) revert UnknownMaterialType(t.typeCodes[i]);
        }
        for (uint256 i; i < nLeaves; ++i) {
            if (t.leaves[i] == bytes32(0)) revert InvalidScope(nTypes, nLeaves);
        }
        if (t.notBefore > t.notAfter || t.notAfter < _time()) revert InvalidWindow(t.notBefore, t.notAfter);
        if (t.maxUses == 0) revert InvalidMaxUses(t.maxUses);
    }

    /// @dev The rules of every delegation from `p` by its grantee `delegator` (already authenticated).
    function _delegate(
        bytes32 parentId,
        GrantRecord storage p,
        bytes32 delegator,
        GrantTerms calldata terms,
        bytes32 salt
    ) private returns (bytes32) {
        (GrantStatus status, uint32 usesLeft) = _status(p, _time());
        if (status != GrantStatus.Active) revert GrantNotUsable(parentId, status);
        if (p.depth >= MAX_DEPTH) revert DelegationTooDeep(parentId, p.depth + 1);
        _checkTerms(terms);
        if (terms.grantee == delegator) revert InvalidGrantee(delegator);
        if (terms.holderRef != p.holderRef) revert DelegationHolderMismatch(parentId, terms.holderRef);
        if (terms.matter != p.matter) revert DelegationMatterMismatch(parentId, terms.matter);
        if (terms.notBefore < p.notBefore || terms.notAfter > p.notAfter) {
            revert DelegationWindowExceeded(parentId, terms.notBefore, terms.notAfter);
        }
        if (terms.maxUses > usesLeft) revert DelegationUsesExceeded(parentId, terms.maxUses, usesLeft);
        _checkSubset(parentId, terms.typeCodes, p.typeCodes);
        _checkSubset(parentId, terms.leaves, p.leaves);
        return _create(parentId, Origin.Delegation, terms, salt, delegator, p.depth + 1, bytes32(0));
    }

    function _checkSubset(bytes32 parentId, bytes32[] calldata items, bytes32[] storage parentItems) private view {
        for (uint256 i; i < items.length; ++i) {
            if (!_containsStorage(parentItems, items[i])) revert DelegationOutOfScope(parentId, items[i]);
        }
    }

    function _containsStorage(bytes32[] storage list, bytes32 item) private view returns (bool) {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (list[i] == item) return true;
        }
        return false;
    }

    function _contains(bytes32[] memory list, bytes32 item) private pure returns (bool) {
        for (uint256 i; i < list.length; ++i) {
            if (list[i] == item) return true;
        }
        return false;
    }

    /// @dev Checks the deadline, the holder's current nonce, the key binding and the signature; consumes the nonce.
    function _useHolderSignature(
        bytes32 holderRef,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) private {
        if (_time() > deadline) revert SignatureExpired(deadline, _time());
        uint256 expected = _nonces[holderRef];
        if (nonce != expected) revert InvalidHolderNonce(holderRef, expected, nonce);
        if (signer == address(0) || _holderOfKey[signer] != holderRef) revert HolderKeyNotBound(holderRef, signer);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert InvalidHolderSignature(holderRef, signer);
        }
        _nonces[holderRef] = expected + 1;
    }

    /// @dev Checks the deadline, the delegator's current delegation nonce, that `signer` is a current account of
    /// `delegator`, and the GranteeDelegation signature; consumes the nonce.
    function _useDelegationSignature(
        bytes32 parentId,
        bytes32 delegator,
        bytes32 termsHash,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) private {
        if (_time() > deadline) revert DelegationSignatureExpired(parentId, deadline, _time());
        uint256 expected = _delegationNonces[delegator];
        if (nonce != expected) revert InvalidDelegationNonce(delegator, expected, nonce);
        (bytes32 signerMember,) = ledger.memberOf(signer);
        if (signerMember != delegator) revert DelegationSignerNotGrantee(parentId, signer, signerMember);
        bytes32 structHash = keccak256(abi.encode(GRANTEE_DELEGATION_TYPEHASH, parentId, termsHash, nonce, deadline));
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert InvalidDelegationSignature(parentId, signer);
        }
        _delegationNonces[delegator] = expected + 1;
    }

    function _hashTerms(GrantTerms calldata t) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                GRANT_TERMS_TYPEHASH,
                t.holderRef,
                t.grantee,
                t.matter,
                keccak256(abi.encodePacked(t.typeCodes)),
                keccak256(abi.encodePacked(t.leaves)),
                t.notBefore,
                t.notAfter,
                t.maxUses
            )
        );
    }

    function _grantId(bytes32 parentId, Origin origin, bytes32 termsHash, bytes32 salt) private view returns (bytes32) {
        return keccak256(abi.encode(_domainSeparatorV4(), parentId, uint8(origin), termsHash, salt));
    }

    function _create(
        bytes32 parentId,
        Origin origin,
        GrantTerms calldata t,
        bytes32 salt,
        bytes32 grantor,
        uint8 depth,
        bytes32 evidenceHash
    ) private returns (bytes32 grantId) {
        grantId = _grantId(parentId, origin, _hashTerms(t), salt);
        GrantRecord storage g = _grants[grantId];
        if (g.origin != Origin.None) revert GrantAlreadyExists(grantId);
        g.holderRef = t.holderRef;
        g.grantee = t.grantee;
        g.matter = t.matter;
        if (parentId != bytes32(0)) g.parentId = parentId;
        if (grantor != bytes32(0)) g.grantor = grantor;
        g.notBefore = t.notBefore;
        g.notAfter = t.notAfter;
        g.maxUses = t.maxUses;
        g.depth = depth;
        g.origin = origin;
        g.createdAt = uint40(_time());
        if (t.typeCodes.length != 0) g.typeCodes = t.typeCodes;
        if (t.leaves.length != 0) g.leaves = t.leaves;
        emit GrantCreated(grantId, t.holderRef, t.grantee, parentId, grantor, origin, t, salt, evidenceHash);
    }

    function _revoke(GrantRecord storage g, bytes32 grantId, bytes32 by, Revoker kind, bytes32 evidenceHash) private {
        if (g.revokedAt != 0) revert GrantAlreadyRevoked(grantId);
        g.revokedAt = _time();
        g.revokedBy = kind;
        emit GrantRevoked(grantId, g.holderRef, by, kind, evidenceHash);
    }

    /// @dev Adds `count` anchored uses (saturating at uint32 max); emits GrantOverused past maxUses.
    function _addUses(GrantRecord storage g, bytes32 grantId, bytes32 custodian, uint32 count)
        private
        returns (uint32 used)
    {
        uint256 sum = uint256(g.used) + count;
        used = sum > type(uint32).max ? type(uint32).max : uint32(sum);
        g.used = used;
        if (used > g.maxUses) emit GrantOverused(grantId, custodian, used, g.maxUses);
    }

    /// @dev Status at `at` and uses left (min over the grant and its <= MAX_DEPTH ancestors).
    function _status(GrantRecord storage g, uint64 at) private view returns (GrantStatus, uint32 usesLeft) {
        if (g.origin == Origin.None || g.createdAt > at) return (GrantStatus.Unknown, 0);
        usesLeft = _left(g);
        if (g.revokedAt != 0 && g.revokedAt <= at) return (GrantStatus.Revoked, usesLeft);
        bool ancestorRevoked;
        for (bytes32 a = g.parentId; a != bytes32(0);) {
            GrantRecord storage p = _grants[a];
            if (p.revokedAt != 0 && p.revokedAt <= at) ancestorRevoked = true;
            uint32 l = _left(p);
            if (l < usesLeft) usesLeft = l;
            a = p.parentId;
        }
        if (ancestorRevoked) return (GrantStatus.AncestorRevoked, usesLeft);
        if (at < g.notBefore) return (GrantStatus.NotYetValid, usesLeft);
        if (at > g.notAfter) return (GrantStatus.Expired, usesLeft);
        if (usesLeft == 0) return (GrantStatus.Exhausted, 0);
        if (!ledger.isActiveMember(g.grantee)) return (GrantStatus.GranteeInactive, usesLeft);
        return (GrantStatus.Active, usesLeft);
    }

    function _left(GrantRecord storage g) private view returns (uint32) {
        return g.used >= g.maxUses ? 0 : g.maxUses - g.used;
    }
}
