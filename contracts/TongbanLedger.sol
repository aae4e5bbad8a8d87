// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MaterialRegistry} from "./MaterialRegistry.sol";

/**
 * @title TongbanLedger — the one deployable ledger contract: consortium membership and governance
 * (IConsortium) plus material anchoring and status (IMaterialRegistry), composed so that `anchor` needs no
 * external call. The deployer is the bootstrap admin until `closeBootstrap()`; see contracts/README.md.
 */
contract TongbanLedger is MaterialRegistry {}
