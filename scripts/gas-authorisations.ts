// Gas of the Authorisations contract (issue 5): `npx hardhat run scripts/gas-authorisations.ts` prints a JSON
// object; `measureAuthorisations` is also the `authorisations` section of snapshots/gas.json (scripts/gas-snapshot.ts,
// GAS_CHECK). Each figure is the transaction's gasUsed on the in-process Hardhat network (london), 21,000
// intrinsic included; views are eth_estimateGas of the call. The block time is pinned first (grant terms and
// holder signatures depend on it, and calldata gas on their bytes), so the figures are reproducible.
// The figures are quoted in sdk/src/grants/README.md.
import { ethers, artifacts } from "hardhat";
import type { Contract, ContractRunner, Signer } from "ethers";
import { M, Role, T, bytes32, deployOpen } from "../test/contracts/helpers/consortium";

type Auth = { connect(runner: ContractRunner | null): Auth } & Contract;
type Tx = Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>;
const gas = async (p: Tx): Promise<number> => Number((await (await p).wait())!.gasUsed);
const h = (s: string): string => ethers.keccak256(ethers.toUtf8Bytes(s));

/** Pinned block time of the measurement (must be later than the chain's latest block). */
export const AUTH_GAS_TIME = 2_000_000_000;

export async function measureAuthorisations(): Promise<Record<string, number>> {
  await ethers.provider.send("evm_setNextBlockTimestamp", [AUTH_GAS_TIME]);
  await ethers.provider.send("evm_mine", []);
  const c = await deployOpen();
  await (await c.ledger.grantRole(M.authCity, Role.IdentityProvider)).wait();
  const factory = await ethers.getContractFactory("Authorisations");
  const deployed = await factory.deploy(await c.ledger.getAddress());
  const auth = deployed as unknown as Auth;
  const out: Record<string, number> = {};
  out["deploy"] = Number((await deployed.deploymentTransaction()!.wait())!.gasUsed);
  out["bytecode size (bytes)"] = ((await artifacts.readArtifact("Authorisations")).deployedBytecode.length - 2) / 2;
  const holder = c.spare[0] as Signer & { address: string };
  const HOLDER = h("holder");
  const domain = { name: "TongbanAuthorisations", version: "1", chainId: 31337n, verifyingContract: await auth.getAddress() };
  const types = {
    HolderGrant: [{ name: "terms", type: "GrantTerms" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }],
    GrantTerms: [
      { name: "holderRef", type: "bytes32" }, { name: "grantee", type: "bytes32" }, { name: "matter", type: "bytes32" },
      { name: "typeCodes", type: "bytes32[]" }, { name: "leaves", type: "bytes32[]" }, { name: "notBefore", type: "uint64" },
      { name: "notAfter", type: "uint64" }, { name: "maxUses", type: "uint32" },
    ],
  };
  const revokeTypes = { HolderRevoke: [{ name: "grantId", type: "bytes32" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] };
  const now = BigInt(AUTH_GAS_TIME); // pinned: the terms and signatures (calldata bytes) do not depend on the wall clock
  const terms = (over: Record<string, unknown> = {}) => ({
    holderRef: HOLDER, grantee: M.issuerX, matter: bytes32("MATTER"), typeCodes: [T.LICENCE], leaves: [] as string[],
    notBefore: now, notAfter: now + 30n * 86_400n, maxUses: 100, ...over,
  });
  const deadline = now + 86_400n;

  out["bindHolderKey"] = await gas(auth.connect(c.authCity).bindHolderKey(HOLDER, holder.address, h("ev")));
  const t1 = terms();
  const sig1 = await holder.signTypedData(domain, types, { terms: t1, nonce: 0n, deadline });
  const root: string = await auth.grantIdOf(ethers.ZeroHash, 1, t1, ethers.toBeHex(0, 32));
  out["grantBySignature (1 type)"] = await gas(auth.connect(c.issuerX).grantBySignature(t1, 0, deadline, holder.address, sig1));
  const t2 = terms({ leaves: [h("l1"), h("l2")] });
  const sig2 = await holder.signTypedData(domain, types, { terms: t2, nonce: 1n, deadline });
  out["grantBySignature (1 type + 2 leaves)"] = await gas(auth.connect(c.issuerX).grantBySignature(t2, 1, deadline, holder.address, sig2));
  out["grantByIdentityProvider (1 type)"] = await gas(auth.connect(c.authCity).grantByIdentityProvider(terms(), h("salt"), h("ev")));
  const ct = terms({ grantee: M.outsider, maxUses: 50 });
  const child: string = await auth.grantIdOf(root, 3, ct, h("c"));
  out["delegateGrant (depth 1, 1 type)"] = await gas(auth.connect(c.issuerX).delegateGrant(root, ct, h("c")));
  const gt = terms({ grantee: M.issuer, maxUses: 10 });
  const grand: string = await auth.grantIdOf(child, 3, gt, h("g"));
  out["delegateGrant (depth 2, 1 type)"] = await gas(auth.connect(c.outsider).delegateGrant(child, gt, h("g")));

  const custodian = auth.connect(c.issuer);
  out["anchorUseLog (head only)"] = await gas(custodian.anchorUseLog(1_000, h("r1"), []));
  out["anchorUseLog (head + 1 root grant)"] = await gas(custodian.anchorUseLog(2_000, h("r2"), [{ grantId: root, count: 5 }]));
  out["anchorUseLog (head + 1 depth-2 grant)"] = await gas(custodian.anchorUseLog(3_000, h("r3"), [{ grantId: grand, count: 1 }]));
  const many = [];
  for (let i = 0; i < 10; i++) {
    const t = terms({ holderRef: h(`holder-${i}`) });
    many.push({ grantId: await auth.grantIdOf(ethers.ZeroHash, 2, t, h(`s${i}`)), count: 1 });
    await (await auth.connect(c.authCity).grantByIdentityProvider(t, h(`s${i}`), h("ev"))).wait();
  }
  out["anchorUseLog (head + 10 root grants)"] = await gas(custodian.anchorUseLog(4_000, h("r4"), many));

  out["checkGrant (eth_call, depth 2)"] = Number(await auth.checkGrant.estimateGas(grand, M.issuer, bytes32("MATTER"), T.LICENCE, ethers.ZeroHash, 0));
  out["checkGrant (eth_call, root)"] = Number(await auth.checkGrant.estimateGas(root, M.issuerX, bytes32("MATTER"), T.LICENCE, ethers.ZeroHash, 0));

  const delegationTypes = {
    GranteeDelegation: [{ name: "parentId", type: "bytes32" }, { name: "terms", type: "GrantTerms" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }],
    GrantTerms: types.GrantTerms,
  };
  const st = terms({ grantee: M.issuer, maxUses: 10 });
  const dsig = await c.issuerX.signTypedData(domain, delegationTypes, { parentId: root, terms: st, nonce: 0n, deadline });
  out["delegateGrantBySignature (depth 1, 1 type)"] = await gas(auth.connect(c.outsider).delegateGrantBySignature(root, st, 0, deadline, c.issuerX.address, dsig));

  out["revokeGrant (grantor)"] = await gas(auth.connect(c.outsider).revokeGrant(grand));
  const rsig = await holder.signTypedData(domain, revokeTypes, { grantId: root, nonce: 2n, deadline });
  out["revokeGrantBySignature (holder)"] = await gas(auth.connect(c.issuerX).revokeGrantBySignature(root, 2, deadline, holder.address, rsig));
  out["revokeGrantByIdentityProvider"] = await gas(auth.connect(c.authCity).revokeGrantByIdentityProvider(many[0]!.grantId, h("ev")));
  out["unbindHolderKey"] = await gas(auth.connect(c.authCity).unbindHolderKey(HOLDER, holder.address, h("ev")));
  return out;
}

if (require.main === module) {
  measureAuthorisations().then((out) => console.log(JSON.stringify(out, null, 2))).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
