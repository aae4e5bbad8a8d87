// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title Uscc — validation of a unified social credit code (GB 32100-2015) held as a member id.
 * @notice A member id is ethers.encodeBytes32String(code): the 18 ASCII symbols left-aligned, 14 zero bytes
 * after them. Symbols come from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z); the 18th is the check
 * character: c = 31 - (sum of value(i) * 3^i mod 31 over positions 1-17) mod 31, with 31 -> 0.
 */
library Uscc {
    bytes private constant ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    /// @notice True if `id` is a well-formed code with a correct check character.
    function isValid(bytes32 id) internal pure returns (bool) {
        if (uint256(id) & type(uint112).max != 0) return false; // the 14 bytes after the code must be zero
        uint256 sum;
        uint256 weight = 1;
        for (uint256 i; i < 17; ++i) {
            uint256 v = _value(uint8(id[i]));
            if (v == 31) return false;
            sum += v * weight;
            weight = (weight * 3) % 31;
        }
        return _value(uint8(id[17])) == (31 - (sum % 31)) % 31;
    }

    /// Index of `c` in the alphabet, 31 if it is not a symbol.
    function _value(uint8 c) private pure returns (uint256) {
        for (uint256 i; i < 31; ++i) {
            if (uint8(ALPHABET[i]) == c) return i;
        }
        return 31;
    }
}
