/**
 * Turn review: the proposals of one agent turn shown and decided as one changeset (every file,
 * per hunk, with the commands that ran in the turn). Pure and free of Node and `vscode`: the
 * Review panel's webview groups with it too, from the proposal views it receives.
 */

export const REVIEW_MODES = ['turn', 'action'] as const;
export type ReviewMode = (typeof REVIEW_MODES)[number];

/**
 * The review mode in force: the user's `warden.review.mode` when set, otherwise by the team
 * policy. A team whose policy asks for commands wants to see each step, so it reviews action
 * by action; otherwise commands run inside the sandbox and only the turn's changes are reviewed.
 */
export function effectiveReviewMode(setting: unknown, commandDefault: 'allow' | 'ask' | 'deny'): ReviewMode {
  if (setting === 'turn' || setting === 'action') return setting;
  return commandDefault === 'ask' ? 'action' : 'turn';
}

/** What grouping needs of a proposal; both the model and the webview's views have it. */
export interface TurnMember {
  id: string;
  sessionId: string;
  createdAt: string;
  state: string;
  /** 'edit', 'command', 'permission', 'question', 'network'…: only edits and permissions with an edit change a file. */
  kind: string;
  turn?: number | undefined;
  path?: string;
  edit?: { path: string } | undefined;
}

export interface TurnFile<P> {
  path: string;
  /** The file's proposals in the order the agent made them (usually one per file per turn). */
  proposals: P[];
}

export interface TurnChangeset<P> {
  /** `<sessionId>#<turn>`: stable across snapshots. */
  key: string;
  sessionId: string;
  /** 1-based; 0 holds proposals made outside any turn (while the session started, or from older sessions). */
  turn: number;
  /** Every file the turn changed, in the order first touched. */
  files: Array<TurnFile<P>>;
  /** The commands run in the turn (any state), with their outputs when they finished. */
  commands: P[];
  /** Tool requests without a file, network requests and questions. */
  others: P[];
  /** What still waits for the reviewer, in asking order. */
  pending: P[];
}

export function turnKey(sessionId: string, turn: number): string {
  return `${sessionId}#${turn}`;
}

/** The file a proposal changes, or '' when it changes none. */
export function changedPath(proposal: TurnMember): string {
  if (proposal.kind === 'edit') return proposal.path ?? '';
  if (proposal.kind === 'permission') return proposal.edit?.path ?? '';
  return '';
}

/** Groups proposals by session and turn (in the order turns began), then by file. */
export function groupByTurn<P extends TurnMember>(proposals: readonly P[]): Array<TurnChangeset<P>> {
  const ordered = [...proposals].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const turns = new Map<string, TurnChangeset<P> & { byPath: Map<string, TurnFile<P>> }>();
  for (const proposal of ordered) {
    const turn = proposal.turn ?? 0;
    const key = turnKey(proposal.sessionId, turn);
    let group = turns.get(key);
    if (!group) {
      group = { key, sessionId: proposal.sessionId, turn, files: [], commands: [], others: [], pending: [], byPath: new Map() };
      turns.set(key, group);
    }
    if (proposal.state === 'pending') group.pending.push(proposal);
    const path = changedPath(proposal);
    if (path !== '') {
      let file = group.byPath.get(path);
      if (!file) {
        file = { path, proposals: [] };
        group.byPath.set(path, file);
        group.files.push(file);
      }
      file.proposals.push(proposal);
    } else if (proposal.kind === 'command') group.commands.push(proposal);
    else group.others.push(proposal);
  }
  return [...turns.values()].map(({ byPath: _byPath, ...changeset }) => changeset);
}

/** The changeset of one turn, if any proposal belongs to it. */
export function changesetOf<P extends TurnMember>(proposals: readonly P[], sessionId: string, turn: number): TurnChangeset<P> | undefined {
  return groupByTurn(proposals.filter((p) => p.sessionId === sessionId && (p.turn ?? 0) === turn))[0];
}

/** The most recent turn with something waiting, else the most recent turn: what "Review Turn" opens. */
export function latestTurn<P extends TurnMember>(proposals: readonly P[]): TurnChangeset<P> | undefined {
  const turns = groupByTurn(proposals);
  const waiting = turns.filter((t) => t.pending.length > 0);
  return (waiting.length > 0 ? waiting : turns).at(-1);
}
