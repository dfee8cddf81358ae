// Spans of this member's proposals when tracing is on (src/tracing): one span `kvc.proposal` from
// propose() until the proposal settles, a child of whatever span was active when it was proposed
// (the PutPages, DeletePages or PinPages call), with an event as its entry reaches each step on
// this member: `appended` (written to the WAL, with the entry's index and term), `committed`
// (known committed here: on the leader, a quorum has it) and `applied` (the store applied it).
// Only the node's own proposals are traced, by sequence number; followers apply entries without
// spans. The node holds no ProposalSpans when tracing is off, so nothing here runs then.
import { SpanStatusCode, context, type Span, type Tracer } from '@opentelemetry/api';
import type { Command } from '../codec/index.js';

export type ProposalOutcome = 'applied' | 'dropped' | 'failed';

export class ProposalSpans {
  readonly #tracer: Tracer;
  /** Open spans by proposal sequence number; each is removed when its proposal settles. */
  readonly #open = new Map<number, Span>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** Whether any proposal is being traced (the Ready loop skips looking for them otherwise). */
  get idle(): boolean {
    return this.#open.size === 0;
  }

  start(seq: number, command: Command): void {
    const span = this.#tracer.startSpan('kvc.proposal', { attributes: commandAttributes(command) }, context.active());
    this.#open.set(seq, span);
  }

  event(seq: number, name: 'appended' | 'committed' | 'applied', attributes: Record<string, number>): void {
    this.#open.get(seq)?.addEvent(name, attributes);
  }

  /** Ends the span: its outcome, and the KVC_* code of a refused command or of the error. */
  end(seq: number, outcome: ProposalOutcome, code?: string): void {
    const span = this.#open.get(seq);
    if (span === undefined) return;
    this.#open.delete(seq);
    span.setAttribute('kvc.outcome', outcome);
    if (code !== undefined) {
      span.setAttribute('kvc.code', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    }
    span.end();
  }
}

function commandAttributes(command: Command): Record<string, string | number> {
  switch (command.op) {
    case 'put':
      return { 'kvc.command': 'put', 'kvc.pages': command.pages.length, 'kvc.bytes': command.pages.reduce((sum, page) => sum + page.meta.bytes, 0) };
    case 'delete':
    case 'pin':
    case 'unpin':
      return { 'kvc.command': command.op, 'kvc.ns': command.ns, 'kvc.keys': command.keys.length };
    default:
      return { 'kvc.command': command.op };
  }
}
