// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Consortium} from "./Consortium.sol";
import {IMaterialRegistry} from "./interfaces/IMaterialRegistry.sol";
import {MaterialLeaf} from "./libraries/MaterialLeaf.sol";

/**
 * @title MaterialRegistry — batch anchoring and per-leaf status (see IMaterialRegistry).
 * @dev An anchor is ONE slot (member index, type index, jurisdiction, count, block, time); a leaf's status is
 * ONE slot in the issuer's namespace (status, reason, by, block, time); successor/predecessor links are
 * separate mappings written only by `supersedeMaterial`.
 */
abstract contract MaterialRegistry is Consortium, IMaterialRegistry {
    /// 32+32+32+32+64+64 = 256 bits.
    struct AnchorRecord {
        uint32 memberIdx;
        uint32 typeIdx;
        uint32 jurisdiction;
        uint32 count;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// 8+16+32+64+64 = 184 bits.
    struct LeafRecord {
        MaterialStatus status;
        uint16 reason;
        uint32 byIdx;
        uint64 blockNumber;
        uint64 timestamp;
    }

    struct HashAlgRecord {
        HashAlgStatus status;
        uint64 retiredAt;
    }

    mapping(bytes32 root => AnchorRecord) private _anchors;
    mapping(uint32 issuerIdx => mapping(bytes32 leaf => LeafRecord)) private _leaves;
    mapping(uint32 issuerIdx => mapping(bytes32 leaf => bytes32 successor)) private _successors;
    mapping(uint32 issuerIdx => mapping(bytes32 leaf => bytes32 predecessor)) private _predecessors;
    mapping(uint8 hashAlg => HashAlgRecord) private _hashAlgs;

    constructor() {
        _addHashAlg(1); // SHA-256
        _addHashAlg(2); // SM3
    }

    // ------------------------------------------------------------------------------------------- anchoring

    /// @inheritdoc IMaterialRegistry
    function anchor(bytes32 root, bytes32 typeCode, uint32 jurisdiction, uint32 count) external {
        (uint32 idx, bytes32 id) = _activeCaller();
        if (root == bytes32(0)) revert InvalidRoot(root);
        if (count == 0) revert InvalidBatchCount(root, count);
        uint32 typeIdx = _entitlements[idx][typeCode][jurisdiction];
        if (typeIdx == 0) revert NotEntitled(id, typeCode, jurisdiction);
        uint32 existing = _anchors[root].memberIdx;
        if (existing != 0) revert RootAlreadyAnchored(root, _members[existing].id);
        // One SSTORE of the whole slot (a struct assignment writes field by field).
        uint256 word = uint256(idx) | (uint256(typeIdx) << 32) | (uint256(jurisdiction) << 64) | (uint256(count) << 96)
            | (uint256(uint64(block.number)) << 128) | (uint256(_time()) << 192);
        AnchorRecord storage a = _anchors[root];
        assembly ("memory-safe") {
            sstore(a.slot, word)
        }
        emit Anchored(root, id, typeCode, jurisdiction, count);
    }

    // ------------------------------------------------------------------------------- issuer status (by leaf)

    /// @inheritdoc IMaterialRegistry
    function revokeMaterial(bytes32 leaf, uint16 reason) external {
        (uint32 idx, bytes32 id) = _activeCaller();
        _revoke(idx, id, leaf, idx, id, reason);
    }

    /// @inheritdoc IMaterialRegistry
    function suspendMaterial(bytes32 leaf, uint16 reason) external {
        (uint32 idx, bytes32 id) = _activeCaller();
        _suspend(idx, id, leaf, idx, id, reason);
    }

    /// @inheritdoc IMaterialRegistry
    function reinstateMaterial(bytes32 leaf) external {
        (uint32 idx, bytes32 id) = _activeCaller();
        _reinstate(idx, id, leaf, idx, id);
    }

    /// @inheritdoc IMaterialRegistry
    function supersedeMaterial(bytes32 oldLeaf, bytes32 newRoot, bytes32 newLeaf, bytes32[] calldata proof)
        external
    {
        (uint32 idx, bytes32 id) = _activeCaller();
        uint32 rootIssuer = _anchors[newRoot].memberIdx;
        if (rootIssuer == 0) revert RootNotAnchored(newRoot);
        if (rootIssuer != idx) revert RootIssuerMismatch(newRoot, id, _members[rootIssuer].id);
        if (!MerkleProof.verifyCalldata(proof, newRoot, newLeaf)) revert InvalidMerkleProof(newRoot, newLeaf);
        if (oldLeaf == bytes32(0) || oldLeaf == newLeaf) revert InvalidSupersession(oldLeaf, newLeaf);
        if (_leaves[idx][oldLeaf].status == MaterialStatus.Revoked) revert MaterialAlreadyRevoked(id, oldLeaf);
        bytes32 successor = _successors[idx][oldLeaf];
        if (successor != bytes32(0)) revert MaterialAlreadySuperseded(id, oldLeaf, successor);
        bytes32 predecessor = _predecessors[idx][newLeaf];
        if (predecessor != bytes32(0)) revert MaterialAlreadySupersedes(id, newLeaf, predecessor);
        _successors[idx][oldLeaf] = newLeaf;
        _predecessors[idx][newLeaf] = oldLeaf;
        emit MaterialSuperseded(oldLeaf, id, newLeaf, newRoot);
    }

    // ------------------------------------------------------------------------- authority status (with proof)

    /// @inheritdoc IMaterialRegistry
    function revokeMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint16 reason)
        external
    {
        (uint32 issuerIdx, bytes32 issuer, uint32 byIdx, bytes32 by) = _authorityTarget(root, leaf, proof);
        _revoke(issuerIdx, issuer, leaf, byIdx, by, reason);
    }

    /// @inheritdoc IMaterialRegistry
    function suspendMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint16 reason)
        external
    {
        (uint32 issuerIdx, bytes32 issuer, uint32 byIdx, bytes32 by) = _authorityTarget(root, leaf, proof);
        _suspend(issuerIdx, issuer, leaf, byIdx, by, reason);
    }

    /// @inheritdoc IMaterialRegistry
    function reinstateMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external {
        (uint32 issuerIdx, bytes32 issuer, uint32 byIdx, bytes32 by) = _authorityTarget(root, leaf, proof);
        _reinstate(issuerIdx, issuer, leaf, byIdx, by);
    }

    // -------------------------------------------------------------------------------------- governed (hash)

    /// @inheritdoc IMaterialRegistry
    function addHashAlg(uint8 hashAlg) external governed {
        _addHashAlg(hashAlg);
    }

    /// @inheritdoc IMaterialRegistry
    function retireHashAlg(uint8 hashAlg) external governed {
        HashAlgRecord storage h = _hashAlgs[hashAlg];
        if (h.status == HashAlgStatus.Unknown) revert UnknownHashAlg(hashAlg);
        if (h.status == HashAlgStatus.Retired) revert HashAlgAlreadyRetired(hashAlg);
        uint64 now_ = _time();
        _hashAlgs[hashAlg] = HashAlgRecord(HashAlgStatus.Retired, now_);
        emit HashAlgRetired(hashAlg, now_);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @inheritdoc IMaterialRegistry
    function materialState(bytes32 root, bytes32 leaf, uint8 hashAlg) external view returns (MaterialState memory) {
        return _materialState(root, leaf, hashAlg);
    }

    /// @inheritdoc IMaterialRegistry
    function materialStates(MaterialQuery[] calldata queries) external view returns (MaterialState[] memory states) {
        states = new MaterialState[](queries.length);
        for (uint256 i = 0; i < queries.length; ++i) {
            states[i] = _materialState(queries[i].root, queries[i].leaf, queries[i].hashAlg);
        }
    }

    function _materialState(bytes32 root, bytes32 leaf, uint8 hashAlg) private view returns (MaterialState memory s) {
        HashAlgRecord storage h = _hashAlgs[hashAlg];
        s.hashAlgStatus = h.status;
        s.hashAlgRetiredAt = h.retiredAt;
        AnchorRecord memory a = _anchors[root];
        if (a.memberIdx == 0) return s;
        MemberRecord storage issuer = _members[a.memberIdx];
        s.anchored = true;
        s.anchoredBlock = a.blockNumber;
        s.anchoredAt = a.timestamp;
        s.issuer = issuer.id;
        s.typeCode = _typeCodes[a.typeIdx];
        s.jurisdiction = a.jurisdiction;
        s.count = a.count;
        s.issuerActiveNow = issuer.status == MemberStatus.Active;
        LeafRecord memory r = _leaves[a.memberIdx][leaf];
        s.status = r.status;
        s.reason = r.reason;
        if (r.byIdx != 0) s.statusBy = _members[r.byIdx].id;
        s.statusBlock = r.blockNumber;
        s.statusAt = r.timestamp;
        s.supersededBy = _successors[a.memberIdx][leaf];
        s.supersedes = _predecessors[a.memberIdx][leaf];
    }

    /// @inheritdoc IMaterialRegistry
    function hashAlgInfo(uint8 hashAlg) external view returns (HashAlgStatus status, uint64 retiredAt) {
        HashAlgRecord storage h = _hashAlgs[hashAlg];
        return (h.status, h.retiredAt);
    }

    /// @inheritdoc IMaterialRegistry
    function leafOf(MaterialHeader calldata header) external pure returns (bytes32) {
        return MaterialLeaf.leafOf(header);
    }

    // ------------------------------------------------------------------------------------------- internals

    function _addHashAlg(uint8 hashAlg) private {
        if (hashAlg == 0) revert InvalidHashAlg(hashAlg);
        if (_hashAlgs[hashAlg].status != HashAlgStatus.Unknown) revert HashAlgAlreadyRegistered(hashAlg);
        _hashAlgs[hashAlg] = HashAlgRecord(HashAlgStatus.Active, 0);
        emit HashAlgAdded(hashAlg);
    }

    /// @dev The caller as a revocation authority competent for `root`'s jurisdiction, with `leaf` proven
    /// under `root`; returns the issuer (namespace) and the authority.
    function _authorityTarget(bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        private
        view
        returns (uint32 issuerIdx, bytes32 issuer, uint32 byIdx, bytes32 by)
    {
        (byIdx, by) = _activeCaller();
        AnchorRecord storage a = _anchors[root];
        issuerIdx = a.memberIdx;
        if (issuerIdx == 0) revert RootNotAnchored(root);
        uint32 jurisdiction = a.jurisdiction;
        if (!_authorityCovers(byIdx, jurisdiction)) revert NotRevocationAuthority(by, jurisdiction);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidMerkleProof(root, leaf);
        issuer = _members[issuerIdx].id;
    }

    /// @dev Writes a LeafRecord with ONE SSTORE, in Solidity's packing order (first field lowest).
    function _writeLeaf(LeafRecord storage r, MaterialStatus status, uint16 reason, uint32 byIdx) private {
        uint256 word = uint256(uint8(status)) | (uint256(reason) << 8) | (uint256(byIdx) << 24)
            | (uint256(uint64(block.number)) << 56) | (uint256(_time()) << 120);
        assembly ("memory-safe") {
            sstore(r.slot, word)
        }
    }

    function _revoke(uint32 issuerIdx, bytes32 issuer, bytes32 leaf, uint32 byIdx, bytes32 by, uint16 reason)
        private
    {
        LeafRecord storage r = _leaves[issuerIdx][leaf];
        if (r.status == MaterialStatus.Revoked) revert MaterialAlreadyRevoked(issuer, leaf);
        _writeLeaf(r, MaterialStatus.Revoked, reason, byIdx);
        emit MaterialRevoked(leaf, issuer, by, reason);
    }

    function _suspend(uint32 issuerIdx, bytes32 issuer, bytes32 leaf, uint32 byIdx, bytes32 by, uint16 reason)
        private
    {
        LeafRecord storage r = _leaves[issuerIdx][leaf];
        MaterialStatus status = r.status;
        if (status == MaterialStatus.Revoked) revert MaterialAlreadyRevoked(issuer, leaf);
        if (status == MaterialStatus.Suspended) revert MaterialAlreadySuspended(issuer, leaf);
        _writeLeaf(r, MaterialStatus.Suspended, reason, byIdx);
        emit MaterialSuspended(leaf, issuer, by, reason);
    }

    /// @dev The issuer lifts only its own suspension; an authority (byIdx != issuerIdx) lifts only an
    /// authority's (any competent one's, so a city can lift its district's).
    function _reinstate(uint32 issuerIdx, bytes32 issuer, bytes32 leaf, uint32 byIdx, bytes32 by) private {
        LeafRecord storage slot = _leaves[issuerIdx][leaf];
        LeafRecord memory r = slot;
        if (r.status == MaterialStatus.Revoked) revert MaterialAlreadyRevoked(issuer, leaf);
        if (r.status != MaterialStatus.Suspended) revert MaterialNotSuspended(issuer, leaf);
        if ((r.byIdx == issuerIdx) != (byIdx == issuerIdx)) {
            revert SuspensionHeldBy(issuer, leaf, _members[r.byIdx].id);
        }
        _writeLeaf(slot, MaterialStatus.Active, 0, byIdx);
        emit MaterialReinstated(leaf, issuer, by);
    }
}
