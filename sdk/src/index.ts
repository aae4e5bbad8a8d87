export * from "./errors.js";
export * from "./bytes.js";
export * from "./leaf.js";
export * from "./merkle/index.js";
