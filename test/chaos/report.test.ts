// Proves the chaos report on a small hand-made history: the JSON summary carries the issue's
// fields with `ok` false as soon as there is an incident; the verdict table marks failed checks;
// history.jsonl reads back into the same history and rejects unknown records; the HTML page is
// self-contained (no script, no external URL), has a lane per client, the fault windows and the
// leader per term, and escapes what it quotes; leader polls merge into spans per member and term;
// each kill's unavailability window (kill to the first acknowledged put) is in the JSON, the table
// and the page.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { checkHistory } from '../../src/chaos/checkers/index.js';
import type { History } from '../../src/chaos/history.js';
import { historyJsonLines, parseHistoryJsonLines, renderVerdictTable, summarize, writeReport } from '../../src/chaos/report.js';
import { leaderSpans, renderReportHtml } from '../../src/chaos/report-html.js';
import type { ChaosRunResult, Verdict } from '../../src/chaos/run.js';
import { killWindows } from '../../src/chaos/unavailability.js';

const history: History = {
  seed: 9,
  nodes: 3,
  startedMs: 1_000,
  operations: [
    { id: 0, client: 0, kind: 'put', ns: 'chaos/model', key: 'aa', invokeMs: 1_010, completeMs: 1_050, outcome: 'ok', value: { crc32c: 1, bytes: 4096 }, result: 'stored', member: 1 },
    { id: 1, client: 1, kind: 'lookup', ns: 'chaos/model', key: 'aa', invokeMs: 1_060, completeMs: 1_070, outcome: 'ok', result: 'present', member: 2 },
    { id: 2, client: 1, kind: 'delete', ns: 'chaos/model', key: 'aa', invokeMs: 2_000, completeMs: 4_000, outcome: 'unknown', error: 'KVC_DEADLINE_EXCEEDED', member: 1 },
    { id: 3, client: 0, kind: 'get', ns: 'chaos/model', key: 'aa', invokeMs: 2_100, completeMs: 2_101, outcome: 'fail', error: '<KVC_UNAVAILABLE>' },
  ],
  finals: [{ member: 1, pages: { aa: { crc32c: 1, bytes: 4096 } }, appliedIndex: 12, digest: 'abc' }],
  leaders: [
    { atMs: 1_000, member: 1, term: 2 },
    { atMs: 1_150, member: 1, term: 2 },
    { atMs: 3_000, member: 1, term: 2 },
    { atMs: 3_200, member: 2, term: 3 },
  ],
  faults: [{ nemesis: 'kill', detail: 'kill -9 n1 (leader) & <more>', startMs: 2_000, endMs: 3_100, members: [1] }],
};

// The checkers' real verdict on this history (for its details), with the headline fields fixed.
const verdict: Verdict = {
  ...checkHistory(history),
  ok: true,
  operations: 4,
  acknowledgedPuts: 1,
  lostPuts: 0,
  corruptReads: 0,
  linearizable: true,
  leadersPerTermMax: 1,
  converged: true,
  recoverySecondsMax: 0.123456,
};

function result(incidents: string[] = []): ChaosRunResult {
  return { history, verdict, faults: { kill: 1, pause: 0 }, incidents, convergenceWaitMs: 5, elapsedMs: 12_345 };
}

t.test('the summary has the issue fields; an incident fails it', async (t) => {
  const summary = summarize(result(), { clients: 2, durationMs: 30_000, reportDir: 'some/dir' });
  t.match(summary, {
    ok: true,
    seed: 9,
    operations: 4,
    acknowledgedPuts: 1,
    lostPuts: 0,
    corruptReads: 0,
    linearizable: true,
    leadersPerTermMax: 1,
    converged: true,
    faults: { kill: 1, pause: 0 },
    recoverySecondsMax: 0.12,
    nodes: 3,
    clients: 2,
    durationSeconds: 30,
    elapsedSeconds: 12.35,
    outcomes: { put: { ok: 1 }, lookup: { ok: 1 }, delete: { unknown: 1 }, get: { fail: 1 } },
  });
  t.equal(summary.report, path.resolve('some/dir'));
  t.match(renderVerdictTable(summary), /verdict\s+PASS/);
  const failed = summarize(result(['member 2 exited on its own']), { clients: 2, durationMs: 30_000 });
  t.equal(failed.ok, false);
  t.equal(failed.report, undefined);
  const table = renderVerdictTable({ ...failed, lostPuts: 2, linearizable: 'unknown' });
  t.match(table, /verdict\s+FAIL/);
  t.match(table, /lost puts\s+2\s+FAIL/);
  t.match(table, /linearizable\s+unknown\s+FAIL/);
  t.match(table, /incident: member 2 exited on its own/);
});

