import { ledgerInterface, type ChainReader, type MaterialState, type ProofBundle } from "../../../sdk/src/index.js";

const Z = "0x" + "0".repeat(64);

/** The state a correct ledger would return for `bundle` (anchored, active), with overrides. */
export function stateFor(bundle: ProofBundle, over: Partial<MaterialState> = {}): MaterialState {
  return {
    anchored: true, anchoredBlock: BigInt(bundle.anchor.blockNumber), anchoredAt: 1767225700n,
    issuer: bundle.header.issuer, typeCode: bundle.header.typeCode, jurisdiction: 310115, count: 5, issuerActiveNow: true,
    status: 0, reason: 0, statusBy: Z, statusBlock: 0n, statusAt: 0n, supersededBy: Z, supersedes: Z,
    hashAlgStatus: 1, hashAlgRetiredAt: 0n, ...over,
  };
}

/** A ChainReader answering from a fixed state, counting calls; `fail` makes eth_call throw. */
export class FakeChain implements ChainReader {
  calls = 0;
  chainIdCalls = 0;
  constructor(public state: MaterialState | (() => string), public chainId = 31337n, public fail?: Error) {}
  async call(tx: { to: string; data: string }): Promise<string> {
    this.calls++;
    if (this.fail) throw this.fail;
    if (typeof this.state === "function") return this.state();
    const iface = ledgerInterface();
    iface.decodeFunctionData("materialState", tx.data); // must be a materialState call
    return iface.encodeFunctionResult("materialState", [this.state]);
  }
  async getNetwork(): Promise<{ chainId: bigint }> {
    this.chainIdCalls++;
    return { chainId: this.chainId };
  }
}
