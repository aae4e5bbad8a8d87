/** Two small SVG line plots (log-log), generated without a browser: gas per material and throughput vs batch size. */
import type { GasResult } from "../gas.js";
import type { E2ERow } from "../e2e.js";

interface Series { name: string; color: string; dash?: string; points: [number, number][]; labels?: boolean }

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const tick = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));
const short = (v: number) => (v >= 1e4 ? `${Math.round(v / 1e3)}k` : v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function logPlot(opts: { title: string; xLabel: string; yLabel: string; series: Series[]; footnote?: string }): string {
  const W = 760, H = 460, L = 80, R = 200, T = 50, B = 70;
  const pw = W - L - R, ph = H - T - B;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0])).filter((v) => v > 0);
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const x0 = Math.floor(Math.log10(Math.min(...xs))), x1 = Math.ceil(Math.log10(Math.max(...xs)));
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const X = (v: number) => L + ((Math.log10(v) - x0) / Math.max(1, x1 - x0)) * pw;
  const Y = (v: number) => T + ph - ((Math.log10(v) - y0) / Math.max(1, y1 - y0)) * ph;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${L}" y="28" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  for (let e = y0; e <= y1; e++) {
    const y = Y(10 ** e);
    o.push(`<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}" stroke="#e4e4e4"/><text x="${L - 8}" y="${y + 4}" text-anchor="end" fill="#444">${tick(10 ** e)}</text>`);
  }
  for (let e = x0; e <= x1; e++) {
    const x = X(10 ** e);
    o.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}" stroke="#e4e4e4"/><text x="${x}" y="${T + ph + 18}" text-anchor="middle" fill="#444">${tick(10 ** e)}</text>`);
  }
  o.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  o.push(`<text x="${L + pw / 2}" y="${H - 30}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  o.push(`<text transform="translate(20 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[0] > 0 && p[1] > 0);
    o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ")}"/>`);
    for (const p of pts) {
      o.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      if (s.labels) o.push(`<text x="${(X(p[0]) + 6).toFixed(1)}" y="${(Y(p[1]) - 6).toFixed(1)}" fill="${s.color}" font-size="10">${short(p[1])}</text>`);
    }
    const ly = T + 10 + i * 22;
    o.push(`<line x1="${L + pw + 14}" y1="${ly}" x2="${L + pw + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/><text x="${L + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  if (opts.footnote) o.push(`<text x="${L}" y="${H - 10}" fill="#666" font-size="10">${esc(opts.footnote)}</text>`);
  o.push("</svg>");
  return o.join("\n") + "\n";
}

export function gasSvg(g: GasResult): string {
  return logPlot({
    title: "Gas per anchored material vs batch size (log-log)",
    xLabel: "materials per batch",
    yLabel: "gas per material",
    series: [
      { name: "EAS attest (1 tx each)", color: "#d62728", points: g.rows.map((r) => [r.batch, r.easAttest.perMaterial]) },
      { name: "EAS multiAttest", color: "#ff7f0e", dash: "6 4", points: g.rows.map((r) => [r.batch, r.easMultiAttest.perMaterial]) },
      { name: "OA DocumentStore.issue", color: "#2ca02c", dash: "3 3", points: g.rows.map((r) => [r.batch, r.oaIssue.perMaterial]) },
      { name: "Tongban anchor (ours)", color: "#1f77b4", points: g.rows.map((r) => [r.batch, r.ours.perMaterial]), labels: true },
    ],
    footnote: "gasUsed from receipts on one local hardhat node (london); see docs/bench/results.json",
  });
}

export function throughputSvg(rows: E2ERow[], easAttestTxPerSec?: number): string {
  const xs = rows.map((r) => r.batchSize);
  return logPlot({
    title: "Registrations/s through one member node vs its batch size",
    xLabel: "node batchSize (max leaves per anchor transaction)",
    yLabel: "materials anchored per second",
    series: [
      { name: "anchored/s (median)", color: "#1f77b4", points: rows.map((r) => [r.batchSize, r.perSecond.median]), labels: true },
      { name: "anchored/s (min)", color: "#9ecae1", dash: "4 3", points: rows.map((r) => [r.batchSize, r.perSecond.min]) },
      { name: "node CPU-bound ceiling", color: "#7f7f7f", dash: "2 4", points: rows.map((r) => [r.batchSize, r.cpuCeilingPerSecond.median]) },
      ...(easAttestTxPerSec
        ? [{ name: "EAS attest, 1 tx/material", color: "#d62728", dash: "8 4", points: [[Math.min(...xs), easAttestTxPerSec], [Math.max(...xs), easAttestTxPerSec]] as [number, number][] }]
        : []),
    ],
    footnote: "bulk API, 2 clients, content + holder ID per material, fsync, 1 confirmation; shared machine: see BENCHMARKS.md",
  });
}
