// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IMaterialRegistry} from "../interfaces/IMaterialRegistry.sol";
import {MaterialLeaf} from "../libraries/MaterialLeaf.sol";

/// @title LeafHarness — TEST ONLY: exposes the leaf encoding and OZ Merkle verification so the frozen
/// vectors in test/vectors/ can be checked against the Solidity side. Never deployed on a real chain.
contract LeafHarness {
    function encodeHeader(IMaterialRegistry.MaterialHeader calldata h) external pure returns (bytes memory) {
        return MaterialLeaf.encode(h);
    }

    function leafOf(IMaterialRegistry.MaterialHeader calldata h) external pure returns (bytes32) {
        return MaterialLeaf.leafOf(h);
    }

    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function processProof(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleProof.processProofCalldata(proof, leaf);
    }
}
