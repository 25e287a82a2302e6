/**
 * The bootstrap helpers (scripts/bootstrap/common.sh) against recorded dpkg states and a
 * real nested npm install, without touching the machine's packages: dpkg-query, dpkg and
 * apt-get are stubs on PATH that answer from a folder of recorded statuses and log calls.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const COMMON = path.resolve('scripts/bootstrap/common.sh');

/** dpkg's `${Status}` field as an interrupted `apt-get install` leaves it (`dpkg -l` shows iHR). */
const HALF_INSTALLED = 'install reinstreq half-installed';

const STUBS: Record<string, string> = {
  'dpkg-query': `#!/bin/sh
# dpkg-query -W -f='\${Status}' PKG
for last; do :; done
if [ -f "$STUB_STATE/$last" ]; then printf '%s' "$(cat "$STUB_STATE/$last")"; exit 0; fi
echo "dpkg-query: no packages found matching $last" >&2; exit 1
`,
  dpkg: `#!/bin/sh
echo "dpkg $*" >> "$STUB_LOG"
`,
  'apt-get': `#!/bin/sh
echo "apt-get $*" >> "$STUB_LOG"
[ "$1" = update ] && exit 0
for arg; do
  case "$arg" in -*|install) continue ;; esac
  case " $STUB_FAIL " in *" $arg "*) echo "E: Sub-process /usr/bin/dpkg returned an error code (1)"; exit 100 ;; esac
  printf 'install ok installed' > "$STUB_STATE/$arg"
done
`,
  sudo: `#!/bin/sh
exec "$@"
`,
};

interface Run {
  status: number | null;
  stderr: string;
  calls: string[];
  state(pkg: string): string | undefined;
}

