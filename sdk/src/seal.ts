/**
 * Issuer e-seals: optional signatures over a material leaf, carried in the bundle's `seal`.
 * - `eip712-secp256k1`: EIP-712 typed data, domain { name: "Tongban", version: "1", chainId, verifyingContract:
 *   the ledger }, type `Material(bytes32 leaf)`; the signer address is recovered and compared with `seal.signer`.
 * - `sm2-sm3`: SM2 (GM/T 0003) with SM3 over Z_A || leaf, Z_A from the user id (default "1234567812345678"),
 *   signature r || s; checked against `seal.publicKey`.
 */
import { createRequire } from "node:module";
import { Wallet, SigningKey, TypedDataEncoder, verifyTypedData, getAddress, id as ethersId, type TypedDataDomain } from "ethers";
import { TongbanError } from "./errors.js";
import { hexToBytes } from "./bytes.js";
import type { Eip712Seal, Seal, Sm2Seal } from "./bundle.js";

/** Default SM2 user id (GM/T 0009). */
export const SM2_DEFAULT_USER_ID = "1234567812345678";

/** The EIP-712 type of the seal. */
export const MATERIAL_SEAL_TYPES = { Material: [{ name: "leaf", type: "bytes32" }] } as const;

/** A seal could not be made (bad key, bad leaf). */
export class SealError extends TongbanError<{ scheme: string; leaf: string; reason: string }> {
  override name = "SealError" as const;
}

/**
 * The EIP-712 domain of seals for a ledger.
 * @example TypedDataEncoder.hash(sealDomain(31337n, ledger), MATERIAL_SEAL_TYPES, { leaf })
 */
export function sealDomain(chainId: bigint | number | string, ledger: string): TypedDataDomain {
  return { name: "Tongban", version: "1", chainId: BigInt(chainId), verifyingContract: getAddress(ledger.toLowerCase()) };
}

type Sm2 = {
  doSignature(msg: number[], privateKey: string, opts: { hash: boolean; userId?: string; publicKey?: string }): string;
  doVerifySignature(msg: number[], sig: string, publicKey: string, opts: { hash: boolean; userId?: string }): boolean;
  getPublicKeyFromPrivateKey(privateKey: string): string;
  generateKeyPairHex(): { privateKey: string; publicKey: string };
};
let sm2Lib: Sm2 | undefined;
function sm2(): Sm2 {
  sm2Lib ??= (createRequire(import.meta.url)("sm-crypto") as { sm2: Sm2 }).sm2;
  return sm2Lib;
}

/**
 * Seals `leaf` with a secp256k1 key under EIP-712.
 * @example
 * const seal = await signLeafEip712(bundle.leaf, issuerPrivateKey, { chainId: 31337n, ledger: ledgerAddress });
 */
export async function signLeafEip712(
  leaf: string, privateKey: string, domain: { chainId: bigint | number | string; ledger: string },
): Promise<Eip712Seal> {
  hexToBytes(leaf, "leaf", 32);
  let wallet: Wallet;
  try {
    wallet = new Wallet(privateKey);
  } catch (e) {
    throw new SealError("invalid secp256k1 private key", { scheme: "eip712-secp256k1", leaf, reason: "BAD_KEY" }, { cause: e });
  }
  const signature = await wallet.signTypedData(sealDomain(domain.chainId, domain.ledger), MATERIAL_SEAL_TYPES as never, { leaf });
  return { scheme: "eip712-secp256k1", signer: wallet.address, signature };
}

/**
 * Seals `leaf` with an SM2 private key (hex, 32 bytes) using SM3 and the user id.
 * @example
 * const { privateKey, publicKey } = generateSm2KeyPair();
 * const seal = signLeafSm2(bundle.leaf, privateKey);
 */
