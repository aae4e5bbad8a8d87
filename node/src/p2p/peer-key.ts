/**
 * The node's libp2p identity: an Ed25519 key kept in the data dir (`p2p-key.json`, mode 0600), sealed with
 * AES-256-GCM under a key derived from the node's storage key when one is given, so the peer id is stable
 * across restarts and the key is not readable from a copied data dir without the keystore.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";

interface KeyFile {
  kind: "tongban-p2p-key";
  version: 1;
  /** hex protobuf, or sealed {iv, tag, ct} */
  key?: string;
  sealed?: { iv: string; tag: string; ct: string };
}

function wrapKey(storageKey: Uint8Array): Buffer {
  return createHmac("sha256", storageKey).update("tongban/p2p-key/aes-256-gcm").digest();
}

/** Load the node's Ed25519 libp2p key from `path`, creating it on first start. */
export async function loadOrCreatePeerKey(path: string, storageKey?: Uint8Array): Promise<PrivateKey> {
  if (existsSync(path)) {
    const f = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
    if (f.kind !== "tongban-p2p-key" || f.version !== 1) throw new Error(`p2p key file ${path} has an unknown format`);
    let pb: Buffer;
    if (f.sealed) {
      if (!storageKey) throw new Error(`p2p key file ${path} is sealed: the storage key is needed`);
      const d = createDecipheriv("aes-256-gcm", wrapKey(storageKey), Buffer.from(f.sealed.iv, "hex"));
      d.setAuthTag(Buffer.from(f.sealed.tag, "hex"));
      pb = Buffer.concat([d.update(Buffer.from(f.sealed.ct, "hex")), d.final()]);
    } else {
      pb = Buffer.from(f.key!, "hex");
    }
    return privateKeyFromProtobuf(pb);
  }
  const key = await generateKeyPair("Ed25519");
  const pb = Buffer.from(privateKeyToProtobuf(key));
  const f: KeyFile = { kind: "tongban-p2p-key", version: 1 };
  if (storageKey) {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", wrapKey(storageKey), iv);
    const ct = Buffer.concat([c.update(pb), c.final()]);
    f.sealed = { iv: iv.toString("hex"), tag: c.getAuthTag().toString("hex"), ct: ct.toString("hex") };
  } else {
    f.key = pb.toString("hex");
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(f), { mode: 0o600 });
  renameSync(tmp, path);
  return key;
}
