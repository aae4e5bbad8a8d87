/**
 * The exchange and the audit API as a department sees them: member-node PROCESSES started from main.ts (the
 * real wiring: use log, libp2p, ops sender, HTTP API) against a hardhat node. A registers 10 KiB materials
 * through its API and (as identity provider) records a holder's grant to B; B's department then calls
 * POST /v1/exchange/fetch as fast as `concurrency` clients allow: HTTP -> B signs -> libp2p -> A checks
 * (checkGrant eth_call), logs SERVED (fsync) -> B verifies on chain (materialState eth_call), logs RECEIVED
 * (fsync) -> JSON with base64 content. Then audit queries over HTTP (holder history with proofs). Prints
 * figures; not a test.
 *
 *   npx tsx node/bench/exchange-api.ts [fetches=1000] [concurrency=32]
 *   BENCH_GRANT_CACHE_MS=1000 BENCH_VERIFY_CACHE_MS=1000 npx tsx node/bench/exchange-api.ts   # cached chain answers
 */
import "../src/polyfill.js";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { createNodeClient, registerMaterials, waitForAnchored } from "@tongban/sdk";
import { REPO_ROOT, devWallet, fund, freePort, startChain } from "../../test/node/helpers/chain.js";
import { createKeystore, LIGHT_SCRYPT } from "../src/core/keystore.js";
import { newToken } from "../src/api/auth.js";
import { deployConsortium } from "../src/consortium/deploy.js";

const COUNT = Number(process.argv[2] ?? 1000);
const CONC = Number(process.argv[3] ?? 32);
const USCC = { A: "11310104002418330F", B: "11310115002418321F" } as const;
const RID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const residentId = (i: number) => {
  const body = `310104${1960 + (i % 40)}${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}${String(i % 1000).padStart(3, "0")}`;
  return body + "10X98765432"[[...body].reduce((a, d, k) => a + Number(d) * RID_W[k]!, 0) % 11];
};
const pct = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(a.length * p))]!;

