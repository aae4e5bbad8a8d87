/**
 * Reading a material's on-chain state: exactly one `eth_call` to `materialState(root, leaf, hashAlg)`
 * (IMaterialRegistry.sol), decoded with the ledger's typechain interface and sanity-checked (fail closed).
 */
import { getAddress } from "ethers";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { TongbanError } from "./errors.js";
import { ledgerInterface, decodeLedgerError } from "./contract-errors.js";

/**
 * What verification needs from a chain: an eth_call and the chain id. An ethers v6 `JsonRpcProvider`
 * (ESM or CommonJS build) fits, as does any object with these two methods.
 */
export interface ChainReader {
  call(tx: { to: string; data: string }): Promise<string>;
  getNetwork(): Promise<{ chainId: bigint }>;
}

/** MaterialStatus enum (IMaterialRegistry.sol). */
export const MaterialStatus = { Active: 0, Suspended: 1, Revoked: 2 } as const;
/** HashAlgStatus enum (IMaterialRegistry.sol). */
export const HashAlgStatus = { Unknown: 0, Active: 1, Retired: 2 } as const;

/** The `MaterialState` struct, decoded. */
export interface MaterialState {
  anchored: boolean;
  anchoredBlock: bigint;
  anchoredAt: bigint;
  issuer: string;
  typeCode: string;
  jurisdiction: number;
  count: number;
  issuerActiveNow: boolean;
  status: 0 | 1 | 2;
  reason: number;
  statusBy: string;
  statusBlock: bigint;
  statusAt: bigint;
  supersededBy: string;
  supersedes: string;
  hashAlgStatus: 0 | 1 | 2;
  hashAlgRetiredAt: bigint;
}

/** Reading the chain failed: `reason` UNREACHABLE (transport), BAD_RESPONSE (undecodable or inconsistent), REVERTED. */
export class ChainReadError extends TongbanError<{ reason: "UNREACHABLE" | "BAD_RESPONSE" | "REVERTED"; ledger: string; root?: string; leaf?: string }> {
  override name = "ChainReadError" as const;
}

const ZERO32 = "0x" + "0".repeat(64);

/**
 * Reads `materialState(root, leaf, hashAlg)` with one eth_call. Throws {@link ChainReadError}.
 * @example const state = await readMaterialState(provider, ledgerAddress, { root, leaf, hashAlg: 1 });
 */
export async function readMaterialState(
  reader: ChainReader, ledger: string, q: { root: string; leaf: string; hashAlg: number },
): Promise<MaterialState> {
  const iface = ledgerInterface();
  const data = iface.encodeFunctionData("materialState", [q.root, q.leaf, q.hashAlg]);
  let raw: string;
  try {
    raw = await reader.call({ to: getAddress(ledger), data });
  } catch (e) {
    const revert = decodeLedgerError(e);
    if (revert) throw new ChainReadError(`materialState reverted for leaf ${q.leaf}: ${revert.message}`, { reason: "REVERTED", ledger, root: q.root, leaf: q.leaf }, { cause: revert });
    throw new ChainReadError(`chain unreachable reading leaf ${q.leaf}: ${String((e as Error)?.message ?? e).slice(0, 200)}`, { reason: "UNREACHABLE", ledger, root: q.root, leaf: q.leaf }, { cause: e });
  }
  let s: Record<string, unknown>;
  try {
    s = iface.decodeFunctionResult("materialState", raw)[0] as Record<string, unknown>;
  } catch (e) {
    throw new ChainReadError(`undecodable materialState answer for leaf ${q.leaf} (is ${ledger} a TongbanLedger?)`, { reason: "BAD_RESPONSE", ledger, root: q.root, leaf: q.leaf }, { cause: e });
  }
  const state: MaterialState = {
    anchored: Boolean(s.anchored), anchoredBlock: BigInt(s.anchoredBlock as bigint), anchoredAt: BigInt(s.anchoredAt as bigint),
    issuer: String(s.issuer), typeCode: String(s.typeCode), jurisdiction: Number(s.jurisdiction), count: Number(s.count),
    issuerActiveNow: Boolean(s.issuerActiveNow), status: Number(s.status) as 0 | 1 | 2, reason: Number(s.reason),
    statusBy: String(s.statusBy), statusBlock: BigInt(s.statusBlock as bigint), statusAt: BigInt(s.statusAt as bigint),
    supersededBy: String(s.supersededBy), supersedes: String(s.supersedes),
    hashAlgStatus: Number(s.hashAlgStatus) as 0 | 1 | 2, hashAlgRetiredAt: BigInt(s.hashAlgRetiredAt as bigint),
  };
  const odd: string[] = [];
  if (state.status > 2) odd.push(`status ${state.status}`);
  if (state.hashAlgStatus > 2) odd.push(`hashAlgStatus ${state.hashAlgStatus}`);
  if (state.anchored && (state.anchoredBlock === 0n || state.issuer === ZERO32 || state.count === 0)) odd.push("anchored without block/issuer/count");
  if (!state.anchored && (state.anchoredBlock !== 0n || state.issuer !== ZERO32 || state.status !== 0 || state.supersededBy !== ZERO32)) odd.push("not anchored but fields set");
  if (state.hashAlgStatus === HashAlgStatus.Retired && state.hashAlgRetiredAt === 0n) odd.push("retired without time");
  if (odd.length) {
    throw new ChainReadError(`inconsistent materialState answer for leaf ${q.leaf}: ${odd.join(", ")}`, { reason: "BAD_RESPONSE", ledger, root: q.root, leaf: q.leaf });
  }
  return state;
}

