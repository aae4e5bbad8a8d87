/** QBFT genesis extraData for `validators` (see qbft-extradata.mjs). */
export declare function qbftExtraData(validators: string[]): string;