async function main(): Promise<void> {
  const chain = await startChain();
  const root = mkdtempSync(join(tmpdir(), "bench-xapi-"));
  const procs: ChildProcess[] = [];
  try {
    const holderKey = randomBytes(32);
    const accounts: Record<string, string[]> = {};
    const tok: Record<string, { token: string; hash: string }> = {};
    for (const k of ["A", "B"] as const) {
      const keys = await createKeystore(join(root, k, "keystore.json"), "pw", { holderKey, scrypt: LIGHT_SCRYPT });
      await fund(chain, keys.wallet.address, 100n, 1);
      await fund(chain, keys.ops!.address, 100n, 2);
      accounts[k.toLowerCase()] = [keys.wallet.address, keys.ops!.address];
      tok[k] = newToken();
    }
    const deployed = await deployConsortium(new Wallet(devWallet(0).privateKey, chain.provider), {
      jurisdictions: [{ code: 310000, parent: 0 }, { code: 310104, parent: 310000 }, { code: 310115, parent: 310000 }],
      materialTypes: [{ code: "BL" }],
      members: [
        { key: "a", uscc: USCC.A, jurisdiction: 310104, roles: ["GOVERNOR", "IDENTITY_PROVIDER"], entitlements: [{ type: "BL", jurisdiction: 310104 }] },
        { key: "b", uscc: USCC.B, jurisdiction: 310115, roles: ["GOVERNOR"] },
      ],
      governance: { threshold: 1 },
    }, { accounts });
    const urls: Record<string, string> = {};
    await Promise.all(
      (["A", "B"] as const).map(async (k) => {
        const cfg = {
          dataDir: "./data", rpcUrls: [chain.url], ledgerAddress: deployed.ledgerAddress, memberId: USCC[k], confirmations: 0, batchIntervalMs: 200,
          keystorePath: "./keystore.json", keystorePassword: "pw", logLevel: "warn",
          api: { host: "127.0.0.1", port: await freePort(), tokens: [tok[k]!.hash] },
          indexer: { startBlock: deployed.deployBlock },
          authorisations: { address: deployed.authorisationsAddress },
          p2p: { grantCacheMs: Number(process.env.BENCH_GRANT_CACHE_MS ?? 0), verifyCacheMs: Number(process.env.BENCH_VERIFY_CACHE_MS ?? 0) },
          audit: { anchorIntervalMs: 1000 },
        };
        writeFileSync(join(root, k, "node.json"), JSON.stringify(cfg));
        const p = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "node/src/main.ts"), "--config", join(root, k, "node.json")], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        procs.push(p);
        let out = "";
        p.stderr!.on("data", (d) => (out += d));
        urls[k] = await new Promise<string>((res, rej) => {
          p.stdout!.on("data", (d) => {
            out += d;
            const x = out.match(/"event":"listening","url":"([^"]+)"/);
            if (x) res(x[1]!);
          });
          p.once("exit", () => rej(new Error(`node ${k} exited: ${out.slice(-2000)}`)));
        });
      }),
    );
    const call = async (k: "A" | "B", method: string, path: string, body?: unknown) => {
      const r = await fetch(`${urls[k]}${path}`, { method, headers: { authorization: `Bearer ${tok[k]!.token}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const holder = { idType: "RESIDENT_ID", idNumber: residentId(7) };
    const clientA = createNodeClient({ url: urls.A!, token: tok.A!.token });
    const now = Math.floor(Date.now() / 1000);
    const acks = await registerMaterials(clientA, { materials: Array.from({ length: 8 }, () => ({ typeCode: "BL", jurisdiction: 310104, content: randomBytes(10 * 1024).toString("base64"), holder, validFrom: now - 60 })) });
    for (const a of acks) await waitForAnchored(clientA, { id: a.id, timeoutMs: 60_000 });
    const g = await call("A", "POST", "/v1/grants", { holder, grantee: USCC.B, matter: "BENCH_MATTER", typeCodes: ["BL"], notAfter: now + 86400, maxUses: 4_000_000_000, evidenceHash: keccak256(toUtf8Bytes("bench")) });
    if (g.status !== 201) throw new Error(JSON.stringify(g.body));
    const fetchOne = (i: number) => call("B", "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId: g.body.grantId, materialId: acks[i % acks.length]!.id, matter: "BENCH_MATTER" });
    for (let i = 0; i < 20; i++) await fetchOne(i); // warm-up (connections, JIT)
    const lat: number[] = [];
    const codes: Record<string, number> = {};
    let next = 0;
    const load0 = loadavg()[0]!;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < COUNT) {
          const i = next++;
          const s = performance.now();
          const r = await fetchOne(i);
          lat.push(performance.now() - s);
          const c = r.status === 200 ? "OK" : r.body.code;
          codes[c] = (codes[c] ?? 0) + 1;
        }
      }),
    );
    const ms = performance.now() - t0;
    lat.sort((a, b) => a - b);
    console.log(JSON.stringify({
      bench: "POST /v1/exchange/fetch (10 KiB, HTTP -> libp2p -> verified)", fetches: COUNT, concurrency: CONC,
      grantCacheMs: Number(process.env.BENCH_GRANT_CACHE_MS ?? 0), verifyCacheMs: Number(process.env.BENCH_VERIFY_CACHE_MS ?? 0),
      perSec: Math.round((COUNT / ms) * 1000), p50ms: +pct(lat, 0.5).toFixed(1), p95ms: +pct(lat, 0.95).toFixed(1), p99ms: +pct(lat, 0.99).toFixed(1), codes,
      load: [load0.toFixed(2), loadavg()[0]!.toFixed(2)],
    }));
    // audit over HTTP: the custodian's history of a holder (every use above, each with its proof)
    for (const [label, k, limit] of [["holder history (SERVED, 100 records with proofs)", "A", 100], ["holder history (RECEIVED, 10 records with proofs)", "B", 10]] as const) {
      const q: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        const r = await call(k, "POST", "/v1/audit/history/holder", { ...holder, limit });
        q.push(performance.now() - s);
        if (r.status !== 200 || r.body.records.length !== limit) throw new Error(`audit: ${r.status} ${r.body.records?.length}`);
      }
      q.sort((a, b) => a - b);
      console.log(JSON.stringify({ bench: `POST /v1/audit/history/holder: ${label}`, queries: 200, p50ms: +pct(q, 0.5).toFixed(2), p95ms: +pct(q, 0.95).toFixed(2), load: loadavg()[0]!.toFixed(2) }));
    }
  } finally {
    for (const p of procs) if (p.exitCode === null) process.kill(p.pid!, "SIGTERM");
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : undefined)));
    await chain.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