/** Runs `apt_install PKGS` from common.sh with the stubs and the given recorded statuses. */
function aptInstall(packages: string[], recorded: Record<string, string>, failing: string[] = []): Run {
  const dir = mkdtempSync(path.join(tmpdir(), 'warden-bootstrap-'));
  try {
    const bin = path.join(dir, 'bin');
    const state = path.join(dir, 'state');
    mkdirSync(bin);
    mkdirSync(state);
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(path.join(bin, name), body);
      chmodSync(path.join(bin, name), 0o755);
    }
    for (const [pkg, status] of Object.entries(recorded)) writeFileSync(path.join(state, pkg), status);
    const log = path.join(dir, 'calls.log');
    writeFileSync(log, '');
    const result = spawnSync('bash', ['-c', `source "${COMMON}"; apt_install "$@"`, 'apt-install-test', ...packages], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        WARDEN_CACHE: path.join(dir, 'cache'),
        STUB_STATE: state,
        STUB_LOG: log,
        STUB_FAIL: failing.join(' '),
      },
      encoding: 'utf8',
    });
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const states = Object.fromEntries(
      ['chromium', 'podman', 'docker.io'].map((p) => [
        p,
        (() => {
          try {
            return readFileSync(path.join(state, p), 'utf8');
          } catch {
            return undefined;
          }
        })(),
      ]),
    );
    return { status: result.status, stderr: result.stderr, calls, state: (pkg) => states[pkg] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('bootstrap: apt_install', () => {
  it('does nothing when every package is installed', () => {
    const run = aptInstall(['chromium'], { chromium: 'install ok installed' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, []);
  });

  it('installs a package dpkg does not know, or knows only by its leftover config files', () => {
    const run = aptInstall(['chromium', 'podman'], { podman: 'deinstall ok config-files' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /apt-get install chromium podman/);
    assert.ok(
      run.calls.some((c) => /^apt-get install .*chromium podman$/.test(c)),
      run.calls.join('\n'),
    );
    assert.equal(run.state('chromium'), 'install ok installed');
  });

  it('repairs a half-installed package (iHR) that `dpkg -s` would call installed, and says so', () => {
    const run = aptInstall(['chromium'], { chromium: HALF_INSTALLED });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /chromium is not fully installed \(dpkg: install reinstreq half-installed\)/);
    assert.match(run.stderr, /repairing chromium: dpkg --configure -a, then apt-get install --reinstall/);
    const configure = run.calls.indexOf('dpkg --configure -a');
    const reinstall = run.calls.findIndex((c) => c.startsWith('apt-get install') && c.includes('--reinstall') && c.endsWith('chromium'));
    assert.ok(configure >= 0 && reinstall > configure, run.calls.join('\n'));
    assert.equal(run.state('chromium'), 'install ok installed');
  });

  it('repairs an unpacked but unconfigured package left next to a missing one', () => {
    const run = aptInstall(['docker.io', 'podman'], { 'docker.io': 'install ok unpacked' });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(
      run.calls.some((c) => c.includes('--reinstall') && c.endsWith('docker.io')),
      run.calls.join('\n'),
    );
    assert.ok(
      run.calls.some((c) => /^apt-get install .*--no-install-recommends podman$/.test(c)),
      run.calls.join('\n'),
    );
  });

  it('fails with what failed and the command that repairs it when the reinstall fails', () => {
    const run = aptInstall(['chromium'], { chromium: HALF_INSTALLED }, ['chromium']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /apt-get install --reinstall chromium failed/);
    assert.match(run.stderr, /E: Sub-process \/usr\/bin\/dpkg returned an error code/);
    assert.match(run.stderr, /To repair by hand: sudo dpkg --configure -a && sudo apt-get install --reinstall chromium/);
  });
});

describe('bootstrap: nested npm installs', function () {
  this.timeout(60_000);

  it('a postinstall sees the nested npm, not the outer `npm test` (npm_config_user_agent)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warden-nested-npm-'));
    try {
      const pkg = path.join(dir, 'probe');
      mkdirSync(pkg);
      writeFileSync(
        path.join(pkg, 'package.json'),
        JSON.stringify({ name: 'ua-probe', version: '1.0.0', scripts: { postinstall: 'echo "$npm_config_user_agent" > "$PROBE_OUT"' } }),
      );
      const target = path.join(dir, 'target');
      mkdirSync(target);
      writeFileSync(path.join(target, 'package.json'), '{"private":true}');
      const out = path.join(dir, 'user-agent.txt');
      // What npm exports to a script it runs: another npm on another Node.
      const outer = {
        npm_config_user_agent: 'npm/9.0.0 node/v16.0.0 linux x64 workspaces/false',
        npm_config_local_prefix: dir,
        npm_lifecycle_event: 'test',
      };
      const result = spawnSync(
        'bash',
        [
          '-c',
          `source "${COMMON}"; cd "${target}" && without_outer_npm npm install --no-audit --no-fund --offline --foreground-scripts "${pkg}" >/dev/null`,
        ],
        { env: { ...process.env, ...outer, WARDEN_CACHE: path.join(dir, 'cache'), PROBE_OUT: out }, encoding: 'utf8' },
      );
      assert.equal(result.status, 0, result.stderr);
      const seen = readFileSync(out, 'utf8').trim();
      assert.match(seen, new RegExp(`node/${process.version.replace(/\./g, '\\.')}`), `postinstall saw "${seen}"`);
      assert.doesNotMatch(seen, /node\/v16/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps what the user set (a registry), drops what the outer npm set', () => {
    const result = spawnSync('bash', ['-c', `source "${COMMON}"; without_outer_npm env`], {
      env: {
        ...process.env,
        WARDEN_CACHE: mkdtempSync(path.join(tmpdir(), 'warden-env-')),
        npm_config_registry: 'http://127.0.0.1:4873/',
        npm_config_user_agent: 'npm/x node/v16',
        npm_config_node_gyp: '/elsewhere/node-gyp.js',
      },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^npm_config_registry=http:\/\/127\.0\.0\.1:4873\/$/m);
    assert.doesNotMatch(result.stdout, /^npm_config_user_agent=/m);
    assert.doesNotMatch(result.stdout, /^npm_config_node_gyp=/m);
  });
});

describe('bootstrap: progress lines', () => {
  it('each step closes with one line naming it, what it did and its time, or that it failed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'warden-step-'));
    try {
      const ok = path.join(dir, 'fetch-thing.sh');
      writeFileSync(ok, `source "${COMMON}"; summary "thing is cached"`);
      const failing = path.join(dir, 'broken-thing.sh');
      writeFileSync(failing, `source "${COMMON}"; on_exit 'echo cleaned >&2'; false`);
      const env = { ...process.env, WARDEN_CACHE: path.join(dir, 'cache') };
      const good = spawnSync('bash', [ok], { env, encoding: 'utf8' });
      assert.equal(good.status, 0, good.stderr);
      assert.match(good.stderr, /^\[bootstrap\] fetch-thing: thing is cached \(\d+\.\ds\)$/m);
      const bad = spawnSync('bash', [failing], { env, encoding: 'utf8' });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^cleaned$/m);
      assert.match(bad.stderr, /^\[bootstrap\] broken-thing: FAILED after \d+\.\ds \(exit 1\)/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