t.test('each kill reports how long clients could not write: from the SIGKILL to the first acknowledged put', async (t) => {
  const put = (id: number, invokeMs: number, completeMs: number, outcome: 'ok' | 'unknown' = 'ok') =>
    ({ id, client: 0, kind: 'put', ns: 'chaos/model', key: 'bb', invokeMs, completeMs, outcome, value: { crc32c: 2, bytes: 10 }, result: 'stored', member: 2 }) as const;
  const killed: History = {
    ...history,
    operations: [put(0, 1_900, 2_040), put(1, 2_050, 2_500, 'unknown'), put(2, 2_100, 2_600), put(3, 9_000, 9_010)],
    faults: [
      // The kill itself came after the target was picked: the window starts there.
      { nemesis: 'kill', detail: 'kill -9 n1 (leader)', startMs: 2_000, injectedMs: 2_050, endMs: 3_000, members: [1] },
      { nemesis: 'pause', detail: 'pause n2', startMs: 4_000, endMs: 5_000, members: [2] },
      { nemesis: 'kill', detail: 'kill -9 n3', startMs: 8_000, endMs: 8_500, members: [3] },
      { nemesis: 'kill', detail: 'kill -9 n2', startMs: 9_500, endMs: 9_900, members: [2] },
    ],
  };
  t.same(killWindows(killed), [
    { detail: 'kill -9 n1 (leader)', atSeconds: 1.1, unavailableMs: 550 },
    { detail: 'kill -9 n3', atSeconds: 7, unavailableMs: 1_010 },
    { detail: 'kill -9 n2', atSeconds: 8.5, unavailableMs: null },
  ]);
  const summary = summarize({ ...result(), history: killed }, { clients: 1, durationMs: 10_000 });
  t.same(summary.killUnavailability.map((w) => w.unavailableMs), [550, 1_010, null], 'in the JSON document');
  t.match(renderVerdictTable(summary), /unavailable after kill \(max\)\s+1\.01 s\s+n1 \(leader\) 0\.55 s, n3 1\.01 s, n2 no put after it/);
  t.match(renderReportHtml(killed, summary, verdict), /unavailable after each kill[^<]*<\/td><td>n1 \(leader\) 0\.55 s, n3 1\.01 s, n2 no put after it</);
  const noKills = summarize({ ...result(), history: { ...history, faults: [] } }, { clients: 1, durationMs: 1 });
  t.same(noKills.killUnavailability, []);
  t.notMatch(renderVerdictTable(noKills), /unavailable after kill/, 'no row without a kill');
});

t.test('gets over shared memory: answered, found, copied from an arena, copies refused', async (t) => {
  const get = (id: number, extra: Partial<History['operations'][number]>): History['operations'][number] => ({ id, client: 0, kind: 'get', ns: 'chaos/model', key: 'aa', invokeMs: 1_100 + id, completeMs: 1_101 + id, outcome: 'ok', ...extra });
  const shared = { ...history, operations: [
    ...history.operations,
    get(10, { transfer: 'shared-memory', result: 'found', read: { crc32c: 1, bytes: 4096 }, copied: true }),
    get(11, { transfer: 'shared-memory', result: 'found', read: { crc32c: 1, bytes: 4096 }, copied: true, copyRefused: true }),
    get(12, { transfer: 'shared-memory', result: 'found', read: { crc32c: 1, bytes: 4096 } }),
    get(13, { transfer: 'shared-memory', result: 'absent' }),
    get(14, { transfer: 'shared-memory', outcome: 'fail', error: 'KVC_UNAVAILABLE', copied: true }),
    get(15, { result: 'found', read: { crc32c: 1, bytes: 4096 } }),
  ] };
  const summary = summarize({ ...result(), history: shared }, { clients: 1, durationMs: 1_000 });
  t.same(summary.sharedMemory, { gets: 4, found: 3, copied: 2, copiesRefused: 1 }, 'gets over gRPC and failed gets are not counted as answered');
  t.match(renderVerdictTable(summary), /gets over shared memory\s+4\s+3 found, 2 of them copied from an arena; 1 copies refused/);
  t.same(parseHistoryJsonLines(historyJsonLines(shared)).operations.slice(-6), shared.operations.slice(-6), 'the new fields survive history.jsonl');
});

