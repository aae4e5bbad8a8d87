#!/usr/bin/env node
// Genesis `extraData` for a Hyperledger Besu QBFT network with block-header validator selection
// (docs/deploy-besu-qbft.md): RLP([32-byte vanity, [validator addresses], votes = [], round = empty, seals = []]).
// The same bytes `besu rlp encode --type=QBFT_EXTRA_DATA` produces from a JSON list of addresses; the
// clique suite checks this encoder against the example genesis in Besu's QBFT documentation.
//
//   node scripts/clique/qbft-extradata.mjs 0xVALIDATOR1 0xVALIDATOR2 0xVALIDATOR3 0xVALIDATOR4
import { encodeRlp, getAddress, zeroPadValue } from "ethers";

/** QBFT genesis extraData for `validators` (addresses, kept in the given order, as Besu does). */
export function qbftExtraData(validators) {
  if (!validators.length) throw new Error("at least one validator address");
  const addrs = validators.map((a) => getAddress(a).toLowerCase());
  return encodeRlp([zeroPadValue("0x", 32), addrs, [], "0x", []]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (!args.length) {
    process.stderr.write("usage: node scripts/clique/qbft-extradata.mjs 0xADDR [0xADDR ...]\n");
    process.exit(2);
  }
  process.stdout.write(qbftExtraData(args) + "\n");
}
