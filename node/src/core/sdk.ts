/** The SDK functions the core uses, in one place (the workspace package `@tongban/sdk`). */
export { computeHolderRef, hashContent, MerkleTree, InvalidIdError as SdkInvalidIdError, TongbanError } from "@tongban/sdk";
export { encodeBytes32String } from "ethers";
