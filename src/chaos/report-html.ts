// The report's index.html: one self-contained page (inline CSS and SVG, no scripts, no external
// assets) an engineer can read at a glance. On top the verdict and its numbers; below a timeline
// with time running left to right: a lane of fault windows (also shaded across every lane), a
// lane of who led in which term, and one lane per client with every operation as a bar from
// invocation to completion (its length is the latency), colored by outcome. Hovering a bar or a
// window shows its details (SVG <title>).
import { formatBytes } from '../config/index.js';
import type { FaultEvent, History, LeaderObservation, Operation } from './history.js';
import type { ChaosSummary, EvictionSummary } from './report-types.js';
import type { Verdict } from './run.js';
import { describeKillWindows } from './unavailability.js';

const LANE_HEIGHT = 14;
const LANE_GAP = 4;
const LABEL_WIDTH = 90;
const AXIS_HEIGHT = 24;
/** Horizontal scale bounds: long runs get fewer pixels per second, short ones more. */
const PX_PER_SECOND_MIN = 20;
const PX_PER_SECOND_MAX = 80;
const TIMELINE_WIDTH_TARGET = 1600;
const TICK_SECONDS = 5;
/** A leader observation this long after the previous one of the same member and term starts a new span. */
const LEADER_SPAN_GAP_MS = 1_000;
/** Observations are polls: a span is drawn this long past its last one. */
const LEADER_SPAN_TAIL_MS = 150;

const OUTCOME_COLORS: Record<Operation['outcome'], string> = { ok: '#2e7d32', fail: '#9e9e9e', unknown: '#ef6c00' };
const MEMBER_COLORS = ['#1565c0', '#6a1b9a', '#00838f', '#ad1457', '#f9a825', '#4e342e', '#283593', '#558b2f'];

export function renderReportHtml(history: History, summary: ChaosSummary, verdict: Verdict): string {
  const title = `kvc chaos: seed ${summary.seed}, ${summary.nodes} members, ${summary.clients} clients, ${summary.durationSeconds} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: bold; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
table { border-collapse: collapse; margin: 8px 0; } td { padding: 1px 10px 1px 0; vertical-align: top; }
td.bad { color: #c62828; font-weight: bold; }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; max-height: 400px; }
</style></head><body>
<h1>${escape(title)} <span class="verdict ${summary.ok ? 'pass' : 'fail'}">${summary.ok ? 'PASS' : 'FAIL'}</span></h1>
${renderNumbers(summary)}
${renderLegend()}
<div class="scroll">${renderTimeline(history)}</div>
<h2>Faults</h2>
${renderFaultTable(history)}
<h2>Checker details</h2>
<pre>${escape(JSON.stringify(verdict, null, 2))}</pre>
</body></html>
`;
}

function renderNumbers(s: ChaosSummary): string {
  const row = (label: string, value: string, bad = false): string => `<tr><td>${escape(label)}</td><td${bad ? ' class="bad"' : ''}>${escape(value)}</td></tr>`;
  return `<table>
${row('operations', String(s.operations))}
${row('acknowledged puts', String(s.acknowledgedPuts))}
${row('lost puts', String(s.lostPuts), s.lostPuts > 0)}
${s.evictions === null ? '' : row('evicted pages', `${s.evictions.evictedPages} (${describeEvictions(s.evictions)})`, !s.evictions.recordComplete)}
${row('corrupt reads', String(s.corruptReads), s.corruptReads > 0)}
${row('gets over shared memory', `${s.sharedMemory.gets} (${describeSharedMemory(s.sharedMemory)})`)}
${row('linearizable', String(s.linearizable), s.linearizable !== true)}
${row('leaders per term (max)', String(s.leadersPerTermMax), s.leadersPerTermMax > 1)}
${row('converged', String(s.converged), !s.converged)}
${row('recovery after a heal (max)', `${s.recoverySecondsMax} s`)}
${s.killUnavailability.length === 0 ? '' : row('unavailable after each kill (until a put is acknowledged)', describeKillWindows(s.killUnavailability))}
${row('faults', Object.entries(s.faults).map(([n, c]) => `${n} ${c}`).join(', '))}
${s.incidents.map((incident) => row('incident', incident, true)).join('\n')}
</table>`;
}

