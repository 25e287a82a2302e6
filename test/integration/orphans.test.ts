import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { LABELS, LEASE_LOST_EXIT_CODE } from '../../src/core/sandbox/devcontainer';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

const docker = new Docker();

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

async function labelledContainer(workspace: string, owner: string): Promise<string> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ['sleep', '300'],
    Labels: { [LABELS.managed]: 'true', [LABELS.session]: 'crashed', [LABELS.workspace]: workspace, [LABELS.owner]: owner },
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], ReadonlyRootfs: true },
    User: '1000:1000',
  });
  await container.start();
  return container.id;
}

/** A managed sandbox that ran and exited with `code` (lease lost: LEASE_LOST_EXIT_CODE; Stop Session: 0), or was only created. */
async function finishedContainer(workspace: string, owner: string, code: number | 'never started'): Promise<string> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Entrypoint: ['/bin/sh', '-c', `exit ${code === 'never started' ? 0 : code}`],
    Labels: { [LABELS.managed]: 'true', [LABELS.session]: 'crashed', [LABELS.workspace]: workspace, [LABELS.owner]: owner },
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], ReadonlyRootfs: true },
    User: '1000:1000',
  });
  if (code !== 'never started') {
    await container.start();
    await container.wait();
  }
  return container.id;
}

describe('sandboxes of crashed sessions (real Docker engine)', function () {
  this.timeout(120_000);
  let workspace: string;
  const created: string[] = [];

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-orphans-'));
    await fs.chmod(workspace, 0o755);
    await fs.mkdir(path.join(workspace, '.devcontainer'));
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: BASE_IMAGE }));
  });

  after(async () => {
    await Promise.all(
      created.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await fs.rm(workspace, { recursive: true, force: true });
  });

  it('are removed at the next start, whatever their workspace (running ones of dead owners, those that lost their lease, never started ones); sandboxes of live Warden processes and other hosts, and kept ones, stay', async () => {
    const orphan = await labelledContainer(workspace, `${os.hostname()}:${deadPid()}`);
    const orphanElsewhere = await labelledContainer('/some/other/workspace', `${os.hostname()}:${deadPid()}`);
    const live = await labelledContainer(workspace, `${os.hostname()}:${process.ppid}`);
    const otherHost = await labelledContainer(workspace, `some-other-host:${deadPid()}`);
    const leaseLost = await finishedContainer(workspace, `some-other-host:${deadPid()}`, LEASE_LOST_EXIT_CODE);
    const neverStarted = await finishedContainer(workspace, `${os.hostname()}:${deadPid()}`, 'never started');
    const kept = await finishedContainer(workspace, `${os.hostname()}:${deadPid()}`, 0);
    created.push(orphan, orphanElsewhere, live, otherHost, leaseLost, neverStarted, kept);
    const logs: string[] = [];
    const sandbox = await new DockerSandboxProvider().start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sessionId: 'after-crash',
      onLog: (line) => logs.push(line),
    });
    created.push(sandbox.containerId);
    try {
      await assert.rejects(docker.getContainer(orphan).inspect(), /no such container/i);
      await assert.rejects(docker.getContainer(orphanElsewhere).inspect(), /no such container/i, 'orphans of other workspaces go too');
      await docker.getContainer(live).inspect();
      await assert.rejects(
        docker.getContainer(leaseLost).inspect(),
        /no such container/i,
        'a sandbox that lost its lease goes, whatever host it came from',
      );
      await assert.rejects(
        docker.getContainer(neverStarted).inspect(),
        /no such container/i,
        'one created by a process that died before starting it goes',
      );
      await docker.getContainer(kept).inspect();
      await docker.getContainer(otherHost).inspect();
      // Another run on the same engine may clean up the running orphans first (its owner is dead
      // for every Warden); only this branch's cleanup takes the one that lost its lease.
      assert.ok(
        logs.some((l) => l.includes(leaseLost.slice(0, 12)) && /crashed session/.test(l)),
        `the cleanup is reported: ${logs.join(' | ')}`,
      );
      const own = await docker.getContainer(sandbox.containerId).inspect();
      assert.equal(own.Config.Labels[LABELS.owner], `${os.hostname()}:${process.pid}`);
    } finally {
      await sandbox.stop();
    }
  });
});
