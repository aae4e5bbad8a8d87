import { expect } from "chai";
import { StickyFailover } from "../../../node/src/core/failover.js";

/** endpoint i: "down" throws a network error, "err" answers with a chain error, otherwise answers its name */
const endpoints = (...kinds: string[]) => async (i: number) => {
  if (kinds[i] === "down") throw Object.assign(new Error(`endpoint ${i} down`), { network: true });
  if (kinds[i] === "err") throw new Error(`endpoint ${i} answered an error`);
  return `endpoint ${i}`;
};
const isNetwork = (e: unknown) => (e as { network?: boolean }).network === true;
const exhausted = (last: unknown) => new Error(`all down; last: ${(last as Error).message}`);

describe("core/failover StickyFailover", () => {
  it("tries the current endpoint first, skips failed ones in order and stays on the first that answers", async () => {
    const switches: string[] = [];
    const f = new StickyFailover(3, (from, to, label) => switches.push(`${from}->${to} ${label}`));
    expect(await f.run(endpoints("down", "down", "up"), isNetwork, exhausted, "m1")).to.equal("endpoint 2");
    expect(f.current).to.equal(2);
    // sticky: the next call starts at 2, even though 0 would answer now
    expect(await f.run(endpoints("up", "up", "up"), isNetwork, exhausted)).to.equal("endpoint 2");
    // 2 fails: wraps around to 0
    expect(await f.run(endpoints("up", "up", "down"), isNetwork, exhausted, "m3")).to.equal("endpoint 0");
    expect(switches).to.deep.equal(["0->2 m1", "2->0 m3"]);
  });

  it("an endpoint's error answer is thrown as it is, not retried elsewhere, and makes that endpoint current", async () => {
    const f = new StickyFailover(3);
    const tried: number[] = [];
    const call = endpoints("down", "err", "up");
    const e = await f.run((i) => (tried.push(i), call(i)), isNetwork, exhausted).catch((x: Error) => x);
    expect((e as Error).message).to.equal("endpoint 1 answered an error");
    expect(tried).to.deep.equal([0, 1]);
    expect(f.current).to.equal(1);
  });

  it("every endpoint down: the exhausted error with the last failure; the current endpoint is unchanged", async () => {
    const f = new StickyFailover(2);
    const e = await f.run(endpoints("down", "down"), isNetwork, exhausted).catch((x: Error) => x);
    expect((e as Error).message).to.equal("all down; last: endpoint 1 down");
    expect(f.current).to.equal(0);
    expect(() => new StickyFailover(0)).to.throw(/at least one endpoint/);
  });
});
