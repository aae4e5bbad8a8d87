/**
 * POST /v1/exchange/fetch's reply serializer (node/src/api/exchange-routes.ts serializeFetchReply): the content
 * Buffer written as base64 and spliced in unescaped; the JSON must be what JSON.stringify of the reply with a
 * base64 content gives (as parsed JSON), for contents of every length, and any other reply as JSON.stringify.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { serializeFetchReply } from "../../../node/src/api/exchange-routes.js";

describe("api: the /fetch reply serializer", () => {
  it("a Buffer content becomes base64 in the JSON; every other field as JSON.stringify writes it (quotes, unicode, nesting)", () => {
    for (const n of [0, 1, 2, 3, 10 * 1024, 10 * 1024 + 1]) {
      const content = randomBytes(n);
      const reply = {
        code: "OK",
        requestId: "0x" + "ab".repeat(32),
        materialId: "0x" + "cd".repeat(32),
        content,
        contentBytes: n,
        bundle: { version: "tongban/proof-bundle@1", note: 'a "quoted" \\ back\nslash é \u2028', proof: ["0x01", "0x02"] },
        verification: { ok: true, checks: [{ check: "INTEGRITY", status: "VALID", details: { n: 1.5, nested: [null, true] } }] },
        servedSeq: 7,
        receivedSeq: undefined,
      };
      const json = serializeFetchReply(reply);
      expect(JSON.parse(json), `${n} bytes`).to.deep.equal(JSON.parse(JSON.stringify({ ...reply, content: content.toString("base64") })));
      expect(Buffer.from(JSON.parse(json).content, "base64").equals(content)).to.equal(true);
    }
    expect(JSON.parse(serializeFetchReply({ content: Buffer.from("hi") }))).to.deep.equal({ content: "aGk=" });
  });

  it("replies without a Buffer content (errors, a string content) are JSON.stringify's output exactly", () => {
    for (const x of [{ code: "NOT_FOUND", message: 'no "such" material', details: { id: "x" } }, { content: "already text" }, null, [1, 2]]) {
      expect(serializeFetchReply(x)).to.equal(JSON.stringify(x));
    }
  });
});
