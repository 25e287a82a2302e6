/**
 * The exit codes of the `warden` command line, one per kind of outcome, so a pipeline can
 * tell "the policy stopped it" from "the agent broke" from "Docker is down". Documented in
 * the README ("Command line"); never renumber them.
 */
export const EXIT = {
  /** Everything ran and nothing was left undecided. */
  ok: 0,
  /** A bug or an unexpected error in Warden itself. */
  internal: 1,
  /** Bad usage: unknown command or option, missing or invalid value. */
  usage: 2,
  /** The policy stopped the run: an ask under `--on-ask fail`, an invalid policy file, a failing `policy test`. */
  policy: 3,
  /** The agent failed: it crashed, exited mid-turn, broke the protocol or ended its turn other than `end_turn`. */
  agent: 4,
  /** The sandbox failed: no Docker engine, no image, the container could not start (a SandboxError). */
  sandbox: 5,
  /** `audit verify` found a broken chain or a failed git anchor (also `run`, when the log does not verify afterwards). */
  audit: 6,
  /** `run --timeout` elapsed: the session was stopped by the kill switch. */
  timeout: 7,
  /** `run` was interrupted by SIGINT or SIGTERM (a cancelled job): the session was stopped, its container removed. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports as one line on stderr with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
