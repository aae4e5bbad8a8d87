export const NODE_PACKAGE = "@tongban/node";
export * from "./core/errors.js";
export * from "./core/types.js";
export * from "./core/service.js";
export * from "./core/config.js";
export * from "./core/metrics.js";
export * from "./core/log.js";
