import { strict as assert } from 'node:assert';
import { AGENT_PRESETS, resolveAgent } from '../../src/core/agent/presets';
import { parseExtensionMessage, parseWebviewMessage } from '../../src/shared/reviewProtocol';

describe('Conversation contract (the Warden panel)', () => {
  it('accepts the conversation requests the webview sends, and drops anything else', () => {
    assert.ok(parseWebviewMessage({ type: 'prompt', id: 1, text: 'add tests' }).ok);
    assert.ok(parseWebviewMessage({ type: 'cancelTurn' }).ok);
    assert.ok(parseWebviewMessage({ type: 'answer', proposalId: 'p-1', answer: 'tabs' }).ok);
    assert.equal(parseWebviewMessage({ type: 'prompt', id: 1, text: '   ' }).ok, false, 'an empty instruction is not one');
    assert.equal(parseWebviewMessage({ type: 'prompt', text: 'no id' }).ok, false, 'a request without its id cannot be answered');
    assert.equal(parseWebviewMessage({ type: 'prompt', id: 1, text: 'x', extra: true }).ok, false, 'strict: unknown keys are refused');
    assert.equal(parseWebviewMessage({ type: 'answer', proposalId: '', answer: 'x' }).ok, false);
  });

  it('validates conversation snapshots from the extension, agent text as plain strings', () => {
    const ok = parseExtensionMessage({
      type: 'conversation',
      session: { id: 's', state: 'prompting', agent: 'gemini', protocol: 'acp', pendingReviews: 1 },
      entries: [
        { seq: 1, at: 'now', type: 'user-message', text: 'do it', turn: 1 },
        { seq: 2, at: 'now', type: 'agent-message', text: '<img src=x onerror=alert(1)>' },
        {
          seq: 3,
          at: 'now',
          type: 'tool-call',
          title: 't',
          status: 'pending',
          kind: 'edit',
          content: [{ type: 'diff', path: 'a', diff: '+x' }],
        },
      ],
      queued: ['next'],
    });
    assert.ok(ok.ok);
    assert.equal(
      parseExtensionMessage({ type: 'conversation', session: null, entries: [{ seq: 1, at: 'x', type: 'html', html: '<b>' }], queued: [] })
        .ok,
      false,
    );
    assert.ok(parseExtensionMessage({ type: 'promptResult', id: 3, outcome: 'queued' }).ok);
    assert.equal(parseExtensionMessage({ type: 'promptResult', id: 3, outcome: 'maybe' }).ok, false);
  });
});

describe('agent presets', () => {
  it('each preset names its command, protocol and key variable; the command setting overrides only the command', () => {
    assert.deepEqual(resolveAgent({ preset: 'gemini' }), {
      preset: 'gemini',
      command: 'gemini --acp',
      protocol: 'acp',
      apiKeyEnv: 'GEMINI_API_KEY',
    });
    assert.deepEqual(resolveAgent({ preset: 'codex-app-server' }), {
      preset: 'codex-app-server',
      command: 'codex app-server',
      protocol: 'codex-app-server',
      apiKeyEnv: 'OPENAI_API_KEY',
    });
    assert.match(resolveAgent({ preset: 'claude' }).command, /\bexec claude-agent-acp'$/);
    assert.equal(
      resolveAgent({ preset: 'opencode' }).command,
      `env OPENCODE_PERMISSION='{"edit":"ask","bash":"ask","webfetch":"ask","external_directory":"ask"}' opencode acp`,
    );
    assert.deepEqual(resolveAgent({ preset: 'copilot' }), {
      preset: 'copilot',
      command: 'env COPILOT_ALLOW_ALL=false copilot --acp',
      protocol: 'acp',
      apiKeyEnv: 'COPILOT_GITHUB_TOKEN',
    });
    assert.match(resolveAgent({ preset: 'codex-acp' }).command, /^codex-acp /);
    assert.equal(resolveAgent({ preset: 'gemini', command: 'gemini --acp --model x' }).command, 'gemini --acp --model x');
    assert.deepEqual(
      resolveAgent({}),
      { preset: 'custom', command: '', protocol: 'acp', apiKeyEnv: undefined },
      'nothing set: the demo agent',
    );
    assert.equal(resolveAgent({ preset: 'custom', command: 'my-agent', protocol: 'codex-app-server' }).protocol, 'codex-app-server');
    assert.equal(resolveAgent({ preset: 'nonsense' }).preset, 'custom');
    assert.equal(resolveAgent({ preset: 'opencode', apiKeyEnv: 'OPENAI_API_KEY' }).apiKeyEnv, 'OPENAI_API_KEY');
    assert.equal(resolveAgent({ preset: 'custom', apiKeyEnv: 'BAD NAME' }).apiKeyEnv, undefined);
  });

  it('package.json offers exactly the presets the core knows', async () => {
    const manifest = JSON.parse(await import('node:fs').then((fs) => fs.promises.readFile('package.json', 'utf8'))) as {
      contributes: { configuration: { properties: Record<string, { enum?: string[] }> } };
    };
    assert.deepEqual(manifest.contributes.configuration.properties['warden.agent.preset']?.enum, Object.keys(AGENT_PRESETS));
  });
});
