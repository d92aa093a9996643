// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BaselineERC20
/// @notice A plain OpenZeppelin ERC-20, deployed beside the coins by the benchmarks as the gas baseline.
contract BaselineERC20 is ERC20 {
    constructor(uint256 supply) ERC20("Baseline", "BASE") {
        _mint(msg.sender, supply);
    }
}
