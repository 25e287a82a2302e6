/**
 * Warden's built-in demo agent: a scripted ACP agent that needs no model and no API key.
 * Given any instruction it works the way a real coding agent does — reads a file, asks
 * permission for an edit (with a diff), writes it, creates a file, runs a command — so every
 * kind of proposal can be tried. It runs inside the sandbox with plain Node (>= 18).
 */
import { Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { planFor, type DemoStep } from './script';

const cancelled = new Set<string>();

/** Warden puts what the reviewer did to earlier writes before the instruction, as a "[Warden] …" block ending in a blank line. */
function splitWardenNotes(text: string): { notes: string | undefined; instruction: string } {
  if (!text.startsWith('[Warden]')) return { notes: undefined, instruction: text };
  const end = text.indexOf('\n\n');
  return end < 0 ? { notes: text, instruction: '' } : { notes: text.slice(0, end), instruction: text.slice(end + 2).trim() };
}

/** A text Warden sends in an answer's `_meta.warden.<what>.<field>`, if there. */
function wardenMeta(meta: unknown, what: string, field: string): string | undefined {
  const warden = meta && typeof meta === 'object' && 'warden' in meta ? meta.warden : undefined;
  const entry: unknown = warden && typeof warden === 'object' ? (warden as Record<string, unknown>)[what] : undefined;
  const value: unknown = entry && typeof entry === 'object' ? (entry as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}
/** The summary Warden sends in a write's _meta when the reviewer accepted it with changes. */
const changesByReviewer = (meta: unknown): string | undefined => wardenMeta(meta, 'appliedWithChanges', 'summary');
/** Why the reviewer rejected a permission request (Warden's _meta on the answer), if they said. */
const rejectedReason = (meta: unknown): string | undefined => wardenMeta(meta, 'rejected', 'reason');
const sessionCwd = new Map<string, string>();

const app = acp
  .agent({ name: 'warden-demo-agent' })
  .onRequest(acp.methods.agent.initialize, () => ({
    protocolVersion: acp.PROTOCOL_VERSION,
    agentCapabilities: { loadSession: false },
    agentInfo: { name: 'warden-demo-agent', version: '0.1.0' },
    authMethods: [],
  }))
  .onRequest(acp.methods.agent.session.new, ({ params }) => {
    const sessionId = `demo-${Date.now().toString(36)}`;
    sessionCwd.set(sessionId, params.cwd);
    return { sessionId };
  })
  .onNotification(acp.methods.agent.session.cancel, ({ params }) => {
    cancelled.add(params.sessionId);
  })
  .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
    const cwd = sessionCwd.get(params.sessionId);
    if (!cwd) throw acp.RequestError.sessionNotFound(params.sessionId);
    cancelled.delete(params.sessionId);
    const text = params.prompt
      .map((block) => (block.type === 'text' ? block.text : ''))
      .join(' ')
      .trim();
    const { notes, instruction } = splitWardenNotes(text);
    const turn = new DemoTurn(client, params.sessionId, cwd);
    return { stopReason: await turn.run(instruction, notes) };
  });

const connection = app.connect(
  acp.ndJsonStream(
    Writable.toWeb(process.stdout) as WritableStream<Uint8Array>,
    Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>,
  ),
);
void connection.closed.then(() => process.exit(0));

class DemoTurn {
  private toolCounter = 0;

  constructor(
    private readonly client: acp.AgentContext,
    private readonly sessionId: string,
    private readonly cwd: string,
  ) {}

  async run(instruction: string, notes: string | undefined): Promise<acp.StopReason> {
    if (notes) await this.say(`Warden told me what happened to my earlier changes:\n${notes}\n`);
    await this.say(`I'll work on: "${instruction || '(no instruction)'}". Let me look at the project first.\n`);
    const read = await this.readFirst(['src/greet.js', 'README.md']);
    const steps = planFor(instruction, read);
    await this.update({
      sessionUpdate: 'plan',
      entries: steps.map((s) => ({ content: s.summary, priority: 'medium', status: 'pending' })),
    });
    const outcomes: string[] = [];
    for (const step of steps) {
      if (cancelled.has(this.sessionId)) return 'cancelled';
      outcomes.push(await this.perform(step));
    }
    await this.say(`\nDone. ${outcomes.join(' ')}\n`);
    return 'end_turn';
  }

  private async readFirst(candidates: string[]): Promise<{ path: string; content: string } | null> {
    for (const path of candidates) {
      const id = await this.startTool(`Read ${path}`, 'read', path);
      try {
        const { content } = await this.client.request('fs/read_text_file', { sessionId: this.sessionId, path: this.abs(path) });
        await this.finishTool(id, 'completed');
        return { path, content };
      } catch {
        await this.finishTool(id, 'failed');
      }
    }
    return null;
  }

