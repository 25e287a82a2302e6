import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from '../../src/cli/args';
import { EXIT } from '../../src/cli/exitCodes';
import { runCli } from '../../src/cli/main';

describe('warden run: agent presets, protocol and --secret-env', () => {
  it('parses --preset, --protocol and repeated --secret-env NAME=FILE', () => {
    const parsed = parseCommandLine([
      'run',
      '-p',
      'x',
      '--preset',
      'codex-app-server',
      '--secret-env',
      'OPENAI_API_KEY=/run/k',
      '--secret-env',
      'B=./b',
    ]);
    assert.deepEqual(parsed, {
      command: 'run',
      workspace: '.',
      agent: '',
      prompt: 'x',
      onAsk: 'reject',
      json: false,
      preset: 'codex-app-server',
      secretEnv: [
        { name: 'OPENAI_API_KEY', file: '/run/k' },
        { name: 'B', file: './b' },
      ],
    });
    assert.equal(
      (parseCommandLine(['run', '-p', 'x', '--agent', 'my-agent', '--protocol', 'codex-app-server']) as { protocol?: string }).protocol,
      'codex-app-server',
    );
  });

  it('rejects an unknown preset or protocol and a malformed --secret-env with a one-line usage error', async () => {
    assert.throws(() => parseCommandLine(['run', '-p', 'x', '--preset', 'gpt']), /--preset must be one of/);
    assert.throws(() => parseCommandLine(['run', '-p', 'x', '--protocol', 'mcp']), /--protocol must be "acp" or "codex-app-server"/);
    assert.throws(() => parseCommandLine(['run', '-p', 'x', '--secret-env', 'OPENAI_API_KEY']), /--secret-env must be NAME=FILE/);
    assert.throws(() => parseCommandLine(['run', '-p', 'x', '--secret-env', '1BAD=f']), /--secret-env must be NAME=FILE/);
  });

  it('an unreadable or empty secret file is a usage error before any sandbox starts, naming the variable', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-secret-'));
    await fs.writeFile(path.join(dir, 'empty'), '');
    const stderr: string[] = [];
    const io = { cwd: dir, env: {}, agentsHostPath: dir, stdout: () => undefined, stderr: (t: string) => void stderr.push(t) };
    const code = await runCli(['run', '-w', dir, '-p', 'x', '--agent', 'x', '--secret-env', 'OPENAI_API_KEY=missing'], io);
    assert.equal(code, EXIT.usage);
    assert.match(stderr.join(''), /--secret-env OPENAI_API_KEY: cannot read missing/);
    stderr.length = 0;
    assert.equal(await runCli(['run', '-w', dir, '-p', 'x', '--agent', 'x', '--secret-env', 'K=empty'], io as never), EXIT.usage);
    assert.match(stderr.join(''), /K: empty is empty/);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