export function signLeafSm2(leaf: string, privateKey: string, options: { userId?: string } = {}): Sm2Seal {
  const bytes = Array.from(hexToBytes(leaf, "leaf", 32));
  if (!/^[0-9a-fA-F]{64}$/.test(privateKey.replace(/^0x/, ""))) {
    throw new SealError("SM2 private key must be 32 bytes of hex", { scheme: "sm2-sm3", leaf, reason: "BAD_KEY" });
  }
  const key = privateKey.replace(/^0x/, "").toLowerCase();
  const publicKey = sm2().getPublicKeyFromPrivateKey(key);
  const userId = options.userId ?? SM2_DEFAULT_USER_ID;
  const signature = sm2().doSignature(bytes, key, { hash: true, publicKey, userId });
  return { scheme: "sm2-sm3", publicKey, signature, ...(options.userId ? { userId } : {}) };
}

/**
 * A fresh SM2 key pair (hex, public key uncompressed 04...).
 * @example const { privateKey, publicKey } = generateSm2KeyPair();
 */
export function generateSm2KeyPair(): { privateKey: string; publicKey: string } {
  return sm2().generateKeyPairHex();
}

/**
 * Faster primitives {@link verifySeal} may use for an EIP-712 seal (a node verifying thousands of sealed
 * materials a second: ethers' portable secp256k1 recovery costs ~2-5 ms per seal, a native one ~0.07 ms).
 * Given both, the digest is hashed with `keccak256` and the signer recovered with `ecrecover`; anything the fast
 * path does not cover exactly (a high-s signature, a signature that does not recover, a leaf or ledger ethers
 * would refuse) is judged by the ethers path, so the outcome is the same with or without them.
 */
export interface SealVerifyOptions {
  /** keccak-256 of the data (32-byte digest) */
  keccak256?: (data: Uint8Array) => Uint8Array;
  /** the address (0x hex, any case) that signed the 32-byte digest with r || s (64 bytes) and recovery id 0 or 1; undefined if none */
  ecrecover?: (digest: Uint8Array, rs: Uint8Array, recoveryId: number) => string | undefined;
}

const MATERIAL_TYPE_HASH = Buffer.from(ethersId("Material(bytes32 leaf)").slice(2), "hex");
/** secp256k1 n / 2: a canonical (low-s) signature has s <= this */
const HALF_N = Buffer.from("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", "hex");
const separators = new Map<string, Buffer>();

/** The recovered signer by the caller's primitives (lowercase or checksummed), or undefined: use the ethers path. */
function recoverFast(signature: string, leaf: string, domain: { chainId: bigint | number | string; ledger: string }, o: SealVerifyOptions): string | undefined {
  if (!o.keccak256 || !o.ecrecover) return undefined;
  if (typeof leaf !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(leaf)) return undefined;
  const sig = Buffer.from(signature.slice(2), "hex"); // 65 bytes, v 27/28: checked by the caller
  if (Buffer.compare(sig.subarray(32, 64), HALF_N) > 0) return undefined; // high s: ethers decides what it means
  const key = `${String(domain.chainId)}|${String(domain.ledger).toLowerCase()}`;
  let sep = separators.get(key);
  if (!sep) {
    try {
      sep = Buffer.from(TypedDataEncoder.hashDomain(sealDomain(domain.chainId, domain.ledger)).slice(2), "hex");
    } catch {
      return undefined;
    }
    if (separators.size >= 1000) separators.clear();
    separators.set(key, sep);
  }
  const struct = o.keccak256(Buffer.concat([MATERIAL_TYPE_HASH, Buffer.from(leaf.slice(2), "hex")]));
  if (!(struct instanceof Uint8Array) || struct.length !== 32) return undefined;
  const digest = o.keccak256(Buffer.concat([Buffer.from([0x19, 0x01]), sep, struct]));
  if (!(digest instanceof Uint8Array) || digest.length !== 32) return undefined;
  let a: string | undefined;
  try {
    a = o.ecrecover(digest, sig.subarray(0, 64), sig[64]! - 27);
  } catch {
    return undefined;
  }
  return typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a) ? a : undefined;
}

