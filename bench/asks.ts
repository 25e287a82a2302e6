/**
 * `npm run bench -- asks`: how often a human is asked, under the old default (every command
 * asks, each action reviewed on its own) and the boundary model (commands run inside the
 * sandbox, `defaults.command: "allow"`; the turn's changes reviewed as one changeset).
 * Each session of bench/asksSessions.ts is replayed twice through the real sandbox (real
 * Docker, --network none, the egress proxy on a unix socket, 'copy' workspace mode) by the
 * scripted ACP agent test/fixtures/agents/sandbox-agent.mjs, and the reviewer's decisions are
 * the same both times. Reported per session: asks (old, new), the reduction, the clicks to
 * finish with turn review, and whether the real workspace ends exactly as the decisions say.
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../src/core/audit';
import { mergePolicies, PolicyFile } from '../src/core/policy';
import { appliedContent, decisionFor, type ReviewChoice } from '../src/core/proposals/decisions';
import { HunkChoices } from '../src/core/proposals/hunkChoices';
import { splitHunks } from '../src/core/proposals/hunks';
import { isFinal } from '../src/core/proposals/finalStates';
import type { EditProposal, Proposal, Reviewer } from '../src/core/proposals/model';
import { riskLabels } from '../src/core/proposals/risk';
import { CONFIRM_IN_BULK } from '../src/core/proposals/riskLabel';
import { ProposalStore } from '../src/core/proposals/store';
import { turnChoices } from '../src/core/proposals/turnDecisions';
import type { ReviewMode } from '../src/core/proposals/turns';
import { DockerSandboxProvider } from '../src/core/sandbox/dockerSandbox';
import { AgentSession } from '../src/core/supervisor';
import { sha256Hex } from '../src/core/util/hash';
import { NodeWorkspaceFiles } from '../src/core/workspace/files';
import type { BenchFigure } from './lib';
import { PROJECT, sessions, UNLISTED_URL, type ReplaySession } from './asksSessions';

const ROOT = path.resolve(__dirname, '..');
const IMAGE = 'warden-sandbox-base:dev';
const reviewer: Reviewer = { kind: 'human', name: 'Bench Reviewer', source: 'bench' };

/** One plain HTTP request through the egress proxy the command was given; prints the status. */
const PROBE = `import * as http from 'node:http';
const [label, url] = process.argv.slice(2);
const proxy = new URL(process.env.HTTP_PROXY ?? process.env.HTTPS_PROXY ?? 'http://127.0.0.1:1');
const auth = proxy.username ? { 'Proxy-Authorization': 'Basic ' + Buffer.from(decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password)).toString('base64') } : {};
const req = http.request({ host: proxy.hostname, port: Number(proxy.port), method: 'GET', path: url, headers: { ...auth, Host: new URL(url).host } }, (res) => {
  res.resume();
  res.on('end', () => console.log(label, res.statusCode, res.headers['x-warden-reason'] ?? ''));
});
req.on('error', (e) => console.log(label, 0, e.code ?? e.message));
req.end();
`;

type Model = 'old' | 'new';

interface RunResult {
  /** Times a human was asked: each proposal that waited on its own, each turn changeset, each unlisted host. */
  asks: number;
  /** Clicks to finish: decisions, hunk choices, Accept all, confirmations. */
  clicks: number;
  /** Commands the agent ran. */
  commands: number;
  /** What the asks were, by kind and rule ("command:default", "edit:builtin.irreversible", "turn", "host"...). */
  breakdown: Record<string, number>;
  /** The real workspace ends exactly as the accepted decisions say (hashes of every file). */
  exact: boolean;
  detail: string;
}

export async function run(): Promise<BenchFigure[]> {
  const server = await allowedServer();
  const port = (server.address() as AddressInfo).port;
  const figures: BenchFigure[] = [];
  const rows: string[] = [];
  try {
    for (const spec of sessions(port)) {
      const old = await replay(spec, 'old', port);
      const now = await replay(spec, 'new', port);
      const reduction = old.asks === 0 ? 0 : (1 - now.asks / old.asks) * 100;
      rows.push(
        `${spec.name}: ${old.commands} commands; asks old ${old.asks} (${old.clicks} clicks), new ${now.asks}; ${reduction.toFixed(1)} % fewer; ` +
          `turn review ${now.clicks} clicks; workspace exact: old ${old.exact}, new ${now.exact}${old.detail || now.detail ? ` (${old.detail}${now.detail})` : ''}\n` +
          `        old asks: ${describe(old.breakdown)}\n        new asks: ${describe(now.breakdown)}`,
      );
      figures.push(
        {
          figure: `asks: ${spec.name}`,
          unit: 'asks',
          warden: now.asks,
          reference: old.asks,
          referenceLabel: 'old default: commands ask',
          target: 'ratio <= 0.15 (85 % fewer)',
        },
        {
          figure: `clicks with turn review: ${spec.name}`,
          unit: 'clicks',
          warden: now.clicks,
          reference: old.clicks,
          referenceLabel: 'old default, one by one',
          target: 'fewer',
        },
        {
          figure: `workspace = decisions (hash): ${spec.name}`,
          unit: 'ok',
          warden: now.exact && old.exact ? 1 : 0,
          reference: null,
          referenceLabel: '',
          target: '1 (both runs)',
        },
      );
    }
  } finally {
    server.close();
  }
  process.stderr.write(`${rows.map((r) => `[asks] ${r}`).join('\n')}\n`);
  return figures;
}

