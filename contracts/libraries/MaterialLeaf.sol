// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IMaterialRegistry} from "../interfaces/IMaterialRegistry.sol";

/// @title MaterialLeaf — the leaf of a material header (design decision 1; see IMaterialRegistry, THE LEAF).
library MaterialLeaf {
    /// @notice ABI encoding of the header fields in leaf order (320 bytes).
    function encode(IMaterialRegistry.MaterialHeader calldata h) internal pure returns (bytes memory) {
        return abi.encode(
            h.typeCode, h.issuer, h.holderRef, h.contentHash, h.hashAlg,
            h.issuedAt, h.validFrom, h.validUntil, h.version, h.supersedes
        );
    }

    /// @notice keccak256 of `encode(h)`.
    function leafOf(IMaterialRegistry.MaterialHeader calldata h) internal pure returns (bytes32) {
        return keccak256(encode(h));
    }
}
