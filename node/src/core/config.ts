/**
 * Node configuration: a JSON file plus environment overrides (TONGBAN_*). Secrets (keystore password,
 * API tokens) may come from env or from files named in the config; they are never logged (see log.ts).
 */
import { readFileSync, existsSync } from "node:fs";
import { resolve, dirname, isAbsolute } from "node:path";
import { ValidationError } from "./errors.js";

export interface ApiConfig {
  host: string;
  port: number;
  /** bearer tokens accepted by the HTTP API (node-api decides what each may do) */
  tokens: string[];
}

export interface NodeConfig {
  /** directory for LevelDB and the content store; created if missing */
  dataDir: string;
  /** JSON-RPC endpoints, tried in order with failover */
  rpcUrls: string[];
  /** address of the TongbanLedger contract */
  ledgerAddress: string;
  /** this member's unified social credit code (18 chars) */
  memberId: string;
  /** blocks to wait after the anchoring block before marking leaves anchored (0 = the receipt is enough) */
  confirmations: number;
  /** flush a batch at least this often, ms */
  batchIntervalMs: number;
  /** flush a batch as soon as this many leaves are pending */
  batchSize: number;
  /** at most this many anchor transactions in flight at once */
  maxInFlight: number;
  /** encrypted JSON keystore (see keystore.ts) */
  keystorePath: string;
  /** keystore password; alternatively `keystorePasswordFile` or env TONGBAN_KEYSTORE_PASSWORD */
  keystorePassword?: string;
  keystorePasswordFile?: string;
  /** content encryption at rest */
  cipher: "aes-256-gcm" | "sm4-cbc-hmac";
  /** seconds the entitlement/catalogue view is cached at intake */
  entitlementTtlSec: number;
  /** chain polling interval for receipts/confirmations, ms */
  pollMs: number;
  /** fee settings for own transactions; absent = ask the node */
  gas?: { maxFeePerGasGwei?: number; maxPriorityFeePerGasGwei?: number; gasPriceGwei?: number };
  /** backoff while the chain is unreachable */
  retry: { minMs: number; maxMs: number };
  api: ApiConfig;
  logLevel: string;
  /**
   * Refuse new registrations (UNAVAILABLE, retry later) while this many materials wait to be anchored: bounds
   * memory during a long chain outage (each waiting leaf costs ~100 bytes of heap).
   */
  maxQueue: number;
  /** hash the leaves of large register calls in a worker thread (default true) */
  hashWorker?: boolean;
  /** fsync every intake write before acknowledging (survives an OS crash, not only a process kill) */
  syncWrites: boolean;
}

export const DEFAULTS: Omit<NodeConfig, "rpcUrls" | "ledgerAddress" | "memberId"> = {
  dataDir: "./data",
  confirmations: 1,
  batchIntervalMs: 1000,
  batchSize: 10_000,
  maxInFlight: 4,
  keystorePath: "./keystore.json",
  cipher: "aes-256-gcm",
  entitlementTtlSec: 10,
  pollMs: 250,
  retry: { minMs: 250, maxMs: 15_000 },
  api: { host: "127.0.0.1", port: 8080, tokens: [] },
  logLevel: "info",
  syncWrites: true,
  maxQueue: 2_000_000,
};

type Env = Record<string, string | undefined>;

function num(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ValidationError(`config ${name} must be a number, got ${JSON.stringify(v)}`, { field: name });
  return n;
}

/**
 * Environment overrides. Lists are comma separated.
 * TONGBAN_DATA_DIR, TONGBAN_RPC_URLS (or TONGBAN_RPC), TONGBAN_LEDGER, TONGBAN_MEMBER_ID, TONGBAN_CONFIRMATIONS,
 * TONGBAN_BATCH_INTERVAL_MS, TONGBAN_BATCH_SIZE, TONGBAN_KEYSTORE, TONGBAN_KEYSTORE_PASSWORD,
 * TONGBAN_KEYSTORE_PASSWORD_FILE, TONGBAN_CIPHER, TONGBAN_API_HOST, TONGBAN_API_PORT, TONGBAN_API_TOKENS,
 * TONGBAN_LOG_LEVEL
 */
