/**
 * The SDK's node-API client against a live node API (HTTP on 127.0.0.1, in-memory service): every route the
 * client calls exists in the live /openapi.json with the same method; answers and errors are typed.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  createNodeClient,
  registerMaterials,
  getMaterial,
  getBundle,
  getContent,
  revokeMaterial,
  suspendMaterial,
  reinstateMaterial,
  supersedeMaterial,
  getOp,
  queryMaterials,
  getReadiness,
  waitForAnchored,
  NODE_CLIENT_ROUTES,
  NodeApiError,
  NodeValidationError,
  NodeUnauthorizedError,
  NodeNotAnchoredError,
  NodeNotEntitledError,
  NodeUnknownTypeError,
  NodeConflictError,
  NodeNotFoundError,
  NodeUnavailableError,
  NodeTransportError,
  type NodeMaterialInput,
} from "../../../sdk/src/index.js";
import { buildApi } from "../../../node/src/api/server.js";
import { hashToken } from "../../../node/src/api/auth.js";
import { MemoryService } from "../../node/api/memory-service.js";

const TOKEN = "client-test-token";
const input = (o: Partial<NodeMaterialInput> = {}): NodeMaterialInput => ({
  typeCode: "BIZ_LICENCE",
  jurisdiction: 310104,
  content: new TextEncoder().encode("licence text"),
  holder: { idType: "RESIDENT_ID", idNumber: "31010419900307123X" },
  validFrom: 1_700_000_000,
  ...o,
});

describe("sdk/node-client (live HTTP)", () => {
  let app: FastifyInstance;
  let svc: MemoryService;
  let url: string;
  before(async () => {
    svc = new MemoryService();
    app = await buildApi({ service: svc, tokens: [hashToken(TOKEN)] });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => app.close());

  it("every route the client uses is in the live /openapi.json with the same method", async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(NODE_CLIENT_ROUTES.length).to.be.greaterThan(10);
    for (const [method, path] of NODE_CLIENT_ROUTES) {
      expect(doc.paths[path], `${path} not in the API document`).to.be.an("object");
      expect(doc.paths[path][method], `${method.toUpperCase()} ${path} not in the API document`).to.be.an("object");
    }
  });

  it("registers, reads, fetches bundle and content, changes status, supersedes, queries", async () => {
    const client = createNodeClient({ url, token: TOKEN });
    const [one] = await registerMaterials(client, { materials: [input()] });
    expect(one.id).to.match(/^0x[0-9a-f]{64}$/);
    const many = await registerMaterials(client, { materials: [input({ issuedAt: 1 }), input({ issuedAt: 2 })], idempotencyKey: "k" });
    expect(many).to.have.length(2);
    expect((await getMaterial(client, { id: one.id })).state).to.equal("pending");
    const err = await getBundle(client, { id: one.id }).catch((e) => e);
    expect(err).to.be.instanceOf(NodeNotAnchoredError).and.instanceOf(NodeApiError);
    expect(err.code).to.equal("NOT_ANCHORED");
    expect(err.status).to.equal(409);
    expect(err.details.details.id).to.equal(one.id);
    svc.anchorAll();
    expect((await waitForAnchored(client, { id: one.id, timeoutMs: 2000 })).state).to.equal("anchored");
    expect((await getBundle<{ leaf: string }>(client, { id: one.id })).leaf).to.equal(one.id);
    expect(new TextDecoder().decode(await getContent(client, { id: one.id }))).to.equal("licence text");
    expect((await suspendMaterial(client, { id: one.id, reason: 2 })).kind).to.equal("suspend");
    expect((await reinstateMaterial(client, { id: one.id })).kind).to.equal("reinstate");
    const op = await revokeMaterial(client, { id: one.id, reason: 5 });
    expect((await getOp(client, { opId: op.opId })).reason).to.equal(5);
    expect(await revokeMaterial(client, { id: one.id }).catch((e) => e)).to.be.instanceOf(NodeConflictError);
    const sup = await supersedeMaterial(client, { id: many[0].id, material: input({ issuedAt: 3 }) });
    expect(sup.op.newLeaf).to.equal(sup.ack.id);
    expect(await queryMaterials(client, { holderRef: "0x" + "00".repeat(32) }).catch((e) => e)).to.be.instanceOf(NodeUnavailableError);
    expect((await getReadiness(client)).ready).to.equal(true);
  });

  it("maps API error codes to typed errors and transport failures to NodeTransportError", async () => {
    const client = createNodeClient({ url, token: TOKEN });
    const bad = await registerMaterials(client, { materials: [input({ jurisdiction: 1 })] }).catch((e) => e);
    expect(bad).to.be.instanceOf(NodeValidationError);
    expect(bad.details.details.path).to.equal("body/jurisdiction");
    expect(await registerMaterials(client, { materials: [input({ typeCode: "FORBIDDEN_TYPE" })] }).catch((e) => e)).to.be.instanceOf(NodeNotEntitledError);
    expect(await registerMaterials(client, { materials: [input(), input({ typeCode: "NOPE" })] }).catch((e) => e)).to.be.instanceOf(NodeUnknownTypeError);
    expect(await getMaterial(client, { id: "0x" + "12".repeat(32) }).catch((e) => e)).to.be.instanceOf(NodeNotFoundError);
    const anon = createNodeClient({ url });
    const un = await getMaterial(anon, { id: "0x" + "12".repeat(32) }).catch((e) => e);
    expect(un).to.be.instanceOf(NodeUnauthorizedError);
    expect(un.name).to.equal("NodeUnauthorizedError");
    const down = createNodeClient({ url: "http://127.0.0.1:1", token: TOKEN, timeoutMs: 2000 });
    const t = await getMaterial(down, { id: "0x" + "12".repeat(32) }).catch((e) => e);
    expect(t).to.be.instanceOf(NodeTransportError);
    expect(t.details.path).to.equal(`/v1/materials/0x${"12".repeat(32)}`);
  });
});
