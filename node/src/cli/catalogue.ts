/**
 * CLI verbs of the data catalogue (数据目录), all through the node's HTTP API with the SDK's typed catalogue
 * client (sdk/src/catalogue/http.ts):
 *
 *   tongban catalogue search [--provider M] [--grade G] [--sharing S] [--open O] [--duty D] [--system Y]
 *                            [--status ACTIVE|WITHDRAWN|ANY] [--text T] [--limit n]
 *   tongban catalogue show <resourceCode>
 *   tongban catalogue publish --file entry.json          (a CatalogueEntryDoc; registers or adds a version)
 *   tongban catalogue withdraw <resourceCode> --reason <text>
 *   tongban catalogue duty register <dutyCode> --description <text>
 *   tongban catalogue system register <systemCode> --description <text>
 *   tongban catalogue scenario register <scenarioId> --purpose <text> --legal-basis <text> --resource R [--resource R2 ...]
 *   tongban catalogue scenario show <scenarioId>
 *   tongban catalogue requests [--status DRAWN|APPROVED|DENIED]
 *   tongban catalogue approve <scenarioId> <resourceCode> --expires <unix s | ISO date>
 *   tongban catalogue reject <scenarioId> <resourceCode> --reason <text>
 *   tongban catalogue can-use <scenarioId> <resourceCode>
 *   tongban catalogue use <scenarioId> <resourceCode> --matter <code> (--query-hash <0x..> | --query <text>) [--request-id <0x..>]
 *   tongban catalogue uses --scenario S | --resource R | --member M | --matter X [--from d] [--to d] [--limit n]
 *
 * `use` is refused (exit 1) with the chain's canUse reason as the error code (APPROVAL_EXPIRED, ...). `uses`
 * checks each record's inclusion proof against the head the node returned (SDK verifyInclusion) and exits 1
 * if one fails.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { keccak256, toUtf8Bytes } from "ethers";
import {
  approveCatalogueUse, canUseCatalogue, getCatalogueEntry, getCatalogueScenario, listCatalogueRequests, listCatalogueUses,
  publishCatalogueEntry, recordCatalogueUse, registerCatalogueDuty, registerCatalogueScenario, registerCatalogueSystem,
  rejectCatalogueUse, searchCatalogue, verifyInclusion, withdrawCatalogueEntry, type CatalogueEntryDoc, type CatalogueSearchQuery,
} from "@tongban/sdk";
import type { CliHelpers } from "./audit.js";
import { toUnix } from "./import.js";

interface ConnOpts {
  url?: string;
  token?: string;
  tokenFile?: string;
}

const usage = (msg: string, option: string) => Object.assign(new Error(msg), { code: "USAGE", details: { option } });
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerCatalogueCommands(p: Command, h: CliHelpers): void {
  const cat = p.command("catalogue").description("the data catalogue: resources, systems, scenarios, approvals and data uses");

  h.withConn(
    cat.command("search").description("search the node's catalogue index (filters AND-ed)")
      .option("--provider <member>", "provider USCC or bytes32 id")
      .option("--grade <g>", "GENERAL | IMPORTANT | CORE")
      .option("--sharing <s>", "UNCONDITIONAL | CONDITIONAL | NOT_SHARED")
      .option("--open <o>", "open type")
      .option("--duty <code>", "duty (职责) code")
      .option("--system <code>", "information system code")
      .option("--status <s>", "ACTIVE (default) | WITHDRAWN | ANY")
      .option("--text <t>", "text in titles/descriptions the node holds")
      .option("--limit <n>", "at most n entries", (v) => Number(v)),
  ).action(h.action(async (o: ConnOpts & CatalogueSearchQuery) => {
    const { url: _u, token: _t, tokenFile: _f, ...q } = o as ConnOpts & CatalogueSearchQuery & Record<string, unknown>;
    h.out(await searchCatalogue(h.client(o), q as CatalogueSearchQuery));
  }));

  h.withConn(cat.command("show <resourceCode>").description("one entry with the texts the node holds"))
    .action(h.action(async (code: string, o: ConnOpts) => h.out(await getCatalogueEntry(h.client(o), { code }))));

  h.withConn(cat.command("publish").description("publish (register or version) an entry of this node's member").requiredOption("--file <entry.json>", "a CatalogueEntryDoc as JSON"))
    .action(h.action(async (o: ConnOpts & { file: string }) => {
      let doc: CatalogueEntryDoc;
      try {
        doc = JSON.parse(readFileSync(o.file, "utf8")) as CatalogueEntryDoc;
      } catch (e) {
        throw usage(`--file ${o.file}: not readable JSON (${(e as Error).message})`, "file");
      }
      h.out(await publishCatalogueEntry(h.client(o), doc));
    }));

  h.withConn(cat.command("withdraw <resourceCode>").description("withdraw an entry (provider or Cataloguer)").requiredOption("--reason <text>", "why"))
    .action(h.action(async (code: string, o: ConnOpts & { reason: string }) => h.out(await withdrawCatalogueEntry(h.client(o), { code, reason: o.reason }))));

  const duty = cat.command("duty").description("duties (职责) of this node's member");
  h.withConn(duty.command("register <dutyCode>").description("register a duty").requiredOption("--description <text>", "what the duty is"))
    .action(h.action(async (code: string, o: ConnOpts & { description: string }) => h.out(await registerCatalogueDuty(h.client(o), { code, description: o.description }))));

  const system = cat.command("system").description("information systems of this node's member");
  h.withConn(system.command("register <systemCode>").description("register an information system").requiredOption("--description <text>", "what the system is"))
    .action(h.action(async (code: string, o: ConnOpts & { description: string }) => h.out(await registerCatalogueSystem(h.client(o), { code, description: o.description }))));

  const scn = cat.command("scenario").description("application scenarios (应用场景) of this node's member");
  h.withConn(
    scn.command("register <scenarioId>").description("register a scenario drawing on resources")
      .requiredOption("--purpose <text>", "purpose")
      .requiredOption("--legal-basis <text>", "legal basis")
      .requiredOption("--resource <code>", "a resource drawn on (repeatable)", collect),
  ).action(h.action(async (scenarioId: string, o: ConnOpts & { purpose: string; legalBasis: string; resource: string[] }) =>
    h.out(await registerCatalogueScenario(h.client(o), { scenarioId, purpose: o.purpose, legalBasis: o.legalBasis, resources: o.resource }))));
  h.withConn(scn.command("show <scenarioId>").description("a scenario with its draws"))
    .action(h.action(async (scenarioId: string, o: ConnOpts) => h.out(await getCatalogueScenario(h.client(o), { scenarioId }))));

  h.withConn(cat.command("requests").description("draws on this member's resources (approval inbox)").option("--status <s>", "DRAWN | APPROVED | DENIED"))
    .action(h.action(async (o: ConnOpts & { status?: "DRAWN" | "APPROVED" | "DENIED" }) => h.out(await listCatalogueRequests(h.client(o), o.status ? { status: o.status } : {}))));

  h.withConn(cat.command("approve <scenarioId> <resourceCode>").description("provider: approve a conditional resource for a scenario").requiredOption("--expires <date>", "unix seconds or ISO date"))
    .action(h.action(async (scenarioId: string, code: string, o: ConnOpts & { expires: string }) =>
      h.out(await approveCatalogueUse(h.client(o), { scenarioId, code, expiresAt: toUnix(o.expires, "expires", "option") }))));

  h.withConn(cat.command("reject <scenarioId> <resourceCode>").description("provider: deny (or withdraw the approval of) a resource for a scenario").requiredOption("--reason <text>", "why"))
    .action(h.action(async (scenarioId: string, code: string, o: ConnOpts & { reason: string }) => h.out(await rejectCatalogueUse(h.client(o), { scenarioId, code, reason: o.reason }))));

  h.withConn(cat.command("can-use <scenarioId> <resourceCode>").description("may the scenario use the resource now (on chain)?"))
    .action(h.action(async (scenarioId: string, code: string, o: ConnOpts) => h.out(await canUseCatalogue(h.client(o), { scenarioId, code }))));

  h.withConn(
    cat.command("use <scenarioId> <resourceCode>").description("record a data use under a scenario in the node's use log (checked by canUse on chain)")
      .requiredOption("--matter <code>", "matter (事项) code the data is used for")
      .option("--query-hash <hex>", "bytes32 digest of the query / result")
      .option("--query <text>", "the query text (its keccak256 is logged)")
      .option("--request-id <hex>", "bytes32 request id (default random)"),
  ).action(h.action(async (scenarioId: string, resourceCode: string, o: ConnOpts & { matter: string; queryHash?: string; query?: string; requestId?: string }) => {
    if (!o.queryHash === !o.query) throw usage("give exactly one of --query-hash or --query", "query-hash");
    const queryHash = o.queryHash ?? keccak256(toUtf8Bytes(o.query!));
    h.out(await recordCatalogueUse(h.client(o), { scenarioId, resourceCode, matter: o.matter, queryHash, ...(o.requestId ? { requestId: o.requestId } : {}) }));
  }));

  h.withConn(
    cat.command("uses").description("data uses in the node's log with their proofs (checked here)")
      .option("--scenario <code>", "by scenario").option("--resource <code>", "by resource").option("--member <m>", "by member").option("--matter <code>", "by matter")
      .option("--from <date>", "unix seconds or ISO date").option("--to <date>", "unix seconds or ISO date").option("--limit <n>", "at most n", (v) => Number(v)),
  ).action(h.action(async (o: ConnOpts & { scenario?: string; resource?: string; member?: string; matter?: string; from?: string; to?: string; limit?: number }) => {
    const by = (["scenario", "resource", "member", "matter"] as const).filter((k) => o[k] !== undefined);
    if (by.length !== 1) throw usage("give exactly one of --scenario, --resource, --member, --matter", "scenario");
    const hist = await listCatalogueUses(h.client(o), {
      [by[0]!]: o[by[0]!], ...(o.from ? { from: toUnix(o.from, "from", "option") } : {}), ...(o.to ? { to: toUnix(o.to, "to", "option") } : {}), ...(o.limit ? { limit: o.limit } : {}),
    });
    const checks = hist.records.map((r) => {
      const root = r.anchored ? hist.anchoredHead?.root : hist.signedHead?.root;
      const ok = root !== undefined && verifyInclusion(r.leafHash, r.record.seq, r.treeSize, r.proof, root).status === "VALID";
      return { seq: r.record.seq, ok, against: r.anchored ? "anchored" : "signed" };
    });
    h.out({ ...hist, checks });
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  }));
}
