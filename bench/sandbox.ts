/**
 * Sandbox start, side by side with two references in the same run, on the same
 * devcontainer.json and the same local image:
 * - `docker run` with exactly the flags Warden used (read back from the container Warden
 *   created, so the comparison stays honest when the hardening changes);
 * - `devcontainer up` from the reference implementation (@devcontainers/cli), installed on
 *   demand into ~/.cache/warden-dev/devcontainer-cli (not a project dependency).
 * Cold start: nothing exists yet; each run creates, starts and removes its container.
 * Warm reattach: a container of an earlier session exists, stopped; measured once Warden
 * reuses containers (the same container comes back from a second start), references always.
 * Runs are interleaved (Warden, docker, devcontainer, Warden, ...) so drift on a shared
 * machine hits all three alike; the median of each counts.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { z } from 'zod';
import { DockerSandboxProvider } from '../src/core/sandbox/dockerSandbox';
import { LABELS } from '../src/core/sandbox/devcontainer';
import type { Sandbox } from '../src/core/sandbox/types';
import type { BenchFigure } from './lib';

const exec = promisify(execFile);
const IMAGE = 'warden-sandbox-base:dev';
const RUNS = Number(process.env.WARDEN_BENCH_SANDBOX_RUNS ?? 5);
/**
 * A/B in the same run: the path of another tree's src/core/sandbox/dockerSandbox.ts (say, main's,
 * checked out beside this one); its provider is measured interleaved with this one and the
 * references, and its rows are marked "(baseline)".
 */
const BASELINE = process.env.WARDEN_BENCH_SANDBOX_BASELINE;
const DEVCONTAINER_CLI_VERSION = '0.89.0';
const DEVCONTAINER_CLI_DIR = path.join(os.homedir(), '.cache', 'warden-dev', 'devcontainer-cli');
const KEEPALIVE = 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done';

// The parts of `docker inspect` that carry the sandbox's flags.
const inspectSchema = z.looseObject({
  Config: z.looseObject({ User: z.string(), Env: z.array(z.string()).nullish(), WorkingDir: z.string() }),
  HostConfig: z.looseObject({
    NetworkMode: z.string(),
    ReadonlyRootfs: z.boolean(),
    CapDrop: z.array(z.string()).nullish(),
    CapAdd: z.array(z.string()).nullish(),
    SecurityOpt: z.array(z.string()).nullish(),
    PidsLimit: z.number().nullish(),
    Memory: z.number(),
    MemorySwap: z.number(),
    IpcMode: z.string(),
    Tmpfs: z.record(z.string(), z.string()).nullish(),
    Mounts: z
      .array(z.looseObject({ Type: z.string(), Source: z.string(), Target: z.string(), ReadOnly: z.boolean().optional() }))
      .nullish(),
  }),
});

