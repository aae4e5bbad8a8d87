// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IConsortium} from "./IConsortium.sol";

/**
 * @title IDataCatalogue — the government data catalogue (数据目录), information systems, duties (职责) and
 * application scenarios (应用场景) of the Tongban consortium.
 *
 * @notice A separate contract, deployed with the TongbanLedger address; membership, suspension and the
 *   Cataloguer role are read from it (IConsortium) at every call, so a suspension there takes effect here in
 *   the same block. Callers act through a current signing account of an ACTIVE member.
 *
 * @notice IDENTIFIERS (all `bytes32`, nonzero; the SDK encodes a catalogue code with encodeBytes32String):
 *   resource code (资源代码, unique forever: a withdrawn code is never reused), data-item code (数据项 / data
 *   element code of the city's standard), duty code (职责 code, in the provider's own namespace), system code
 *   (信息系统 code, global), scenario id (chosen by the consumer, global).
 *
 * @notice ONE DATA, ONE SOURCE (一数一源). "The same data item" is decided on two keys:
 *   (1) the resource code: a second registration of a code, by anyone, reverts `ResourceAlreadyRegistered`;
 *   (2) the data items the entry declares (up to 32 data-element codes): each is claimed by at most one live
 *       entry, so a second provider cannot register the same item under another resource code
 *       (`DataItemAlreadyProvided(item, resourceCode, provider)`). Withdrawal releases the claims.
 *
 * @notice WHO DOES WHAT.
 *   - A provider member registers its duties (`registerDuty`) and information systems (`registerSystem`),
 *     then registers and updates ITS OWN entries: each must cite one of its own active duties and one of
 *     its own active systems. A new entry, and every update, is PENDING until published.
 *   - A Cataloguer member (the big-data centre; `IConsortium.Role.Cataloguer`, checked on the ledger)
 *     reviews and publishes a given version (`publishEntry(code, version)`), and may correct an entry's
 *     classification (grade, level, sharing, open), which creates a new version, published at once.
 *   - Either the provider or a Cataloguer withdraws an entry.
 *   - While an update is pending, the PUBLISHED version's sharing type keeps governing use, so consumers
 *     are not cut off by an unreviewed edit.
 *
 * @notice CLASSIFICATION (checked on every write, `InconsistentClassification`): level is the city's code
 *   1..4; Core data has level 4, is never Open and never shared unconditionally; Important data has level
 *   >= 3 and is never Open; an Open resource is shared unconditionally.
 *
 * @notice SCENARIOS. A consumer member registers a scenario (purpose hash, legal-basis hash) drawing on
 *   published resources. NotShared resources cannot be drawn (`ResourceNotShared`). Unconditional resources
 *   are usable at once; Conditional ones need the provider's approval per (scenario, resource) with an
 *   expiry (`approveUse`), which the provider may deny or withdraw (`denyUse`). Whether a use is allowed is
 *   decided AT USE TIME by `canUse` (reason code) / `checkUse` (named error), from the current state of the
 *   scenario, the entry, the approval and both members' suspension: nothing loops over dependents.
 *
 * @notice VERSION HASH. `versionHash = keccak256(abi.encode(resourceCode, version, prevVersionHash, input))`
 *   where `input` is the full EntryInput tuple of that version (for a correction: the previous input with the
 *   corrected classification). The SDK recomputes it; `test/vectors/catalogue.json` freezes one.
 */
interface IDataCatalogue {
    // ------------------------------------------------------------------------------------------------- types

    /// Security grade (Data Security Law). 0 is invalid.
    enum Grade {
        None,
        General, // 1 一般数据
        Important, // 2 重要数据
        Core // 3 核心数据
    }

    /// Government data sharing type. 0 is invalid.
    enum SharingType {
        None,
        Unconditional, // 1 无条件共享
        Conditional, // 2 有条件共享
        NotShared // 3 不予共享
    }

    /// Public-data open type. 0 is invalid.
    enum OpenType {
        None,
        Open, // 1 无条件开放
        Conditional, // 2 有条件开放
        NotOpen // 3 不予开放
    }

    /// Update cycle. 0 is invalid.
    enum UpdateCycle {
        None,
        RealTime, // 1
        Daily, // 2
        Weekly, // 3
        Monthly, // 4
        Quarterly, // 5
        Yearly, // 6
        Irregular // 7
    }

    enum EntryStatus {
        None, // 0: never registered
        Active, // 1: registered (pending review until publishedVersion == version)
        Withdrawn // 2: final
    }

