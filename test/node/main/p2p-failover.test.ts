/**
 * The p2p layer's chain reads fail over across every `chain.rpcUrls` URL as main.ts wires them
 * (p2p/failover-rpc.ts FailoverChainRpc under the AuthorisationsView, the ConsortiumView, the requester's
 * online verifier and the use-log writer's views), the same way as the ops sender and the catalogue: three
 * member node processes configured with `rpcUrls: [proxy, chain]`, libp2p between them, a `hardhat node`.
 * After the first URL goes down, B's department still fetches A's material under a grant (A checks the grant
 * on chain, B verifies the material against its anchored leaf), a revoked grant is still refused with its
 * code (a real chain read, not a cache), and the grant read over HTTP still answers. With the p2p views on the
 * first URL only, every fetch after the cut answers UNAVAILABLE.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { getGrant, revokeGrant, type NodeClient } from "@tongban/sdk";
import { devWallet, startChain, startProxy, type Chain, type Cuttable } from "../helpers/chain.js";
import { EXCHANGE_MATTER, EXCHANGE_SPEC, EXCHANGE_USCC, P2P_LOOPBACK, apiCall, prepareMemberKeys, registerAnchored, startMembers, type MemberKeys } from "../helpers/members.js";
import { stopNodeProcesses, type NodeProcess } from "../helpers/node-process.js";
import { deployConsortium } from "../../../node/src/consortium/index.js";

const USCC = EXCHANGE_USCC;
type Key = keyof typeof USCC;
const MATTER = EXCHANGE_MATTER;
const SPEC = EXCHANGE_SPEC;

describe("member node process: the p2p chain reads fail over to the second RPC URL", function () {
  this.timeout(300_000);
  let chain: Chain;
  let proxy: Cuttable;
  let node: Record<Key, NodeProcess> | undefined;
  let client: Record<Key, NodeClient>;
  let keys: Record<Key, MemberKeys>;
  const root = mkdtempSync(join(tmpdir(), "tongban-p2p-failover-"));
  const holder = { idType: "USCC", idNumber: "91310104MA1K000018" };
  const now = () => Math.floor(Date.now() / 1000);
  const api = (k: Key, method: string, path: string, body?: unknown) => apiCall(node![k].url, keys[k].token, method, path, body);
  const fetchAs = (k: Key, grantId: string, leaf: string) => api(k, "POST", "/v1/exchange/fetch", { custodian: USCC.A, grantId, materialId: leaf, matter: MATTER });
  const grantToB = async (n: number) => {
    const g = await api("C", "POST", "/v1/grants", { holder, grantee: USCC.B, matter: MATTER, typeCodes: ["BL"], notAfter: now() + 3600, maxUses: 10, evidenceHash: keccak256(toUtf8Bytes(`consent ${n}`)) });
    expect(g.status, g.text).to.equal(201);
    return g.body.grantId as string;
  };

  after(async () => {
    await stopNodeProcesses(Object.values(node ?? {})).catch(() => undefined);
    await proxy?.close();
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("after the first URL goes down: a fetch under a grant is still checked, served and verified; a revoked grant is still refused; the grant read answers", async () => {
    chain = await startChain();
    proxy = await startProxy(Number(new URL(chain.url).port));
    const prepared = await prepareMemberKeys(chain, root, ["A", "B", "C"] as Key[]);
    keys = prepared;
    const deployed = await deployConsortium(new Wallet(devWallet(0).privateKey, chain.provider), SPEC, { accounts: prepared.accounts });
    ({ node, client } = await startMembers({ chain, deployed, root, usccs: USCC, keys, extra: { ...P2P_LOOPBACK, rpcUrls: [proxy.url, chain.url] } }));
    const leaves = await registerAnchored(client.A, [0, 1, 2].map((i) => ({
      typeCode: "BL", jurisdiction: 310104, content: Buffer.from(`licence ${i}`).toString("base64"), holder, validFrom: now() - 60, issuedAt: now() - 60,
    })));
    const grantId = await grantToB(1);
    const revokedLater = await grantToB(2);
    const before = await fetchAs("B", grantId, leaves[0]!); // both URLs up: reads go to the first
    expect(before.status, before.text).to.equal(200);

    await proxy.cut();
    const after = await fetchAs("B", grantId, leaves[1]!);
    expect(after.status, after.text).to.equal(200);
    expect(Buffer.from(after.body.content, "base64").toString()).to.equal("licence 1");
    expect(after.body.verification.ok).to.equal(true);
    // the custodian reads the grant's current state on the second URL: a revocation made now is seen
    expect((await fetchAs("B", revokedLater, leaves[2]!)).status).to.equal(200);
    await revokeGrant(client.C, { grantId: revokedLater });
    const refused = await fetchAs("B", revokedLater, leaves[2]!);
    expect([refused.status, refused.body.code], refused.text).to.deep.equal([403, "GRANT_REVOKED"]);
    expect((await getGrant(client.B, { grantId })).status.name).to.equal("ACTIVE");
    const metrics = await (await fetch(`${node.A.url}/metrics`)).text();
    expect(metrics).to.match(/tongban_exchange_answered\{code="OK"\} [1-9]/);
  });
});
