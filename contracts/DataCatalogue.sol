// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IConsortium} from "./interfaces/IConsortium.sol";
import {IDataCatalogue} from "./interfaces/IDataCatalogue.sol";

/**
 * @title DataCatalogue — data catalogue entries, information systems, duties and application scenarios
 * (see IDataCatalogue). Deployed with the TongbanLedger address; every write resolves the caller's member
 * and its suspension on the ledger.
 * @dev Use-time checks (`canUse`) read the scenario, the draw, the entry and two member records: O(1), no
 * loops over dependents. Loops exist only over the caller's own input (data items <= 32, resources <= 64).
 */
contract DataCatalogue is IDataCatalogue {
    uint256 public constant MAX_DATA_ITEMS = 32;
    uint256 public constant MAX_RESOURCES = 64;

    IConsortium private immutable _ledger;

    mapping(bytes32 resourceCode => Entry) private _entries;
    mapping(bytes32 itemCode => bytes32 resourceCode) private _itemSource;
    mapping(bytes32 systemCode => InfoSystem) private _systems;
    mapping(bytes32 memberId => mapping(bytes32 dutyCode => Duty)) private _duties;
    mapping(bytes32 scenarioId => Scenario) private _scenarios;
    mapping(bytes32 scenarioId => mapping(bytes32 resourceCode => Draw)) private _draws;

    constructor(IConsortium ledger_) {
        if (address(ledger_).code.length == 0) revert InvalidLedger(address(ledger_));
        _ledger = ledger_;
    }

    // -------------------------------------------------------------------------------- duties and systems

    /// @inheritdoc IDataCatalogue
    function registerDuty(bytes32 dutyCode, bytes32 descriptionHash) external {
        bytes32 me = _activeCaller();
        if (dutyCode == bytes32(0)) revert InvalidDutyCode(dutyCode);
        Duty storage d = _duties[me][dutyCode];
        if (d.registeredAt != 0) revert DutyAlreadyRegistered(me, dutyCode);
        d.descriptionHash = descriptionHash;
        d.active = true;
        d.registeredAt = _time();
        emit DutyRegistered(me, dutyCode, descriptionHash);
    }

    /// @inheritdoc IDataCatalogue
    function retireDuty(bytes32 dutyCode) external {
        bytes32 me = _activeCaller();
        Duty storage d = _duties[me][dutyCode];
        if (!d.active) revert UnknownDuty(me, dutyCode);
        if (d.entryCount != 0) revert DutyInUse(me, dutyCode, d.entryCount);
        d.active = false;
        emit DutyRetired(me, dutyCode);
    }

    /// @inheritdoc IDataCatalogue
    function registerSystem(bytes32 systemCode, bytes32 descriptionHash) external {
        bytes32 me = _activeCaller();
        if (systemCode == bytes32(0)) revert InvalidSystemCode(systemCode);
        InfoSystem storage s = _systems[systemCode];
        if (s.owner != bytes32(0)) revert SystemAlreadyRegistered(systemCode, s.owner);
        s.owner = me;
        s.descriptionHash = descriptionHash;
        s.active = true;
        s.registeredAt = _time();
        emit SystemRegistered(systemCode, me, descriptionHash);
    }

    /// @inheritdoc IDataCatalogue
    function deregisterSystem(bytes32 systemCode) external {
        bytes32 me = _activeCaller();
        InfoSystem storage s = _systems[systemCode];
        if (s.owner == bytes32(0)) revert UnknownSystem(systemCode);
        if (s.owner != me || !s.active) revert SystemNotOwned(systemCode, s.owner, me);
        if (s.entryCount != 0) revert SystemInUse(systemCode, s.entryCount);
        s.active = false;
        s.deregisteredAt = _time();
        emit SystemDeregistered(systemCode, me);
    }

    // ----------------------------------------------------------------------------------------------- entries

    /// @inheritdoc IDataCatalogue
    function registerEntry(EntryInput calldata input) external {
        bytes32 me = _activeCaller();
        bytes32 code = input.resourceCode;
        if (code == bytes32(0)) revert InvalidEntryField(code, EntryField.ResourceCode);
        Entry storage e = _entries[code];
        if (e.status != EntryStatus.None) revert ResourceAlreadyRegistered(code, e.provider);
        _checkInput(input);
        _cite(me, input.dutyCode, input.systemCode);
        e.provider = me;
        _claimItems(code, input.dataItems);

        bytes32 vh = keccak256(abi.encode(code, uint32(1), bytes32(0), input));
        e.input = input;
        e.versionHash = vh;
        e.version = 1;
        e.status = EntryStatus.Active;
        e.registeredAt = _time();
        e.updatedAt = _time();
        emit EntryRegistered(code, me, input.systemCode, vh, input);
    }

    /// @inheritdoc IDataCatalogue
    function updateEntry(EntryInput calldata input) external {
        bytes32 me = _activeCaller();
        bytes32 code = input.resourceCode;
        Entry storage e = _liveEntry(code);
        if (e.provider != me) revert NotProvider(code, e.provider, me);
        _checkInput(input);

        EntryInput storage old = e.input;
        if (old.dutyCode != input.dutyCode || old.systemCode != input.systemCode) {
            _uncite(me, old.dutyCode, old.systemCode);
            _cite(me, input.dutyCode, input.systemCode);
        }
        _releaseItems(old.dataItems);
        _claimItems(code, input.dataItems);

        uint32 version = e.version + 1;
        bytes32 prev = e.versionHash;
        bytes32 vh = keccak256(abi.encode(code, version, prev, input));
        e.input = input;
        e.prevVersionHash = prev;
        e.versionHash = vh;
        e.version = version;
        e.updatedAt = _time();
        emit EntryUpdated(code, me, input.systemCode, version, vh, prev, input);
    }

    /// @inheritdoc IDataCatalogue
    function publishEntry(bytes32 resourceCode, uint32 version) external {
        bytes32 me = _cataloguer();
        Entry storage e = _liveEntry(resourceCode);
        if (version != e.version) revert EntryVersionMismatch(resourceCode, version, e.version);
        if (e.publishedVersion == version) revert EntryAlreadyPublished(resourceCode, version);
        SharingType sharing = e.input.sharing;
        e.publishedVersion = version;
        e.publishedSharing = sharing;
        emit EntryPublished(resourceCode, me, sharing, version);
    }

    /// @inheritdoc IDataCatalogue
    function correctClassification(bytes32 resourceCode, Classification calldata c, bytes32 reasonHash) external {
        bytes32 me = _cataloguer();
        Entry storage e = _liveEntry(resourceCode);
        EntryInput storage cur = e.input;
        if (cur.grade == c.grade && cur.level == c.level && cur.sharing == c.sharing && cur.open == c.open) return;
        _checkClassification(resourceCode, c.grade, c.level, c.sharing, c.open);
        cur.grade = c.grade;
        cur.level = c.level;
        cur.sharing = c.sharing;
        cur.open = c.open;
        (uint32 version, bytes32 vh, bytes32 prev) = _nextVersion(e, resourceCode);
        e.publishedVersion = version;
        e.publishedSharing = c.sharing;
        emit EntryCorrected(resourceCode, me, version, vh, prev, c, reasonHash);
        emit EntryPublished(resourceCode, me, c.sharing, version);
    }

    /// Bumps the version of `e` whose input is already the new one in storage.
    function _nextVersion(Entry storage e, bytes32 code) private returns (uint32 version, bytes32 vh, bytes32 prev) {
        version = e.version + 1;
        prev = e.versionHash;
        vh = keccak256(abi.encode(code, version, prev, e.input));
        e.prevVersionHash = prev;
        e.versionHash = vh;
        e.version = version;
        e.updatedAt = _time();
    }

    /// @inheritdoc IDataCatalogue
    function withdrawEntry(bytes32 resourceCode, bytes32 reasonHash) external {
        bytes32 me = _activeCaller();
        Entry storage e = _liveEntry(resourceCode);
        bytes32 provider = e.provider;
        if (provider != me && !_ledger.hasRole(me, IConsortium.Role.Cataloguer)) {
            revert NotProvider(resourceCode, provider, me);
        }
        _uncite(provider, e.input.dutyCode, e.input.systemCode);
        _releaseItems(e.input.dataItems);
        e.status = EntryStatus.Withdrawn;
        e.updatedAt = _time();
        emit EntryWithdrawn(resourceCode, me, provider, reasonHash);
    }

    // --------------------------------------------------------------------------------------------- scenarios

    /// @inheritdoc IDataCatalogue
    function registerScenario(bytes32 scenarioId, bytes32 purposeHash, bytes32 legalBasisHash, bytes32[] calldata resources)
        external
    {
        bytes32 me = _activeCaller();
        if (scenarioId == bytes32(0)) revert InvalidScenarioId(scenarioId);
        Scenario storage s = _scenarios[scenarioId];
        if (s.consumer != bytes32(0)) revert ScenarioAlreadyRegistered(scenarioId, s.consumer);
        s.consumer = me;
        s.purposeHash = purposeHash;
        s.legalBasisHash = legalBasisHash;
        s.registeredAt = _time();
        emit ScenarioRegistered(scenarioId, me, purposeHash, legalBasisHash);
        _draw(scenarioId, s, me, resources);
    }

    /// @inheritdoc IDataCatalogue
    function drawResources(bytes32 scenarioId, bytes32[] calldata resources) external {
        bytes32 me = _activeCaller();
        Scenario storage s = _ownScenario(scenarioId, me);
        _draw(scenarioId, s, me, resources);
    }

    /// @inheritdoc IDataCatalogue
    function closeScenario(bytes32 scenarioId) external {
        bytes32 me = _activeCaller();
        Scenario storage s = _ownScenario(scenarioId, me);
        s.closed = true;
        emit ScenarioClosed(scenarioId, me);
    }

    /// @inheritdoc IDataCatalogue
    function approveUse(bytes32 scenarioId, bytes32 resourceCode, uint64 expiresAt) external {
        bytes32 me = _activeCaller();
        (Draw storage d,) = _decision(scenarioId, resourceCode, me);
        uint64 now_ = _time();
        if (expiresAt <= now_) revert InvalidApprovalExpiry(scenarioId, resourceCode, expiresAt, now_);
        if (d.status == DrawStatus.Approved && d.expiresAt == expiresAt) return; // no-op, no event
        d.status = DrawStatus.Approved;
        d.expiresAt = expiresAt;
        d.decidedAt = now_;
        emit UseApproved(scenarioId, resourceCode, me, expiresAt);
    }

    /// @inheritdoc IDataCatalogue
    function denyUse(bytes32 scenarioId, bytes32 resourceCode, bytes32 reasonHash) external {
        bytes32 me = _activeCaller();
        (Draw storage d,) = _decision(scenarioId, resourceCode, me);
        if (d.status == DrawStatus.Denied) return; // no-op, no event
        d.status = DrawStatus.Denied;
        d.expiresAt = 0;
        d.decidedAt = _time();
        emit UseDenied(scenarioId, resourceCode, me, reasonHash);
    }

    // ------------------------------------------------------------------------------------------------- views

    /// @inheritdoc IDataCatalogue
    function ledger() external view returns (IConsortium) {
        return _ledger;
    }

    /// @inheritdoc IDataCatalogue
    function getEntry(bytes32 resourceCode) external view returns (Entry memory) {
        return _entries[resourceCode];
    }

    /// @inheritdoc IDataCatalogue
    function providerOfDataItem(bytes32 itemCode) external view returns (bytes32 resourceCode, bytes32 provider) {
        resourceCode = _itemSource[itemCode];
        if (resourceCode != bytes32(0)) provider = _entries[resourceCode].provider;
    }

    /// @inheritdoc IDataCatalogue
    function getSystem(bytes32 systemCode) external view returns (InfoSystem memory) {
        return _systems[systemCode];
    }

    /// @inheritdoc IDataCatalogue
    function getDuty(bytes32 memberId, bytes32 dutyCode) external view returns (Duty memory) {
        return _duties[memberId][dutyCode];
    }

    /// @inheritdoc IDataCatalogue
    function getScenario(bytes32 scenarioId) external view returns (Scenario memory) {
        return _scenarios[scenarioId];
    }

    /// @inheritdoc IDataCatalogue
    function getDraw(bytes32 scenarioId, bytes32 resourceCode) external view returns (Draw memory) {
        return _draws[scenarioId][resourceCode];
    }

    /// @inheritdoc IDataCatalogue
    function canUse(bytes32 scenarioId, bytes32 resourceCode) external view returns (bool ok, uint8 reason) {
        (reason,) = _useReason(scenarioId, resourceCode);
        ok = reason == 0;
    }

    /// @inheritdoc IDataCatalogue
    function checkUse(bytes32 scenarioId, bytes32 resourceCode) external view {
        (uint8 reason, bytes32 who) = _useReason(scenarioId, resourceCode);
        if (reason == 0) return;
        if (reason == 1) revert UnknownScenario(scenarioId);
        if (reason == 2) revert ScenarioIsClosed(scenarioId);
        if (reason == 3) revert ConsumerSuspended(scenarioId, who);
        if (reason == 4) revert ResourceNotDrawn(scenarioId, resourceCode);
        if (reason == 5) revert ResourceWithdrawn(resourceCode);
        if (reason == 6) revert ProviderSuspended(resourceCode, who);
        if (reason == 7) revert ResourceNotPublished(resourceCode);
        if (reason == 8) revert ResourceNotShared(resourceCode);
        if (reason == 9) revert ApprovalMissing(scenarioId, resourceCode);
        if (reason == 10) revert ApprovalDenied(scenarioId, resourceCode);
        revert ApprovalExpired(scenarioId, resourceCode, _draws[scenarioId][resourceCode].expiresAt);
    }

    // -------------------------------------------------------------------------------------------- internals

    /// Reason code (see IDataCatalogue) and the member concerned (consumer / provider) for codes 3 and 6.
    function _useReason(bytes32 scenarioId, bytes32 resourceCode) private view returns (uint8, bytes32) {
        Scenario storage s = _scenarios[scenarioId];
        bytes32 consumer = s.consumer;
        if (consumer == bytes32(0)) return (1, 0);
        if (s.closed) return (2, 0);
        if (!_ledger.isActiveMember(consumer)) return (3, consumer);
        Draw storage d = _draws[scenarioId][resourceCode];
        DrawStatus ds = d.status;
        if (ds == DrawStatus.None) return (4, 0);
        Entry storage e = _entries[resourceCode];
        if (e.status == EntryStatus.Withdrawn) return (5, 0);
        bytes32 provider = e.provider;
        if (!_ledger.isActiveMember(provider)) return (6, provider);
        if (e.publishedVersion == 0) return (7, 0);
        SharingType sharing = e.publishedSharing;
        if (sharing == SharingType.Unconditional) return (0, 0);
        if (sharing == SharingType.NotShared) return (8, 0);
        if (ds == DrawStatus.Drawn) return (9, 0);
        if (ds == DrawStatus.Denied) return (10, 0);
        if (_time() >= d.expiresAt) return (11, 0);
        return (0, 0);
    }

    function _draw(bytes32 scenarioId, Scenario storage s, bytes32 consumer, bytes32[] calldata resources) private {
        uint256 n = resources.length;
        if (s.resources.length + n > MAX_RESOURCES) revert TooManyItems(s.resources.length + n, MAX_RESOURCES);
        for (uint256 k; k < n; ++k) {
            bytes32 code = resources[k];
            Entry storage e = _entries[code];
            if (e.status == EntryStatus.None) revert UnknownResource(code);
            if (e.status == EntryStatus.Withdrawn) revert ResourceWithdrawn(code);
            if (e.publishedVersion == 0) revert ResourceNotPublished(code);
            SharingType sharing = e.publishedSharing;
            if (sharing == SharingType.NotShared) revert ResourceNotShared(code);
            Draw storage d = _draws[scenarioId][code];
            if (d.status != DrawStatus.None) revert ResourceAlreadyDrawn(scenarioId, code);
            d.status = DrawStatus.Drawn;
            s.resources.push(code);
            emit ResourceDrawn(scenarioId, code, e.provider, consumer, sharing == SharingType.Conditional);
        }
    }

    /// The draw a provider decides on: open scenario, its own live published Conditional resource, drawn.
    function _decision(bytes32 scenarioId, bytes32 resourceCode, bytes32 me)
        private
        view
        returns (Draw storage d, Entry storage e)
    {
        Scenario storage s = _scenarios[scenarioId];
        if (s.consumer == bytes32(0)) revert UnknownScenario(scenarioId);
        if (s.closed) revert ScenarioIsClosed(scenarioId);
        e = _liveEntry(resourceCode);
        if (e.provider != me) revert NotProvider(resourceCode, e.provider, me);
        d = _draws[scenarioId][resourceCode];
        if (d.status == DrawStatus.None) revert ResourceNotDrawn(scenarioId, resourceCode);
        if (e.publishedSharing != SharingType.Conditional) {
            revert ApprovalNotNeeded(scenarioId, resourceCode, e.publishedSharing);
        }
    }

    function _ownScenario(bytes32 scenarioId, bytes32 me) private view returns (Scenario storage s) {
        s = _scenarios[scenarioId];
        if (s.consumer == bytes32(0)) revert UnknownScenario(scenarioId);
        if (s.consumer != me) revert NotConsumer(scenarioId, s.consumer, me);
        if (s.closed) revert ScenarioIsClosed(scenarioId);
    }

    function _liveEntry(bytes32 code) private view returns (Entry storage e) {
        e = _entries[code];
        if (e.status == EntryStatus.None) revert UnknownResource(code);
        if (e.status == EntryStatus.Withdrawn) revert ResourceWithdrawn(code);
    }

    function _checkInput(EntryInput calldata input) private pure {
        bytes32 code = input.resourceCode;
        if (input.titleHash == bytes32(0)) revert InvalidEntryField(code, EntryField.TitleHash);
        if (input.descriptionHash == bytes32(0)) revert InvalidEntryField(code, EntryField.DescriptionHash);
        if (input.fieldsHash == bytes32(0)) revert InvalidEntryField(code, EntryField.FieldsHash);
        if (input.standardHash == bytes32(0)) revert InvalidEntryField(code, EntryField.StandardHash);
        if (input.updateCycle == UpdateCycle.None) revert InvalidEntryField(code, EntryField.UpdateCycle);
        if (bytes(input.uri).length > 256) revert InvalidEntryField(code, EntryField.Uri);
        if (input.dataItems.length > MAX_DATA_ITEMS) revert TooManyItems(input.dataItems.length, MAX_DATA_ITEMS);
        _checkClassification(code, input.grade, input.level, input.sharing, input.open);
    }

    function _checkClassification(bytes32 code, Grade grade, uint8 level, SharingType sharing, OpenType open)
        private
        pure
    {
        if (grade == Grade.None) revert InvalidEntryField(code, EntryField.Grade);
        if (level == 0 || level > 4) revert InvalidEntryField(code, EntryField.Level);
        if (sharing == SharingType.None) revert InvalidEntryField(code, EntryField.Sharing);
        if (open == OpenType.None) revert InvalidEntryField(code, EntryField.Open);
        bool bad = (grade == Grade.Core && (level != 4 || sharing == SharingType.Unconditional || open != OpenType.NotOpen))
            || (grade == Grade.Important && (level < 3 || open == OpenType.Open))
            || (open == OpenType.Open && sharing != SharingType.Unconditional);
        if (bad) revert InconsistentClassification(code, grade, level, sharing, open);
    }

    /// The provider's own active duty and active system; counts the citation.
    function _cite(bytes32 provider, bytes32 dutyCode, bytes32 systemCode) private {
        Duty storage d = _duties[provider][dutyCode];
        if (!d.active) revert UnknownDuty(provider, dutyCode);
        InfoSystem storage s = _systems[systemCode];
        if (s.owner == bytes32(0)) revert UnknownSystem(systemCode);
        if (s.owner != provider || !s.active) revert SystemNotOwned(systemCode, s.owner, provider);
        d.entryCount += 1;
        s.entryCount += 1;
    }

    function _uncite(bytes32 provider, bytes32 dutyCode, bytes32 systemCode) private {
        _duties[provider][dutyCode].entryCount -= 1;
        _systems[systemCode].entryCount -= 1;
    }

    function _claimItems(bytes32 code, bytes32[] calldata items) private {
        for (uint256 k; k < items.length; ++k) {
            bytes32 item = items[k];
            if (item == bytes32(0)) revert InvalidEntryField(code, EntryField.DataItem);
            bytes32 holder = _itemSource[item];
            if (holder != bytes32(0)) revert DataItemAlreadyProvided(item, holder, _entries[holder].provider);
            _itemSource[item] = code;
        }
    }

    function _releaseItems(bytes32[] storage items) private {
        for (uint256 k; k < items.length; ++k) {
            delete _itemSource[items[k]];
        }
    }

    /// The caller's member, which must be active.
    function _activeCaller() private view returns (bytes32 id) {
        bool active;
        (id, active) = _ledger.memberOf(msg.sender);
        if (id == bytes32(0)) revert AccountNotMember(msg.sender);
        if (!active) revert MemberNotActive(id);
    }

    function _cataloguer() private view returns (bytes32 id) {
        id = _activeCaller();
        if (!_ledger.hasRole(id, IConsortium.Role.Cataloguer)) revert MissingRole(id, IConsortium.Role.Cataloguer);
    }

    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }
}
