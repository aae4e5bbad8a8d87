/**
 * Member nodes of a deployed consortium as processes (test/node/helpers/node-process.ts), for the node suite's
 * end-to-end tests: per member a folder `<root>/<KEY>` with a keystore (signing + ops account, both funded, a
 * shared holder key), an API token, a `node.json` and the running node.
 *
 * @example
 *   const keys = await prepareMemberKeys(chain, root, ["A", "B"]);
 *   const deployed = await deployConsortium(admin, SPEC, { accounts: keys.accounts });
 *   const a = await startMemberProcess(root, "A", memberConfig({ chain, deployed, memberId: USCC.A, key: keys.A, port: await freePort() }));
 *   const r = await apiCall(a.url, keys.A.token, "GET", "/v1/audit/heads");
 *   await a.stop();
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createNodeClient, registerMaterials, waitForAnchored, type NodeClient } from "@tongban/sdk";
import { fund, freePort, type Chain } from "./chain.js";
import { startNodeProcess, stopNodeProcesses, type NodeProcess } from "./node-process.js";
import { createKeystore, LIGHT_SCRYPT } from "../../../node/src/core/keystore.js";
import { newToken } from "../../../node/src/api/auth.js";
import type { DeployedConsortium } from "../../../node/src/consortium/index.js";
import type { ConsortiumSpec } from "../../../node/src/consortium/spec.js";

/** One member's keystore and API token. */
export interface MemberKeys {
  /** `<root>/<KEY>` */
  dir: string;
  /** keystore password (`pw-<KEY>`) */
  password: string;
  /** the signing account */
  account: string;
  /** the ops account (head anchors, catalogue writes, peers) */
  ops: string;
  /** the API bearer token and its hash (the config lists the hash) */
  token: string;
  hash: string;
}

/**
 * For each key: a keystore `<root>/<KEY>/keystore.json` (password `pw-<KEY>`, light scrypt, one holder key for
 * all), the signing account funded from dev account 1 and the ops account from dev account 2, a fresh API
 * token. `accounts` maps the lower-cased key to [signing, ops], as `deployConsortium` takes it.
 */
export async function prepareMemberKeys<K extends string>(
  chain: Chain,
  root: string,
  keys: readonly K[],
  holderKey: Uint8Array = randomBytes(32),
): Promise<Record<K, MemberKeys> & { accounts: Record<string, string[]> }> {
  const accounts: Record<string, string[]> = {};
  const out = {} as Record<K, MemberKeys>;
  for (const k of keys) {
    const dir = join(root, k);
    const password = "pw-" + k;
    const ks = await createKeystore(join(dir, "keystore.json"), password, { holderKey, scrypt: LIGHT_SCRYPT });
    await fund(chain, ks.wallet.address, 100n, 1);
    await fund(chain, ks.ops!.address, 100n, 2);
    accounts[k.toLowerCase()] = [ks.wallet.address, ks.ops!.address];
    out[k] = { dir, password, account: ks.wallet.address, ops: ks.ops!.address, ...newToken() };
  }
  return Object.assign(out, { accounts });
}

/**
 * The node.json of a member on `deployed` (paths relative to the member's folder): data in `./data`, no
 * confirmations, 200 ms batches, the API on 127.0.0.1:`port` with the member's token, indexer, catalogue and
 * authorisations from the deploy block, head anchors every 500 ms, log level info; `extra` adds or overrides.
 */
