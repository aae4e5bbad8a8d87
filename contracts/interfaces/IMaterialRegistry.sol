// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title IMaterialRegistry — anchoring of e-material batches and per-material status.
 *
 * @notice THE LEAF (design decision 1, shared with the SDK and pinned by test/vectors/leaf.json):
 *   leaf = keccak256(abi.encode(
 *            bytes32 typeCode,     // material type, a catalogue code as ethers.encodeBytes32String (<= 31 ASCII chars)
 *            bytes32 issuer,       // issuing member id = encodeBytes32String(unified social credit code, 18 chars)
 *            bytes32 holderRef,    // keyed hash of the holder's ID type and number (never a plain ID)
 *            bytes32 contentHash,  // hash of the document content under `hashAlg`
 *            uint8   hashAlg,      // content-hash algorithm id: 1 = SHA-256, 2 = SM3 (governed list)
 *            uint64  issuedAt,     // unix seconds
 *            uint64  validFrom,    // unix seconds
 *            uint64  validUntil,   // unix seconds, 0 = no end
 *            uint32  version,      // 1 for a first issue, +1 for each superseding version
 *            bytes32 supersedes    // leaf of the version this one replaces, 0 if none
 *          ))
 *
 * @notice THE TREE: leaves in the order given; each level hashes adjacent pairs (2i, 2i+1) with the
 *   commutative keccak256 of the sorted pair (OpenZeppelin MerkleProof); an odd last node is carried up
 *   unchanged. A batch of one has root == leaf and an empty proof. Leaves are not hashed again.
 *
 * @notice ENTITLEMENT PER BATCH: one root covers ONE material type in ONE jurisdiction. `anchor` checks that
 *   the caller is a signing account of an active member entitled to issue `typeCode` in `jurisdiction` at
 *   that moment, and records (member, type, jurisdiction, block, time) in the anchor. A verifier then checks
 *   that the header's `issuer` and `typeCode` equal the anchor's: a member cannot slip a type it is not
 *   entitled to into a batch of another type and have it verify. Because an anchor can only exist if it was
 *   entitled when made, entitlement is judged as of the anchoring moment (decision 8): a later suspension,
 *   entitlement withdrawal or key rotation does not invalidate it, and blocks every later anchor.
 *
 * @notice STATUS is kept per leaf in the issuer's own namespace (status[issuerMember][leaf]), so an issuer
 *   revokes/suspends/supersedes by leaf alone (no proof, cheap) and cannot touch another member's
 *   materials. A revocation authority (scoped per jurisdiction) acts on another member's material by
 *   proving the leaf is under an anchored root. Revocation is final and outranks suspension; suspension is
 *   reversible.
 */
interface IMaterialRegistry {
    /// Status of one material (leaf) in its issuer's namespace.
    enum MaterialStatus {
        Active, // 0: never suspended or revoked, or reinstated
        Suspended, // 1: under investigation, reversible
        Revoked // 2: final
    }

    /// Status of a content-hash algorithm in the governed list.
    enum HashAlgStatus {
        Unknown, // 0
        Active, // 1
        Retired // 2
    }

    /// Everything a verifier asks about `leaf` under `root`, answered by one eth_call (see `materialState`).
    struct MaterialState {
        bool anchored; // root was anchored
        uint64 anchoredBlock;
        uint64 anchoredAt; // block timestamp, unix seconds
        bytes32 issuer; // member id of the anchoring member
        bytes32 typeCode; // the one type this root covers
        uint32 jurisdiction; // the jurisdiction the issuer was entitled for
        uint32 count; // number of leaves the issuer declared in the batch
        bool issuerActiveNow; // informational: the issuer is not suspended today
        MaterialStatus status;
        uint16 reason; // reason code of the last status change (0 if none)
        bytes32 statusBy; // member id that made the last status change (issuer or authority)
        uint64 statusBlock; // block of the last status change
        uint64 statusAt; // timestamp of the last status change
        bytes32 supersededBy; // successor leaf, 0 if not superseded
        bytes32 supersedes; // predecessor leaf recorded on chain, 0 if none
        HashAlgStatus hashAlgStatus; // status of the header's content-hash algorithm today
        uint64 hashAlgRetiredAt; // when it was retired (0 if active); anchors before this stay valid
    }

