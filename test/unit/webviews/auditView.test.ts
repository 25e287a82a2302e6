import { strict as assert } from 'node:assert';
import { startAuditView } from '../../../media/audit/main';
import { TYPING_DELAY_MS, initialAuditState, update } from '../../../media/audit/update';
import { XSS_CORPUS } from '../../support/xssCorpus';
import { blame, hash, row, session, state, verify } from './auditFixtures';
import { fakeWebview, type FakeWebview } from './dom';

/** The Audit panel's webview in a DOM emulation: every message, the filters, blame, hostile text, long lists. */
describe('Audit webview (happy-dom)', () => {
  let web: FakeWebview;
  const send = (message: unknown): void => {
    web.window.dispatchEvent(new web.window.MessageEvent('message', { data: message }));
  };
  const $ = (selector: string): HTMLElement => {
    const found = web.root.querySelector<HTMLElement>(selector);
    assert.ok(found, `${selector} is on the page`);
    return found;
  };
  const all = (selector: string): HTMLElement[] => [...web.root.querySelectorAll<HTMLElement>(selector)];
  const fire = (element: HTMLElement, type: string): void => {
    element.dispatchEvent(new web.window.Event(type, { bubbles: true }) as unknown as Event);
  };
  const choose = (id: string, value: string): void => {
    const select = $(`#${id}`) as HTMLSelectElement;
    select.value = value;
    fire(select, 'change');
  };
  const type = (id: string, text: string): void => {
    const input = $(`#${id}`) as HTMLInputElement;
    input.value = text;
    fire(input, 'input');
  };
  /** Lets the debounced query go out (happy-dom runs the pending timers). */
  const settle = (): Promise<void> => web.window.happyDOM.waitUntilComplete();
  const queries = (): unknown[] => web.posted.filter((m) => m.type === 'query').map((m) => m.filters);
  const seqs = (): number[] => all('#entries > li').map((li) => Number(li.dataset.seq));

  const start = (saved?: unknown): void => {
    web = fakeWebview(saved);
    startAuditView(web.root);
  };
  afterEach(async () => web.close());

  it('says ready, then draws the verify status on top, the sessions, the team and the entries newest first', () => {
    start();
    assert.deepEqual(web.posted, [{ type: 'ready' }]);
    send(state());
    const page = [...web.root.querySelectorAll('header, #verify-status, #team-summary, .sessions, #blame, #filters, #entries')].map(
      (e) => e.id || e.className,
    );
    assert.deepEqual(page, ['page-header', 'verify-status', 'team-summary', 'sessions', 'blame', 'filters', 'entries']);
    assert.equal($('#verify-status').dataset.ok, 'true');
    assert.match($('#verify-status').textContent ?? '', /Chain intact[\s\S]*17 entries in 1 segment[\s\S]*1 chain, 1 intact/);
    assert.deepEqual(seqs(), [3, 2, 1]);
    assert.equal($('#result-count').textContent, '3 entries');
    assert.equal($('.sessions h2').textContent, 'Sessions (1)');
    // The whole session id (issue 22: ids were cut to "s-202612"), and the commits the session produced.
    assert.equal($('#sessions .session-id').textContent, 's-20261201100000-0000000a');
    assert.deepEqual(
      all('#filter-session option').map((o) => o.textContent),
      ['Any', 's-20261201100000-0000000a'],
      'the session filter offers whole ids too',
    );
    assert.equal($('#sessions .chip.commits').textContent, `commits ${'c'.repeat(10)}`);
    assert.deepEqual(
      all('#by-developer tbody td').map((td) => td.textContent),
      ['Ada <ada@example.com>', '1', '1', '2', '1', '1', '1.5 s', '4.0 min'],
    );
    assert.deepEqual(web.posted.at(-1), { type: 'rendered', sessions: 1, rows: 3 });
    assert.equal(($('#export-otlp') as HTMLButtonElement).hidden, true);
  });

  it('shows a broken chain prominently, per chain and per anchor, with repair and open-break actions', () => {
    start();
    const firstBreak = { chain: 'session-one', file: '.warden/audit/sessions/one.jsonl', line: 4, reason: 'entry was modified' };
    send(
      state({
        verify: verify({
          ok: false,
          message: 'Chain broken at line 4',
          firstBreak,
          repairable: true,
          chains: [
            { chain: 'session-one', ok: false, entries: 3, headSeq: 3, firstBreak },
            { chain: 'session-two', ok: true, entries: 6, headSeq: 6 },
          ],
          anchorFailures: ['session s-9 is referenced by commit abc but its log is gone'],
          anchors: { count: 1, ok: false, message: '1 anchor fails' },
        }),
      }),
    );
    assert.equal($('#verify-status').dataset.ok, 'false');
    assert.match($('.verify-title').textContent ?? '', /Chain broken/);
    assert.deepEqual(
      all('#verify-chains li').map((li) => li.textContent),
      [
        'chain session-one: .warden/audit/sessions/one.jsonl:4: entry was modified',
        'session s-9 is referenced by commit abc but its log is gone',
      ],
    );
    $('#repair').click();
    assert.deepEqual(web.posted.at(-1), { type: 'repair' });
    all('.verify-actions button')
      .find((b) => b.textContent === 'Open one.jsonl:4')
      ?.click();
    assert.deepEqual(web.posted.at(-1), { type: 'openBreak' });
    all('.verify-actions button')
      .find((b) => b.textContent === 'Verify again')
      ?.click();
    assert.deepEqual(web.posted.at(-1), { type: 'verify' });
  });

  it('filters by decision, developer, agent, rule and date at once, persists them, and clears', async () => {
    start();
    send(state());
    choose('filter-decision', 'rejected');
    choose('filter-developer', 'Bob <bob@example.com>');
    choose('filter-agent', 'codex');
    choose('filter-rule', 'allow-tests');
    const since = $('#filter-since') as HTMLInputElement;
    since.value = '2026-12-01';
    fire(since, 'change');
    await settle();
    const expected = { decision: 'rejected', developer: 'Bob <bob@example.com>', agent: 'codex', rule: 'allow-tests', since: '2026-12-01' };
    assert.deepEqual(queries().at(-1), expected);
    assert.deepEqual(web.saved(), { version: 1, filters: expected });
    assert.equal(($('#filter-developer') as HTMLSelectElement).value, 'Bob <bob@example.com>');
    // A snapshot does not undo what the lead picked meanwhile.
    send(state({ filters: { decision: 'rejected' } }));
    assert.equal(($('#filter-agent') as HTMLSelectElement).value, 'codex');
    $('#clear-filters').click();
    await settle();
    assert.deepEqual(queries().at(-1), {});
    assert.equal(($('#filter-decision') as HTMLSelectElement).value, '');
  });

  it('restores persisted filters after a reload and asks for them', () => {
    start({ version: 1, filters: { decision: 'approved', sessionId: 'gone' } });
    assert.deepEqual(web.posted, [{ type: 'ready' }, { type: 'query', filters: { decision: 'approved', sessionId: 'gone' } }]);
    send(state());
    assert.equal(($('#filter-decision') as HTMLSelectElement).value, 'approved');
    // A persisted session the log no longer lists stays visible in the picker.
    assert.equal(($('#filter-session') as HTMLSelectElement).value, 'gone');
  });

  it('ignores a persisted state it does not know', () => {
    start({ version: 7, filters: 'x' });
    assert.deepEqual(web.posted, [{ type: 'ready' }]);
  });

  it('searches the full text once the lead pauses typing', async () => {
    start();
    send(state());
    type('search', 'f');
    type('search', 'fa');
    type('search', 'farewell');
    await settle();
    assert.deepEqual(queries(), [{ text: 'farewell' }], 'one query, with the last text');
    assert.equal(($('#search') as HTMLInputElement).value, 'farewell');
  });

  it('picks a session from the timeline and unpicks it', async () => {
    start();
    send(state({ sessions: [session('s-1'), session('s-2')] }));
    const [, second] = all('#sessions .session-button');
    second?.click();
    await settle();
    assert.deepEqual(queries().at(-1), { sessionId: 's-2' });
    assert.equal(all('#sessions .session-button')[1]?.getAttribute('aria-pressed'), 'true');
    assert.ok($('#sessions li[data-session-id="s-2"]').classList.contains('selected'));
    all('#sessions .session-button')[1]?.click();
    await settle();
    assert.deepEqual(queries().at(-1), {});
  });

  it('opens a diff and an entry, and keeps an expanded entry open across snapshots', () => {
    start();
    send(state());
    $('#entries > li[data-seq="2"] .entry-actions button').click();
    assert.deepEqual(web.posted.at(-1), { type: 'openDiff', seq: 2, hash: hash(2) });
    const details = $('#entries > li[data-seq="2"] details') as HTMLDetailsElement;
    details.open = true;
    fire(details, 'toggle');
    assert.equal($('#entries > li[data-seq="2"] pre.detail').textContent, '{ "seq": 2 }');
    $('#entries > li[data-seq="2"] details .link-button').click();
    assert.deepEqual(web.posted.at(-1), { type: 'openEntry', seq: 2, hash: hash(2) });
    send(state());
    assert.equal(($('#entries > li[data-seq="2"] details') as HTMLDetailsElement).open, true);
    assert.equal(all('pre.detail').length, 1, 'closed entries keep their data out of the page');
  });

  it('exports JSON and CSV, and sends to OpenTelemetry only when configured', () => {
    start();
    send(state({ otlpConfigured: true }));
    for (const format of ['json', 'csv', 'otlp']) {
      $(`#export-${format}`).click();
      assert.deepEqual(web.posted.at(-1), { type: 'export', format });
    }
  });

  it('shows busy, notices and errors (the newest three), replaces a progress notice by its outcome, and dismisses them', () => {
    start();
    send(state());
    send({ type: 'busy', what: 'Exporting CSV…' });
    assert.equal($('.audit').getAttribute('aria-busy'), 'true');
    send({ type: 'notice', message: 'Exported.' });
    assert.equal($('.audit').getAttribute('aria-busy'), null);
    assert.deepEqual(
      all('#notices .callout > span').map((s) => s.textContent),
      ['Exported.'],
      'the outcome replaces "Exporting…"',
    );
    send({ type: 'error', message: 'disk full' });
    send({ type: 'notice', message: 'fourth' });
    assert.deepEqual(
      all('#notices .callout > span').map((s) => s.textContent),
      ['fourth', 'disk full', 'Exported.'],
    );
    assert.equal($('#notices .callout.error').getAttribute('role'), 'alert');
    $('#notices .callout.error .link-button').click();
    assert.equal(all('#notices .callout').length, 2);
  });

  it('drops a message that does not parse, and says nothing back', () => {
    start();
    send(state());
    const before = web.posted.length;
    send({ type: 'state', rows: 'nope' });
    send({ type: 'blame', target: 1 });
    send('state');
    assert.equal(web.posted.length, before);
    assert.deepEqual(seqs(), [3, 2, 1]);
  });

  it('renders hostile text from every field as text', () => {
    start();
    const evil = XSS_CORPUS.join(' ');
    send(
      state({
        rows: XSS_CORPUS.map((text, i) =>
          row(i + 1, { summary: text, type: text, kind: text, path: text, reviewer: text, actorName: text, agent: text, detail: text }),
        ),
        sessions: [session(evil, { instruction: evil, developer: evil, agent: evil, ended: evil, commits: [evil] })],
        byDeveloper: [
          { key: evil, sessions: 1, asks: 0, approvals: 0, rejections: 0, automatic: 0, medianDecideMs: null, p90DecideMs: null },
        ],
        verify: verify({ message: evil, anchors: { count: 0, ok: true, message: evil } }),
      }),
    );
    send({ type: 'notice', message: evil });
    for (const details of all('details')) {
      (details as HTMLDetailsElement).open = true;
      fire(details, 'toggle');
    }
    send(
      blame({
        target: evil,
        files: [
          {
            path: evil,
            lines: 1,
            attributed: 0,
            sessions: [],
            ranges: [{ start: 1, end: 1, commit: null, approval: null, linked: false, firstLine: evil }],
          },
        ],
      }),
    );
    assert.equal(web.root.querySelectorAll('img, svg, iframe, a, b, script, style').length, 0);
    assert.equal(all('details').length, XSS_CORPUS.length, 'only the entries’ own details elements');
    assert.equal([...web.root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length, 0);
    assert.equal(all('#entries .summary')[0]?.textContent, XSS_CORPUS[0]);
    assert.equal((web.window as unknown as { __xss?: unknown }).__xss, undefined);
  });

  it('marks invisible and bidirectional characters in log text, and warns', () => {
    start();
    send(state({ sessions: [session('s-1', { instruction: 'ok\u202Egnp.exe' })], rows: [row(1, { summary: 'zero\u200Bwidth' })] }));
    assert.deepEqual(
      all('.hidden-char').map((m) => m.textContent),
      ['U+202E', 'U+200B'],
    );
    assert.match($('.callout.warning').textContent ?? '', /The audit log contains invisible or bidirectional control characters/);
    assert.equal($('#sessions .session-instruction').textContent, 'okU+202Egnp.exe');
    send(
      blame({
        commits: [],
        files: [
          {
            path: 'a.js',
            lines: 1,
            attributed: 0,
            sessions: [],
            ranges: [{ start: 1, end: 1, commit: null, approval: null, linked: false, firstLine: 'if (admin\u2067) {' }],
          },
        ],
      }),
    );
    assert.equal($('#blame .blame-text .hidden-char').textContent, 'U+2067');
    assert.match($('#blame .callout.warning').textContent ?? '', /The blamed text contains invisible/);
  });

  it('lists 1,000 sessions and 500 entries, and a filter typed over them leaves the lists in place', async function () {
    // happy-dom builds 20,000 elements slowly on a loaded machine (a real webview: see bench/auditTeam.ts).
    this.timeout(120_000);
    start();
    const sessions = Array.from({ length: 1000 }, (_, i) => session(`s-${String(i).padStart(4, '0')}`));
    const rows = Array.from({ length: 500 }, (_, i) => row(500 - i));
    send(state({ sessions, sessionsTotal: 1000, rows, matched: 4000, total: 4000 }));
    assert.deepEqual(web.posted.at(-1), { type: 'rendered', sessions: 1000, rows: 500 });
    assert.equal($('#result-count').textContent, '4000 entries; showing the newest 500');
    assert.equal(all('#filter-session option').length, 1001);
    const first = $('#entries > li');
    type('search', 'x');
    assert.equal($('#entries > li'), first, 'the same elements, not a new list');
    await settle();
  });

  it('blames the default target or a named one, and draws each file’s ranges with the session, agent, approver and rule', () => {
    start();
    send(state());
    $('#blame-run').click();
    assert.deepEqual(web.posted.at(-1), { type: 'blame' });
    assert.equal(($('#blame-run') as HTMLButtonElement).disabled, true);
    send(blame());
    assert.equal(($('#blame-target') as HTMLInputElement).value, 'HEAD', 'the resolved default');
    assert.deepEqual(web.posted.at(-1), {
      type: 'rendered',
      sessions: 1,
      rows: 3,
      blame: { target: 'HEAD', files: 1, ranges: 2, unexplained: 1 },
    });
    const ranges = all('.blame-file[data-path="src/greet.js"] .blame-range');
    assert.deepEqual(
      ranges.map((r) => r.querySelector('.blame-lines')?.textContent),
      ['lines 6–11', 'line 12'],
    );
    assert.match(
      ranges[0]?.textContent ?? '',
      /session session-one · agent demo · approved by Alice <alice@example\.com> \(rule review-src\)/,
    );
    assert.ok(ranges[1]?.classList.contains('unexplained'));
    assert.match(ranges[1]?.textContent ?? '', /No session explains these lines/);
    assert.match($('.blame-commits li').textContent ?? '', /Add a farewell function \(Alice <alice@example\.com>\) · session-one/);

    type('blame-target', 'main..HEAD');
    fire($('.blame-form'), 'submit');
    assert.deepEqual(web.posted.at(-1), { type: 'blame', target: 'main..HEAD' });
    send({ type: 'blameFailed', target: 'main..HEAD', message: 'git could not read main..HEAD' });
    assert.equal($('#blame .callout.error').textContent, 'Blame of main..HEAD: git could not read main..HEAD');
  });

  it('links a blamed range to its session’s entries', async () => {
    start();
    send(state({ rows: [row(1)] }));
    send(blame());
    (ranges()[0] as HTMLElement).click();
    await settle();
    assert.deepEqual(queries().at(-1), { sessionId: 'session-one' });
    assert.equal(($('#filter-session') as HTMLSelectElement).value, 'session-one');
    function ranges(): Element[] {
      return [...web.root.querySelectorAll('.blame-range .session-link')];
    }
  });
});

describe('Audit reducer', () => {
  it('queries a pick at once, typed text after a pause, and clips what the contract would refuse', () => {
    const picked = update(initialAuditState(), { type: 'setFilter', name: 'decision', value: 'approved' });
    assert.deepEqual(
      picked.effects?.find((e) => e.type === 'query'),
      { type: 'query', filters: { decision: 'approved' }, delayMs: 0 },
    );
    const typed = update(picked.state, { type: 'setFilter', name: 'text', value: 'x'.repeat(5000) });
    const query = typed.effects?.find((e) => e.type === 'query');
    assert.equal(query?.type === 'query' && query.delayMs, TYPING_DELAY_MS);
    assert.equal(typed.state.filters.text?.length, 2000);
    const cleared = update(typed.state, { type: 'setFilter', name: 'decision', value: '  ' });
    assert.deepEqual(Object.keys(cleared.state.filters), ['text']);
  });

  it('keeps the state when nothing changes (no re-render)', () => {
    const s = initialAuditState();
    assert.equal(update(s, { type: 'toggleEntry', hash: hash(1), open: false }).state, s);
    assert.equal(update(s, { type: 'post', message: { type: 'verify' } }).state, s);
  });
});
