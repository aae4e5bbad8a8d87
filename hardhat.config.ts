import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-ethers";
import "@nomicfoundation/hardhat-chai-matchers";
import "@typechain/hardhat";
import "solidity-coverage";

// The machines are offline: compile with the solc-js shipped in the npm `solc` package
// instead of letting Hardhat download a native compiler (HH502).
const SOLC_VERSION = "0.8.30";
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: String(solc.version()).replace(".Emscripten.clang", ""),
  };
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      // Decision 6: bytecode must run on permissioned engines (geth Clique, GoQuorum, Besu, FISCO...).
      evmVersion: "london",
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: {
    sources: "./contracts",
    tests: "./test/contracts",
    cache: "./cache",
    artifacts: "./artifacts",
  },
  networks: {
    hardhat: {
      hardfork: "london",
      // Many accounts for multi-member tests.
      accounts: { count: 30 },
    },
    localhost: { url: process.env.TONGBAN_RPC ?? "http://127.0.0.1:8545" },
  },
  typechain: {
    // Generated into the SDK so the ESM SDK and node can import typed contract clients.
    outDir: "sdk/src/contracts/types",
    target: "ethers-v6",
    node16Modules: true,
  },
  mocha: { timeout: 120_000 },
};

export default config;