    /// Fields of an entry named in `InvalidEntryField`.
    enum EntryField {
        ResourceCode, // 0
        TitleHash, // 1
        DescriptionHash, // 2
        FieldsHash, // 3
        StandardHash, // 4
        Grade, // 5
        Level, // 6
        Sharing, // 7
        Open, // 8
        UpdateCycle, // 9
        DataItem, // 10
        Uri // 11
    }

    /// Per (scenario, resource).
    enum DrawStatus {
        None, // 0: the scenario does not draw on the resource
        Drawn, // 1: drawn; no decision by the provider (enough for Unconditional)
        Approved, // 2: the provider approved until `expiresAt`
        Denied // 3: the provider denied or withdrew its approval
    }

    /// Reason codes of `canUse`. APPEND-ONLY: never renumber.
    /// 0 OK, 1 UNKNOWN_SCENARIO, 2 SCENARIO_CLOSED, 3 CONSUMER_SUSPENDED, 4 RESOURCE_NOT_DRAWN,
    /// 5 RESOURCE_WITHDRAWN, 6 PROVIDER_SUSPENDED, 7 RESOURCE_NOT_PUBLISHED, 8 RESOURCE_NOT_SHARED,
    /// 9 APPROVAL_MISSING, 10 APPROVAL_DENIED, 11 APPROVAL_EXPIRED.

    /// What a provider (or a Cataloguer correcting) states about a resource. Hashes: see the SDK's
    /// canonical text hashing (docs/catalogue.md); the full texts live off chain at `uri` / in member nodes.
    struct EntryInput {
        bytes32 resourceCode;
        bytes32 titleHash;
        bytes32 descriptionHash;
        bytes32 fieldsHash; // hash of the canonical field list
        bytes32 standardHash; // hash of the data standard document
        uint32 standardVersion;
        Grade grade;
        uint8 level; // the city's level code 1..4
        SharingType sharing;
        OpenType open;
        UpdateCycle updateCycle;
        bytes32 dutyCode; // one of the provider's registered duties
        bytes32 systemCode; // one of the provider's registered active systems
        string uri; // where the full text is published (may be empty)
        bytes32[] dataItems; // data-element codes this entry is the ONE source of (0..32, distinct)
    }

    /// A Cataloguer's correction.
    struct Classification {
        Grade grade;
        uint8 level;
        SharingType sharing;
        OpenType open;
    }

    struct Entry {
        EntryInput input; // the latest version
        bytes32 provider;
        bytes32 versionHash;
        bytes32 prevVersionHash; // 0 for version 1
        uint32 version; // 1, 2, ...
        uint32 publishedVersion; // 0 until a Cataloguer publishes; governs use with `publishedSharing`
        EntryStatus status;
        SharingType publishedSharing;
        uint64 registeredAt;
        uint64 updatedAt;
    }

    struct InfoSystem {
        bytes32 owner; // member id; 0 = never registered
        bytes32 descriptionHash;
        bool active;
        uint32 entryCount; // live entries citing it
        uint64 registeredAt;
        uint64 deregisteredAt;
    }

    struct Duty {
        bytes32 descriptionHash;
        bool active;
        uint32 entryCount; // live entries citing it
        uint64 registeredAt;
    }

    struct Scenario {
        bytes32 consumer; // member id; 0 = never registered
        bytes32 purposeHash;
        bytes32 legalBasisHash;
        bool closed;
        uint64 registeredAt;
        bytes32[] resources;
    }

    struct Draw {
        DrawStatus status;
        uint64 expiresAt; // approval expiry (Approved only)
        uint64 decidedAt; // time of the provider's last decision
    }

    // ------------------------------------------------------------------------------------------------ events

