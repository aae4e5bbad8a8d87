/**
 * End to end with real processes: a hardhat node child, the ledger deployed, and the member node started as
 * a SEPARATE PROCESS with `tongban node start --config <file>`, spoken to over HTTP with the SDK's node
 * client: register -> anchored -> bundle -> SDK verify all VALID; revoke -> STATUS INVALID; supersede -> the
 * successor is recorded on chain and by the indexer; queries, history, SSE, readyz, metrics; SIGTERM stops it.
 * Then the bad-input cases that need the real core (entitlement, ID checks, catalogue) in-process.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import http from "node:http";
import {
  createNodeClient,
  registerMaterials,
  getMaterial,
  getBundle,
  getHistory,
  revokeMaterial,
  supersedeMaterial,
  queryMaterials,
  queryMaterialsByHolder,
  NodeInvalidIdError,
  getOp,
  getReadiness,
  waitForAnchored,
  verify,
  computeHolderRef,
  loadBundle,
  NodeNotAnchoredError,
  type NodeClient,
  type NodeMaterialInput,
} from "../../../sdk/src/index.js";
import { startCoreFixture, waitFor, TYPE, OTHER_TYPE, JUR, MEMBER_USCC, type CoreFixture } from "../helpers/core.js";
import { freePort } from "../helpers/chain.js";
import { hashToken } from "../../../node/src/api/auth.js";
import { buildApi } from "../../../node/src/api/server.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const TOKEN = "e2e-token";
const enc = new TextEncoder();
const HOLDER = { idType: "RESIDENT_ID", idNumber: "31010419900307123X" };
const material = (text: string, o: Partial<NodeMaterialInput> = {}): NodeMaterialInput => ({
  typeCode: TYPE,
  jurisdiction: JUR,
  content: enc.encode(text),
  holder: HOLDER,
  issuedAt: 1_767_225_600,
  validFrom: 1_767_225_600,
  ...o,
});

function sse(url: string, token: string): { events: { event: string; data: any }[]; close(): void } {
  const events: { event: string; data: any }[] = [];
  const req = http.get(`${url}/v1/events`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
    let buf = "";
    res.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    });
  });
  req.on("error", () => {});
  return { events, close: () => req.destroy() };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, ["--import", "tsx", join(ROOT, "node/src/cli/main.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout!.on("data", (d) => (stdout += d));
    c.stderr!.on("data", (d) => (stderr += d));
    c.on("close", (code) => res({ code, stdout, stderr }));
  });
}

describe("node e2e: separate node process over HTTP (hardhat node)", function () {
  // generous: the CLI part spawns ~10 tsx processes, which take long on a loaded shared machine
  this.timeout(480_000);
  let fx: CoreFixture;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let url: string;
  let client: NodeClient;
  let out = "";

  before(async () => {
    fx = await startCoreFixture();
    const port = await freePort();
    const cfg = {
      ...fx.config({ confirmations: 0, api: { host: "127.0.0.1", port, tokens: [hashToken(TOKEN)] } }),
      indexer: { startBlock: 0, pollMs: 100, maxLagBlocks: 2 },
    };
    const file = join(fx.dir, "node.json");
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "node/src/cli/main.ts"), "node", "start", "--config", file], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    exited = new Promise((r) => child.on("exit", (code) => r(code)));
    await waitFor(async () => out.includes('"event":"listening"'), 60_000, `node to listen; output:\n${out}`);
    url = JSON.parse(out.split("\n").find((l) => l.includes('"event":"listening"'))!).url;
    client = createNodeClient({ url, token: TOKEN });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    await fx?.close();
  });

  it("register -> anchored -> bundle -> SDK verify VALID; indexer history and queries", async () => {
    const events = sse(url, TOKEN);
    const [ack] = await registerMaterials(client, { materials: [material("licence A")] });
    const early = await getBundle(client, { id: ack.id }).catch((e) => e);
    if (early instanceof Error) expect(early).to.be.instanceOf(NodeNotAnchoredError);
    const m = await waitForAnchored(client, { id: ack.id, timeoutMs: 30_000 });
    expect(m.anchor, JSON.stringify(m)).to.be.an("object");
    expect(m.anchor!.root).to.match(/^0x[0-9a-f]{64}$/);
    const bundle = loadBundle(await getBundle(client, { id: ack.id }));
    const res = await verify({ content: enc.encode("licence A") }, bundle, { provider: fx.chain.url, ledger: fx.ledgerAddress });
    expect(res.ok, JSON.stringify(res.checks)).to.equal(true);
    for (const c of res.checks) expect(["VALID", "SKIPPED"], `${c.check} ${c.reason}`).to.include(c.status);
    expect(res.checks.filter((c) => c.status === "VALID").map((c) => c.check)).to.include.members(["INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW"]);
    const tampered = await verify({ content: enc.encode("licence B") }, bundle, { provider: fx.chain.url });
    expect(tampered.ok).to.equal(false);

    // the indexer learns the header and the anchor
    const st = await waitFor(async () => {
      const s = await getMaterial(client, { id: ack.id });
      return s.chain?.anchored ? s : undefined;
    }, 20_000, "indexer to see the anchor");
    expect(st.chain!.root).to.equal(m.anchor!.root);
    expect((await getHistory(client, { id: ack.id })).map((e) => e.event)).to.deep.equal(["Anchored"]);
    const holderRef = computeHolderRef(HOLDER, fx.keys.holderKey);
    const q = await queryMaterials(client, { holderRef, type: TYPE, issuer: MEMBER_USCC });
    expect(q.items.map((i) => i.id)).to.include(ack.id);
    expect((await queryMaterials(client, { holderRef, to: 1_000 })).items).to.deep.equal([]);
    const byId = await queryMaterialsByHolder(client, { holder: HOLDER, type: TYPE });
    expect(byId.items.map((i) => i.id)).to.include(ack.id);
    expect(byId.items.every((i) => i.header.holderRef === holderRef)).to.equal(true);
    const badId = await queryMaterialsByHolder(client, { holder: { idType: "RESIDENT_ID", idNumber: "110105194912310021" } }).catch((e) => e);
    expect(badId).to.be.instanceOf(NodeInvalidIdError);
    await waitFor(async () => events.events.some((e) => e.event === "material" && e.data.leaf === ack.id && e.data.state === "anchored"), 10_000, "SSE anchored event");
    expect(events.events.some((e) => e.event === "chain" && e.data.event === "Anchored")).to.equal(true);
    events.close();
  });

  it("revoke -> verify STATUS INVALID (REVOKED); the indexer shows it", async () => {
    const [ack] = await registerMaterials(client, { materials: [material("licence R")] });
    await waitForAnchored(client, { id: ack.id, timeoutMs: 30_000 });
    const op = await revokeMaterial(client, { id: ack.id, reason: 4 });
    await waitFor(async () => (await getOp(client, { opId: op.opId })).state === "done", 30_000, "revoke op");
    const res = await verify({ content: enc.encode("licence R") }, loadBundle(await getBundle(client, { id: ack.id })), { provider: fx.chain.url });
    const status = res.checks.find((c) => c.check === "STATUS")!;
    expect(res.ok).to.equal(false);
    expect(status.status).to.equal("INVALID");
    expect(status.reason).to.equal("REVOKED");
    const st = await waitFor(async () => {
      const s = await getMaterial(client, { id: ack.id });
      return s.chain?.status === "revoked" ? s : undefined;
    }, 20_000, "indexer to see the revocation");
    expect(st.chain!.reason).to.equal(4);
    expect((await getHistory(client, { id: ack.id })).map((e) => e.event)).to.deep.equal(["Anchored", "MaterialRevoked"]);
  });

  it("supersede -> the old material points to its successor (node, chain index, verify)", async () => {
    const [ack] = await registerMaterials(client, { materials: [material("licence v1")] });
    await waitForAnchored(client, { id: ack.id, timeoutMs: 30_000 });
    const { ack: next, op } = await supersedeMaterial(client, { id: ack.id, material: material("licence v2", { issuedAt: 1_767_312_000 }) });
    expect(op.newLeaf).to.equal(next.id);
    const v2 = await waitForAnchored(client, { id: next.id, timeoutMs: 30_000 });
    expect(v2.header!.supersedes).to.equal(ack.id);
    expect(v2.header!.version).to.equal(2);
    await waitFor(async () => (await getOp(client, { opId: op.opId })).state === "done", 30_000, "supersede op");
    const old = await waitFor(async () => {
      const s = await getMaterial(client, { id: ack.id });
      return s.chain?.supersededBy ? s : undefined;
    }, 20_000, "indexer to see the supersession");
    expect(old.chain!.supersededBy).to.equal(next.id);
    expect(old.supersededBy).to.equal(next.id);
    const res = await verify({ content: enc.encode("licence v1") }, loadBundle(await getBundle(client, { id: ack.id })), { provider: fx.chain.url });
    const status = res.checks.find((c) => c.check === "STATUS")!;
    expect(status.reason).to.equal("SUPERSEDED");
    expect(status.details.successor).to.equal(next.id);
    const ok2 = await verify({ content: enc.encode("licence v2") }, loadBundle(await getBundle(client, { id: next.id })), { provider: fx.chain.url });
    expect(ok2.ok, JSON.stringify(ok2.checks)).to.equal(true);
  });

  it("readyz (chain reachable, indexer caught up) and metrics from core, API and indexer", async () => {
    const r = await waitFor(async () => {
      const x = await getReadiness(client);
      return x.ready ? x : undefined;
    }, 20_000, "ready");
    expect(r.chain.ok).to.equal(true);
    expect(r.indexer!.caughtUp).to.equal(true);
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of ["tongban_indexer_lag_blocks", "tongban_http_request_duration_seconds_bucket", "tongban_queue_depth", "tongban_indexer_block"]) {
      expect(text, name).to.include(name);
    }
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(doc.openapi).to.equal("3.1.0");
  });

  it("bulk: 2,000 materials in one request, all anchored and found by holder (paged)", async () => {
    const holder = { idType: "USCC", idNumber: "91310104MA1K000018" };
    const materials = Array.from({ length: 2000 }, (_, i) =>
      material("", { content: undefined, contentHash: "0x" + (i + 1).toString(16).padStart(64, "0"), holder, issuedAt: 1_767_225_600 + i }),
    );
    const acks = await registerMaterials(client, { materials });
    expect(acks).to.have.length(2000);
    expect(new Set(acks.map((a) => a.id)).size).to.equal(2000);
    await waitForAnchored(client, { id: acks[1999].id, timeoutMs: 60_000 });
    await waitForAnchored(client, { id: acks[0].id, timeoutMs: 60_000 });
    const holderRef = computeHolderRef(holder, fx.keys.holderKey);
    const found = await waitFor(async () => {
      const ids: string[] = [];
      let after: string | undefined;
      do {
        const page = await queryMaterials(client, { holderRef, limit: 1000, after });
        ids.push(...page.items.map((i) => i.id));
        after = page.next;
      } while (after);
      return ids.length === 2000 ? ids : undefined;
    }, 30_000, "2,000 materials indexed by holder");
    expect(new Set(found)).to.deep.equal(new Set(acks.map((a) => a.id)));
  });

  it("CLI against the node: register --wait, bundle, verify (exit 0), revoke, verify (exit 1 REVOKED), supersede", async () => {
    const tokenFile = join(fx.dir, "token");
    writeFileSync(tokenFile, TOKEN + "\n");
    const doc = join(fx.dir, "permit.txt");
    writeFileSync(doc, "permit #7");
    const conn = ["--url", url, "--token-file", tokenFile];
    const reg = await cli(["register", ...conn, "--type", TYPE, "--jurisdiction", String(JUR), "--file", doc, "--holder-id", HOLDER.idNumber, "--valid-from", "2026-01-01", "--issued-at", "2026-01-01", "--wait"]);
    expect(reg.code, reg.stderr).to.equal(0);
    const m = JSON.parse(reg.stdout);
    expect(m.state).to.equal("anchored");
    const bundleFile = join(fx.dir, "permit.bundle.json");
    expect((await cli(["bundle", m.id, ...conn, "--out", bundleFile])).code).to.equal(0);
    const ok = await cli(["verify", doc, "--bundle", bundleFile, "--rpc", fx.chain.url, "--ledger", fx.ledgerAddress]);
    expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^VERIFIED/);
    const wrong = await cli(["verify", tokenFile, "--bundle", bundleFile, "--rpc", fx.chain.url]);
    expect(wrong.code).to.equal(1);
    expect(wrong.stdout).to.match(/CONTENT_HASH_MISMATCH/);

    const rev = await cli(["revoke", m.id, ...conn, "--reason", "2"]);
    expect(rev.code, rev.stderr).to.equal(0);
    const op = JSON.parse(rev.stdout);
    await waitFor(async () => (await getOp(client, { opId: op.opId })).state === "done", 30_000, "revoke op");
    const bad = await cli(["verify", doc, "--bundle", bundleFile, "--rpc", fx.chain.url, "--json"]);
    expect(bad.code).to.equal(1);
    const status = JSON.parse(bad.stdout).checks.find((c: { check: string }) => c.check === "STATUS");
    expect(status).to.include({ status: "INVALID", reason: "REVOKED" });
    const usage = await cli(["verify", doc, "--bundle", join(fx.dir, "missing.json"), "--offline"]);
    expect(usage.code).to.equal(2);
    const again = await cli(["revoke", m.id, ...conn]);
    expect(again.code).to.equal(1);
    expect(JSON.parse(again.stderr.trim()).code).to.equal("CONFLICT");

    const [a] = await registerMaterials(client, { materials: [material("permit #8")] });
    await waitForAnchored(client, { id: a.id, timeoutMs: 30_000 });
    writeFileSync(doc, "permit #8, amended");
    const sup = await cli(["supersede", a.id, ...conn, "--file", doc, "--holder-id", HOLDER.idNumber, "--valid-from", "2026-01-01", "--issued-at", "2026-02-01", "--wait"]);
    expect(sup.code, sup.stderr).to.equal(0);
    const s = JSON.parse(sup.stdout);
    expect(s.material.header.supersedes).to.equal(a.id);
    expect(s.op.newLeaf).to.equal(s.ack.id);
    const st = await cli(["status", a.id, ...conn]);
    expect(JSON.parse(st.stdout).id).to.equal(a.id);
  });

  it("SIGTERM stops the node cleanly (exit 0)", async () => {
    process.kill(child.pid!, "SIGTERM");
    expect(await exited).to.equal(0);
    expect(out).to.include('"event":"stopped"');
  });

  it("bad input that needs the real core: 403 NOT_ENTITLED, 400 INVALID_ID, 422 UNKNOWN_TYPE; nothing persisted", async () => {
    const core = await fx.newCore({ confirmations: 0 });
    const app = await buildApi({ service: core.service, tokens: [hashToken(TOKEN)] });
    const body = (o: Record<string, unknown>) => ({ typeCode: TYPE, jurisdiction: JUR, contentHash: "0x" + "cd".repeat(32), holder: HOLDER, validFrom: 1_767_225_600, ...o });
    const post = async (url2: string, payload: unknown) => app.inject({ method: "POST", url: url2, payload: payload as object, headers: { authorization: `Bearer ${TOKEN}` } });
    const before = core.service.stats().pending;
    const cases: [unknown, number, string][] = [
      [body({ typeCode: OTHER_TYPE }), 403, "NOT_ENTITLED"],
      [body({ jurisdiction: 330100 }), 403, "NOT_ENTITLED"],
      [body({ holder: { idType: "RESIDENT_ID", idNumber: "110105194912310021" } }), 400, "INVALID_ID"],
      [body({ typeCode: "NOT_IN_CATALOGUE" }), 422, "UNKNOWN_TYPE"],
    ];
    for (const [payload, status, code] of cases) {
      const r = await post("/v1/materials", payload);
      expect(r.statusCode, r.body).to.equal(status);
      expect(r.json().code).to.equal(code);
      expect(r.json().details).to.be.an("object");
    }
    const bulk = await post("/v1/materials/bulk", { materials: [body({}), body({ contentHash: "0x" + "ce".repeat(32) }), body({ typeCode: OTHER_TYPE })] });
    expect(bulk.statusCode).to.equal(403);
    expect(bulk.json().details.index).to.equal(2);
    expect(core.service.stats().pending).to.equal(before);
    const id = "0x" + "ab".repeat(32);
    const nf = await app.inject({ method: "GET", url: `/v1/materials/${id}`, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(nf.statusCode).to.equal(404);
    for (const [method, url2, payload] of [["POST", `/v1/materials/${id}/revoke`, { reason: 1 }], ["POST", `/v1/materials/${id}/supersede`, body({})], ["GET", "/v1/ops/nope", undefined]] as const) {
      const r = await app.inject({ method, url: url2, payload, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.statusCode, `${url2}: ${r.body}`).to.equal(404);
    }

    // every field x a wrong value against the real core: never a 5xx; only accepted requests add materials
    const total = () => {
      const st = core.service.stats();
      return st.pending + st.anchoring + st.anchored + st.failed;
    };
    const start = total();
    const wrong: unknown[] = [null, true, -1, 1.5, 0, 2 ** 40, "", "x".repeat(300), [], {}, "0x", "0x" + "00".repeat(32), "é", 253402300799];
    const fields = ["typeCode", "jurisdiction", "contentHash", "holder", "validFrom", "content", "hashAlg", "holderRef", "issuedAt", "validUntil", "version", "supersedes"];
    const accepted = new Set<string>();
    for (const f of fields) {
      for (const w of wrong) {
        const b: Record<string, unknown> = { ...body({}), [f]: w };
        if (f === "holderRef") delete b.holder;
        if (f === "content") delete b.contentHash;
        const r = await post("/v1/materials", b);
        expect(r.statusCode, `${f}=${JSON.stringify(w)}: ${r.body}`).to.be.below(500);
        if (r.statusCode === 202) {
          if (!r.json().duplicate) accepted.add(r.json().id);
        } else expect(r.json()).to.have.keys("code", "message", "details");
      }
    }
    await waitFor(async () => core.service.stats().pending + core.service.stats().anchoring === 0, 30_000, "anchoring to settle");
    expect(total() - start).to.equal(accepted.size);
    await app.close();
  });
});
