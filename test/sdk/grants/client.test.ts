// End to end against a real `hardhat node`: the SDK signs a grant, the chain creates it, a custodian asks
// `readUseCheck`, logs the use in an SDK MerkleLog, anchors the log head with its counts, and an auditor reads
// the heads back and checks consistency between them with the SDK verifier.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { ContractFactory, Wallet, encodeBytes32String, hexlify, keccak256, toBeHex, toUtf8Bytes, ZeroHash } from "ethers";
import { startChain, deployLedger, bootstrap, devWallet, REPO_ROOT, type Chain } from "../../node/helpers/chain.js";
import {
  AuthorisationsRevertError, MemoryLogStore, decodeAuthorisationsError, MerkleLog, bytesToHex, computeGrantId, encodeUseRecord, grantDomain,
  readGrant, readUseCheck, readUseLogHeads, signGrant, verifyConsistency, type GrantTerms,
  GrantOrigin, grantDomainSeparator, hashGrantTerms, signDelegation,
} from "../../../sdk/src/index.js";
import { Authorisations__factory, type Authorisations } from "../../../sdk/src/contracts/types/index.js";

const h = (s: string) => keccak256(toUtf8Bytes(s));
const b = encodeBytes32String;
const IDP = b("11310000MB2F00006Y"), CUSTODIAN = b("11310115002418321F"), GRANTEE = b("91310104MA1K000018");
const HOLDER = h("holder/e2e"), MATTER = b("MATTER-E2E");

