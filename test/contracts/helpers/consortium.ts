// Shared fixtures for the contract suites: a consortium deployed and bootstrapped the way contracts/README.md
// documents, plus a Merkle tree built by the tree rule of IMaterialRegistry.sol (independent of the SDK).
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Contract, ContractRunner, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";

/**
 * The deployed ledger, untyped per method (typechain's ESM output cannot be mixed with Hardhat's CommonJS
 * signers under tsc, see notes/toolchain.md); `connect` keeps the type.
 */
export type Ledger = { connect(runner: ContractRunner | null): Ledger } & Contract;

export const bytes32 = (s: string): string => ethers.encodeBytes32String(s);

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/** Completes 17 symbols of a unified social credit code with its GB 32100 check character. */
export function uscc(body17: string): string {
  if (body17.length !== 17) throw new Error(`uscc body must be 17 symbols: ${body17}`);
  let sum = 0;
  let w = 1;
  for (const ch of body17) {
    const v = USCC_ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`not a USCC symbol: ${ch}`);
    sum += v * w;
    w = (w * 3) % 31;
  }
  return body17 + USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

export const memberId = (code: string): string => bytes32(code);

/** Role enum of IConsortium. */
export const Role = { Governor: 0, IdentityProvider: 1, Cataloguer: 2, Auditor: 3 } as const;
/** MaterialStatus / HashAlgStatus / MemberStatus enums. */
export const Status = { Active: 0, Suspended: 1, Revoked: 2 } as const;
export const AlgStatus = { Unknown: 0, Active: 1, Retired: 2 } as const;
export const MemberStatus = { None: 0, Active: 1, Suspended: 2 } as const;

export const J = { SH: 310000, XUHUI: 310104, PUDONG: 310115, ZJ: 330000, HZ: 330100 } as const;
export const T = { LICENCE: bytes32("BIZ_LICENCE"), PERMIT: bytes32("FOOD_PERMIT") } as const;

/** Member ids of the fixture (all valid codes). */
const codes = {
  govA: uscc("11310000MB2F00001"), // city big-data centre
  govB: uscc("11310000MB2F00002"),
  govC: uscc("11310000MB2F00003"),
  issuer: "11310115002418321F", // a valid sample (Pudong department)
  issuerX: uscc("11310104MB2F00005"), // Xuhui market supervision
  authCity: uscc("11310000MB2F00006"), // city market supervision (authority for 310000 and below)
  authXuhui: uscc("11310104MB2F00007"), // Xuhui authority
  outsider: "91310104MA1K000018", // a company member without roles (valid sample)
};
type Name = keyof typeof codes;
export const M = Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, memberId(v)])) as Record<Name, string>;
export const CODES = codes;

export interface Consortium {
  ledger: Ledger;
  admin: HardhatEthersSigner;
  gov: HardhatEthersSigner[]; // one account of each governor A, B, C
  issuer: HardhatEthersSigner; // Pudong department, entitled LICENCE@310115 and PERMIT@310115
  issuerX: HardhatEthersSigner; // Xuhui, entitled LICENCE@310104
  authCity: HardhatEthersSigner;
  authXuhui: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  stranger: HardhatEthersSigner; // not an account of any member
  spare: HardhatEthersSigner[]; // unused signers for rotation tests
}

