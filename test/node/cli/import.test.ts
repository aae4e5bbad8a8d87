/**
 * `tongban import` as a separate process against a live API (in-memory service on 127.0.0.1): a hard kill
 * mid-import then a re-run registers every row exactly once and re-sends only what was not acknowledged;
 * SIGINT stops after the chunk in flight with the state saved; a refused row is named by file and line.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { buildApi } from "../../../node/src/api/server.js";
import { hashToken } from "../../../node/src/api/auth.js";
import { parseCsv } from "../../../node/src/cli/csv.js";
import { readInput, runImport } from "../../../node/src/cli/import.js";
import { createNodeClient } from "../../../sdk/src/index.js";
import { mkdirSync } from "node:fs";
import { MemoryService } from "../api/memory-service.js";
import type { RegisterRequest } from "../../../node/src/core/types.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CLI = join(ROOT, "node/src/cli/main.ts");
const TOKEN = "import-token";
const ROWS = 120;

function csv(rows: number, bad?: number): string {
  const lines = ["key,typeCode,jurisdiction,holderIdType,holderIdNumber,contentHash,validFrom,issuedAt"];
  for (let i = 0; i < rows; i++) {
    const hash = "0x" + i.toString(16).padStart(64, "0");
    lines.push(`REC-${i},${i === bad ? "NO_SUCH_TYPE" : "BIZ_LICENCE"},310104,RESIDENT_ID,11010519491231002X,${hash},2024-01-0${1 + (i % 9)},${1_700_000_000 + i}`);
  }
  return lines.join("\n") + "\n";
}

function runCli(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TONGBAN_TOKEN: TOKEN } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on("close", (code) => r({ code, stdout, stderr })));
  return { child, done };
}

async function until(f: () => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("cli: tongban import (separate process)", function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let svc: MemoryService;
  let url: string;
  let dir: string;
  let received: number;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tongban-import-"));
    received = 0;
    svc = new MemoryService();
    const register = svc.register.bind(svc);
    svc.register = async (reqs: RegisterRequest[], opts?: { idempotencyKey?: string }) => {
      received += reqs.length;
      await new Promise((r) => setTimeout(r, 120)); // slow enough to interrupt mid-import
      return register(reqs, opts);
    };
    app = await buildApi({ service: svc, tokens: [hashToken(TOKEN)] });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("parses CSV (quotes, CRLF, BOM) and names bad rows", () => {
    const { header, rows } = parseCsv('\ufeffa,b\r\n"x, ""y""",2\r\n3,"multi\nline"\n');
    expect(header).to.deep.equal(["a", "b"]);
    expect(rows[0].values).to.deep.equal({ a: 'x, "y"', b: "2" });
    expect(rows[1].values.b).to.equal("multi\nline");
    expect(() => parseCsv("a,b\n1\n")).to.throw(/line 2: 1 fields/);
    const f = join(dir, "s.csv");
    writeFileSync(f, "typeCode,jurisdiction,validFrom\nBIZ_LICENCE,31x,2024-01-01\n");
    expect(() => readInput(f)).to.throw(/s.csv:2: jurisdiction "31x"/);
  });

  it("imports a directory of JSON descriptors with content files (in-process), then skips them on a re-run", async () => {
    const d = join(dir, "stock");
    mkdirSync(d);
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(d, `doc-${i}.txt`), `document ${i}`);
      writeFileSync(
        join(d, `m-${i}.json`),
        JSON.stringify({ typeCode: "BIZ_LICENCE", jurisdiction: 310104, file: `doc-${i}.txt`, holder: { idType: "RESIDENT_ID", idNumber: "11010519491231002X" }, validFrom: 1_700_000_000 + i }),
      );
    }
    writeFileSync(join(d, "notes.md"), "not a descriptor");
    const client = createNodeClient({ url, token: TOKEN });
    const seen: number[] = [];
    const res = await runImport({ input: d, client, batchSize: 2, onProgress: (done) => seen.push(done) });
    expect(res).to.include({ total: 3, acknowledged: 3, sent: 3, resumed: 0, complete: true });
    expect(seen).to.deep.equal([0, 2, 3]);
    expect(svc.records.size).to.equal(3);
    expect(svc.content.size).to.equal(3);
    const texts = [...svc.content.values()].map((c) => Buffer.from(c).toString()).sort();
    expect(texts).to.deep.equal(["document 0", "document 1", "document 2"]);
    // issuedAt defaulted to validFrom, so a re-sent record has the same leaf
    expect([...svc.records.values()].every((r) => r.header.issuedAt === r.header.validFrom)).to.equal(true);
    const again = await runImport({ input: d, client });
    expect(again).to.include({ resumed: 3, sent: 0, complete: true });
    expect(received).to.equal(3);
  });

  it("resumes after a hard kill: every row registered once, acknowledged rows not re-sent", async () => {
    const file = join(dir, "stock.csv");
    const state = join(dir, "stock.state.json");
    writeFileSync(file, csv(ROWS));
    const first = runCli(["import", file, "--url", url, "--batch", "10", "--state", state, "--no-progress"]);
    const acked = () => (existsSync(state) ? Object.keys(JSON.parse(readFileSync(state, "utf8")).acknowledged).length : 0);
    await until(() => acked() >= 30);
    process.kill(first.child.pid!, "SIGKILL");
    const killed = await first.done;
    expect(killed.code).to.equal(null);
    const before = acked();
    expect(before).to.be.within(30, ROWS - 10);
    expect(before % 10).to.equal(0);
    const receivedBefore = received;

    const second = await runCli(["import", file, "--url", url, "--batch", "10", "--state", state, "--no-progress"]).done;
    expect(second.code, second.stderr).to.equal(0);
    const res = JSON.parse(second.stdout);
    expect(res).to.include({ total: ROWS, acknowledged: ROWS, resumed: before, sent: ROWS - before, complete: true });
    // only the unacknowledged rows went out again (the chunk in flight at the kill may be a duplicate)
    expect(received - receivedBefore).to.equal(ROWS - before);
    expect(res.duplicates).to.be.at.most(10);
    expect(svc.records.size).to.equal(ROWS);
    const st = JSON.parse(readFileSync(state, "utf8"));
    expect(st.complete).to.equal(true);
    for (const id of Object.values(st.acknowledged) as string[]) expect(svc.records.has(id)).to.equal(true);
    expect(new Set(Object.values(st.acknowledged)).size).to.equal(ROWS);

    const third = await runCli(["import", file, "--url", url, "--batch", "10", "--state", state, "--no-progress"]).done;
    expect(JSON.parse(third.stdout)).to.include({ resumed: ROWS, sent: 0, complete: true });
  });

  it("SIGINT stops after the chunk in flight and saves the state (exit 130)", async () => {
    const file = join(dir, "stock.csv");
    writeFileSync(file, csv(ROWS));
    const run = runCli(["import", file, "--url", url, "--batch", "10", "--no-progress"]);
    const state = `${file}.import-state.json`;
    await until(() => existsSync(state) && Object.keys(JSON.parse(readFileSync(state, "utf8")).acknowledged).length >= 20);
    process.kill(run.child.pid!, "SIGINT");
    const r = await run.done;
    expect(r.code).to.equal(130);
    const res = JSON.parse(r.stdout);
    expect(res.complete).to.equal(false);
    const st = JSON.parse(readFileSync(state, "utf8"));
    expect(Object.keys(st.acknowledged).length).to.equal(res.acknowledged);
    expect(svc.records.size).to.equal(res.acknowledged);
  });

  it("a refused row stops the import, names file:line and code, and keeps earlier acknowledgements", async () => {
    const file = join(dir, "stock.csv");
    writeFileSync(file, csv(30, 25));
    const r = await runCli(["import", file, "--url", url, "--batch", "10", "--no-progress"]).done;
    expect(r.code).to.equal(1);
    const err = JSON.parse(r.stderr.trim().split("\n").pop()!);
    expect(err.code).to.equal("IMPORT");
    expect(err.details.where).to.equal("stock.csv:27");
    expect(err.details.code).to.equal("UNKNOWN_TYPE");
    const st = JSON.parse(readFileSync(`${file}.import-state.json`, "utf8"));
    expect(Object.keys(st.acknowledged)).to.have.length(20);
    expect(svc.records.size).to.equal(20);
  });
});