function describe(breakdown: Record<string, number>): string {
  return Object.entries(breakdown)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([what, n]) => `${n} ${what}`)
    .join(', ');
}

/** The allowed host: a loopback server standing in for a documentation site. */
async function allowedServer(): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('docs'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function replay(spec: ReplaySession, model: Model, port: number): Promise<RunResult> {
  const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-bench-asks-'));
  await fs.chmod(workspace, 0o755);
  const files: Record<string, string> = {
    ...PROJECT,
    '.devcontainer/devcontainer.json': JSON.stringify({ name: 'bench', image: IMAGE }),
    'sandbox-agent.mjs': await fs.readFile(path.join(ROOT, 'test/fixtures/agents/sandbox-agent.mjs'), 'utf8'),
    'bench-probe.mjs': PROBE,
  };
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(workspace, rel)), { recursive: true });
    await fs.writeFile(path.join(workspace, rel), text);
  }
  const before = await tree(workspace);
  const policy = mergePolicies({
    team: {
      status: 'loaded',
      policy: PolicyFile.parse({
        defaults: { command: model === 'old' ? 'ask' : 'allow' },
        network: { allow: [{ host: '127.0.0.1', ports: [port] }] },
      }),
    },
  });
  const mode: ReviewMode = model === 'old' ? 'action' : 'turn';
  const store = new ProposalStore();
  const decide = (id: string, choice: ReviewChoice): void => {
    const proposal = store.get(id);
    if (proposal?.state === 'pending') store.decide(id, decisionFor(proposal, choice, reviewer));
  };
  const hunks = new HunkChoices({ store, review: async (id, choice) => decide(id, choice) });
  let asks = 0;
  let clicks = 0;
  const breakdown: Record<string, number> = {};
  const count = (what: string): void => {
    breakdown[what] = (breakdown[what] ?? 0) + 1;
  };
  const seen = new Set<string>();
  // Action review: a human answers each proposal as it comes, with the session's decisions.
  const watch = store.onDidChange((proposal) => {
    if (proposal.state !== 'pending' || seen.has(proposal.id)) return;
    seen.add(proposal.id);
    if (mode === 'turn' && proposal.kind === 'edit') return; // part of the turn's changeset
    asks++;
    count(`${proposal.kind}:${proposal.policy?.ruleId ?? 'no policy'}`);
    setImmediate(() => void answer(proposal).catch(() => undefined));
  });
  const answer = async (proposal: Proposal): Promise<void> => {
    const rejectedHunks = proposal.kind === 'edit' ? (spec.review.rejectHunks ?? []).filter((h) => h.path === proposal.path) : [];
    if (proposal.kind === 'edit' && spec.review.rejectFiles?.includes(proposal.path)) {
      clicks++;
      decide(proposal.id, { kind: 'verdict', verdict: 'reject' });
    } else if (proposal.kind === 'edit' && rejectedHunks.length > 0 && proposal.oldText !== null) {
      const count = splitHunks(proposal.oldText, proposal.newText).length;
      for (let i = 0; i < count; i++) {
        clicks++;
        await hunks.choose(proposal.id, `h${i}`, rejectedHunks.some((h) => h.hunk === i) ? 'reject' : 'approve');
      }
    } else if (proposal.kind === 'network' || (proposal.kind === 'permission' && proposal.toolKind === 'fetch')) {
      clicks++;
      decide(proposal.id, { kind: 'verdict', verdict: 'reject', reason: 'unlisted host' });
    } else {
      clicks++;
      decide(proposal.id, { kind: 'verdict', verdict: 'approve' });
    }
  };
  const session = await AgentSession.start({
    workspaceMode: 'copy',
    reviewMode: mode,
    workspaceRoot: workspace,
    agentsHostPath: path.join(ROOT, 'dist', 'agents'),
    agentCommand: `node /workspaces/${path.basename(workspace)}/sandbox-agent.mjs`,
    sandboxProvider: new DockerSandboxProvider(),
    store,
    audit: AuditLog.forWorkspace(workspace),
    files: new NodeWorkspaceFiles(workspace),
    reviewer,
    policy: { current: () => policy },
  });
  try {
    for (const steps of spec.turns) {
      await session.prompt(JSON.stringify(steps));
      if (mode === 'turn') {
        const result = await reviewTurn(store, session, spec, hunks, decide);
        asks += result.asks;
        clicks += result.clicks;
        if (result.asks > 0) count('turn changeset');
      }
      await settled(store);
    }
  } finally {
    watch.dispose();
    await session.stop('bench finished');
  }
  // An unlisted host is an ask under the boundary model (if the proxy asked, it is already counted as a proposal).
  const entries = (await fs.readdir(path.join(workspace, '.warden', 'audit'))).filter((f) => f.endsWith('.jsonl'));
  const audit = (await Promise.all(entries.map((f) => fs.readFile(path.join(workspace, '.warden', 'audit', f), 'utf8')))).join('');
  const events = audit
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  const unlisted = new URL(UNLISTED_URL).hostname;
  const deniedHosts = events.filter((e) => e.type === 'network.request' && e.data.allowed === false && e.data.host === unlisted).length;
  const askedHosts = store.all().filter((p) => p.kind === 'network' || (p.kind === 'permission' && p.toolKind === 'fetch')).length;
  if (model === 'new' && askedHosts === 0 && deniedHosts > 0) {
    asks += 1;
    clicks += 1;
    count('unlisted host');
  }
  const commands = store.all().filter((p) => p.kind === 'command').length;
  const { exact, detail } = await compare(workspace, before, store.all());
  await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
  return { asks, clicks, commands, breakdown, exact, detail };
}

