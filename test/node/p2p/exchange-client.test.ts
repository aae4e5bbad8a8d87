/**
 * ExchangeClient's routing before any stream (node/src/p2p/exchange.ts): a custodian missing from the member
 * directory is looked up again (one directory read) before the fetch is refused NO_ROUTE, so a custodian that
 * registered its peer since the last periodic read is reached. Collaborators are scripted: a directory that
 * learns the custodian on its next read (or never), a stream opener that records the addresses it is given.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { ExchangeClient, type ExchangeClientComponents } from "../../../node/src/p2p/exchange.js";
import type { MemberDirectory } from "../../../node/src/p2p/members.js";

const hex32 = () => "0x" + randomBytes(32).toString("hex");

function client(learnsOnRefresh: boolean) {
  const custodian = hex32();
  const known = new Map<string, { multiaddrs: string[] }>();
  let refreshes = 0;
  const dialled: string[][] = [];
  const directory = {
    member: (id: string) => known.get(id.toLowerCase()),
    refreshSoon: async () => {
      refreshes++;
      if (learnsOnRefresh) known.set(custodian, { multiaddrs: ["/ip4/127.0.0.1/tcp/4001"] });
    },
    refresh: async () => {},
  } as unknown as MemberDirectory;
  const components = {
    memberId: hex32(),
    privateKey: randomBytes(32),
    domain: randomBytes(32),
    directory,
    useLog: {} as ExchangeClientComponents["useLog"],
    openStream: async (addrs: string[]) => {
      dialled.push(addrs);
      throw new Error("connection refused (scripted)");
    },
    verify: async () => {
      throw new Error("not reached");
    },
  } as ExchangeClientComponents;
  const c = new ExchangeClient(components);
  const fetch = () => c.fetch({ custodian, leaf: hex32(), grantId: hex32(), matter: hex32(), timeoutMs: 5_000 });
  return { fetch, refreshes: () => refreshes, dialled };
}

describe("p2p ExchangeClient: routing to a custodian the directory does not know yet", () => {
  it("reads the directory again and dials the custodian it learnt (here the dial fails: TRANSPORT, not NO_ROUTE)", async () => {
    const t = client(true);
    const r = await t.fetch();
    expect(r.code, r.message).to.equal("TRANSPORT");
    expect(t.refreshes()).to.be.at.least(1);
    expect(t.dialled[0]).to.deep.equal(["/ip4/127.0.0.1/tcp/4001"]);
  });

  it("a custodian still unknown after that read is NO_ROUTE, naming it, and nothing is dialled", async () => {
    const t = client(false);
    const r = await t.fetch();
    expect(r.code).to.equal("NO_ROUTE");
    expect(r.message).to.match(/has no registered peer/);
    expect(t.refreshes()).to.equal(1);
    expect(t.dialled).to.deep.equal([]);
  });
});
