/** Use logs (decision 5): RFC 6962 Merkle logs of canonical use records. See ./log.ts and ./record.ts. */
export * from "./log.js";
export * from "./record.js";
export * from "./counts.js";
