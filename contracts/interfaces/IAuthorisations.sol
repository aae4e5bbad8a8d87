// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IConsortium} from "./IConsortium.sol";

/**
 * @title IAuthorisations — holder authorisations (授权调证), multi-level delegation, and the anchored heads of
 * every custodian's append-only use log (decisions 4 and 5).
 *
 * @notice A separate contract deployed with the ledger address; it reads membership through IConsortium
 *   (`memberOf`, `hasRole`, `isActiveMember`). Every mutating function is called by a current signing account
 *   of an ACTIVE member (a suspended member can do nothing): otherwise `AccountNotMember(account)` or
 *   `MemberNotActive(memberId)`.
 *
 * @notice GRANTS. A holder (person or company, by holder reference) allows a grantee member to obtain
 *   materials — by type codes and/or by specific material leaves — for one matter (事项), within
 *   [notBefore, notAfter] (unix seconds, inclusive) and for at most `maxUses` uses. A root grant is created
 *     (a) by the holder's own EIP-712 signature (`grantBySignature`), with the holder's per-holderRef nonce
 *         and a deadline, by a key an identity-provider member bound to that holderRef (`bindHolderKey`); or
 *     (b) by an identity-provider member on the holder's behalf (`grantByIdentityProvider`), with the hash of
 *         the consent evidence from the unified identity platform.
 *   A grantee may delegate (`delegateGrant`) to another member within its own scope: same holder and matter,
 *   types ⊆ parent types, leaves ⊆ parent leaves (a leaf is not matched against a parent TYPE: the chain
 *   does not know a leaf's type), window within the parent's, maxUses <= the parent chain's uses left, at
 *   most MAX_DEPTH (2) levels below the root. The grantee delegates either by sending the transaction from
 *   one of its member's accounts (`delegateGrant`) or by signing an EIP-712 `GranteeDelegation` with one of
 *   them, which any active member submits (`delegateGrantBySignature`: the agent's member need not run a
 *   node). Both forms apply exactly the same rules; the signed form adds the grantee member's delegation
 *   nonce (one counter per member, consumed: no replay) and a deadline.
 *
 * @notice GRANT ID = keccak256(abi.encode(domainSeparator, parentId, uint8(origin), termsHash, salt)), where
 *   termsHash is the EIP-712 struct hash of `GrantTerms` (see `hashGrantTerms`) and salt = bytes32(nonce)
 *   for a holder signature or a grantee's signed delegation (origin Delegation, the delegation nonce), or a
 *   salt chosen by the caller otherwise (pinned by test/vectors/grant.json and grant-delegation.json).
 *
 * @notice EIP-712 domain: name "TongbanAuthorisations", version "1", chainId, verifyingContract = this.
 *   GrantTerms(bytes32 holderRef,bytes32 grantee,bytes32 matter,bytes32[] typeCodes,bytes32[] leaves,
 *              uint64 notBefore,uint64 notAfter,uint32 maxUses)
 *   HolderGrant(GrantTerms terms,uint256 nonce,uint256 deadline)            — a holder creates a root grant
 *   HolderRevoke(bytes32 grantId,uint256 nonce,uint256 deadline)            — a holder revokes a grant
 *   One nonce counter per holderRef serves both; a signature carries the CURRENT nonce (no replay).
 *   GranteeDelegation(bytes32 parentId,GrantTerms terms,uint256 nonce,uint256 deadline)
 *                                                                           — a grantee delegates a grant
 *   signed by a current account of the parent's grantee member, with that member's CURRENT delegation nonce
 *   (`delegationNonce(memberId)`, a counter separate from the holders').
 *
 * @notice REVOCATION voids the grant and everything below it at once, with no loop over children: every
 *   grant stores its parent, and `grantStatus` / `checkGrant` walk at most MAX_DEPTH ancestors. Who may
 *   revoke: the grantor member (the identity provider that created a root grant, the delegating member of a
 *   child), the holder (`revokeGrantBySignature`, any grant in its tree) or any identity provider on the
 *   holder's behalf with evidence (`revokeGrantByIdentityProvider`).
 *
 * @notice USES AND THE TRUST MODEL (decision 5: no transaction per use).
 *   - At request time the custodian node calls `checkGrant(grantId, requester, matter, typeCode, leaf, 0)`
 *     (one eth_call) and serves only on `UseVerdict.Allowed`. It then appends a SERVED record to its own
 *     append-only use log (RFC 6962 Merkle log, sdk/src/audit); the requester appends a RECEIVED record with
 *     the same request id to its log.
 *   - Each custodian periodically anchors its log head (`anchorUseLog`: tree size, root hash) together with
 *     the number of SERVED records per grant in the records added since its previous head. The chain adds
 *     those counts to the grant and to each of its ancestors (a child's use is also a use of its parents).
 *   - The custodian's log is the source of truth for uses; the chain's `used` is the count as of the last
 *     anchors. `usesLeft` in the views is therefore what is left per the anchored counts: a custodian MUST
 *     also subtract its own not-yet-anchored uses. Two custodians serving the same grant between anchors can
 *     together exceed `maxUses`; that is not prevented but recorded: anchoring never reverts for over-use
 *     (refusing the anchor would hide records), it emits `GrantOverused` and the grant becomes Exhausted.
 *     The excess is bounded by the anchoring interval and attributable to the custodians named in events.
 *   - An auditor checks, per custodian: consecutive heads are consistent (RFC 6962 consistency proof: the
 *     log only grew); each anchor's counts equal the SERVED records in its range; every SERVED record was
 *     Allowed by `checkGrant(..., at = record time)` (revocation and window are judged at `at`; suspension and
 *     use counts are current); and every SERVED record matches a RECEIVED record in the requester's log and
 *     vice versa. A dropped or altered record breaks a consistency proof or the cross-log match.
 *   - Heads are append-only: the tree size strictly increases, and every head is kept (`useLogHead`).
 */