    event DutyRegistered(bytes32 indexed memberId, bytes32 indexed dutyCode, bytes32 descriptionHash);
    event DutyRetired(bytes32 indexed memberId, bytes32 indexed dutyCode);
    event SystemRegistered(bytes32 indexed systemCode, bytes32 indexed owner, bytes32 descriptionHash);
    event SystemDeregistered(bytes32 indexed systemCode, bytes32 indexed owner);
    /// Version 1 registered by its provider (pending review).
    event EntryRegistered(
        bytes32 indexed resourceCode, bytes32 indexed provider, bytes32 indexed systemCode, bytes32 versionHash, EntryInput input
    );
    /// A new version by its provider (pending review).
    event EntryUpdated(
        bytes32 indexed resourceCode,
        bytes32 indexed provider,
        bytes32 indexed systemCode,
        uint32 version,
        bytes32 versionHash,
        bytes32 prevVersionHash,
        EntryInput input
    );
    /// A Cataloguer corrected the classification: a new version, published at once.
    event EntryCorrected(
        bytes32 indexed resourceCode,
        bytes32 indexed cataloguer,
        uint32 version,
        bytes32 versionHash,
        bytes32 prevVersionHash,
        Classification classification,
        bytes32 reasonHash
    );
    event EntryPublished(bytes32 indexed resourceCode, bytes32 indexed cataloguer, SharingType indexed sharing, uint32 version);
    /// `by` is the provider or a Cataloguer.
    event EntryWithdrawn(bytes32 indexed resourceCode, bytes32 indexed by, bytes32 indexed provider, bytes32 reasonHash);
    event ScenarioRegistered(
        bytes32 indexed scenarioId, bytes32 indexed consumer, bytes32 purposeHash, bytes32 legalBasisHash
    );
    /// One per resource a scenario draws on; `needsApproval` (Conditional) is the provider's cue.
    event ResourceDrawn(
        bytes32 indexed scenarioId, bytes32 indexed resourceCode, bytes32 indexed provider, bytes32 consumer, bool needsApproval
    );
    event ScenarioClosed(bytes32 indexed scenarioId, bytes32 indexed consumer);
    event UseApproved(bytes32 indexed scenarioId, bytes32 indexed resourceCode, bytes32 indexed provider, uint64 expiresAt);
    event UseDenied(bytes32 indexed scenarioId, bytes32 indexed resourceCode, bytes32 indexed provider, bytes32 reasonHash);

    // ------------------------------------------------------------------------------------------------ errors

    /// Same selectors as IConsortium's.
    error AccountNotMember(address account);
    error MemberNotActive(bytes32 memberId);
    error MissingRole(bytes32 memberId, IConsortium.Role role);

    error InvalidLedger(address ledger);
    error InvalidEntryField(bytes32 resourceCode, EntryField field);
    error InconsistentClassification(bytes32 resourceCode, Grade grade, uint8 level, SharingType sharing, OpenType open);
    error TooManyItems(uint256 count, uint256 max);

    error InvalidDutyCode(bytes32 dutyCode);
    error DutyAlreadyRegistered(bytes32 memberId, bytes32 dutyCode);
    error UnknownDuty(bytes32 memberId, bytes32 dutyCode);
    error DutyInUse(bytes32 memberId, bytes32 dutyCode, uint32 entries);

    error InvalidSystemCode(bytes32 systemCode);
    error SystemAlreadyRegistered(bytes32 systemCode, bytes32 owner);
    error UnknownSystem(bytes32 systemCode);
    /// The system is not an active system of `memberId` (not its owner, or deregistered).
    error SystemNotOwned(bytes32 systemCode, bytes32 owner, bytes32 memberId);
    error SystemInUse(bytes32 systemCode, uint32 entries);

    error ResourceAlreadyRegistered(bytes32 resourceCode, bytes32 provider);
    /// 一数一源: `itemCode` is already provided by live entry `resourceCode` of `provider`.
    error DataItemAlreadyProvided(bytes32 itemCode, bytes32 resourceCode, bytes32 provider);
    error UnknownResource(bytes32 resourceCode);
    error NotProvider(bytes32 resourceCode, bytes32 provider, bytes32 memberId);
    error ResourceWithdrawn(bytes32 resourceCode);
    error EntryVersionMismatch(bytes32 resourceCode, uint32 expected, uint32 current);
    error EntryAlreadyPublished(bytes32 resourceCode, uint32 version);
    error ResourceNotPublished(bytes32 resourceCode);
    error ResourceNotShared(bytes32 resourceCode);

    error InvalidScenarioId(bytes32 scenarioId);
    error ScenarioAlreadyRegistered(bytes32 scenarioId, bytes32 consumer);
    error UnknownScenario(bytes32 scenarioId);
    error NotConsumer(bytes32 scenarioId, bytes32 consumer, bytes32 memberId);
    error ScenarioIsClosed(bytes32 scenarioId);
    error ResourceAlreadyDrawn(bytes32 scenarioId, bytes32 resourceCode);
    error ResourceNotDrawn(bytes32 scenarioId, bytes32 resourceCode);
    /// approve/deny on a resource whose published sharing type is not Conditional.
    error ApprovalNotNeeded(bytes32 scenarioId, bytes32 resourceCode, SharingType sharing);
    error InvalidApprovalExpiry(bytes32 scenarioId, bytes32 resourceCode, uint64 expiresAt, uint64 now);
    /// Raised by `checkUse` (and only there) for the reasons `canUse` returns as codes.
    error ConsumerSuspended(bytes32 scenarioId, bytes32 consumer);
    error ProviderSuspended(bytes32 resourceCode, bytes32 provider);
    error ApprovalMissing(bytes32 scenarioId, bytes32 resourceCode);
    error ApprovalDenied(bytes32 scenarioId, bytes32 resourceCode);
    error ApprovalExpired(bytes32 scenarioId, bytes32 resourceCode, uint64 expiredAt);