/** The turn's changeset decided the way the panel does it: rejections first (a click each), then Accept all. */
async function reviewTurn(
  store: ProposalStore,
  session: AgentSession,
  spec: ReplaySession,
  hunks: HunkChoices,
  decide: (id: string, choice: ReviewChoice) => void,
): Promise<{ asks: number; clicks: number }> {
  const waiting = store.pending().filter((p) => p.sessionId === session.id && p.turn === session.turn);
  if (waiting.length === 0) return { asks: 0, clicks: 0 };
  let clicks = 0;
  for (const proposal of waiting) {
    if (proposal.kind !== 'edit') continue;
    if (spec.review.rejectFiles?.includes(proposal.path)) {
      clicks++;
      decide(proposal.id, { kind: 'verdict', verdict: 'reject' });
    }
    for (const h of (spec.review.rejectHunks ?? []).filter((r) => r.path === proposal.path)) {
      clicks++;
      await hunks.choose(proposal.id, `h${h.hunk}`, 'reject');
    }
  }
  const rest = store.pending().filter((p) => waiting.some((w) => w.id === p.id));
  const choices = turnChoices(rest, 'approve', (p) => hunks.choicesOf(p), 'turn review: accept all');
  clicks++; // Accept all
  if (rest.some((p) => riskLabels(p).some((r) => CONFIRM_IN_BULK.has(r.kind)))) clicks++; // the confirmation of a delete
  for (const { proposalId, choice } of choices) {
    hunks.clear(proposalId);
    decide(proposalId, choice);
  }
  return { asks: 1, clicks };
}

/** Waits until every approved proposal has been applied (or failed). */
async function settled(store: ProposalStore): Promise<void> {
  for (let i = 0; i < 600 && store.all().some((p) => p.state === 'approved' || (p.kind === 'edit' && p.state === 'pending')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every file's hash now, against the start with each applied change replayed in order. */
async function compare(workspace: string, before: Map<string, string>, proposals: Proposal[]): Promise<{ exact: boolean; detail: string }> {
  const expected = new Map(before);
  const applied = proposals
    .filter((p): p is EditProposal => p.kind === 'edit' && p.state === 'applied')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const p of applied) {
    if (p.sandboxChange?.change === 'delete') expected.delete(p.path);
    else expected.set(p.path, sha256Hex(appliedContent(p).text));
  }
  const unsettled = proposals.filter((p) => !isFinal(p.state) && p.state !== 'approved').map((p) => p.title);
  const actual = await tree(workspace);
  const diffs = [...new Set([...expected.keys(), ...actual.keys()])].filter((k) => expected.get(k) !== actual.get(k));
  const detail = [...diffs.map((d) => `differs: ${d}`), ...unsettled.map((t) => `undecided: ${t}`)].join('; ');
  return { exact: diffs.length === 0, detail };
}

async function tree(dir: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (child === '.warden') continue; // the audit log and saved proposals: Warden's own record
    if (entry.isDirectory()) for (const [k, v] of await tree(dir, child)) out.set(k, v);
    else out.set(child, sha256Hex(await fs.readFile(path.join(dir, child))));
  }
  return out;
}

if (require.main === module) {
  void run().then((figures) => console.log(JSON.stringify(figures, null, 2)));
}