/** EIP-55 checksum of a lowercase 0x address with the caller's keccak (what ethers' getAddress answers). */
function checksummed(lower: string, keccak256: (data: Uint8Array) => Uint8Array): string {
  const hex = lower.slice(2);
  const h = keccak256(Buffer.from(hex, "ascii"));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (h[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    out += nibble >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  }
  return out;
}

/** Outcome of {@link verifySeal}. */
export type SealVerification =
  | { valid: true; scheme: Seal["scheme"]; signer: string }
  | { valid: false; scheme: string; reason: "BAD_SIGNATURE" | "SIGNER_MISMATCH" | "MALFORMED"; signer?: string; message: string };

/**
 * Checks a seal over `leaf`. For EIP-712 the domain is the bundle's chain and ledger. Never throws.
 * @example verifySeal(bundle.seal, bundle.leaf, { chainId: bundle.anchor.chainId, ledger: bundle.anchor.contract })
 */
export function verifySeal(seal: Seal, leaf: string, domain: { chainId: bigint | number | string; ledger: string }, options: SealVerifyOptions = {}): SealVerification {
  if (seal.scheme === "eip712-secp256k1") {
    // canonical form only: 65 bytes r || s || v with v = 27 or 28. ethers would also accept v = 0/1 or an
    // EIP-155 v and recover the same signer, so differently encoded bytes would verify as the same seal.
    if (typeof seal.signature !== "string" || !/^0x[0-9a-fA-F]{128}(1[bcBC])$/.test(seal.signature)) {
      return { valid: false, scheme: seal.scheme, reason: "MALFORMED", message: "signature must be 65 bytes (r, s, v) with v = 27 or 28 (0x1b/0x1c)" };
    }
    const fast = recoverFast(seal.signature, leaf, domain, options);
    let recovered: string;
    if (fast !== undefined) {
      recovered = checksummed(fast.toLowerCase(), options.keccak256!); // as ethers' recovery answers
    } else {
      try {
        recovered = verifyTypedData(sealDomain(domain.chainId, domain.ledger), MATERIAL_SEAL_TYPES as never, { leaf }, seal.signature);
      } catch (e) {
        return { valid: false, scheme: seal.scheme, reason: "MALFORMED", message: `signature does not parse: ${(e as Error).message.slice(0, 120)}` };
      }
    }
    if (recovered.toLowerCase() !== seal.signer.toLowerCase()) {
      return { valid: false, scheme: seal.scheme, reason: "SIGNER_MISMATCH", signer: recovered, message: `signature recovers ${recovered}, seal names ${seal.signer}` };
    }
    return { valid: true, scheme: seal.scheme, signer: fast !== undefined ? recovered : getAddress(recovered) };
  }
  if (seal.scheme === "sm2-sm3") {
    let ok = false;
    try {
      ok = sm2().doVerifySignature(Array.from(hexToBytes(leaf, "leaf", 32)), seal.signature.toLowerCase(), seal.publicKey.toLowerCase(), {
        hash: true, userId: seal.userId ?? SM2_DEFAULT_USER_ID,
      });
    } catch (e) {
      return { valid: false, scheme: seal.scheme, reason: "MALFORMED", message: `SM2 verification failed to run: ${(e as Error).message.slice(0, 120)}` };
    }
    return ok
      ? { valid: true, scheme: seal.scheme, signer: seal.publicKey.toLowerCase() }
      : { valid: false, scheme: seal.scheme, reason: "BAD_SIGNATURE", signer: seal.publicKey, message: "SM2 signature does not verify under the seal's public key" };
  }
  return { valid: false, scheme: String((seal as { scheme?: unknown }).scheme), reason: "MALFORMED", message: "unknown seal scheme" };
}

/**
 * The address of a secp256k1 private key (convenience for tests and nodes).
 * @example addressOfKey(issuerKey) // => "0xf39F..."
 */
export function addressOfKey(privateKey: string): string {
  return new Wallet(new SigningKey(privateKey)).address;
}