interface IAuthorisations {
    // ------------------------------------------------------------------------------------------------- types

    /// How a grant was created.
    enum Origin {
        None, // 0: no such grant
        HolderSignature, // 1: root grant signed by the holder's bound key
        IdentityProvider, // 2: root grant recorded by an identity-provider member on the holder's behalf
        Delegation // 3: child grant made by the parent's grantee
    }

    /// How a grant was revoked.
    enum Revoker {
        None, // 0: not revoked
        Grantor, // 1: the grantor member (creating identity provider, or the delegating member)
        HolderSignature, // 2: the holder, by an EIP-712 signature of a bound key
        IdentityProvider // 3: an identity provider on the holder's behalf, with evidence
    }

    /// Status of a grant at a time `at` (stable codes: append only, never renumber).
    enum GrantStatus {
        Unknown, // 0: no such grant (or created after `at`)
        Active, // 1: usable
        NotYetValid, // 2: at < notBefore
        Expired, // 3: at > notAfter
        Revoked, // 4: the grant itself was revoked at or before `at`
        AncestorRevoked, // 5: a parent or grandparent was revoked at or before `at`
        Exhausted, // 6: the anchored uses of the grant or an ancestor reached its maxUses
        GranteeInactive // 7: the grantee member is suspended (or no longer a member)
    }

    /// Answer of `checkGrant` (stable codes: 0..7 mirror GrantStatus with Active -> Allowed; append only).
    enum UseVerdict {
        Unknown, // 0
        Allowed, // 1: serve the material
        NotYetValid, // 2
        Expired, // 3
        Revoked, // 4
        AncestorRevoked, // 5
        Exhausted, // 6
        GranteeInactive, // 7
        WrongGrantee, // 8: the requester is not the grantee
        WrongMatter, // 9: the request names another matter
        OutOfScope // 10: neither the type code nor the leaf is in the grant's scope
    }

