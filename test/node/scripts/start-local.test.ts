import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, freePort } from "../helpers/chain.js";

// The README's main command, end to end: chain, deploy + bootstrap, three member nodes as processes, demo
// materials anchored at the two district bureaus and verified over the chain, the exchange demo (a grant
// recorded by the identity provider, Pudong fetching a Xuhui licence over libp2p through its HTTP API, a
// refused fetch, the use in both audit histories with proofs against heads anchored on chain), clean stop.
describe("scripts/start-local.mjs (npm start)", function () {
  this.timeout(240_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), "tongban-start-")); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("starts the consortium, anchors and verifies demo materials, and stops cleanly", async () => {
    const chainPort = await freePort();
    const apiBase = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [join(REPO_ROOT, "scripts/start-local.mjs"), "--chain-port", String(chainPort),
      "--api-port-base", String(apiBase), "--dir", dir, "--demo", "20", "--exit-after-demo"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code, out).to.equal(0);
    expect(out).to.match(/xuhui: 20 demo business licences registered and anchored/);
    expect(out).to.match(/pudong: 20 demo business licences registered and anchored/);
    expect(out.match(/over the chain: all checks VALID/g)?.length, out).to.equal(2);
    expect(out).to.contain(`http://127.0.0.1:${apiBase + 1}/docs`);
    expect(out).to.match(/bdc: catalogue search answered 200 with 0 entries/);
    // exchange and audit
    expect(out).to.match(/bdc: recorded the holder's consent as grant 0x[0-9a-f]{16}… \(grantee pudong/);
    expect(out).to.match(/pudong: fetched 0x[0-9a-f]{16}… from xuhui's node over libp2p in \d+ ms \(\d+ bytes: "Business licence #0 issued by Xuhui[^"]*"\); verified against its anchored leaf: all checks VALID/);
    expect(out).to.match(/bdc: the same fetch without being the grantee is refused: HTTP 403 WRONG_GRANTEE/);
    expect(out).to.match(/pudong: audit history of the holder: 1 record\(s\); RECEIVED #0 .* inclusion proof VALID against the head of size \d+ anchored on chain in block \d+/);
    expect(out).to.match(/xuhui: audit history of the holder: 1 record\(s\); SERVED #0 .* inclusion proof VALID against the head of size \d+ anchored on chain in block \d+/);
    const consortium = JSON.parse(readFileSync(join(dir, "consortium.json"), "utf8"));
    expect(consortium.ledgerAddress).to.match(/^0x[0-9a-fA-F]{40}$/);
    for (const m of ["bdc", "xuhui", "pudong"]) {
      expect(existsSync(join(dir, m, "data")), `${m} data dir`).to.equal(true);
      expect(existsSync(join(dir, m, "data", "uselog")), `${m} use log`).to.equal(true);
      const ks = JSON.parse(readFileSync(join(dir, m, "keystore.json"), "utf8"));
      expect(ks.opsAddress, `${m} ops account`).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(ks.opsAddress).to.not.equal(ks.address);
      expect(readFileSync(join(dir, m, "keystore.json"), "utf8")).to.not.contain(readFileSync(join(dir, m, "keystore.password"), "utf8"));
    }
  });
});