export function memberConfig(o: {
  chain: Chain;
  deployed: Pick<DeployedConsortium, "ledgerAddress" | "catalogueAddress" | "authorisationsAddress" | "deployBlock">;
  memberId: string;
  key: MemberKeys;
  port: number;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const { chain, deployed, key } = o;
  return {
    dataDir: "./data",
    rpcUrls: [chain.url],
    ledgerAddress: deployed.ledgerAddress,
    memberId: o.memberId,
    confirmations: 0,
    batchIntervalMs: 200,
    keystorePath: "./keystore.json",
    keystorePassword: key.password,
    api: { host: "127.0.0.1", port: o.port, tokens: [key.hash] },
    indexer: { startBlock: deployed.deployBlock },
    catalogue: { address: deployed.catalogueAddress, startBlock: deployed.deployBlock },
    authorisations: { address: deployed.authorisationsAddress },
    audit: { anchorIntervalMs: 500 },
    logLevel: "info",
    ...o.extra,
  };
}

/**
 * Start the member node process of `<root>/<key>` (node/src/main.ts); with `cfg`, write it to `node.json`
 * first (without, restart with the config already there). `timeoutMs` for the listening line (default 120 s).
 */
export async function startMemberProcess(root: string, key: string, cfg?: Record<string, unknown>, timeoutMs = 120_000): Promise<NodeProcess> {
  const dir = join(root, key);
  if (cfg) writeFileSync(join(dir, "node.json"), JSON.stringify(cfg));
  return startNodeProcess({ configFile: join(dir, "node.json"), name: key, timeoutMs });
}

/**
 * The exchange tests' consortium: A (Xuhui, issues BL), B (Pudong) and C (city level, identity provider), all
 * governors, threshold 1; grants are for the matter {@link EXCHANGE_MATTER}.
 */
export const EXCHANGE_USCC = { A: "11310104002418330F", B: "11310115002418321F", C: "11310000002418210Q" } as const;
export const EXCHANGE_MATTER = "ENTERPRISE_CHANGE_REG";
export const EXCHANGE_SPEC: ConsortiumSpec = {
  jurisdictions: [{ code: 310000, parent: 0 }, { code: 310104, parent: 310000 }, { code: 310115, parent: 310000 }],
  materialTypes: [{ code: "BL" }],
  members: [
    { key: "a", uscc: EXCHANGE_USCC.A, jurisdiction: 310104, roles: ["GOVERNOR"], entitlements: [{ type: "BL", jurisdiction: 310104 }] },
    { key: "b", uscc: EXCHANGE_USCC.B, jurisdiction: 310115, roles: ["GOVERNOR"] },
    { key: "c", uscc: EXCHANGE_USCC.C, jurisdiction: 310000, roles: ["GOVERNOR", "IDENTITY_PROVIDER"] },
  ],
  governance: { threshold: 1 },
};

/** `memberConfig` extra for members that exchange over libp2p: listen on a free loopback port, peer directory refreshed every 500 ms. */
export const P2P_LOOPBACK = { p2p: { listen: ["/ip4/127.0.0.1/tcp/0"], directoryRefreshMs: 500 } } as const;

/**
 * Start the node process of every member of `usccs` (in parallel), each with `memberConfig` (+ `extra`) on a free
 * port and its SDK node client. If one fails to start, the others are stopped and the error is thrown.
 */
export async function startMembers<K extends string>(o: {
  chain: Chain;
  deployed: Parameters<typeof memberConfig>[0]["deployed"];
  root: string;
  usccs: Record<K, string>;
  keys: Record<K, MemberKeys>;
  extra?: Record<string, unknown>;
}): Promise<{ node: Record<K, NodeProcess>; client: Record<K, NodeClient> }> {
  const ks = Object.keys(o.usccs) as K[];
  const started = await Promise.allSettled(
    ks.map(async (k) => {
      const cfg = memberConfig({ chain: o.chain, deployed: o.deployed, memberId: o.usccs[k], key: o.keys[k], port: await freePort(), ...(o.extra ? { extra: o.extra } : {}) });
      return startMemberProcess(o.root, k, cfg);
    }),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopNodeProcesses(started.map((r) => (r.status === "fulfilled" ? r.value : undefined)));
    throw failed.reason;
  }
  const node = {} as Record<K, NodeProcess>;
  const client = {} as Record<K, NodeClient>;
  ks.forEach((k, i) => {
    node[k] = (started[i] as PromiseFulfilledResult<NodeProcess>).value;
    client[k] = createNodeClient({ url: node[k].url, token: o.keys[k].token });
  });
  return { node, client };
}

/** Register `materials` through a node's API and wait until each is anchored; resolves with their ids (leaves), in order. */
export async function registerAnchored(client: NodeClient, materials: Parameters<typeof registerMaterials>[1]["materials"], timeoutMs = 60_000): Promise<string[]> {
  const acks = await registerMaterials(client, { materials });
  for (const a of acks) await waitForAnchored(client, { id: a.id, timeoutMs });
  return acks.map((a) => a.id);
}

export interface ApiAnswer {
  status: number;
  /** the parsed JSON body, or undefined */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  /** content-type */
  type: string;
}

/** One HTTP call to a node's API with a bearer token; a JSON body when `body` is given. */
export async function apiCall(url: string, token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: r.status, body: parsed, text, type: r.headers.get("content-type") ?? "" };
}
