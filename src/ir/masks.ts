/** The roles of mask inputs of `mask_scores` and the attention ops, in the order of their inputs after the scores. */
export const MASK_ROLES = ["block", "keep", "bias", "block_keys", "keep_keys", "bias_keys"] as const;
export type MaskRole = (typeof MASK_ROLES)[number];
