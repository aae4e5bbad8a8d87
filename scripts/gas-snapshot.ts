// Gas snapshot of the ledger, the Authorisations contract and the DataCatalogue (Uniswap-style, committed so a
// diff shows every regression; sections `authorisations` (scripts/gas-authorisations.ts) and `catalogue`
// (scripts/gas-catalogue.ts) run at pinned block times, so they are reproducible):
//   npm run gas            -> writes snapshots/gas.json
//   GAS_CHECK=1 npm run gas -> exits 1 if the measured values differ from snapshots/gas.json
// Measured on the in-process Hardhat network (london), each figure is the transaction's gasUsed
// (21,000 intrinsic included). Governance actions are measured as the `execute` of a 2-of-3 proposal.
import { writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ethers, artifacts } from "hardhat";
import type { ContractTransactionReceipt } from "ethers";
import { J, M, Role, T, bytes32, deployClosed, leaves, memberId, merkle, uscc } from "../test/contracts/helpers/consortium";
import { measureAuthorisations } from "./gas-authorisations";
import { measureCatalogue } from "./gas-catalogue";

type Tx = Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>;
const gas = async (p: Tx): Promise<number> => Number((await (await p).wait())!.gasUsed);

async function main(): Promise<void> {
  const out: Record<string, number | Record<string, number>> = {};
  const sizes: Record<string, number> = {};
  for (const name of ["TongbanLedger", "LeafHarness"]) {
    sizes[name] = ((await artifacts.readArtifact(name)).deployedBytecode.length - 2) / 2;
  }
  out.bytecodeSize = sizes;

  const deployTx = (await ethers.deployContract("TongbanLedger")).deploymentTransaction()!;
  out.deploy = Number((await deployTx.wait())!.gasUsed);

  const c = await deployClosed();
  const L = c.ledger;
  const one = leaves(1, "snap-1");
  const many = leaves(1000, "snap-1000");
  const tree = merkle(many);
  const g: Record<string, number> = {};

  g["anchor (batch of 1)"] = await gas(L.connect(c.issuer).anchor(one[0], T.LICENCE, J.PUDONG, 1));
  g["anchor (batch of 1,000)"] = await gas(L.connect(c.issuer).anchor(tree.root, T.LICENCE, J.PUDONG, 1000));
  g["revokeMaterial (issuer, batch of 1)"] = await gas(L.connect(c.issuer).revokeMaterial(one[0], 1));
  g["revokeMaterial (issuer, batch of 1,000)"] = await gas(L.connect(c.issuer).revokeMaterial(many[0], 1));
  g["suspendMaterial (issuer)"] = await gas(L.connect(c.issuer).suspendMaterial(many[1], 1));
  g["reinstateMaterial (issuer)"] = await gas(L.connect(c.issuer).reinstateMaterial(many[1]));

  const one2 = leaves(1, "snap-auth-1");
  await (await L.connect(c.issuer).anchor(one2[0], T.LICENCE, J.PUDONG, 1)).wait();
  g["revokeMaterialAsAuthority (batch of 1)"] =
    await gas(L.connect(c.authCity).revokeMaterialAsAuthority(one2[0], one2[0], [], 1));
  g["revokeMaterialAsAuthority (batch of 1,000)"] =
    await gas(L.connect(c.authCity).revokeMaterialAsAuthority(tree.root, many[2], tree.proof(2), 1));
  g["suspendMaterialAsAuthority (batch of 1,000)"] =
    await gas(L.connect(c.authCity).suspendMaterialAsAuthority(tree.root, many[3], tree.proof(3), 1));
  g["reinstateMaterialAsAuthority (batch of 1,000)"] =
    await gas(L.connect(c.authCity).reinstateMaterialAsAuthority(tree.root, many[3], tree.proof(3)));

  const v2 = leaves(1000, "snap-v2");
  const t2 = merkle(v2);
  await (await L.connect(c.issuer).anchor(t2.root, T.LICENCE, J.PUDONG, 1000)).wait();
  const s1 = leaves(1, "snap-v2-single")[0];
  await (await L.connect(c.issuer).anchor(s1, T.LICENCE, J.PUDONG, 1)).wait();
  g["supersedeMaterial (new leaf in a batch of 1)"] = await gas(L.connect(c.issuer).supersedeMaterial(many[4], s1, s1, []));
  g["supersedeMaterial (new leaf in a batch of 1,000)"] =
    await gas(L.connect(c.issuer).supersedeMaterial(many[5], t2.root, v2[5], t2.proof(5)));
  g["setPeers (self, 1 peer id + 2 multiaddrs)"] = await gas(
    L.connect(c.issuer).setPeers(M.issuer, ["12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"],
      ["/ip4/10.0.0.1/tcp/4001", "/dns4/node.pudong.gov.cn/tcp/4001"]),
  );
  out.registry = g;

  // Governance: propose (the proposer's vote included), approve, then execute of each governed action.
  const i = L.interface;
  const gv: Record<string, number> = {};
  const newId = memberId(uscc("11310105MB2F00042"));
  const [acc1, acc2] = c.spare;
  const actions: [string, string][] = [
    ["registerJurisdiction", i.encodeFunctionData("registerJurisdiction", [310105, J.SH])],
    ["registerMaterialType", i.encodeFunctionData("registerMaterialType", [bytes32("MARRIAGE_CERT")])],
    ["admitMember (1 account)", i.encodeFunctionData("admitMember", [newId, 310105, [acc1.address]])],
    ["addAccount", i.encodeFunctionData("addAccount", [newId, acc2.address])],
    ["removeAccount", i.encodeFunctionData("removeAccount", [newId, acc1.address])],
    ["grantRole", i.encodeFunctionData("grantRole", [newId, Role.Auditor])],
    ["revokeRole", i.encodeFunctionData("revokeRole", [newId, Role.Auditor])],
    ["grantRevocationAuthority", i.encodeFunctionData("grantRevocationAuthority", [newId, 310105])],
    ["revokeRevocationAuthority", i.encodeFunctionData("revokeRevocationAuthority", [newId, 310105])],
    ["grantEntitlement", i.encodeFunctionData("grantEntitlement", [newId, T.LICENCE, 310105])],
    ["revokeEntitlement", i.encodeFunctionData("revokeEntitlement", [newId, T.LICENCE, 310105])],
    ["suspendMember", i.encodeFunctionData("suspendMember", [newId])],
    ["reinstateMember", i.encodeFunctionData("reinstateMember", [newId])],
    ["setPeers (governed)", i.encodeFunctionData("setPeers", [newId, ["p"], ["/ip4/10.0.0.2/tcp/4001"]])],
    ["setProposalLifetime", i.encodeFunctionData("setProposalLifetime", [86400])],
    ["addHashAlg", i.encodeFunctionData("addHashAlg", [3])],
    ["retireHashAlg", i.encodeFunctionData("retireHashAlg", [3])],
    ["setThreshold", i.encodeFunctionData("setThreshold", [3])], // last: later proposals would need 3 votes
  ];
  for (const [name, action] of actions) {
    const receipt: ContractTransactionReceipt = await (await L.connect(c.gov[0]).propose(action)).wait();
    const id = L.interface.parseLog(receipt.logs[0])!.args.proposalId as bigint;
    gv[`propose ${name}`] = Number(receipt.gasUsed);
    gv[`approve ${name}`] = await gas(L.connect(c.gov[1]).approve(id));
    gv[`execute ${name}`] = await gas(L.connect(c.gov[0]).execute(id));
  }
  out.governance = gv;
  out.authorisations = await measureAuthorisations();
  out.catalogue = await measureCatalogue();

  const file = join(__dirname, "..", "snapshots", "gas.json");
  const text = JSON.stringify(out, null, 2) + "\n";
  if (process.env.GAS_CHECK === "1") {
    const old = readFileSync(file, "utf8");
    if (old !== text) {
      console.error("gas snapshot differs from snapshots/gas.json:\n" + text);
      process.exitCode = 1;
      return;
    }
    console.log("gas snapshot matches snapshots/gas.json");
    return;
  }
  mkdirSync(join(__dirname, "..", "snapshots"), { recursive: true });
  writeFileSync(file, text);
  console.log(text);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
