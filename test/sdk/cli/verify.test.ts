import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runVerifyCommand, formatVerification } from "../../../sdk/src/index.js";
import { batchBundle, T0 } from "../helpers/fixture.js";
import { runCli } from "../helpers/run-cli.js";

const AT = String(Number(T0) + 86400);

describe("sdk/cli/verify (tongban-verify)", function () {
  this.timeout(60_000);
  let dir: string;
  let file: string, bundlePath: string, badBundle: string, tampered: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tongban-cli-"));
    const { bundle, content } = batchBundle();
    file = join(dir, "licence.bin"); writeFileSync(file, content);
    tampered = join(dir, "tampered.bin"); writeFileSync(tampered, Buffer.concat([Buffer.from(content), Buffer.from("!")]));
    bundlePath = join(dir, "licence.bundle.json"); writeFileSync(bundlePath, JSON.stringify(bundle));
    badBundle = join(dir, "bad.bundle.json"); writeFileSync(badBundle, JSON.stringify({ ...bundle, version: "x" }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("offline, readable: exit 0 and one line per check", async () => {
    const r = await runCli([file, "--bundle", bundlePath, "--offline", "--at", AT]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^VERIFIED {2}leaf 0x[0-9a-f]{64} {2}\(offline\)/);
    expect(r.stdout).to.include("type BL-310115-001");
    for (const c of ["INTEGRITY", "ANCHORED", "ISSUER_ENTITLED", "STATUS", "VALIDITY_WINDOW", "HASH_ALGORITHM", "SIGNATURE", "CHECKPOINT"]) expect(r.stdout).to.include(c);
  });

  it("--json prints the result object; a tampered file exits 1 with INTEGRITY INVALID", async () => {
    const r = await runCli([tampered, "--bundle", bundlePath, "--offline", "--at", AT, "--json"]);
    expect(r.code).to.equal(1);
    const result = JSON.parse(r.stdout);
    expect(result.ok).to.equal(false);
    expect(result.checks[0]).to.include({ check: "INTEGRITY", status: "INVALID", code: 201 });
  });

  it("without --rpc or --offline the chain checks are SKIPPED and the exit code is 1", async () => {
    const r = await runCli([file, "--bundle", bundlePath, "--at", AT]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^NOT VERIFIED/);
  });

  it("an invalid bundle, a missing file or a missing --bundle exit 2", async () => {
    const bad = await runCli([file, "--bundle", badBundle]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("BundleValidationError").and.include("/version");
    expect((await runCli([join(dir, "nope.bin"), "--bundle", bundlePath])).code).to.equal(2);
    expect((await runCli([file])).code).to.equal(2);
  });

  it("unreachable --rpc fails closed (exit 1, chain checks ERROR)", async () => {
    const r = await runCli([file, "--bundle", bundlePath, "--rpc", "http://127.0.0.1:9", "--json", "--at", AT]);
    expect(r.code).to.equal(1);
    const result = JSON.parse(r.stdout);
    expect(result.checks.filter((c: { status: string }) => c.status === "ERROR").map((c: { check: string }) => c.check))
      .to.deep.equal(["ANCHORED", "ISSUER_ENTITLED", "STATUS", "HASH_ALGORITHM"]);
  });

  it("the built bin (dist/cli/verify.js) starts with a shebang, is executable and verifies", async function () {
    const bin = fileURLToPath(new URL("../../../sdk/dist/cli/verify.js", import.meta.url));
    if (!existsSync(bin)) this.skip(); // built by `npm run build`; the CI runs the build before the tests
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).to.equal(true);
    expect(statSync(bin).mode & 0o111).to.not.equal(0);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(bin, [file, "--bundle", bundlePath, "--offline", "--at", AT, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => { out += d; });
      child.on("close", (code) => resolve({ code, out }));
    });
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.out).ok).to.equal(true);
  });

  it("the core is a function other CLIs reuse", async () => {
    const out = await runVerifyCommand({ file, bundle: bundlePath, offline: true, at: Number(AT) });
    expect(out.exitCode).to.equal(0);
    expect(formatVerification(out.result!)).to.match(/^VERIFIED/);
    expect((await runVerifyCommand({ file, bundle: badBundle })).exitCode).to.equal(2);
  });
});
