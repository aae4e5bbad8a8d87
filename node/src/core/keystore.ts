/**
 * The node's keystore: one JSON file holding
 *  - the signing key, as an ethers (Web3 Secret Storage v3) encrypted JSON;
 *  - the storage key (content encryption at rest) and the consortium holder-ref key, sealed together with
 *    AES-256-GCM under a key derived from the same password with scrypt.
 * The password comes from env / a file / config (see config.ts) and is never logged.
 *
 * OPS ACCOUNT (optional, added in session 2). A second signing key of the member, sealed with the storage and
 * holder keys (`secrets` JSON field `opsKey`; its address in the file's `opsAddress`). The signing key
 * belongs to the anchorer, which manages its own nonces; every other write of the node (use-log head
 * anchoring, setPeers, catalogue publishing) goes through the ops account's one serialised sender (see
 * ops-signer.ts), so the two never race for a nonce. Both accounts must be registered to the member on chain
 * (admitMember accounts[] / addAccount). Keystores written before have no ops key and still load
 * (`ops` undefined); {@link addOpsKey} adds one in place.
 */
import { readFileSync, writeFileSync, renameSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { Wallet, encryptKeystoreJson } from "ethers";
import { NodeError, ErrorCode, ValidationError } from "./errors.js";

export class KeystoreError extends NodeError {
  override name = "KeystoreError";
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(ErrorCode.VALIDATION, message, details, options);
  }
}

export interface NodeKeys {
  /** the signing wallet (not connected to a provider) */
  wallet: Wallet;
  /** 32-byte content encryption key */
  storageKey: Buffer;
  /** 32-byte consortium key for holder references (the same on every member node) */
  holderKey: Buffer;
  /** the ops account (second signing key), if the keystore has one */
  ops?: Wallet;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
/** Production scrypt cost (ethers default N = 2^17). */
export const STRONG_SCRYPT: ScryptParams = { N: 1 << 17, r: 8, p: 1 };
/** Light parameters for tests and demos only. */
export const LIGHT_SCRYPT: ScryptParams = { N: 1 << 10, r: 8, p: 1 };

interface KeystoreFile {
  kind: "tongban-node-keystore";
  version: 1;
  address: string;
  /** address of the ops account, if the sealed secrets hold one */
  opsAddress?: string;
  signer: unknown;
  secrets: { kdf: "scrypt"; N: number; r: number; p: number; salt: string; cipher: "aes-256-gcm"; iv: string; tag: string; ct: string };
}

function kdf(password: string, salt: Buffer, s: ScryptParams): Buffer {
  return scryptSync(password.normalize("NFKC"), salt, 32, { N: s.N, r: s.r, p: s.p, maxmem: 256 * s.N * s.r + (1 << 20) });
}

/**
 * Create a keystore file. Keys not given are generated. Written atomically (tmp + rename), mode 0600.
 * @example await createKeystore("./keystore.json", pw, { holderKey: consortiumKey, scrypt: LIGHT_SCRYPT })
 */
export async function createKeystore(
  path: string,
  password: string,
  opts: {
    privateKey?: string;
    storageKey?: Uint8Array;
    holderKey?: Uint8Array;
    scrypt?: ScryptParams;
    overwrite?: boolean;
    /** the ops account's key; generated when absent unless `ops: false` */
    opsPrivateKey?: string;
    /** false = no ops account (a keystore as written before session 2) */
    ops?: boolean;
  } = {},
): Promise<NodeKeys> {
  if (!password) throw new ValidationError("keystore password must not be empty", { path });
  if (existsSync(path) && !opts.overwrite) throw new KeystoreError(`keystore ${path} already exists`, { path });
  const s = opts.scrypt ?? STRONG_SCRYPT;
  const wallet = opts.privateKey ? new Wallet(opts.privateKey) : new Wallet(Wallet.createRandom().privateKey);
  const storageKey = Buffer.from(opts.storageKey ?? randomBytes(32));
  const holderKey = Buffer.from(opts.holderKey ?? randomBytes(32));
  if (storageKey.length !== 32 || holderKey.length !== 32) throw new ValidationError("storage and holder keys must be 32 bytes", { path });
  const ops = opts.opsPrivateKey ? new Wallet(opts.opsPrivateKey) : opts.ops === false ? undefined : new Wallet(Wallet.createRandom().privateKey);
  if (ops && ops.address === wallet.address) throw new ValidationError("the ops account must differ from the signing account", { path });
  const signer = JSON.parse(
    await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, { scrypt: { N: s.N, r: s.r, p: s.p } }),
  );
  writeKeystoreFile(path, password, s, wallet.address, signer, { storageKey, holderKey, ops });
  return { wallet, storageKey, holderKey, ...(ops ? { ops } : {}) };
}