    /// What the holder allows (the EIP-712 `GrantTerms`). At least one type code or leaf; at most
    /// MAX_SCOPE_ITEMS of both together; no zero item.
    struct GrantTerms {
        bytes32 holderRef; // keyed hash of the holder's ID (never a plain ID)
        bytes32 grantee; // member id allowed to obtain the materials
        bytes32 matter; // matter (事项) code, e.g. encodeBytes32String(catalogue code of the service item)
        bytes32[] typeCodes; // material types allowed (any material of the holder of that type)
        bytes32[] leaves; // specific materials allowed (material leaves)
        uint64 notBefore; // unix seconds, inclusive
        uint64 notAfter; // unix seconds, inclusive
        uint32 maxUses; // >= 1
    }

    /// Everything the node needs about a grant, answered by one eth_call.
    struct GrantView {
        bytes32 grantId;
        GrantStatus status; // at the `at` asked (block time if 0)
        GrantTerms terms;
        bytes32 parentId; // 0 for a root grant
        bytes32 rootId; // the root of its delegation chain (itself for a root)
        bytes32 grantor; // member id: the identity provider (root by IdP), the delegator (child), 0 (holder-signed)
        Origin origin;
        uint8 depth; // 0 root, 1 child, 2 grandchild
        uint64 createdAt;
        uint64 revokedAt; // 0 if not revoked itself
        Revoker revokedBy;
        uint32 used; // anchored uses of this grant (incl. uses of its descendants)
        uint32 usesLeft; // min over the grant and its ancestors of maxUses - used (0 if exhausted)
    }

    /// One question of `checkGrants`: the arguments of `checkGrant`.
    struct GrantQuery {
        bytes32 grantId;
        bytes32 requester;
        bytes32 matter;
        bytes32 typeCode;
        bytes32 leaf;
        uint64 at; // unix seconds; 0 = now
    }

    /// One answer of `checkGrants`: what `checkGrant` returns for that query.
    struct GrantCheck {
        UseVerdict verdict;
        GrantView grant;
    }

    /// Uses of one grant in the records an anchor adds.
    struct GrantUses {
        bytes32 grantId;
        uint32 count; // >= 1: SERVED records under this grant in (previous treeSize, treeSize]
    }

    /// An anchored head of a custodian's use log (RFC 6962 signed-tree-head equivalent).
    struct UseLogHead {
        uint64 treeSize; // number of records in the log
        uint64 anchoredAt; // block timestamp
        uint64 anchoredBlock;
        bytes32 rootHash; // RFC 6962 Merkle tree hash (SHA-256) of the first treeSize records
    }

    // ------------------------------------------------------------------------------------------------ events

    /// An identity provider bound `key` (an address that signs for the holder) to `holderRef`.
    event HolderKeyBound(bytes32 indexed holderRef, address indexed key, bytes32 indexed by, bytes32 evidenceHash);
    /// An identity provider unbound `key`: signatures by it are no longer accepted for `holderRef`.
    event HolderKeyUnbound(bytes32 indexed holderRef, address indexed key, bytes32 indexed by, bytes32 evidenceHash);
    /// A grant was created. `grantor` 0 = holder-signed; `evidenceHash` 0 unless origin is IdentityProvider;
    /// `salt` = bytes32(holder nonce) for HolderSignature, else the caller's salt.
    event GrantCreated(
        bytes32 indexed grantId,
        bytes32 indexed holderRef,
        bytes32 indexed grantee,
        bytes32 parentId,
        bytes32 grantor,
        Origin origin,
        GrantTerms terms,
        bytes32 salt,
        bytes32 evidenceHash
    );
    /// A grant was revoked (and with it every grant below it). `by` = member id, 0 for the holder's signature.
    event GrantRevoked(bytes32 indexed grantId, bytes32 indexed holderRef, bytes32 indexed by, Revoker revoker, bytes32 evidenceHash);
    /// A custodian anchored a use-log head (index 0, 1, ... per custodian) with the uses of the added records.
    event UseLogAnchored(
        bytes32 indexed custodian, uint256 indexed headIndex, uint64 treeSize, bytes32 rootHash, GrantUses[] uses
    );
    /// An anchor added `count` uses to `grantId` (and its ancestors); `used` is the grant's total afterwards.
    event GrantUsesRecorded(bytes32 indexed grantId, bytes32 indexed custodian, uint256 indexed headIndex, uint32 count, uint32 used);
    /// After an anchor, `grantId` (the grant named or one of its ancestors) has more uses than it allows.
    event GrantOverused(bytes32 indexed grantId, bytes32 indexed custodian, uint32 used, uint32 maxUses);
    /// The child `grantId` of `parentId` was created from the `GranteeDelegation` signature of `signer`, an
    /// account of the parent's grantee `delegator`, with its delegation `nonce` (consumed), submitted by the
    /// member `submitter`. Emitted right after the child's GrantCreated (grantor = delegator, salt = bytes32(nonce)).
    event GrantDelegatedBySignature(
        bytes32 indexed grantId,
        bytes32 indexed parentId,
        bytes32 indexed delegator,
        address signer,
        uint256 nonce,
        bytes32 submitter
    );