/** Deploys TongbanLedger and runs the documented bootstrap in ONE bootstrapBatch; the phase stays open. */
export async function deployOpen(): Promise<Consortium> {
  const s = await ethers.getSigners();
  const [admin, gA, gB, gC, issuer, issuerX, authCity, authXuhui, outsider, stranger] = s;
  const ledger = (await ethers.deployContract("TongbanLedger", admin)) as unknown as Ledger;
  const i = ledger.interface;
  const calls = [
    i.encodeFunctionData("registerJurisdiction", [J.SH, 0]),
    i.encodeFunctionData("registerJurisdiction", [J.XUHUI, J.SH]),
    i.encodeFunctionData("registerJurisdiction", [J.PUDONG, J.SH]),
    i.encodeFunctionData("registerJurisdiction", [J.ZJ, 0]),
    i.encodeFunctionData("registerJurisdiction", [J.HZ, J.ZJ]),
    i.encodeFunctionData("registerMaterialType", [T.LICENCE]),
    i.encodeFunctionData("registerMaterialType", [T.PERMIT]),
    i.encodeFunctionData("admitMember", [M.govA, J.SH, [gA.address]]),
    i.encodeFunctionData("admitMember", [M.govB, J.SH, [gB.address]]),
    i.encodeFunctionData("admitMember", [M.govC, J.SH, [gC.address]]),
    i.encodeFunctionData("admitMember", [M.issuer, J.PUDONG, [issuer.address]]),
    i.encodeFunctionData("admitMember", [M.issuerX, J.XUHUI, [issuerX.address]]),
    i.encodeFunctionData("admitMember", [M.authCity, J.SH, [authCity.address]]),
    i.encodeFunctionData("admitMember", [M.authXuhui, J.XUHUI, [authXuhui.address]]),
    i.encodeFunctionData("admitMember", [M.outsider, J.XUHUI, [outsider.address]]),
    i.encodeFunctionData("grantRole", [M.govA, Role.Governor]),
    i.encodeFunctionData("grantRole", [M.govB, Role.Governor]),
    i.encodeFunctionData("grantRole", [M.govC, Role.Governor]),
    i.encodeFunctionData("setThreshold", [2]),
    i.encodeFunctionData("grantEntitlement", [M.issuer, T.LICENCE, J.PUDONG]),
    i.encodeFunctionData("grantEntitlement", [M.issuer, T.PERMIT, J.PUDONG]),
    i.encodeFunctionData("grantEntitlement", [M.issuerX, T.LICENCE, J.XUHUI]),
    i.encodeFunctionData("grantRevocationAuthority", [M.authCity, J.SH]),
    i.encodeFunctionData("grantRevocationAuthority", [M.authXuhui, J.XUHUI]),
  ];
  await (await ledger.bootstrapBatch(calls)).wait();
  return {
    ledger, admin, gov: [gA, gB, gC], issuer, issuerX, authCity, authXuhui, outsider, stranger,
    spare: s.slice(10),
  };
}

/** As deployOpen, then closeBootstrap(): every change now needs 2 of the 3 governors. */
export async function deployClosed(): Promise<Consortium> {
  const c = await deployOpen();
  await (await c.ledger.closeBootstrap()).wait();
  return c;
}

/**
 * Runs `fn(args)` through governance: governor 0 proposes, governors 1.. approve until `approvals` votes,
 * then governor 0 executes. Returns the execute transaction (assert events on it) and the proposal id.
 */
export async function govern(
  c: Consortium, fn: string, args: readonly unknown[], approvals = 2,
): Promise<{ tx: ContractTransactionResponse; proposalId: bigint }> {
  const action = c.ledger.interface.encodeFunctionData(fn, args);
  const proposalId = await propose(c, action);
  for (let k = 1; k < approvals; k++) await (await c.ledger.connect(c.gov[k]).approve(proposalId)).wait();
  const tx = await c.ledger.connect(c.gov[0]).execute(proposalId);
  return { tx, proposalId };
}

/** Governor 0 proposes `action`; returns the new proposal id. */
export async function propose(c: Consortium, action: string, by = c.gov[0]): Promise<bigint> {
  const receipt: ContractTransactionReceipt = await (await c.ledger.connect(by).propose(action)).wait();
  const log = receipt.logs.map((l) => c.ledger.interface.parseLog(l)).find((l) => l?.name === "ProposalCreated");
  return log!.args.proposalId as bigint;
}

// ------------------------------------------------------------------------------------------ Merkle (tree rule)

const hashPair = (a: string, b: string): string =>
  ethers.keccak256(ethers.concat(BigInt(a) < BigInt(b) ? [a, b] : [b, a]));

/** Tree of IMaterialRegistry.sol: adjacent pairs, sorted-pair keccak, odd last node carried up. */
export function merkle(leaves: string[]): { root: string; proof: (index: number) => string[] } {
  if (leaves.length === 0) throw new Error("empty tree");
  const levels: string[][] = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const prev = levels[levels.length - 1];
    const next: string[] = [];
    for (let k = 0; k < prev.length; k += 2) next.push(k + 1 < prev.length ? hashPair(prev[k], prev[k + 1]) : prev[k]);
    levels.push(next);
  }
  return {
    root: levels[levels.length - 1][0],
    proof(index: number) {
      const out: string[] = [];
      let k = index;
      for (let l = 0; l < levels.length - 1; l++) {
        const sib = k ^ 1;
        if (sib < levels[l].length) out.push(levels[l][sib]);
        k >>= 1;
      }
      return out;
    },
  };
}

/** `n` distinct pseudo-random leaves derived from `seed`. */
export function leaves(n: number, seed = "leaf"): string[] {
  return Array.from({ length: n }, (_, k) => ethers.keccak256(ethers.toUtf8Bytes(`${seed}-${k}`)));
}
