/** The data catalogue (数据目录): codes, canonical hashing, entry encoding, views, client, data uses. */
export * from "./codes.js";
export * from "./hash.js";
export * from "./entry.js";
export * from "./errors.js";
export * from "./client.js";
export * from "./data-use.js";
export * from "./http.js";
