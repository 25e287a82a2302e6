/**
 * The results file the extension-host test entry (test/extension/index.ts) writes and
 * scripts/run-extension-tests.ts reads: the extension host cannot report to the browser,
 * so this file is the only channel. One zod schema is the contract for both sides.
 */
import { z } from 'zod';

/** Environment variables the harness sets on the VS Code server; its extension host inherits them. */
export const RESULTS_ENV = 'WARDEN_TEST_RESULTS';
export const WORKSPACE_ENV = 'WARDEN_TEST_WORKSPACE';
export const TIMEOUT_ENV = 'WARDEN_TEST_TIMEOUT_MS';
/** Runs only the tests whose full title matches (mocha's grep), e.g. to rerun one suite alone. */
export const GREP_ENV = 'WARDEN_TEST_GREP';

export const testErrorSchema = z.object({
  message: z.string(),
  stack: z.string().optional(),
});

export const testResultSchema = z.object({
  /** Suite titles and the test title joined by spaces, as mocha's fullTitle(). */
  title: z.string(),
  /** `failed` also covers hook failures and a suite that threw while loading. */
  state: z.enum(['passed', 'failed', 'pending']),
  durationMs: z.number().nonnegative(),
  error: testErrorSchema.optional(),
});

export const testReportSchema = z.object({
  vscodeVersion: z.string(),
  /** Epoch milliseconds. */
  startedAt: z.number(),
  firstTestAt: z.number().optional(),
  finishedAt: z.number(),
  tests: z.array(testResultSchema),
});

export type TestError = z.infer<typeof testErrorSchema>;
export type TestResult = z.infer<typeof testResultSchema>;
export type TestReport = z.infer<typeof testReportSchema>;

/** One line of `<results>.progress`, appended as tests begin and end (read on a timeout). */
export const progressLineSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('begin'), title: z.string(), at: z.number() }),
  z.object({ event: z.literal('end'), result: testResultSchema, at: z.number() }),
]);
export type ProgressLine = z.infer<typeof progressLineSchema>;
