/**
 * One-call reads of the Authorisations contract for a custodian node or an auditor (decision 4: the
 * custodian asks the chain at request time). Each is a single eth_call.
 */
import type { ContractRunner } from "ethers";
import { Authorisations__factory } from "../contracts/types/factories/contracts/Authorisations__factory.js";
import { decodeAuthorisationsError, decodeGrantView, decodeUseCheck, decodeUseLogHead, type GrantInfo, type UseCheck, type UseLogHeadInfo } from "./status.js";

/** Where the contract is and how to reach it (a Provider for reads). */
export interface AuthorisationsTarget {
  runner: ContractRunner;
  /** Authorisations contract address */
  address: string;
}

/** Parameters of {@link readUseCheck}. */
export interface ReadUseCheckParameters extends AuthorisationsTarget {
  grantId: string;
  /** member id of the requesting member (as authenticated by the exchange) */
  requester: string;
  matter: string;
  typeCode: string;
  leaf: string;
  /** unix seconds; 0 or omitted = the chain's current block time */
  at?: bigint;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw decodeAuthorisationsError(e) ?? e;
  }
}

/**
 * May `requester` obtain the material (typeCode, leaf) for `matter` under `grantId` now? One eth_call.
 * Serve only when `verdict.allowed`; then subtract the uses you have not anchored yet from `grant.usesLeft`.
 * @example
 * const { verdict, grant } = await readUseCheck({ runner: provider, address, grantId, requester, matter, typeCode, leaf });
 * if (!verdict.allowed || grant.usesLeft - myUnanchored(grantId) <= 0) return refuse(verdict.name);
 */
export async function readUseCheck(p: ReadUseCheckParameters): Promise<UseCheck> {
  const c = Authorisations__factory.connect(p.address, p.runner);
  return decodeUseCheck(await call(() => c.checkGrant(p.grantId, p.requester, p.matter, p.typeCode, p.leaf, p.at ?? 0n)));
}

/**
 * The grant's record and status at `at` (0 = now). One eth_call.
 * @example (await readGrant({ runner: provider, address, grantId })).status.name // => "ACTIVE"
 */
export async function readGrant(p: AuthorisationsTarget & { grantId: string; at?: bigint }): Promise<GrantInfo> {
  const c = Authorisations__factory.connect(p.address, p.runner);
  return decodeGrantView(await call(() => c.getGrant(p.grantId, p.at ?? 0n)));
}

/**
 * Every anchored head of `custodian`'s use log, oldest first (for the auditor's consistency checks).
 * @example const heads = await readUseLogHeads({ runner: provider, address, custodian });
 */
export async function readUseLogHeads(p: AuthorisationsTarget & { custodian: string; from?: number }): Promise<UseLogHeadInfo[]> {
  const c = Authorisations__factory.connect(p.address, p.runner);
  const n = Number(await call(() => c.useLogHeadCount(p.custodian)));
  const out: UseLogHeadInfo[] = [];
  for (let i = p.from ?? 0; i < n; i++) out.push(decodeUseLogHead(await call(() => c.useLogHead(p.custodian, i))));
  return out;
}
