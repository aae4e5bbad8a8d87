import { expect } from "chai";
import { encodeBytes32String, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { startChain, deployLedger, bootstrap, devWallet, type Chain, type TongbanLedger } from "../helpers/chain.js";

describe("chain harness (hardhat node child process)", function () {
  let chain: Chain;
  let ledger: TongbanLedger;
  const issuer = devWallet(2);
  before(async function () {
    chain = await startChain();
    ({ ledger } = await deployLedger(chain));
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [310104, 310000]],
      types: ["BIZ_LICENCE"],
      members: [{ uscc: "11310115002418321F", jurisdiction: 310104, accounts: [issuer.address], entitlements: [["BIZ_LICENCE", 310104]] }],
    });
  });
  after(async () => chain?.stop());

  it("deploys, bootstraps an entitled member, and that member anchors a root", async () => {
    const id = encodeBytes32String("11310115002418321F");
    const type = encodeBytes32String("BIZ_LICENCE");
    expect(await ledger.isEntitled(id, type, 310104)).to.equal(true);
    expect(await ledger.isEntitled(id, type, 310000)).to.equal(false);
    const root = keccak256(toUtf8Bytes("harness"));
    const asIssuer = ledger.connect(new Wallet(issuer.privateKey, chain.provider));
    await (await asIssuer.anchor(root, type, 310104, 1)).wait();
    const s = await ledger.materialState(root, root, 1);
    expect(s.anchored).to.equal(true);
    expect(s.issuer).to.equal(id);
  });
});