    // ------------------------------------------------------------------------------------------------ errors

    /// The caller is not a current signing account of any member.
    error AccountNotMember(address account);
    /// The caller's member is suspended.
    error MemberNotActive(bytes32 memberId);
    error MissingRole(bytes32 memberId, IConsortium.Role role);
    error InvalidHolderRef(bytes32 holderRef);
    error InvalidHolderKey(address key);
    /// An evidence hash must be nonzero.
    error InvalidEvidence(bytes32 evidenceHash);
    error HolderKeyAlreadyBound(address key, bytes32 holderRef);
    /// `key` is not currently bound to `holderRef`.
    error HolderKeyNotBound(bytes32 holderRef, address key);
    /// The signature is not `signer`'s over the typed data.
    error InvalidHolderSignature(bytes32 holderRef, address signer);
    error SignatureExpired(uint256 deadline, uint256 time);
    error InvalidHolderNonce(bytes32 holderRef, uint256 expected, uint256 given);
    /// The grantee is not an active member, or a member delegates to itself.
    error InvalidGrantee(bytes32 grantee);
    error InvalidMatter(bytes32 matter);
    /// No item, too many items, or a zero item.
    error InvalidScope(uint256 typeCount, uint256 leafCount);
    /// A scope type code is not a registered material type of the ledger.
    error UnknownMaterialType(bytes32 typeCode);
    /// notBefore > notAfter, or the window already ended.
    error InvalidWindow(uint64 notBefore, uint64 notAfter);
    error InvalidMaxUses(uint32 maxUses);
    error GrantAlreadyExists(bytes32 grantId);
    error UnknownGrant(bytes32 grantId);
    /// The caller's member is not the grantee of `grantId` (delegation).
    error NotGrantee(bytes32 grantId, bytes32 memberId);
    /// The caller's member is not the grantor of `grantId` (revocation by grantor).
    error NotGrantor(bytes32 grantId, bytes32 memberId);
    /// The parent grant cannot be delegated from in its current status.
    error GrantNotUsable(bytes32 grantId, GrantStatus status);
    error DelegationTooDeep(bytes32 parentId, uint8 depth);
    error DelegationHolderMismatch(bytes32 parentId, bytes32 holderRef);
    error DelegationMatterMismatch(bytes32 parentId, bytes32 matter);
    /// `item` (a type code or a leaf) is not in the parent's scope.
    error DelegationOutOfScope(bytes32 parentId, bytes32 item);
    error DelegationWindowExceeded(bytes32 parentId, uint64 notBefore, uint64 notAfter);
    error DelegationUsesExceeded(bytes32 parentId, uint32 maxUses, uint32 usesLeft);
    /// The signed delegation from `parentId` is past its `deadline` (block time `time`).
    error DelegationSignatureExpired(bytes32 parentId, uint256 deadline, uint256 time);
    /// The signed delegation does not carry the delegator member's current delegation nonce (spent or skipped).
    error InvalidDelegationNonce(bytes32 delegator, uint256 expected, uint256 given);
    /// `signer` is not a current account of the grantee of `parentId` (`signerMember`: its member, 0 if none).
    error DelegationSignerNotGrantee(bytes32 parentId, address signer, bytes32 signerMember);
    /// The signature is not `signer`'s over the `GranteeDelegation` from `parentId`.
    error InvalidDelegationSignature(bytes32 parentId, address signer);
    error GrantAlreadyRevoked(bytes32 grantId);
    /// A head must have a larger tree size than the custodian's previous head.
    error UseLogNotAdvancing(bytes32 custodian, uint64 previousSize, uint64 treeSize);
    error InvalidUseLogRoot(bytes32 custodian, bytes32 rootHash);
    error InvalidUseCount(bytes32 grantId, uint32 count);
    /// The counts name more uses than records were added.
    error UseCountsExceedRecords(bytes32 custodian, uint256 counted, uint64 added);
    error UnknownUseLogHead(bytes32 custodian, uint256 index);