/** One line about eviction for the table and the HTML summary. */
export function describeEvictions(e: EvictionSummary): string {
  const budget = e.budgetBytes === null ? 'default budget' : `budget ${formatBytes(e.budgetBytes)}`;
  const seen = `record: ${e.removalsSeen.evicted} evicted, ${e.removalsSeen.expired} expired, ${e.removalsSeen.deleted} deleted${e.recordComplete ? '' : ' (TRIMMED)'}`;
  return `${budget}, ${formatBytes(e.evictedBytes)}; ${seen}; ${e.acknowledgedEvicted} acknowledged pages evicted, ${e.putsRefusedFull} puts refused (full)`;
}

export function describeSharedMemory(s: ChaosSummary['sharedMemory']): string {
  return `${s.found} found, ${s.copied} of them copied from an arena; ${s.copiesRefused} copies refused by the client and streamed instead`;
}

function renderLegend(): string {
  const swatch = (color: string, label: string, opacity = 1): string =>
    `<span><i class="swatch" style="background:${color};opacity:${opacity}"></i>${escape(label)}</span>`;
  return `<p class="legend">${swatch(OUTCOME_COLORS.ok, 'ok')}${swatch(OUTCOME_COLORS.fail, 'fail (no effect)')}${swatch(OUTCOME_COLORS.unknown, 'unknown (may have taken effect)')}${swatch(OUTCOME_COLORS.ok, 'reads (get, lookup) lighter', 0.45)}${swatch('#e53935', 'fault window', 0.18)}
bar length = latency; hover a bar or a window for details.</p>`;
}

function renderTimeline(history: History): string {
  const start = history.startedMs;
  const end = endOf(history);
  const seconds = (end - start) / 1000;
  const pxPerSecond = Math.min(PX_PER_SECOND_MAX, Math.max(PX_PER_SECOND_MIN, TIMELINE_WIDTH_TARGET / seconds));
  const x = (ms: number): number => LABEL_WIDTH + ((ms - start) / 1000) * pxPerSecond;
  const width = Math.ceil(x(end) + 20);
  const clients = history.operations.reduce((most, op) => Math.max(most, op.client + 1), 0);
  const laneY = (lane: number): number => AXIS_HEIGHT + lane * (LANE_HEIGHT + LANE_GAP);
  const height = laneY(clients + 2) + 4;
  const parts: string[] = [];
  parts.push(renderAxis(seconds, x, start, height));
  for (const fault of history.faults) parts.push(renderFaultShade(fault, x, end, height));
  parts.push(laneLabel('faults', laneY(0)), laneLabel('leader', laneY(1)));
  for (const fault of history.faults) parts.push(renderFaultBar(fault, x, end, laneY(0)));
  for (const span of leaderSpans(history.leaders)) parts.push(renderLeaderSpan(span, x, laneY(1)));
  for (let c = 0; c < clients; c++) parts.push(laneLabel(`client ${c}`, laneY(c + 2)));
  for (const op of history.operations) parts.push(renderOp(op, x, end, laneY(op.client + 2)));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-size="11" font-family="system-ui, sans-serif">\n${parts.join('\n')}\n</svg>`;
}

/** The last moment the history shows (at least a second after its start). */
function endOf(history: History): number {
  let end = history.startedMs + 1_000;
  for (const op of history.operations) end = Math.max(end, op.completeMs ?? op.invokeMs);
  for (const fault of history.faults) end = Math.max(end, fault.endMs ?? fault.startMs);
  return end;
}

function renderAxis(seconds: number, x: (ms: number) => number, start: number, height: number): string {
  const ticks: string[] = [];
  for (let s = 0; s <= seconds; s += TICK_SECONDS) {
    const at = x(start + s * 1000).toFixed(1);
    ticks.push(`<line x1="${at}" y1="${AXIS_HEIGHT - 6}" x2="${at}" y2="${height}" stroke="#eee"/><text x="${at}" y="${AXIS_HEIGHT - 10}" text-anchor="middle" fill="#666">${s}s</text>`);
  }
  return ticks.join('\n');
}

function laneLabel(text: string, y: number): string {
  return `<text x="4" y="${y + LANE_HEIGHT - 3}" fill="#444">${escape(text)}</text>`;
}

function renderFaultShade(fault: FaultEvent, x: (ms: number) => number, end: number, height: number): string {
  const x1 = x(fault.startMs);
  const w = Math.max(2, x(fault.endMs ?? end) - x1);
  return `<rect x="${x1.toFixed(1)}" y="${AXIS_HEIGHT}" width="${w.toFixed(1)}" height="${height - AXIS_HEIGHT}" fill="#e53935" opacity="0.08"/>`;
}

function renderFaultBar(fault: FaultEvent, x: (ms: number) => number, end: number, y: number): string {
  const x1 = x(fault.startMs);
  const w = Math.max(2, x(fault.endMs ?? end) - x1);
  const tip = `${fault.nemesis}: ${fault.detail} (${(((fault.endMs ?? end) - fault.startMs) / 1000).toFixed(1)} s)`;
  return `<g><title>${escape(tip)}</title><rect x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE_HEIGHT}" fill="#e53935" opacity="0.6"/><text x="${(x1 + 2).toFixed(1)}" y="${y + LANE_HEIGHT - 3}" fill="#fff">${escape(fault.nemesis)}</text></g>`;
}

