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
}
