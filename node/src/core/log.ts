/**
 * Structured logs (pino) with scoped child loggers and secrets redacted.
 * `logger.child({ component: "anchorer" })` is the js-libp2p `forComponent` habit.
 */
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

/** Paths never written to logs. */
export const REDACT = [
  "password",
  "*.password",
  "keystorePassword",
  "*.keystorePassword",
  "privateKey",
  "*.privateKey",
  "storageKey",
  "*.storageKey",
  "holderKey",
  "*.holderKey",
  "idNumber",
  "*.idNumber",
  "*.*.idNumber",
  "tokens",
  "*.tokens",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "content",
  "*.content",
];

export function createLogger(opts: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { name: opts.name ?? "tongban-node", level: opts.level ?? "info", redact: { paths: REDACT, censor: "[redacted]" } },
    opts.destination,
  );
}

/** A logger for one component. */
export function forComponent(log: Logger, component: string): Logger {
  return log.child({ component });
}

/** Trim an error for logging: ethers errors can embed whole signed transactions (tens of KB). */
export function errInfo(e: unknown): { name?: string; code?: string; message: string } {
  const err = e as { name?: string; code?: string; shortMessage?: string; message?: string };
  const message = String(err?.shortMessage ?? err?.message ?? e).slice(0, 300);
  return { name: err?.name, code: err?.code, message };
}