t.test('history.jsonl reads back into the same history', async (t) => {
  const text = historyJsonLines(history);
  t.equal(text.trim().split('\n').length, 1 + 4 + 1 + 4 + 1);
  t.same(parseHistoryJsonLines(text), history);
  t.throws(() => parseHistoryJsonLines('{"type":"nope"}\n'), /unknown record type/);
});

t.test('the HTML page is self-contained and shows the lanes', async (t) => {
  const summary = summarize(result(), { clients: 2, durationMs: 30_000 });
  const html = renderReportHtml(history, summary, verdict);
  t.notMatch(html, /<script|\ssrc=|href=|url\(/, 'no scripts, no external assets');
  t.match(html, /PASS/);
  t.match(html, />client 0</);
  t.match(html, />client 1</);
  t.match(html, />leader</);
  t.match(html, /n1 leads in term 2/, 'the leader lane names member and term');
  t.match(html, /kill -9 n1 \(leader\) &amp; &lt;more&gt;/, 'fault details are escaped');
  t.match(html, /&lt;KVC_UNAVAILABLE&gt;/, 'operation details are escaped');
  t.match(html, /never completed|KVC_DEADLINE_EXCEEDED/);
  const empty = renderReportHtml({ ...history, faults: [], operations: [], leaders: [] }, { ...summary, ok: false }, { ...verdict, ok: false });
  t.match(empty, /No faults were injected/);
  t.match(empty, /FAIL/);
});

t.test('an unfinished history: operations and faults without an end, long leader spans, failed checks', async (t) => {
  const polls = Array.from({ length: 40 }, (_, i) => ({ atMs: 1_000 + i * 150, member: 2, term: 4 }));
  const unfinished: History = {
    ...history,
    operations: [{ id: 0, client: 0, kind: 'put', ns: 'chaos/model', key: 'bb', invokeMs: 1_500, outcome: 'unknown', value: { crc32c: 2, bytes: 8 } }],
    faults: [{ nemesis: 'pause', detail: 'SIGSTOP n2', startMs: 1_200, members: [2] }],
    leaders: polls,
  };
  const summary = { ...summarize(result(['x']), { clients: 1, durationMs: 10_000 }), lostPuts: 1, corruptReads: 2, linearizable: false as const, leadersPerTermMax: 2, converged: false };
  const html = renderReportHtml(unfinished, summary, { ...verdict, ok: false });
  t.match(html, /never completed/);
  t.match(html, /not healed/);
  t.match(html, />n2 t4</, 'a long span carries its label');
  t.equal((html.match(/class="bad"/g) ?? []).length, 6, 'lost, corrupt, linearizable, leaders, converged and the incident are marked');
});

t.test('leader polls merge into spans per member and term', async (t) => {
  const spans = leaderSpans(history.leaders);
  t.same(
    spans.map((s) => [s.member, s.term, s.fromMs]),
    [
      [1, 2, 1_000],
      [1, 2, 3_000],
      [2, 3, 3_200],
    ],
    'a gap of more than a second starts a new span',
  );
  t.equal(spans[0]!.toMs, 1_300);
});

t.test('writeReport writes the history, the verdict and the page', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvc-chaos-report-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const summary = summarize(result(), { clients: 2, durationMs: 30_000, reportDir: dir });
  await writeReport(path.join(dir, 'out'), history, summary, verdict);
  t.same(fs.readdirSync(path.join(dir, 'out')).sort(), ['history.jsonl', 'index.html', 'verdict.json']);
  t.match(JSON.parse(fs.readFileSync(path.join(dir, 'out', 'verdict.json'), 'utf8')), { summary: { ok: true }, verdict: { lostPuts: 0 } });
});
