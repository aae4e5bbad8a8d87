export const NODE_PACKAGE = "@tongban/node";
