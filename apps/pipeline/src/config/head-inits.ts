/**
 * How a stage's new head (pretrain's pretext head, finetune's task head) is initialized: `data`
 * (Gaussian, each unit normalized on the first batch; stages/head-init.ts says why) or `drawn`
 * (its layers' own initializers: Glorot, He). One list for both configs and both commands.
 */
export const HEAD_INITS = ['data', 'drawn'] as const;
export type HeadInit = (typeof HEAD_INITS)[number];
