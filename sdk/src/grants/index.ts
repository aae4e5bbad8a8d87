/** Grants (授权调证): EIP-712 typed data, grant ids, holder signatures, view and revert decoding. */
export * from "./typed-data.js";
export * from "./status.js";
export * from "./client.js";