describe("sdk/grants against a real chain (hardhat node)", function () {
  this.timeout(180_000);
  let chain: Chain;
  let auth: Authorisations;
  let address: string;
  const idp = new Wallet(devWallet(2).privateKey), custodian = new Wallet(devWallet(3).privateKey), grantee = new Wallet(devWallet(4).privateKey);
  const holderKey = h("tongban/test/holder-key/e2e");

  before(async () => {
    chain = await startChain();
    const { ledger, address: ledgerAddress, admin } = await deployLedger(chain);
    await bootstrap(ledger, {
      jurisdictions: [[310000, 0], [310115, 310000]], types: ["BIZ_LICENCE"],
      members: [
        { uscc: "11310000MB2F00006Y", jurisdiction: 310000, accounts: [idp.address], roles: [1] },
        { uscc: "11310115002418321F", jurisdiction: 310115, accounts: [custodian.address] },
        { uscc: "91310104MA1K000018", jurisdiction: 310115, accounts: [grantee.address] },
      ],
    });
    const artifact = JSON.parse(readFileSync(resolve(REPO_ROOT, "artifacts/contracts/Authorisations.sol/Authorisations.json"), "utf8"));
    const deployed = await new ContractFactory(Authorisations__factory.abi, artifact.bytecode, admin).deploy(ledgerAddress);
    await deployed.waitForDeployment();
    address = await deployed.getAddress();
    auth = Authorisations__factory.connect(address, chain.provider);
  });
  after(async () => { await chain?.stop(); });

  it("signs with the SDK, creates on chain, checks, logs, anchors and audits", async () => {
    const p = chain.provider;
    const { chainId } = await p.getNetwork();
    const domain = grantDomain(chainId, address);
    const holder = new Wallet(holderKey);
    await (await auth.connect(idp.connect(p)).bindHolderKey(HOLDER, holder.address, h("evidence"))).wait();
    const now = BigInt((await p.getBlock("latest"))!.timestamp);
    const terms: GrantTerms = { holderRef: HOLDER, grantee: GRANTEE, matter: MATTER, typeCodes: [b("BIZ_LICENCE")], leaves: [], notBefore: now - 60n, notAfter: now + 86_400n, maxUses: 2 };
    const deadline = now + 3_600n;
    const signature = await signGrant(holderKey, domain, terms, 0n, deadline);
    const grantId = computeGrantId({ domain, origin: "HOLDER_SIGNATURE", terms, salt: 0n });
    await (await auth.connect(grantee.connect(p)).grantBySignature(terms, 0n, deadline, holder.address, signature)).wait();

    const g = await readGrant({ runner: p, address, grantId });
    expect(g.status.name).to.equal("ACTIVE");
    expect(g.terms).to.deep.equal(terms);
    expect([g.origin, g.usesLeft]).to.deep.equal(["HOLDER_SIGNATURE", 2]);

    // the custodian's question at request time
    const leaf = h("some material leaf");
    const ok = await readUseCheck({ runner: p, address, grantId, requester: GRANTEE, matter: MATTER, typeCode: b("BIZ_LICENCE"), leaf });
    expect(ok.verdict).to.deep.equal({ code: 1, name: "ALLOWED", allowed: true });
    const wrong = await readUseCheck({ runner: p, address, grantId, requester: CUSTODIAN, matter: MATTER, typeCode: b("BIZ_LICENCE"), leaf });
    expect(wrong.verdict.name).to.equal("WRONG_GRANTEE");

    // serve twice, log both, anchor the head with the counts
    const log = await MerkleLog.open(new MemoryLogStore());
    const rec = (i: number) => encodeUseRecord({ direction: "SERVED", basis: "GRANT", time: now + BigInt(i), requestId: h(`req-${i}`), grantId, matter: MATTER, requester: GRANTEE, custodian: CUSTODIAN, typeCode: b("BIZ_LICENCE"), leaf });
    await log.append(rec(1));
    await (await auth.connect(custodian.connect(p)).anchorUseLog(log.size, bytesToHex(log.root()), [{ grantId, count: 1 }])).wait();
    await log.append(rec(2), encodeUseRecord({ direction: "RECEIVED", basis: "GRANT", time: now + 3n, requestId: h("req-in"), grantId: h("other grant"), matter: MATTER, requester: CUSTODIAN, custodian: GRANTEE, typeCode: b("BIZ_LICENCE"), leaf }));
    await (await auth.connect(custodian.connect(p)).anchorUseLog(log.size, bytesToHex(log.root()), [{ grantId, count: 1 }])).wait();

    const after = await readUseCheck({ runner: p, address, grantId, requester: GRANTEE, matter: MATTER, typeCode: b("BIZ_LICENCE"), leaf });
    expect(after.verdict.name).to.equal("EXHAUSTED");
    expect([after.grant.used, after.grant.usesLeft]).to.deep.equal([2, 0]);

    // the auditor: heads from the chain, consistency proof from the custodian's log
    const heads = await readUseLogHeads({ runner: p, address, custodian: CUSTODIAN });
    expect(heads.map((x) => x.treeSize)).to.deep.equal([1n, 3n]);
    const proof = await log.consistencyProof(1, 3);
    expect(verifyConsistency(1, 3, heads[0]!.rootHash, heads[1]!.rootHash, proof).status).to.equal("VALID");
    // a rewritten log is caught
    const forged = await MerkleLog.open(new MemoryLogStore());
    await forged.append(rec(9), rec(2), rec(3));
    expect(verifyConsistency(1, 3, heads[0]!.rootHash, heads[1]!.rootHash, await forged.consistencyProof(1, 3)).status).to.equal("INVALID");
  });

  it("property: SDK hashGrantTerms / computeGrantId == the contract's for random terms, origins, parents and salts", async () => {
    const { chainId } = await chain.provider.getNetwork();
    const domain = grantDomain(chainId, address);
    const rnd = () => hexlify(randomBytes(32));
    const origins = ["HOLDER_SIGNATURE", "IDENTITY_PROVIDER", "DELEGATION"] as const;
    for (let k = 0; k < 25; k++) {
      const terms: GrantTerms = {
        holderRef: rnd(), grantee: rnd(), matter: rnd(),
        typeCodes: Array.from({ length: k % 4 }, rnd), leaves: Array.from({ length: (k * 7) % 5 }, rnd),
        notBefore: BigInt(`0x${randomBytes(8).toString("hex")}`), notAfter: BigInt(`0x${randomBytes(8).toString("hex")}`),
        maxUses: randomBytes(4).readUInt32BE(0),
      };
      const origin = origins[k % 3]!;
      const parentId = k % 2 ? rnd() : ZeroHash;
      const salt = k % 3 === 0 ? BigInt(k) : rnd();
      expect(await auth.hashGrantTerms(terms), `terms ${k}`).to.equal(hashGrantTerms(terms));
      const saltHex = typeof salt === "bigint" ? toBeHex(salt, 32) : salt;
      expect(await auth.grantIdOf(parentId, GrantOrigin[origin], terms, saltHex), `id ${k}`)
        .to.equal(computeGrantId({ domain, parentId, origin, terms, salt }));
    }
    expect(await auth.domainSeparator()).to.equal(grantDomainSeparator(domain));
  });

  it("property: a delegation the SDK signs for random child terms within the parent is accepted by the contract, with the SDK's child id", async () => {
    const p = chain.provider;
    const { chainId } = await p.getNetwork();
    const domain = grantDomain(chainId, address);
    const now = BigInt((await p.getBlock("latest"))!.timestamp);
    const rnd = () => hexlify(randomBytes(32));
    const parentLeaves = Array.from({ length: 6 }, rnd);
    const parentTerms: GrantTerms = { holderRef: h("holder/property"), grantee: GRANTEE, matter: MATTER, typeCodes: [b("BIZ_LICENCE")], leaves: parentLeaves, notBefore: now - 60n, notAfter: now + 30n * 86_400n, maxUses: 1_000 };
    const salt = rnd();
    const parentId = computeGrantId({ domain, origin: "IDENTITY_PROVIDER", terms: parentTerms, salt });
    await (await auth.connect(idp.connect(p)).grantByIdentityProvider(parentTerms, salt, h("evidence/property"))).wait();
    const pick = <T>(xs: T[]) => xs.filter(() => randomBytes(1)[0]! < 128);
    const submitter = auth.connect(custodian.connect(p));
    for (let k = 0; k < 8; k++) {
      const nonce = await auth.delegationNonce(GRANTEE);
      expect(nonce).to.equal(BigInt(k));
      const leaves = pick(parentLeaves);
      const typeCodes = leaves.length === 0 || k % 2 ? [b("BIZ_LICENCE")] : [];
      const lo = parentTerms.notBefore + BigInt(randomBytes(1)[0]! % 60); // within the parent and already valid
      const terms: GrantTerms = {
        ...parentTerms, grantee: k % 2 ? CUSTODIAN : IDP, typeCodes, leaves,
        notBefore: lo, notAfter: parentTerms.notAfter - BigInt(randomBytes(2).readUInt16BE(0)), maxUses: 1 + (randomBytes(2).readUInt16BE(0) % 1_000),
      };
      const deadline = now + 3_600n + BigInt(k);
      // the agent's key as hex, or as a Wallet (the same signature)
      const signature = await signDelegation(k % 2 ? grantee.privateKey : grantee, domain, { parentId, terms, nonce, deadline });
      const rc = await (await submitter.delegateGrantBySignature(parentId, terms, nonce, deadline, grantee.address, signature)).wait();
      const ev = rc!.logs.map((l) => auth.interface.parseLog(l)).find((x) => x?.name === "GrantDelegatedBySignature")!;
      const childId = computeGrantId({ domain, parentId, origin: "DELEGATION", terms, salt: nonce });
      expect(ev.args.grantId, `child ${k}`).to.equal(childId);
      const g = await readGrant({ runner: p, address, grantId: childId });
      expect([g.status.name, g.origin, g.depth, g.parentId, g.grantor]).to.deep.equal(["ACTIVE", "DELEGATION", 1, parentId, GRANTEE]);
      expect(g.terms).to.deep.equal(terms);
    }
    // the SDK decodes the contract's refusal of a replay
    const terms: GrantTerms = { ...parentTerms, grantee: IDP, leaves: [], maxUses: 1 };
    const sig = await signDelegation(grantee, domain, { parentId, terms, nonce: 0n, deadline: now + 3_600n });
    const err = await submitter.delegateGrantBySignature(parentId, terms, 0n, now + 3_600n, grantee.address, sig).then(() => undefined, (e: unknown) => e);
    const d = decodeAuthorisationsError(err)!;
    expect(d.details).to.deep.include({ error: "InvalidDelegationNonce", kind: "CONFLICT" });
    expect(d.details.args).to.deep.equal({ delegator: GRANTEE, expected: 8n, given: 0n });
  });

  it("maps reverts to AuthorisationsRevertError with arguments", async () => {
    expect(await readUseLogHeads({ runner: chain.provider, address, custodian: CUSTODIAN, from: 5 })).to.deep.equal([]);
    const err = await auth.useLogHead(CUSTODIAN, 99).then(() => undefined, (e: unknown) => e);
    expect(err).to.not.equal(undefined);
    const d = decodeAuthorisationsError(err)!;
    expect(d).to.be.instanceOf(AuthorisationsRevertError);
    expect(d.details).to.deep.include({ error: "UnknownUseLogHead", kind: "NOT_FOUND" });
    expect(d.details.args).to.deep.equal({ custodian: CUSTODIAN, index: 99n });
    const g = await readGrant({ runner: chain.provider, address, grantId: h("none") });
    expect([g.status.name, g.grantId, g.parentId]).to.deep.equal(["UNKNOWN", h("none"), ZeroHash]);
  });
});