    /// One question of `materialStates`: the arguments of `materialState`.
    struct MaterialQuery {
        bytes32 root;
        bytes32 leaf;
        uint8 hashAlg;
    }

    /// The material header, in leaf order (see THE LEAF above). Used by `MaterialLeaf.leafOf`.
    struct MaterialHeader {
        bytes32 typeCode;
        bytes32 issuer;
        bytes32 holderRef;
        bytes32 contentHash;
        uint8 hashAlg;
        uint64 issuedAt;
        uint64 validFrom;
        uint64 validUntil;
        uint32 version;
        bytes32 supersedes;
    }

    // ------------------------------------------------------------------------------------------------ events

    /// A batch root was anchored by `issuer` for one type in one jurisdiction (block and time are the log's).
    event Anchored(bytes32 indexed root, bytes32 indexed issuer, bytes32 indexed typeCode, uint32 jurisdiction, uint32 count);
    /// `leaf` in `issuer`'s namespace was revoked by member `by` (the issuer itself or a revocation authority).
    event MaterialRevoked(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by, uint16 reason);
    event MaterialSuspended(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by, uint16 reason);
    event MaterialReinstated(bytes32 indexed leaf, bytes32 indexed issuer, bytes32 indexed by);
    /// `oldLeaf` of `issuer` is replaced by `newLeaf`, proven under `newRoot` (anchored by the same issuer).
    event MaterialSuperseded(bytes32 indexed oldLeaf, bytes32 indexed issuer, bytes32 indexed newLeaf, bytes32 newRoot);
    event HashAlgAdded(uint8 indexed hashAlg);
    event HashAlgRetired(uint8 indexed hashAlg, uint64 retiredAt);

    // ------------------------------------------------------------------------------------------------ errors

    error InvalidRoot(bytes32 root);
    error InvalidBatchCount(bytes32 root, uint32 count);
    error RootAlreadyAnchored(bytes32 root, bytes32 issuer);
    error RootNotAnchored(bytes32 root);
    /// The caller's member is not (or no longer) entitled to anchor `typeCode` in `jurisdiction`.
    error NotEntitled(bytes32 memberId, bytes32 typeCode, uint32 jurisdiction);
    error InvalidMerkleProof(bytes32 root, bytes32 leaf);
    error NotRevocationAuthority(bytes32 memberId, uint32 jurisdiction);
    error MaterialAlreadyRevoked(bytes32 issuer, bytes32 leaf);
    error MaterialAlreadySuspended(bytes32 issuer, bytes32 leaf);
    error MaterialNotSuspended(bytes32 issuer, bytes32 leaf);
    /// Only the issuer lifts its own suspension; only a competent revocation authority lifts an authority's.
    error SuspensionHeldBy(bytes32 issuer, bytes32 leaf, bytes32 suspendedBy);
    error InvalidSupersession(bytes32 oldLeaf, bytes32 newLeaf);
    error MaterialAlreadySuperseded(bytes32 issuer, bytes32 leaf, bytes32 successor);
    error MaterialAlreadySupersedes(bytes32 issuer, bytes32 leaf, bytes32 predecessor);
    /// `root` was anchored by `actual`, not by the caller's member `expected`.
    error RootIssuerMismatch(bytes32 root, bytes32 expected, bytes32 actual);
    error InvalidHashAlg(uint8 hashAlg);
    error HashAlgAlreadyRegistered(uint8 hashAlg);
    error UnknownHashAlg(uint8 hashAlg);
    error HashAlgAlreadyRetired(uint8 hashAlg);

    // ------------------------------------------------------------------------------------------- anchoring

    /**
     * @notice Anchors a batch root covering `count` leaves of ONE `typeCode` in ONE `jurisdiction`.
     * @dev Caller: a current account of an active member entitled for (typeCode, jurisdiction). One storage
     * slot per root. Reverts InvalidRoot (0), InvalidBatchCount (0), NotEntitled, RootAlreadyAnchored,
     * AccountNotMember, MemberNotActive. Emits Anchored.
     */
    function anchor(bytes32 root, bytes32 typeCode, uint32 jurisdiction, uint32 count) external;

