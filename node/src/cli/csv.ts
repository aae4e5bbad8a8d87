/**
 * A small RFC 4180 CSV reader: comma separated, double-quoted fields with "" escapes, CRLF or LF line ends,
 * first row = header. Enough for a department's export; no dependency.
 */
export interface CsvRow {
  /** 1-based line number of the row's first line in the file (the header is line 1) */
  line: number;
  values: Record<string, string>;
}

export class CsvError extends Error {
  override name = "CsvError";
  constructor(
    message: string,
    readonly details: { line: number },
  ) {
    super(message);
  }
}

export function parseCsv(text: string): { header: string[]; rows: CsvRow[] } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM from spreadsheet exports
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endField = () => {
    fields.push(field);
    field = "";
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === "")) records.push({ line: recordLine, fields });
    fields = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === "\n") line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field.length) throw new CsvError(`line ${line}: quote inside an unquoted field`, { line });
      quoted = true;
      i++;
    } else if (c === ",") {
      endField();
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      endRecord();
      i += 2;
      recordLine = ++line;
    } else if (c === "\n") {
      endRecord();
      i++;
      recordLine = ++line;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new CsvError(`line ${recordLine}: unterminated quoted field`, { line: recordLine });
  if (field.length || fields.length) endRecord();
  if (records.length === 0) throw new CsvError("empty CSV: a header row is required", { line: 1 });
  const header = records[0].fields.map((h) => h.trim());
  const rows = records.slice(1).map((r) => {
    if (r.fields.length !== header.length) {
      throw new CsvError(`line ${r.line}: ${r.fields.length} fields, header has ${header.length}`, { line: r.line });
    }
    const values: Record<string, string> = {};
    header.forEach((h, k) => (values[h] = r.fields[k]));
    return { line: r.line, values };
  });
  return { header, rows };
}
