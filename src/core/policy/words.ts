/** One word of a command after quote removal (shared by the shell analysis and the option catalog). */
export interface ShellWord {
  /** The word after quote removal; for a dynamic word, its source text. */
  text: string;
  /** Its value is only known at run time ($VAR, $(...), globs, brace expansion, ~). */
  dynamic: boolean;
}