  private async perform(step: DemoStep): Promise<string> {
    switch (step.kind) {
      case 'edit-with-permission':
        return this.editWithPermission(step.path, step.oldText, step.newText, step.summary);
      case 'write':
        return this.write(step.path, step.newText, step.summary);
      case 'command':
        return this.runCommand(step.command, step.args, step.summary);
    }
  }

  private async editWithPermission(path: string, oldText: string | null, newText: string, summary: string): Promise<string> {
    const diff: acp.ToolCallContent = { type: 'diff', path: this.abs(path), oldText, newText };
    const id = await this.startTool(summary, 'edit', path, [diff]);
    const answer = await this.client.request('session/request_permission', {
      sessionId: this.sessionId,
      toolCall: { toolCallId: id, kind: 'edit', title: summary, content: [diff], locations: [{ path: this.abs(path) }] },
      options: [
        { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
        { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
      ],
    });
    if (answer.outcome.outcome !== 'selected' || answer.outcome.optionId !== 'allow') {
      await this.finishTool(id, 'failed');
      const why = rejectedReason(answer._meta);
      await this.say(`The edit to ${path} was not allowed${why ? ` (${why})` : ''}; I left it alone.\n`);
      return `Skipped the edit to ${path} (not allowed).`;
    }
    return this.writeFile(id, path, newText);
  }

  private async write(path: string, newText: string, summary: string): Promise<string> {
    const id = await this.startTool(summary, 'edit', path, [{ type: 'diff', path: this.abs(path), oldText: null, newText }]);
    return this.writeFile(id, path, newText);
  }

  private async writeFile(toolCallId: string, path: string, content: string): Promise<string> {
    try {
      const result = await this.client.request('fs/write_text_file', { sessionId: this.sessionId, path: this.abs(path), content });
      await this.finishTool(toolCallId, 'completed');
      const changed = changesByReviewer(result._meta);
      if (changed) {
        await this.say(`Wrote ${path} with the reviewer's changes (${changed}); I'll read it again before editing it.\n`);
        return `Wrote ${path} with the reviewer's changes.`;
      }
      return `Wrote ${path}.`;
    } catch (error) {
      await this.finishTool(toolCallId, 'failed');
      await this.say(`Writing ${path} was refused: ${describe(error)}\n`);
      return `Could not write ${path}.`;
    }
  }

  private async runCommand(command: string, args: string[], summary: string): Promise<string> {
    const id = await this.startTool(summary, 'execute');
    let terminal: acp.TerminalHandle;
    try {
      terminal = await this.client.createTerminal({ sessionId: this.sessionId, command, args, cwd: this.cwd, outputByteLimit: 64 * 1024 });
    } catch (error) {
      await this.finishTool(id, 'failed');
      await this.say(`Running \`${[command, ...args].join(' ')}\` was refused: ${describe(error)}\n`);
      return 'The command was not run.';
    }
    await this.update({ sessionUpdate: 'tool_call_update', toolCallId: id, content: [{ type: 'terminal', terminalId: terminal.id }] });
    const exit = await terminal.waitForExit();
    const { output } = await terminal.currentOutput();
    await terminal.release();
    const ok = exit.exitCode === 0;
    await this.finishTool(id, ok ? 'completed' : 'failed');
    await this.say(
      `\`${[command, ...args].join(' ')}\` exited with ${exit.exitCode ?? exit.signal ?? 'unknown'}:\n${output.trim().split('\n').slice(-8).join('\n')}\n`,
    );
    return ok ? 'The command passed.' : `The command failed (exit ${exit.exitCode ?? 'none'}).`;
  }

  private async startTool(title: string, kind: acp.ToolKind, path?: string, content?: acp.ToolCallContent[]): Promise<string> {
    const toolCallId = `demo-tool-${++this.toolCounter}`;
    await this.update({
      sessionUpdate: 'tool_call',
      toolCallId,
      title,
      kind,
      status: 'in_progress',
      ...(path ? { locations: [{ path: this.abs(path) }] } : {}),
      ...(content ? { content } : {}),
    });
    return toolCallId;
  }

  private finishTool(toolCallId: string, status: 'completed' | 'failed'): Promise<void> {
    return this.update({ sessionUpdate: 'tool_call_update', toolCallId, status });
  }

  private say(text: string): Promise<void> {
    return this.update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } });
  }

  private update(update: acp.SessionUpdate): Promise<void> {
    return this.client.notify('session/update', { sessionId: this.sessionId, update });
  }

  private abs(path: string): string {
    return `${this.cwd.replace(/\/$/, '')}/${path}`;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}
