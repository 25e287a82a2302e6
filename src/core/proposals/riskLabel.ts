import * as z from 'zod';

/**
 * A risk label on a proposal, with the reason the reviewer reads. Schema only (no Node, no
 * parser): the Review panel's webview validates these too.
 */
export const RiskKind = z.enum(['protected', 'irreversible', 'network', 'outside-scope', 'unclear', 'limit']);
export type RiskKind = z.infer<typeof RiskKind>;

export const RiskLabel = z.object({
  kind: RiskKind,
  /** Short text on the badge, e.g. "Protected path". */
  label: z.string(),
  /** Why, in the policy's words where the policy said it. */
  reason: z.string(),
});
export type RiskLabel = z.infer<typeof RiskLabel>;

/** Kinds a bulk action asks to confirm before it includes them. */
export const CONFIRM_IN_BULK: ReadonlySet<RiskKind> = new Set(['protected', 'irreversible', 'outside-scope']);
