/**
 * A standalone member-node process of the p2p layer: the libp2p node with the exchange protocol, its use
 * log and a material shelf (LevelDB), against a chain. Used by the multi-process tests and the exchange
 * benchmark; the node's main process wires the same classes (see node/src/p2p/README.md).
 *
 * Configuration: JSON in env TONGBAN_P2P_CONFIG (see {@link RunConfig}). Controlled over the IPC channel
 * when started with `fork` (messages {id, cmd, args} -> {id, ok, result | error}); prints
 * `READY {peerId, multiaddrs}` on stdout when serving.
 */
import "../polyfill.js";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { Wallet } from "ethers";
import type { ProofBundle } from "@tongban/sdk";
import { UseLog, historyToCsv, type HistoryQuery } from "../audit/use-log.js";
import { AuthorisationsView, CHAIN_BATCHES_IN_FLIGHT, ChainRpc, ChainWriter, ConsortiumView } from "./chain.js";
import { MaterialShelf, cachedMaterialSource } from "./materials.js";
import { P2PNode } from "./node.js";
import { loadOrCreatePeerKey } from "./peer-key.js";
import { onlineVerifier } from "./verify.js";
import type { FetchParams, FetchResult, SignedRequest } from "./exchange.js";
import { batchDigest, batchTree, signDigest, type RequestFields } from "./messages.js";

export interface RunConfig {
  dataDir: string;
  rpcUrl: string;
  ledger: string;
  authorisations: string;
  /** bytes32 member id */
  memberId: string;
  /** 0x signing key of a current account of the member */
  signingKey: string;
  /** 0x 32-byte storage key (seals the p2p key and the shelf) */
  storageKey: string;
  /** publish peers with setPeers (default true) */
  publish?: boolean;
  grantCacheMs?: number;
  verifyCacheMs?: number;
  /**
   * coalesce concurrent checkGrant / materialState reads into checkGrants / materialStates calls (default true =
   * `{ maxInFlight: CHAIN_BATCHES_IN_FLIGHT }`: up to 4 batches out at once per side; each read is still asked
   * after its request arrived, only the waiting for the previous batch's round trip is gone)
   */
  chainCoalesce?: boolean | { maxBatch?: number; maxInFlight?: number };
  /** both sides reuse a checkGrant / materialState answer read at the same block (default true; chain.ts, verify.ts) */
  reuseWithinBlock?: boolean;
  anchorIntervalMs?: number;
  anchorEvery?: number;
  syncWrites?: boolean;
  directoryRefreshMs?: number;
  /** keep the last materials served in memory (default true; see cachedMaterialSource) */
  materialCache?: boolean;
  /** exchange versions this node speaks (default both, 1.1.0 first; P2PNodeInit.protocols) */
  protocols?: string[];
  /** batch-sign the requests of one turn where the custodian speaks 1.1 (default true) */
  batchSign?: boolean;
}

type Cmd =
  | { cmd: "info" }
  | { cmd: "putMaterial"; args: { bundle: ProofBundle; content: string } }
  | { cmd: "fetch"; args: FetchParams }
  | { cmd: "crafted"; args: { params: FetchParams; overrides?: Partial<RequestFields>; wrongKey?: boolean; sendTwice?: boolean } }
  | { cmd: "resend"; args: { custodian: string; nonce: string } }
  | { cmd: "craftedBatch"; args: { params: FetchParams; count: number; overrides?: Partial<RequestFields>; tamper?: "proof" | "field" | "long-proof" | "not-a-list" } }
  | { cmd: "bench"; args: { params: FetchParams; count: number; concurrency: number; leaves?: string[]; grants?: string[] } }
  | { cmd: "anchor" }
  | { cmd: "history"; args: HistoryQuery & { csv?: boolean } }
  | { cmd: "refresh" }
  | { cmd: "stop" };