    // ------------------------------------------------------------------------------------ duties and systems

    /// @notice Registers a duty (职责) of the caller's member. Emits DutyRegistered.
    function registerDuty(bytes32 dutyCode, bytes32 descriptionHash) external;

    /// @notice Retires one of the caller's duties; refused while live entries cite it. Emits DutyRetired.
    function retireDuty(bytes32 dutyCode) external;

    /// @notice Registers an information system owned by the caller's member. Emits SystemRegistered.
    function registerSystem(bytes32 systemCode, bytes32 descriptionHash) external;

    /// @notice Deregisters one of the caller's systems (final); refused while live entries cite it.
    /// Emits SystemDeregistered.
    function deregisterSystem(bytes32 systemCode) external;

    // --------------------------------------------------------------------------------------------- entries

    /// @notice The caller's member registers a new entry as its provider (version 1, pending review).
    /// Emits EntryRegistered.
    function registerEntry(EntryInput calldata input) external;

    /// @notice The provider publishes a new version of its entry (pending review; the published version
    /// keeps governing use). `input.resourceCode` names the entry. Emits EntryUpdated.
    function updateEntry(EntryInput calldata input) external;

    /// @notice A Cataloguer publishes version `version` (must be the latest). Emits EntryPublished.
    function publishEntry(bytes32 resourceCode, uint32 version) external;

    /// @notice A Cataloguer corrects the classification of the latest version; the result is a new
    /// version, published at once. Emits EntryCorrected then EntryPublished.
    /// A correction that changes nothing is a no-op (no event).
    function correctClassification(bytes32 resourceCode, Classification calldata c, bytes32 reasonHash) external;

    /// @notice The provider or a Cataloguer withdraws an entry (final): its data items are released, and
    /// every scenario drawing on it stops being usable for it. Emits EntryWithdrawn.
    function withdrawEntry(bytes32 resourceCode, bytes32 reasonHash) external;

    // ------------------------------------------------------------------------------------------- scenarios

    /// @notice The caller's member registers a scenario drawing on `resources` (each published, not
    /// NotShared, distinct; at most 64). Emits ScenarioRegistered then ResourceDrawn per resource.
    function registerScenario(bytes32 scenarioId, bytes32 purposeHash, bytes32 legalBasisHash, bytes32[] calldata resources)
        external;

    /// @notice The consumer adds resources to its open scenario. Emits ResourceDrawn per resource.
    function drawResources(bytes32 scenarioId, bytes32[] calldata resources) external;

    /// @notice The consumer closes its scenario (final). Emits ScenarioClosed.
    function closeScenario(bytes32 scenarioId) external;

    /// @notice The provider approves the use of its Conditional resource in an open scenario until
    /// `expiresAt` (> now); re-approving sets a new expiry. Emits UseApproved.
    function approveUse(bytes32 scenarioId, bytes32 resourceCode, uint64 expiresAt) external;

    /// @notice The provider denies, or withdraws its approval of, a Conditional resource in a scenario.
    /// A repeated denial is a no-op (no event). Emits UseDenied.
    function denyUse(bytes32 scenarioId, bytes32 resourceCode, bytes32 reasonHash) external;

    // ------------------------------------------------------------------------------------------------- views

    function ledger() external view returns (IConsortium);
    function getEntry(bytes32 resourceCode) external view returns (Entry memory);
    /// @notice The live entry providing `itemCode` (0 if none).
    function providerOfDataItem(bytes32 itemCode) external view returns (bytes32 resourceCode, bytes32 provider);
    function getSystem(bytes32 systemCode) external view returns (InfoSystem memory);
    function getDuty(bytes32 memberId, bytes32 dutyCode) external view returns (Duty memory);
    function getScenario(bytes32 scenarioId) external view returns (Scenario memory);
    function getDraw(bytes32 scenarioId, bytes32 resourceCode) external view returns (Draw memory);

    /// @notice May the scenario's consumer use `resourceCode` now? (true, 0) or (false, reason code, see
    /// the list above). Reads the current state only; O(1).
    function canUse(bytes32 scenarioId, bytes32 resourceCode) external view returns (bool ok, uint8 reason);

    /// @notice As `canUse`, but reverts with the named error of the reason (for callers that want args).
    function checkUse(bytes32 scenarioId, bytes32 resourceCode) external view;
}
