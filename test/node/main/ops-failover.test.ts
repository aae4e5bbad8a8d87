/**
 * The ops sender's RPC failover as the member node process wires it (node/src/main.ts -> core/ops-signer.ts
 * createOpsSender): an identity-provider node configured with `rpcUrls: [proxy, chain]` keeps recording and
 * revoking grants (ops account) after the first URL goes down, and its anchorer keeps anchoring (its own
 * failover). Real hardhat node process, the node as its own process.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { createNodeClient, getGrant, registerMaterials, revokeGrant, waitForAnchored } from "@tongban/sdk";
import { devWallet, freePort, startChain, startProxy, type Chain, type Cuttable } from "../helpers/chain.js";
import { apiCall, memberConfig, prepareMemberKeys, startMemberProcess } from "../helpers/members.js";
import type { NodeProcess } from "../helpers/node-process.js";
import { deployConsortium, type ConsortiumSpec } from "../../../node/src/consortium/index.js";

const USCC = { B: "11310115002418321F", C: "11310000002418210Q" } as const;
const SPEC: ConsortiumSpec = {
  jurisdictions: [{ code: 310000, parent: 0 }, { code: 310115, parent: 310000 }],
  materialTypes: [{ code: "BL" }],
  members: [
    { key: "b", uscc: USCC.B, jurisdiction: 310115, roles: ["GOVERNOR"] },
    { key: "c", uscc: USCC.C, jurisdiction: 310000, roles: ["GOVERNOR", "IDENTITY_PROVIDER"], entitlements: [{ type: "BL", jurisdiction: 310000 }] },
  ],
  governance: { threshold: 1 },
};

describe("member node process: the ops sender fails over to the second RPC URL", function () {
  this.timeout(300_000);
  let chain: Chain;
  let proxy: Cuttable;
  let node: NodeProcess | undefined;
  const root = mkdtempSync(join(tmpdir(), "tongban-ops-failover-"));
  after(async () => {
    await node?.stop().catch(() => undefined);
    await proxy?.close();
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("grants are recorded and revoked through the ops account after the first URL went down; materials still anchor", async () => {
    chain = await startChain();
    proxy = await startProxy(Number(new URL(chain.url).port));
    const keys = await prepareMemberKeys(chain, root, ["B", "C"] as const);
    const deployed = await deployConsortium(new Wallet(devWallet(0).privateKey, chain.provider), SPEC, { accounts: keys.accounts });
    const cfg = memberConfig({ chain, deployed, memberId: USCC.C, key: keys.C, port: await freePort(), extra: { rpcUrls: [proxy.url, chain.url] } });
    node = await startMemberProcess(root, "C", cfg);
    const client = createNodeClient({ url: node.url, token: keys.C.token });
    const now = Math.floor(Date.now() / 1000);
    const grant = async (n: number) => {
      const r = await apiCall(node!.url, keys.C.token, "POST", "/v1/grants", {
        holderRef: keccak256(toUtf8Bytes(`holder ${n}`)), grantee: USCC.B, matter: "M1", typeCodes: ["BL"], notAfter: now + 3600, maxUses: 2, evidenceHash: keccak256(toUtf8Bytes(`consent ${n}`)),
      });
      expect(r.status, r.text).to.equal(201);
      return r.body.grantId as string;
    };
    const before = await grant(1); // over the first URL
    await proxy.cut();
    const after = await grant(2); // the first URL is down: the ops sender moved to the second
    expect((await getGrant(client, { grantId: after })).status.name).to.equal("ACTIVE");
    const rv = await revokeGrant(client, { grantId: before });
    expect(rv).to.include({ status: "REVOKED", alreadyRevoked: false });
    const [ack] = await registerMaterials(client, { materials: [{ typeCode: "BL", jurisdiction: 310000, contentHash: keccak256(toUtf8Bytes("doc")), holderRef: keccak256(toUtf8Bytes("holder 1")), validFrom: now - 60 }] });
    expect((await waitForAnchored(client, { id: ack!.id, timeoutMs: 60_000 })).state).to.equal("anchored");
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics, "RPC errors counted for the cut URL").to.match(new RegExp(`tongban_rpc_errors_total\\{url="${proxy.url.replace(/[.]/g, "\\.")}"\\} [1-9]`));
  });
});