const chainIds = new WeakMap<object, Promise<bigint>>();

/**
 * The reader's chain id, asked once per reader object and cached (a failed ask is not cached).
 * @example await chainIdOf(provider) // 31337n
 */
export function chainIdOf(reader: ChainReader): Promise<bigint> {
  let p = chainIds.get(reader);
  if (!p) {
    p = reader.getNetwork().then((n) => BigInt(n.chainId));
    p.catch(() => chainIds.delete(reader));
    chainIds.set(reader, p);
  }
  return p;
}

/** A JSON-RPC request failed at the transport or returned an error object. */
export class RpcError extends TongbanError<{ url: string; method: string; code?: number; data?: unknown }> {
  override name = "RpcError" as const;
}

/**
 * A minimal JSON-RPC reader over node:http/https with a keep-alive agent: one HTTP request per call, no hidden
 * eth_chainId round trips, and far less CPU per request than fetch.
 */
class HttpChainReader implements ChainReader {
  #id = 1;
  readonly #target: URL;
  readonly #agent: HttpAgent | HttpsAgent;

  constructor(readonly url: string, readonly timeoutMs: number) {
    this.#target = new URL(url);
    if (this.#target.protocol !== "http:" && this.#target.protocol !== "https:") {
      throw new RpcError(`unsupported RPC URL scheme ${this.#target.protocol}`, { url, method: "" });
    }
    this.#agent = this.#target.protocol === "https:" ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  #post(method: string, payload: string): Promise<{ status: number; text: string }> {
    const send = this.#target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(this.#target, {
        method: "POST", agent: this.#agent, timeout: this.timeoutMs,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on("error", (e) => reject(new RpcError(`${method} to ${this.url} failed: ${e.message}`, { url: this.url, method }, { cause: e })));
      req.end(payload);
    });
  }

  async #request(method: string, params: unknown[]): Promise<unknown> {
    const { status, text } = await this.#post(method, JSON.stringify({ jsonrpc: "2.0", id: this.#id++, method, params }));
    let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (e) {
      throw new RpcError(`${method} to ${this.url}: HTTP ${status}, not JSON`, { url: this.url, method }, { cause: e });
    }
    if (body.error) {
      // shaped like an ethers error so decodeLedgerError can read revert data
      const err = new RpcError(`${method}: ${body.error.message}`, { url: this.url, method, code: body.error.code, data: body.error.data });
      (err as unknown as { data: unknown }).data = body.error.data;
      throw err;
    }
    return body.result;
  }

  async call(tx: { to: string; data: string }): Promise<string> {
    const r = await this.#request("eth_call", [{ to: tx.to, data: tx.data }, "latest"]);
    if (typeof r !== "string") throw new RpcError("eth_call returned a non-string", { url: this.url, method: "eth_call" });
    return r;
  }

  async getNetwork(): Promise<{ chainId: bigint }> {
    const r = await this.#request("eth_chainId", []);
    if (typeof r !== "string") throw new RpcError("eth_chainId returned a non-string", { url: this.url, method: "eth_chainId" });
    return { chainId: BigInt(r) };
  }
}

const readers = new Map<string, ChainReader>();

/**
 * A ChainReader for an http(s) JSON-RPC URL (one per URL, reused, so its chain id is asked once): node:http with
 * keep-alive, one HTTP request per eth_call, `timeoutMs` per request (default 10 s).
 * @example const reader = chainReaderFromUrl("http://127.0.0.1:8545");
 */
export function chainReaderFromUrl(url: string, options: { timeoutMs?: number } = {}): ChainReader {
  const key = `${url} ${options.timeoutMs ?? 10_000}`;
  let r = readers.get(key);
  if (!r) {
    r = new HttpChainReader(url, options.timeoutMs ?? 10_000);
    readers.set(key, r);
  }
  return r;
}
