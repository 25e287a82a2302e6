/** Team policy: one committed file decides allow, ask and deny (see README "Team policy"). */
export * from './schema';
export * from './loader';
export * from './effective';
export * from './evaluate';
export * from './examples';
export { analyzeShell, analyzeArgv, type ShellAnalysis, type InnerCommand, type ShellWord } from './shell';
export { PROTECTED_PATHS, protectedPath, irreversibleCommand } from './builtins';
export * from './workspace';
export { filesPerProposalVerdict } from './limits';