export function envOverrides(env: Env = process.env): Partial<NodeConfig> {
  const o: Partial<NodeConfig> & { api?: Partial<ApiConfig> } = {};
  const s = (k: string) => (env[k] !== undefined && env[k] !== "" ? env[k] : undefined);
  let v: string | undefined;
  if ((v = s("TONGBAN_DATA_DIR"))) o.dataDir = v;
  if ((v = s("TONGBAN_RPC_URLS") ?? s("TONGBAN_RPC"))) o.rpcUrls = v.split(",").map((x) => x.trim()).filter(Boolean);
  if ((v = s("TONGBAN_LEDGER"))) o.ledgerAddress = v;
  if ((v = s("TONGBAN_MEMBER_ID"))) o.memberId = v;
  if ((v = s("TONGBAN_CONFIRMATIONS"))) o.confirmations = num("confirmations", v);
  if ((v = s("TONGBAN_BATCH_INTERVAL_MS"))) o.batchIntervalMs = num("batchIntervalMs", v);
  if ((v = s("TONGBAN_BATCH_SIZE"))) o.batchSize = num("batchSize", v);
  if ((v = s("TONGBAN_KEYSTORE"))) o.keystorePath = v;
  if ((v = s("TONGBAN_KEYSTORE_PASSWORD"))) o.keystorePassword = v;
  if ((v = s("TONGBAN_KEYSTORE_PASSWORD_FILE"))) o.keystorePasswordFile = v;
  if ((v = s("TONGBAN_CIPHER"))) o.cipher = v as NodeConfig["cipher"];
  if ((v = s("TONGBAN_LOG_LEVEL"))) o.logLevel = v;
  if ((v = s("TONGBAN_SYNC_WRITES"))) o.syncWrites = v !== "0" && v !== "false";
  if ((v = s("TONGBAN_MAX_IN_FLIGHT"))) o.maxInFlight = num("maxInFlight", v);
  if ((v = s("TONGBAN_POLL_MS"))) o.pollMs = num("pollMs", v);
  if ((v = s("TONGBAN_MAX_QUEUE"))) o.maxQueue = num("maxQueue", v);
  if ((v = s("TONGBAN_HASH_WORKER"))) o.hashWorker = v !== "0" && v !== "false";
  const api: Partial<ApiConfig> = {};
  if ((v = s("TONGBAN_API_HOST"))) api.host = v;
  if ((v = s("TONGBAN_API_PORT"))) api.port = num("api.port", v);
  if ((v = s("TONGBAN_API_TOKENS"))) api.tokens = v.split(",").map((x) => x.trim()).filter(Boolean);
  if (Object.keys(api).length) o.api = api as ApiConfig;
  return o;
}

/** Merge defaults < file < env < explicit overrides, resolve paths against the file's folder, validate. */
export function loadConfig(opts: { file?: string; env?: Env; overrides?: Partial<NodeConfig> } = {}): NodeConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.TONGBAN_CONFIG;
  let fromFile: Partial<NodeConfig> = {};
  let base = process.cwd();
  if (file) {
    if (!existsSync(file)) throw new ValidationError(`config file ${file} does not exist`, { file });
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8")) as Partial<NodeConfig>;
    } catch (e) {
      throw new ValidationError(`config file ${file} is not valid JSON`, { file }, { cause: e });
    }
    base = dirname(resolve(file));
  }
  const envO = envOverrides(env);
  const over = opts.overrides ?? {};
  const merged = {
    ...DEFAULTS,
    ...fromFile,
    ...envO,
    ...over,
    api: { ...DEFAULTS.api, ...(fromFile.api ?? {}), ...(envO.api ?? {}), ...(over.api ?? {}) },
    retry: { ...DEFAULTS.retry, ...(fromFile.retry ?? {}), ...(over.retry ?? {}) },
  } as NodeConfig;
  const abs = (p: string | undefined) => (p === undefined ? p : isAbsolute(p) ? p : resolve(base, p));
  merged.dataDir = abs(merged.dataDir)!;
  merged.keystorePath = abs(merged.keystorePath)!;
  merged.keystorePasswordFile = abs(merged.keystorePasswordFile);
  return validateConfig(merged);
}

export function validateConfig(c: NodeConfig): NodeConfig {
  // fields added after the first release: default them for configs built without DEFAULTS
  c.maxQueue ??= DEFAULTS.maxQueue;
  c.syncWrites ??= DEFAULTS.syncWrites;
  const bad = (field: string, why: string) => {
    throw new ValidationError(`config ${field} ${why}`, { field });
  };
  if (!Array.isArray(c.rpcUrls) || c.rpcUrls.length === 0) bad("rpcUrls", "needs at least one JSON-RPC URL");
  if (!/^0x[0-9a-fA-F]{40}$/.test(c.ledgerAddress ?? "")) bad("ledgerAddress", "must be a 0x address");
  if (typeof c.memberId !== "string" || c.memberId.length !== 18) bad("memberId", "must be an 18-character unified social credit code");
  if (!Number.isInteger(c.confirmations) || c.confirmations < 0) bad("confirmations", "must be an integer >= 0");
  if (!(c.batchIntervalMs > 0)) bad("batchIntervalMs", "must be > 0");
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > 1_000_000) bad("batchSize", "must be 1..1,000,000");
  if (!Number.isInteger(c.maxInFlight) || c.maxInFlight < 1) bad("maxInFlight", "must be >= 1");
  if (!Number.isInteger(c.maxQueue) || c.maxQueue < 1) bad("maxQueue", "must be >= 1");
  if (c.cipher !== "aes-256-gcm" && c.cipher !== "sm4-cbc-hmac") bad("cipher", "must be aes-256-gcm or sm4-cbc-hmac");
  return c;
}

/** The keystore password from config, env or a file; never logged. */
export function keystorePassword(c: NodeConfig, env: Env = process.env): string {
  if (c.keystorePassword) return c.keystorePassword;
  if (env.TONGBAN_KEYSTORE_PASSWORD) return env.TONGBAN_KEYSTORE_PASSWORD;
  const f = c.keystorePasswordFile ?? env.TONGBAN_KEYSTORE_PASSWORD_FILE;
  if (f) return readFileSync(f, "utf8").replace(/\r?\n$/, "");
  throw new ValidationError("no keystore password: set TONGBAN_KEYSTORE_PASSWORD, keystorePasswordFile or keystorePassword", {
    field: "keystorePassword",
  });
}
