/**
 * The node's ONE sender for the ops account (see keystore.ts): every write that is not material anchoring
 * (use-log head anchors, setPeers, catalogue publishing) goes through it, so its nonces are assigned in one
 * place and nothing races.
 *
 * NONCES. Sends are serialised: under one lock the transaction is populated (gas estimate: a transaction
 * that would revert fails here and consumes NO nonce), given the next nonce, signed and sent; the nonce
 * counter advances only when the node accepted the transaction. Any send error makes the next send re-read
 * the account's pending nonce from the chain, so a lost answer or a transaction sent by someone else with the
 * same account heals on the next send. Waiting for receipts happens outside the lock: sends pipeline.
 * (An ethers NonceManager shared by two callers leaves a nonce gap when a populate fails: it increments
 * before estimating gas.)
 *
 * FAILOVER. {@link createOpsSender} connects it to every URL of `chain.rpcUrls` through the anchorer's own
 * RpcClient (chain.ts, {@link FailoverProvider}): a URL that fails at the network level is skipped for the next
 * one, for sends, estimates, nonces and receipt polling alike (so `tx.wait()` keeps working when the first URL
 * goes down). A raw transaction resent to the next URL after a lost answer resolves to its hash ("already known").
 */
import {
  AbstractSigner,
  Wallet,
  type Provider,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { RpcClient, connectFailoverProvider, type FailoverProvider, type RpcOptions } from "./chain.js";

export class SerialSigner extends AbstractSigner {
  readonly #wallet: Wallet;
  #lock: Promise<unknown> = Promise.resolve();
  #next: number | undefined;
  /** transactions sent (metrics, tests) */
  sent = 0;

  constructor(wallet: Wallet, provider: Provider) {
    super(provider);
    this.#wallet = wallet.connect(provider);
  }

  get address(): string {
    return this.#wallet.address;
  }

  async getAddress(): Promise<string> {
    return this.#wallet.address;
  }

  connect(provider: Provider | null): SerialSigner {
    if (!provider) throw new Error("SerialSigner needs a provider");
    return new SerialSigner(this.#wallet, provider);
  }

  signTransaction(tx: TransactionRequest): Promise<string> {
    return this.#wallet.signTransaction(tx);
  }

  signMessage(message: string | Uint8Array): Promise<string> {
    return this.#wallet.signMessage(message);
  }

  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    return this.#wallet.signTypedData(domain, types, value);
  }

  /** Populate, number and send under the lock (see the module comment). */
  override sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const run = async (): Promise<TransactionResponse> => {
      if (this.#next === undefined) this.#next = await this.provider!.getTransactionCount(this.#wallet.address, "pending");
      const nonce = this.#next;
      const populated = await this.#wallet.populateTransaction({ ...tx, nonce });
      try {
        const resp = await this.#wallet.sendTransaction(populated);
        this.#next = nonce + 1;
        this.sent++;
        return resp;
      } catch (e) {
        this.#next = undefined;
        throw e;
      }
    };
    const p = this.#lock.then(run, run);
    this.#lock = p.catch(() => undefined);
    return p;
  }

  /** Forget the nonce counter (the next send re-reads it); what a NonceManager's `reset` does. */
  reset(): void {
    this.#next = undefined;
  }
}

/**
 * The ops account's sender on every RPC URL with failover (see the module comment): `provider` is also the
 * one to hand to code that reads through the sender (contracts connected to `signer`); destroy it on stop.
 * @example const { signer, provider } = await createOpsSender(keys.ops, config.rpcUrls, { metrics, log });
 */
export async function createOpsSender(wallet: Wallet, urls: string[], opts: RpcOptions = {}): Promise<{ signer: SerialSigner; provider: FailoverProvider; rpc: RpcClient }> {
  const rpc = new RpcClient(urls, opts);
  const provider = await connectFailoverProvider(rpc);
  return { signer: new SerialSigner(wallet, provider), provider, rpc };
}
