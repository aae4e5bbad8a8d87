export * from "./leaf.js";
