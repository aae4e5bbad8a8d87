export * from "./errors.js";
export * from "./bytes.js";
export * from "./leaf.js";
export * from "./merkle/index.js";
export * from "./identity.js";
export * from "./holder-ref.js";
export * from "./content-hash.js";
export * from "./node-client/index.js";
