// Config for the `hardhat node` child processes of the node tests and the ingest bench: the same chain as the
// root config (london, 30 dev accounts) but with allowUnlimitedContractSize, so a deployment still works while
// another engineer's `hardhat coverage` run has left instrumented (oversized) bytecode in artifacts/.
// No plugins: starting this node does not compile anything.
module.exports = {
  solidity: "0.8.30",
  networks: {
    hardhat: {
      hardfork: "london",
      allowUnlimitedContractSize: true,
      accounts: { count: 30 },
    },
  },
};