/** `docker run` flags equal to the container Warden created; the workspace mount is kept apart (devcontainer.json names it). */
function flagsOf(
  inspect: z.infer<typeof inspectSchema>,
  workspaceFolder: string,
): { common: string[]; workspaceMount: string; user: string } {
  const h = inspect.HostConfig;
  const common = ['--network', h.NetworkMode, '--ipc', h.IpcMode];
  if (h.ReadonlyRootfs) common.push('--read-only');
  for (const cap of h.CapDrop ?? []) common.push('--cap-drop', cap);
  for (const cap of h.CapAdd ?? []) common.push('--cap-add', cap);
  for (const opt of h.SecurityOpt ?? []) common.push('--security-opt', opt);
  if (h.PidsLimit) common.push('--pids-limit', String(h.PidsLimit));
  if (h.Memory) common.push('--memory', `${h.Memory}b`, '--memory-swap', `${h.MemorySwap}b`);
  for (const [target, options] of Object.entries(h.Tmpfs ?? {})) common.push('--tmpfs', `${target}:${options}`);
  for (const env of inspect.Config.Env ?? []) common.push('--env', env);
  let workspaceMount = '';
  for (const m of h.Mounts ?? []) {
    const spec = `type=${m.Type},source=${m.Source},target=${m.Target}${m.ReadOnly ? ',readonly' : ''}`;
    if (m.Target === workspaceFolder) workspaceMount = spec;
    else common.push('--mount', spec);
  }
  return { common, workspaceMount, user: inspect.Config.User };
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(body: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The reference CLI, installed once into the cache (npm registry only; it is not a project dependency). */
async function devcontainerCli(): Promise<string> {
  const bin = path.join(DEVCONTAINER_CLI_DIR, 'node_modules', '.bin', 'devcontainer');
  if (existsSync(bin)) return bin;
  process.stderr.write(`[bench] installing @devcontainers/cli@${DEVCONTAINER_CLI_VERSION} into ${DEVCONTAINER_CLI_DIR}\n`);
  await fs.mkdir(DEVCONTAINER_CLI_DIR, { recursive: true });
  await exec(
    'npm',
    ['install', '--prefix', DEVCONTAINER_CLI_DIR, '--no-audit', '--no-fund', '--no-save', `@devcontainers/cli@${DEVCONTAINER_CLI_VERSION}`],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (!existsSync(bin)) throw new Error(`npm installed @devcontainers/cli but ${bin} is missing`);
  return bin;
}

/**
 * Runs `devcontainer up` offline. The CLI looks up a "control manifest" on containers.dev
 * unless its cached copy is under 5 minutes old: a fresh empty copy in its cache folder
 * (under TMPDIR) keeps it off the network. Nothing is pulled: the image is local.
 */
async function devcontainerUp(bin: string, workspace: string, config: string, tmpdir: string): Promise<void> {
  const cache = path.join(tmpdir, `devcontainercli-${os.userInfo().username}`);
  await fs.mkdir(cache, { recursive: true });
  await fs.writeFile(path.join(cache, 'control-manifest.json'), '{"disallowedFeatures":[],"featureAdvisories":[]}');
  const { stdout } = await exec(bin, ['up', '--workspace-folder', workspace, '--config', config, '--log-level', 'info'], {
    env: { ...process.env, TMPDIR: tmpdir },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!/"outcome":"success"/.test(stdout)) throw new Error(`devcontainer up did not succeed: ${stdout.slice(-500)}`);
}

async function removeByLabel(docker: Dockerode, label: string): Promise<void> {
  const found = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    found.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

export async function runSandboxBench(): Promise<BenchFigure[]> {
  await exec('bash', [path.join(__dirname, '..', 'scripts', 'bootstrap', 'images.sh')]);
  const docker = new Dockerode();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-bench-sandbox-'));
  await fs.chmod(root, 0o755);
  const workspace = path.join(root, 'ws');
  const tmpdir = path.join(root, 'tmp');
  await fs.mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await fs.mkdir(tmpdir);
  const starter =
    (provider: Pick<DockerSandboxProvider, 'start'>) =>
    (workspaceHostPath = workspace, reuse = false): Promise<Sandbox> =>
      provider.start({ workspaceMode: 'readonly', workspaceHostPath, agentsHostPath: root, sessionId: 'bench', reuse });
  const start = starter(new DockerSandboxProvider(docker));
  const baseline = BASELINE
    ? starter(
        new ((await import(path.resolve(BASELINE))) as { DockerSandboxProvider: typeof DockerSandboxProvider }).DockerSandboxProvider(
          docker,
        ),
      )
    : undefined;
  const devcontainerLabel = `devcontainer.local_folder=${workspace}`;
  const figures: BenchFigure[] = [];
  try {
    // The workspace's devcontainer.json, as both tools read it. updateRemoteUserUID is for the
    // reference CLI: no UID-update image build (it would run usermod in a derived image), so it
    // runs the same image as the same user. Warden ignores that key and says so.
    const config = { image: IMAGE, workspaceFolder: '/workspaces/ws', containerUser: '1000:1000', updateRemoteUserUID: false };
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
    const probe = await start();
    const inspect = inspectSchema.parse(await docker.getContainer(probe.containerId).inspect());
    await probe.stop();
    await removeByLabel(docker, `${LABELS.workspace}=${workspace}`);
    const flags = flagsOf(inspect, probe.workspaceFolder);
    // For the reference CLI the same file plus the hardening Warden applies on its own, as
    // runArgs and a read-only workspaceMount (given with --config: Warden refuses runArgs
    // unless the team policy allows them, so they cannot live in the workspace's file).
    const referenceConfig = path.join(root, 'reference', 'devcontainer.json');
    await fs.mkdir(path.dirname(referenceConfig));
    await fs.writeFile(
      referenceConfig,
      JSON.stringify(
        {
          ...config,
          runArgs: flags.common,
          workspaceMount: flags.workspaceMount.replace(/^type=bind,source=([^,]+),target=([^,]+)/, 'source=$1,target=$2,type=bind'),
        },
        null,
        2,
      ),
    );
    const dockerRun = [
      'run',
      '--rm',
      ...flags.common,
      '--mount',
      flags.workspaceMount,
      '--user',
      flags.user,
      '--workdir',
      inspect.Config.WorkingDir,
      IMAGE,
      'true',
    ];

    let bin: string | undefined;
    let devcontainerProblem = '';
    try {
      bin = await devcontainerCli();
      await devcontainerUp(bin, workspace, referenceConfig, tmpdir); // warm-up and a check that it works here
      await removeByLabel(docker, devcontainerLabel);
    } catch (error) {
      devcontainerProblem = error instanceof Error ? error.message : String(error);
      bin = undefined;
      process.stderr.write(`[bench] devcontainer up cannot run here, its figures are left out: ${devcontainerProblem}\n`);
    }

    // Cold start: create, start, ready, and remove.
    const cold = { warden: [] as number[], baseline: [] as number[], docker: [] as number[], devcontainer: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      // A workspace no session has seen: nothing can be reused, whatever Warden's lifecycle.
      const fresh = path.join(root, `cold-${i}`);
      await fs.cp(workspace, fresh, { recursive: true });
      cold.warden.push(await timed(async () => (await start(fresh)).stop()));
      await removeByLabel(docker, `${LABELS.workspace}=${fresh}`);
      if (baseline) {
        const other = `${fresh}-baseline`;
        await fs.cp(workspace, other, { recursive: true });
        cold.baseline.push(await timed(async () => (await baseline(other)).stop()));
        await removeByLabel(docker, `${LABELS.workspace}=${other}`);
      }
      cold.docker.push(await timed(() => exec('docker', dockerRun)));
      if (bin) {
        const b = bin;
        cold.devcontainer.push(
          await timed(async () => {
            await devcontainerUp(b, workspace, referenceConfig, tmpdir);
            await removeByLabel(docker, devcontainerLabel);
          }),
        );
      }
    }
    const wardenCold = median(cold.warden);
    figures.push({
      figure: 'sandbox cold start + remove',
      unit: 'ms',
      warden: wardenCold,
      reference: median(cold.docker),
      referenceLabel: 'docker run --rm (same flags)',
      target: 'ratio <= 1.15',
    });
    if (baseline)
      figures.push({
        figure: 'sandbox cold start + remove (baseline)',
        unit: 'ms',
        warden: median(cold.baseline),
        reference: median(cold.docker),
        referenceLabel: 'docker run --rm (same flags)',
        target: 'ratio <= 1.15',
      });
    if (bin)
      figures.push({
        figure: 'sandbox cold start + remove',
        unit: 'ms',
        warden: wardenCold,
        reference: median(cold.devcontainer),
        referenceLabel: 'devcontainer up + rm',
        target: 'ratio <= 1',
      });

    figures.push(await killSwitchFigure(start, path.join(root, 'kill')));
    figures.push(
      ...(await warmFigures(docker, (w) => start(w, true), {
        ...(baseline ? { baseline: (w = path.join(root, 'warm-baseline')) => baseline(w, true) } : {}),
        dockerCreate: [
          'create',
          ...flags.common,
          '--mount',
          flags.workspaceMount,
          '--user',
          flags.user,
          '--entrypoint',
          '/bin/sh',
          IMAGE,
          '-c',
          KEEPALIVE,
        ],
        bin,
        workspace,
        referenceConfig,
        tmpdir,
        devcontainerLabel,
      })),
    );
    return figures;
  } finally {
    await removeByLabel(docker, devcontainerLabel);
    await removeByLabel(docker, `${LABELS.workspace}=${workspace}`);
    await removeByLabel(docker, `${LABELS.workspace}=${path.join(root, 'warm-baseline')}`);
    await fs.rm(root, { recursive: true, force: true });
  }
}

/**
 * Warm reattach: a later session of the same workspace finds the container of an earlier one.
 * References: `docker start` of the stopped container, and `devcontainer up` when its container
 * exists (stopped). Warden's figure appears once a second start returns the same container.
 */
async function warmFigures(
  docker: Dockerode,
  start: (workspaceHostPath?: string) => Promise<Sandbox>,
  ref: {
    dockerCreate: string[];
    bin: string | undefined;
    workspace: string;
    referenceConfig: string;
    tmpdir: string;
    devcontainerLabel: string;
    /** The baseline provider's start, on a workspace of its own (kept containers are found by workspace). */
    baseline?: (workspaceHostPath?: string) => Promise<Sandbox>;
  },
): Promise<BenchFigure[]> {
  const warm = { warden: [] as number[], baseline: [] as number[], docker: [] as number[], devcontainer: [] as number[] };
  if (ref.baseline) {
    await fs.cp(ref.workspace, path.join(path.dirname(ref.workspace), 'warm-baseline'), { recursive: true });
    await (await ref.baseline()).stop({ keep: true });
  }
  // Stop Session keeps the container (stopped); the next session of the workspace restarts it.
  const first = await start();
  await first.stop({ keep: true });
  const again = await start();
  const reused = again.containerId === first.containerId;
  await again.stop({ keep: true });
  if (!reused)
    process.stderr.write(
      '[bench] Warden starts a new container for each session (no reuse yet): warm reattach is measured for the references only\n',
    );

  const created = (await exec('docker', ref.dockerCreate)).stdout.trim();
  try {
    if (ref.bin) {
      await devcontainerUp(ref.bin, ref.workspace, ref.referenceConfig, ref.tmpdir);
    }
    for (let i = 0; i < RUNS; i++) {
      if (reused) {
        let sandbox: Sandbox | undefined;
        warm.warden.push(await timed(async () => (sandbox = await start())));
        await sandbox?.stop({ keep: true });
      }
      if (ref.baseline) {
        let sandbox: Sandbox | undefined;
        const startBaseline = ref.baseline;
        warm.baseline.push(await timed(async () => (sandbox = await startBaseline())));
        await sandbox?.stop({ keep: true });
      }
      warm.docker.push(await timed(() => exec('docker', ['start', created])));
      await exec('docker', ['stop', '-t', '1', created]);
      if (ref.bin) {
        for (const c of await docker.listContainers({ filters: { label: [ref.devcontainerLabel] } }))
          await docker
            .getContainer(c.Id)
            .stop({ t: 1 })
            .catch(() => undefined);
        const b = ref.bin;
        warm.devcontainer.push(await timed(() => devcontainerUp(b, ref.workspace, ref.referenceConfig, ref.tmpdir)));
      }
    }
  } finally {
    await exec('docker', ['rm', '-f', created]).catch(() => undefined);
  }
  const figures: BenchFigure[] = [];
  // Without reuse the Warden column is the cold start: the ratio says how far reuse has to go.
  const wardenWarm = reused ? median(warm.warden) : Number.NaN;
  const label = reused ? 'sandbox warm reattach' : 'sandbox warm reattach (no reuse yet)';
  figures.push({
    figure: label,
    unit: 'ms',
    warden: wardenWarm,
    reference: median(warm.docker),
    referenceLabel: 'docker start (stopped container)',
    target: 'ratio <= 1.15',
  });
  if (ref.baseline)
    figures.push({
      figure: 'sandbox warm reattach (baseline)',
      unit: 'ms',
      warden: median(warm.baseline),
      reference: median(warm.docker),
      referenceLabel: 'docker start (stopped container)',
      target: 'ratio <= 1.15',
    });
  if (ref.bin)
    figures.push({
      figure: label,
      unit: 'ms',
      warden: wardenWarm,
      reference: median(warm.devcontainer),
      referenceLabel: 'devcontainer up (existing container)',
      target: 'ratio <= 1',
    });
  return figures;
}

/**
 * The kill switch (Warden: Stop Agent Now): from pulling it to the container being gone, with
 * an agent that ignores SIGTERM busy inside. The target is 2 s; there is no reference.
 */
async function killSwitchFigure(start: (workspaceHostPath?: string) => Promise<Sandbox>, workspace: string): Promise<BenchFigure> {
  await fs.mkdir(path.join(workspace, '.devcontainer'), { recursive: true });
  await fs.chmod(workspace, 0o755);
  await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: IMAGE }));
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const sandbox = await start(workspace);
    const agent = await sandbox.execAgent(['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 1; done']);
    agent.stdout.resume();
    agent.stderr.resume();
    times.push(await timed(() => (sandbox.kill ? sandbox.kill() : sandbox.stop())));
  }
  return {
    figure: 'kill switch (agent ignoring SIGTERM)',
    unit: 'ms',
    warden: median(times),
    reference: null,
    referenceLabel: '',
    target: '< 2000 ms',
  };
}

export { runSandboxBench as run };