interface LeaderSpan {
  member: number;
  term: number;
  fromMs: number;
  toMs: number;
}

/** Merges poll observations into spans of one member leading in one term. */
export function leaderSpans(observations: readonly LeaderObservation[]): LeaderSpan[] {
  const spans: LeaderSpan[] = [];
  const open = new Map<string, LeaderSpan>();
  for (const o of [...observations].sort((a, b) => a.atMs - b.atMs)) {
    const key = `${o.member}/${o.term}`;
    const span = open.get(key);
    if (span !== undefined && o.atMs - span.toMs <= LEADER_SPAN_GAP_MS) {
      span.toMs = o.atMs + LEADER_SPAN_TAIL_MS;
      continue;
    }
    const fresh = { member: o.member, term: o.term, fromMs: o.atMs, toMs: o.atMs + LEADER_SPAN_TAIL_MS };
    open.set(key, fresh);
    spans.push(fresh);
  }
  return spans;
}

function renderLeaderSpan(span: LeaderSpan, x: (ms: number) => number, y: number): string {
  const x1 = x(span.fromMs);
  const w = Math.max(2, x(span.toMs) - x1);
  const color = MEMBER_COLORS[(span.member - 1) % MEMBER_COLORS.length]!;
  const label = w > 40 ? `<text x="${(x1 + 2).toFixed(1)}" y="${y + LANE_HEIGHT - 3}" fill="#fff">n${span.member} t${span.term}</text>` : '';
  return `<g><title>n${span.member} leads in term ${span.term}</title><rect x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE_HEIGHT}" fill="${color}"/>${label}</g>`;
}

function renderOp(op: Operation, x: (ms: number) => number, end: number, y: number): string {
  const x1 = x(op.invokeMs);
  const w = Math.max(1, x(op.completeMs ?? end) - x1);
  const read = op.kind === 'get' || op.kind === 'lookup';
  const latency = op.completeMs === undefined ? 'never completed' : `${Math.round(op.completeMs - op.invokeMs)} ms`;
  const tip = `#${op.id} ${op.kind} ${op.key.slice(0, 8)} on n${op.member ?? '?'}: ${op.outcome}${op.result ? ` ${op.result}` : ''}${op.error ? ` ${op.error}` : ''}, ${latency}`;
  return `<rect x="${x1.toFixed(1)}" y="${y + 1}" width="${w.toFixed(1)}" height="${LANE_HEIGHT - 2}" fill="${OUTCOME_COLORS[op.outcome]}"${read ? ' opacity="0.45"' : ''}><title>${escape(tip)}</title></rect>`;
}

function renderFaultTable(history: History): string {
  if (history.faults.length === 0) return '<p>No faults were injected.</p>';
  const rows = history.faults.map((f) => {
    const at = ((f.startMs - history.startedMs) / 1000).toFixed(1);
    const length = f.endMs === undefined ? 'not healed' : `${((f.endMs - f.startMs) / 1000).toFixed(1)} s`;
    return `<tr><td>t+${at}s</td><td>${escape(f.nemesis)}</td><td>${length}</td><td>${escape(f.detail)}</td></tr>`;
  });
  return `<table><tr><td><b>start</b></td><td><b>nemesis</b></td><td><b>length</b></td><td><b>detail</b></td></tr>\n${rows.join('\n')}\n</table>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
