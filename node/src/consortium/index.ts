export * from "./spec.js";
export * from "./deploy.js";