    // ----------------------------------------------------------------------------------------- holder keys

    /// @notice An identity-provider member binds `key` to `holderRef` after verifying the holder's identity
    /// (evidence = hash of the identity platform's record). A key serves one holder at a time. Emits HolderKeyBound.
    function bindHolderKey(bytes32 holderRef, address key, bytes32 evidenceHash) external;

    /// @notice An identity-provider member unbinds `key` from `holderRef` (lost key, holder's request).
    /// Grants already created stay as they are. Emits HolderKeyUnbound.
    function unbindHolderKey(bytes32 holderRef, address key, bytes32 evidenceHash) external;

    // -------------------------------------------------------------------------------------------- grants

    /// @notice Creates a root grant from the holder's EIP-712 `HolderGrant` signature by `signer`, a key bound
    /// to `terms.holderRef`; `nonce` must equal `holderNonce(terms.holderRef)` and is consumed; `deadline` >=
    /// block time. Any active member may submit it (usually the grantee's node). Emits GrantCreated.
    function grantBySignature(
        GrantTerms calldata terms,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external returns (bytes32 grantId);

    /// @notice An identity-provider member records a root grant on the holder's behalf (consent given through
    /// the unified identity platform, `evidenceHash` = hash of that record). Emits GrantCreated.
    function grantByIdentityProvider(GrantTerms calldata terms, bytes32 salt, bytes32 evidenceHash)
        external
        returns (bytes32 grantId);

    /// @notice The grantee of `parentId` (while the parent is Active) delegates within its scope (see header).
    /// Emits GrantCreated.
    function delegateGrant(bytes32 parentId, GrantTerms calldata terms, bytes32 salt)
        external
        returns (bytes32 grantId);

    /// @notice Creates the child of `parentId` that the parent's grantee signed (EIP-712 `GranteeDelegation`
    /// {parentId, terms, nonce, deadline}): `signer` must be a current account of the parent's grantee member
    /// (EOA signature or ERC-1271), `nonce` must equal `delegationNonce(grantee)` and is consumed, `deadline`
    /// >= block time. Any active member may submit it. The child obeys every rule of `delegateGrant` (parent
    /// Active, depth, holder, matter, scope, window, uses); its grantor is the parent's grantee and its salt is
    /// bytes32(nonce). Reverts DelegationSignatureExpired, InvalidDelegationNonce, DelegationSignerNotGrantee,
    /// InvalidDelegationSignature, or any error of `delegateGrant`. Emits GrantCreated, then
    /// GrantDelegatedBySignature.
    function delegateGrantBySignature(
        bytes32 parentId,
        GrantTerms calldata terms,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external returns (bytes32 grantId);

    /// @notice The grantor member revokes `grantId` (and so everything below it). Emits GrantRevoked.
    function revokeGrant(bytes32 grantId) external;

    /// @notice Revokes `grantId` by the holder's EIP-712 `HolderRevoke` signature by a key bound to the grant's
    /// holderRef (current nonce, consumed). Emits GrantRevoked.
    function revokeGrantBySignature(
        bytes32 grantId,
        uint256 nonce,
        uint256 deadline,
        address signer,
        bytes calldata signature
    ) external;

    /// @notice An identity-provider member revokes `grantId` on the holder's behalf. Emits GrantRevoked.
    function revokeGrantByIdentityProvider(bytes32 grantId, bytes32 evidenceHash) external;

    // --------------------------------------------------------------------------------------------- use log

    /// @notice The caller's member (the custodian) anchors the head of its use log and the uses per grant in
    /// the records added since its previous head (see the trust model). `treeSize` must exceed the previous
    /// head's; the sum of counts must not exceed the records added; every grant must exist. Never reverts
    /// for over-use (emits GrantOverused). Emits GrantUsesRecorded per entry, then UseLogAnchored.
    function anchorUseLog(uint64 treeSize, bytes32 rootHash, GrantUses[] calldata uses)
        external
        returns (uint256 headIndex);

    // ------------------------------------------------------------------------------------------------- views

    /// @notice Maximum delegation depth below a root grant (2).
    function MAX_DEPTH() external view returns (uint8);

    /// @notice Maximum number of scope items (type codes + leaves) of one grant.
    function MAX_SCOPE_ITEMS() external view returns (uint256);

    /// @notice The ledger (IConsortium) this contract reads membership from.
    function ledger() external view returns (IConsortium);

    /// @notice The EIP-712 domain separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice The holder's current nonce (for the next signature).
    function holderNonce(bytes32 holderRef) external view returns (uint256);

    /// @notice The member's current delegation nonce (for its next `GranteeDelegation` signature).
    function delegationNonce(bytes32 memberId) external view returns (uint256);

    /// @notice The holderRef `key` is bound to (0 if none).
    function holderOfKey(address key) external view returns (bytes32);

    /// @notice The EIP-712 struct hash of `terms`.
    function hashGrantTerms(GrantTerms calldata terms) external pure returns (bytes32);

    /// @notice The id a grant with these inputs gets (see GRANT ID).
    function grantIdOf(bytes32 parentId, Origin origin, GrantTerms calldata terms, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice The grant's record and status at `at` (unix seconds; 0 = now). Status Unknown for no grant.
    function getGrant(bytes32 grantId, uint64 at) external view returns (GrantView memory);

    /// @notice The grant's status at `at` (0 = now), walking at most MAX_DEPTH ancestors.
    function grantStatus(bytes32 grantId, uint64 at) external view returns (GrantStatus);

    /// @notice What a custodian asks before serving: may `requester` obtain a material of `typeCode` with
    /// leaf `leaf` for `matter` under `grantId` at `at` (0 = now)? Returns the verdict and the grant's view.
    function checkGrant(bytes32 grantId, bytes32 requester, bytes32 matter, bytes32 typeCode, bytes32 leaf, uint64 at)
        external
        view
        returns (UseVerdict verdict, GrantView memory grant);

    /// @notice `checkGrant` for each query, in one call (a custodian node coalesces the checks of concurrent
    /// requests): `checks[i]` is exactly what `checkGrant(queries[i]...)` returns. Never reverts for an
    /// unknown grant (verdict Unknown); bounded only by the call's gas.
    function checkGrants(GrantQuery[] calldata queries) external view returns (GrantCheck[] memory checks);

    /// @notice Number of heads `custodian` has anchored.
    function useLogHeadCount(bytes32 custodian) external view returns (uint256);

    /// @notice Head number `index` (0-based) of `custodian`.
    function useLogHead(bytes32 custodian, uint256 index) external view returns (UseLogHead memory);

    /// @notice The latest head of `custodian` (treeSize 0 if none).
    function latestUseLogHead(bytes32 custodian) external view returns (UseLogHead memory);
}