    // ------------------------------------------------------------------------------- issuer status (by leaf)

    /// @notice The caller's member revokes `leaf` in its own namespace (final). Reverts MaterialAlreadyRevoked.
    /// Emits MaterialRevoked(leaf, issuer, issuer, reason).
    function revokeMaterial(bytes32 leaf, uint16 reason) external;

    /// @notice The caller's member suspends `leaf` in its own namespace. Reverts MaterialAlreadyRevoked,
    /// MaterialAlreadySuspended. Emits MaterialSuspended.
    function suspendMaterial(bytes32 leaf, uint16 reason) external;

    /// @notice The caller's member lifts ITS OWN suspension of `leaf`. Reverts MaterialNotSuspended,
    /// MaterialAlreadyRevoked, SuspensionHeldBy (an authority suspended it). Emits MaterialReinstated.
    function reinstateMaterial(bytes32 leaf) external;

    /**
     * @notice The caller's member declares `newLeaf` (proven by `proof` under `newRoot`, which it anchored)
     * the successor of its `oldLeaf`; both links are recorded. Reverts RootNotAnchored, RootIssuerMismatch,
     * InvalidMerkleProof, InvalidSupersession (old == new or old == 0), MaterialAlreadyRevoked (old),
     * MaterialAlreadySuperseded (old has a successor), MaterialAlreadySupersedes (new has a predecessor).
     * Emits MaterialSuperseded.
     */
    function supersedeMaterial(bytes32 oldLeaf, bytes32 newRoot, bytes32 newLeaf, bytes32[] calldata proof) external;

    // ------------------------------------------------------------------------- authority status (with proof)

    /**
     * @notice A revocation authority competent for the anchor's jurisdiction (or an ancestor of it) revokes
     * `leaf`, proven under the anchored `root`, in the ISSUER's namespace. Reverts RootNotAnchored,
     * NotRevocationAuthority, InvalidMerkleProof, MaterialAlreadyRevoked. Emits MaterialRevoked(leaf, issuer, authority, reason).
     */
    function revokeMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint16 reason) external;

    /// @notice As `revokeMaterialAsAuthority`, suspending. Emits MaterialSuspended.
    function suspendMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof, uint16 reason) external;

    /// @notice A competent revocation authority lifts an AUTHORITY's suspension (any authority's, so a city
    /// can lift its district's); it cannot lift the issuer's own suspension (SuspensionHeldBy). Emits MaterialReinstated.
    function reinstateMaterialAsAuthority(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external;

    // -------------------------------------------------------------------------------------- governed (hash)

    /// @notice Governed: adds a content-hash algorithm id (nonzero, never seen) as Active. Emits HashAlgAdded.
    function addHashAlg(uint8 hashAlg) external;

    /// @notice Governed: retires an active content-hash algorithm now. Emits HashAlgRetired.
    function retireHashAlg(uint8 hashAlg) external;

    // ------------------------------------------------------------------------------------------------- views

    /**
     * @notice Everything a verifier needs about `leaf` under `root` in one call. If `root` is not anchored,
     * `anchored` is false and every anchor/status field is zero. The leaf's inclusion in `root` is NOT checked
     * here (the verifier checks the proof offline); status is read from the anchoring issuer's namespace.
     * `hashAlgStatus`/`hashAlgRetiredAt` describe `hashAlg` (the header's content-hash algorithm) today.
     */
    function materialState(bytes32 root, bytes32 leaf, uint8 hashAlg) external view returns (MaterialState memory);

    /// @notice `materialState` for each query, in one call (a node coalesces the verifications of concurrent
    /// requests): `states[i]` is exactly what `materialState(queries[i]...)` returns. Never reverts.
    function materialStates(MaterialQuery[] calldata queries) external view returns (MaterialState[] memory states);

    /// @notice (status, retiredAt) of a content-hash algorithm id.
    function hashAlgInfo(uint8 hashAlg) external view returns (HashAlgStatus status, uint64 retiredAt);

    /// @notice The leaf of a header: keccak256(abi.encode(header fields in order)).
    function leafOf(MaterialHeader calldata header) external pure returns (bytes32);
}
