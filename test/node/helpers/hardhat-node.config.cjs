// Config for the `hardhat node` child processes of the node tests and the ingest bench: the same chain as the
// root config (london, 30 dev accounts), with the EIP-170 contract size limit enforced as on a real chain (the
// deployable ledger fits it: test/contracts checks that). Deploy from artifacts built by `npm run build`,
// not from a `hardhat coverage` run's instrumented (oversized) bytecode.
// No plugins: starting this node does not compile anything.
module.exports = {
  solidity: "0.8.30",
  networks: {
    hardhat: {
      hardfork: "london",
      accounts: { count: 30 },
    },
  },
};