function writeKeystoreFile(
  path: string,
  password: string,
  s: ScryptParams,
  address: string,
  signer: unknown,
  secrets: { storageKey: Buffer; holderKey: Buffer; ops?: Wallet },
): void {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", kdf(password, salt, s), iv);
  c.setAAD(Buffer.from(address.toLowerCase()));
  const plain = Buffer.from(
    JSON.stringify({
      storageKey: secrets.storageKey.toString("hex"),
      holderKey: secrets.holderKey.toString("hex"),
      ...(secrets.ops ? { opsKey: secrets.ops.privateKey } : {}),
    }),
  );
  const ct = Buffer.concat([c.update(plain), c.final()]);
  const file: KeystoreFile = {
    kind: "tongban-node-keystore",
    version: 1,
    address,
    ...(secrets.ops ? { opsAddress: secrets.ops.address } : {}),
    signer,
    secrets: { kdf: "scrypt", ...s, salt: salt.toString("hex"), cipher: "aes-256-gcm", iv: iv.toString("hex"), tag: c.getAuthTag().toString("hex"), ct: ct.toString("hex") },
  };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(file, null, 2), { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Add an ops account to an existing keystore (generated unless `privateKey` is given), re-sealing the secrets
 * under the same password. Register the returned address to the member on chain (IConsortium.addAccount)
 * before the node uses it. @throws KeystoreError if the keystore already has one (unless `overwrite`).
 */
export async function addOpsKey(path: string, password: string, opts: { privateKey?: string; overwrite?: boolean; scrypt?: ScryptParams } = {}): Promise<NodeKeys> {
  const keys = await loadKeystore(path, password);
  if (keys.ops && !opts.overwrite) throw new KeystoreError(`keystore ${path} already has an ops account (${keys.ops.address})`, { path, opsAddress: keys.ops.address });
  const ops = new Wallet(opts.privateKey ?? Wallet.createRandom().privateKey);
  if (ops.address === keys.wallet.address) throw new ValidationError("the ops account must differ from the signing account", { path });
  const file = JSON.parse(readFileSync(path, "utf8")) as KeystoreFile;
  const s = opts.scrypt ?? { N: file.secrets.N, r: file.secrets.r, p: file.secrets.p };
  writeKeystoreFile(path, password, s, file.address, file.signer, { storageKey: keys.storageKey, holderKey: keys.holderKey, ops });
  return { ...keys, ops };
}

/** Open a keystore file. @throws KeystoreError naming the file on a wrong password or a damaged file. */
export async function loadKeystore(path: string, password: string): Promise<NodeKeys> {
  let file: KeystoreFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as KeystoreFile;
  } catch (e) {
    throw new KeystoreError(`keystore ${path} cannot be read`, { path }, { cause: e });
  }
  if (file.kind !== "tongban-node-keystore" || file.version !== 1) throw new KeystoreError(`keystore ${path} has an unknown format`, { path });
  let wallet: Wallet;
  try {
    const w = await Wallet.fromEncryptedJson(JSON.stringify(file.signer), password);
    wallet = new Wallet(w.privateKey);
  } catch (e) {
    throw new KeystoreError(`keystore ${path}: wrong password or damaged signing key`, { path }, { cause: e });
  }
  const s = file.secrets;
  let plain: { storageKey: string; holderKey: string; opsKey?: string };
  try {
    const d = createDecipheriv("aes-256-gcm", kdf(password, Buffer.from(s.salt, "hex"), s), Buffer.from(s.iv, "hex"));
    d.setAAD(Buffer.from(wallet.address.toLowerCase()));
    d.setAuthTag(Buffer.from(s.tag, "hex"));
    plain = JSON.parse(Buffer.concat([d.update(Buffer.from(s.ct, "hex")), d.final()]).toString("utf8")) as typeof plain;
  } catch (e) {
    throw new KeystoreError(`keystore ${path}: wrong password or damaged secrets`, { path }, { cause: e });
  }
  const keys: NodeKeys = { wallet, storageKey: Buffer.from(plain.storageKey, "hex"), holderKey: Buffer.from(plain.holderKey, "hex") };
  if (plain.opsKey) {
    const ops = new Wallet(plain.opsKey);
    if (file.opsAddress && file.opsAddress.toLowerCase() !== ops.address.toLowerCase()) {
      throw new KeystoreError(`keystore ${path}: the ops key does not match opsAddress ${file.opsAddress}`, { path });
    }
    keys.ops = ops;
  }
  return keys;
}