function slim(r: FetchResult): Record<string, unknown> {
  const { content, verification, bundle, ...rest } = r;
  return {
    ...rest,
    ...(content ? { contentSha256: createHash("sha256").update(content).digest("hex"), contentBytes: content.length } : {}),
    ...(verification ? { verificationOk: verification.ok, checks: verification.checks.map((c) => `${c.check}:${c.status}:${c.reason}`) } : {}),
    ...(bundle ? { bundleLeaf: bundle.leaf } : {}),
  };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.TONGBAN_P2P_CONFIG ?? "{}") as RunConfig;
  const rpc = new ChainRpc(cfg.rpcUrl);
  const chainId = await rpc.chainId();
  const consortium = new ConsortiumView(rpc, cfg.ledger);
  const coalesce = cfg.chainCoalesce === undefined || cfg.chainCoalesce === true ? { maxInFlight: CHAIN_BATCHES_IN_FLIGHT } : cfg.chainCoalesce;
  const authorisations = new AuthorisationsView(rpc, cfg.authorisations, { coalesce, reuseWithinBlock: cfg.reuseWithinBlock ?? true });
  const verifier = onlineVerifier(rpc, cfg.ledger, { cacheMs: cfg.verifyCacheMs ?? 0, coalesce, reuseWithinBlock: cfg.reuseWithinBlock ?? true });
  const storageKey = Buffer.from(cfg.storageKey.replace(/^0x/, ""), "hex");
  const logDb = new ClassicLevel<Buffer, Buffer>(join(cfg.dataDir, "uselog"), { keyEncoding: "buffer", valueEncoding: "buffer" });
  const shelfDb = new ClassicLevel<Buffer, Buffer>(join(cfg.dataDir, "shelf"), { keyEncoding: "buffer", valueEncoding: "buffer" });
  await logDb.open();
  await shelfDb.open();
  const wallet = new Wallet(cfg.signingKey);
  const writer = new ChainWriter(cfg.rpcUrl, cfg.signingKey, cfg.ledger, cfg.authorisations, cfg.memberId, authorisations);
  const useLog = new UseLog(
    { db: logDb, logId: cfg.memberId, anchor: writer, signer: { address: wallet.address, signDigest: (d) => wallet.signMessageSync(Buffer.from(d.slice(2), "hex")) } },
    { anchorIntervalMs: cfg.anchorIntervalMs ?? 0, anchorEvery: cfg.anchorEvery ?? 1e12, syncWrites: cfg.syncWrites ?? true },
  );
  await useLog.start();
  const shelf = new MaterialShelf(shelfDb, storageKey);
  const node = new P2PNode(
    {
      memberId: cfg.memberId,
      signingKey: cfg.signingKey,
      peerKey: await loadOrCreatePeerKey(join(cfg.dataDir, "p2p-key.json"), storageKey),
      chainId,
      authorisations,
      consortium,
      writer: cfg.publish === false ? undefined : writer,
      materials: cfg.materialCache === false ? shelf : cachedMaterialSource(shelf),
      useLog,
      verify: verifier,
    },
    { grantCacheMs: cfg.grantCacheMs ?? 0, directory: { refreshMs: cfg.directoryRefreshMs ?? 1000 }, protocols: cfg.protocols, batchSign: cfg.batchSign },
  );
  await node.start();

  const stop = async () => {
    await node.stop().catch(() => undefined);
    await useLog.stop().catch(() => undefined);
    writer.destroy();
    await logDb.close().catch(() => undefined);
    await shelfDb.close().catch(() => undefined);
  };

  const sent = new Map<string, SignedRequest>();
  const handle = async (m: Cmd): Promise<unknown> => {
    switch (m.cmd) {
      case "info":
        return { peerId: node.peerId, multiaddrs: node.multiaddrs(), memberId: cfg.memberId, logSize: useLog.size, cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, refusedPeers: node.refusedPeers, batchSigned: node.client.batchStats ?? null, grantCalls: node.gate.calls, served: Object.fromEntries(node.server.counts), coalesced: { checkGrant: authorisations.coalesced ?? null, materialState: verifier.coalesced ?? null } };
      case "putMaterial":
        await shelf.put(m.args.bundle, Buffer.from(m.args.content, "base64"));
        return true;
      case "fetch":
        return slim(await node.fetch(m.args));
      case "crafted": {
        const { params, overrides, wrongKey, sendTwice } = m.args;
        const key = wrongKey ? Buffer.from(Wallet.createRandom().privateKey.slice(2), "hex") : undefined;
        const signed = node.client.sign(params, overrides ?? {}, key);
        sent.set(signed.request.nonce, signed);
        const first = slim(await node.client.send(params.custodian, signed, params));
        if (!sendTwice) return [first];
        return [first, slim(await node.client.send(params.custodian, signed, params))];
      }
      case "craftedBatch": {
        // `count` requests signed as ONE batch (version 1.1) with this node's key, sent together; `tamper`
        // spoils request 0 after signing: a proof hash changed, a signed field changed, a proof longer than
        // allowed, a proof that is not a list. Each request is kept for "resend".
        const { params, count, overrides, tamper } = m.args;
        const reqs = Array.from({ length: count }, () => node.client.prepare(params, overrides ?? {}));
        const { root, proofs } = batchTree(reqs.map((r) => r.digest));
        const signature = signDigest(batchDigest(node.client.domain, root), Buffer.from(cfg.signingKey.slice(2), "hex"));
        reqs.forEach((r, i) => {
          r.request.signature = signature;
          r.request.batchProof = proofs[i]!.map((h) => "0x" + h.toString("hex"));
          delete r.signAtSend;
          sent.set(r.request.nonce, r);
        });
        const r0 = reqs[0]!.request as unknown as Record<string, unknown>;
        if (tamper === "proof") r0.batchProof = [(r0.batchProof as string[])[0]!.replace(/.$/, (c) => (c === "0" ? "1" : "0")), ...(r0.batchProof as string[]).slice(1)];
        if (tamper === "field") r0.matter = "0x" + "11".repeat(32);
        if (tamper === "long-proof") r0.batchProof = Array.from({ length: 17 }, () => "0x" + "22".repeat(32));
        if (tamper === "not-a-list") r0.batchProof = "0x" + "22".repeat(32);
        return Promise.all(reqs.map(async (r) => slim(await node.client.send(params.custodian, r, params))));
      }
      case "resend": {
        // send an earlier crafted request again, unchanged (replay tests, e.g. across a custodian restart)
        const signed = sent.get(m.args.nonce);
        if (!signed) throw new Error(`no crafted request with nonce ${m.args.nonce}`);
        return slim(await node.client.send(m.args.custodian, signed));
      }
      case "bench": {
        const { params, count, concurrency, leaves, grants } = m.args;
        let next = 0;
        const cpu0 = process.cpuUsage();
        const codes: Record<string, number> = {};
        const samples: Record<string, string> = {};
        const t0 = performance.now();
        const lat: number[] = [];
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (next < count) {
              const i = next++;
              const s = performance.now();
              // fetch i asks for leaves[i % n] when several materials are given (distinct chain reads), under
              // grants[i % n] when each material has its own grant (distinct holders: distinct grant checks)
              const leaf = leaves?.length ? leaves[i % leaves.length]! : params.leaf;
              const grantId = grants?.length ? grants[i % grants.length]! : params.grantId;
              const r = await node.fetch({ ...params, leaf, grantId });
              lat.push(performance.now() - s);
              codes[r.code] = (codes[r.code] ?? 0) + 1;
              if (r.code !== "OK" && !samples[r.code]) samples[r.code] = r.message ?? "";
            }
          }),
        );
        const ms = performance.now() - t0;
        lat.sort((a, b) => a - b);
        const cpu = process.cpuUsage(cpu0);
        return { count, ms, perSec: (count / ms) * 1000, cpuMsPerFetch: (cpu.user + cpu.system) / 1000 / count, codes, samples, p50: lat[Math.floor(lat.length * 0.5)], p95: lat[Math.floor(lat.length * 0.95)], grantCalls: node.gate.calls };
      }
      case "anchor":
        return (await useLog.anchorNow()) ?? null;
      case "history": {
        const h = await useLog.history(m.args);
        return m.args.csv ? historyToCsv(h) : h;
      }
      case "refresh":
        await node.directory.refresh();
        return true;
      case "stop":
        await stop();
        setImmediate(() => process.exit(0));
        return true;
    }
  };

  process.on("message", (msg: { id: number } & Cmd) => {
    handle(msg).then(
      (result) => process.send?.({ id: msg.id, ok: true, result }),
      (e) => process.send?.({ id: msg.id, ok: false, error: String((e as Error)?.stack ?? e).slice(0, 2000) }),
    );
  });
  process.on("SIGTERM", () => void stop().then(() => process.exit(0)));
  process.stdout.write(`READY ${JSON.stringify({ peerId: node.peerId, multiaddrs: node.multiaddrs() })}\n`);
}

main().catch((e) => {
  process.stderr.write(`p2p node failed: ${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
