export * from "./service.js";
export * from "./schemas.js";
export { catalogueRoutes, type CatalogueRoutesOptions } from "./routes.js";
