// A one-line progress bar for long CLI phases (bench). It draws only on a terminal: on a pipe or
// with --json it stays silent, because carriage-return redraws would litter a log. It redraws at
// most every REDRAW_INTERVAL_MS however often it is ticked, so ticking per page costs nothing.

const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH_MAX = 40;
const BAR_WIDTH_MIN = 10;
/** Room for the label, the counts and the rate beside the bar. */
const TEXT_WIDTH = 44;
const DEFAULT_COLUMNS = 80;

export interface ProgressBarOptions {
  label: string;
  total: number;
  /** Where to draw; default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Force drawing on or off; default: only when the stream is a TTY. */
  enabled?: boolean;
  /** Text after the counts, e.g. a rate; given units done and ms elapsed. */
  detail?: (done: number, elapsedMs: number) => string;
}

export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #detail: ((done: number, elapsedMs: number) => string) | undefined;
  readonly #startMs = performance.now();
  #done = 0;
  #lastDrawMs = -Infinity;
  #finished = false;

  constructor(o: ProgressBarOptions) {
    this.#label = o.label;
    this.#total = Math.max(0, o.total);
    this.#stream = o.stream ?? process.stderr;
    this.#enabled = o.enabled ?? this.#stream.isTTY === true;
    this.#detail = o.detail;
  }

  get done(): number {
    return this.#done;
  }

  tick(count = 1): void {
    this.#done = Math.min(this.#total, this.#done + count);
    const now = performance.now();
    if (now - this.#lastDrawMs >= REDRAW_INTERVAL_MS) this.#draw(now);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#enabled) return;
    this.#draw(performance.now());
    this.#stream.write('\n');
  }

  /** The line as drawn (without the carriage return), for a given moment. */
  render(nowMs = performance.now()): string {
    const columns = this.#stream.columns ?? DEFAULT_COLUMNS;
    const width = Math.max(BAR_WIDTH_MIN, Math.min(BAR_WIDTH_MAX, columns - TEXT_WIDTH));
    const fraction = this.#total === 0 ? 1 : this.#done / this.#total;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const counts = `${this.#done}/${this.#total}`;
    const detail = this.#detail ? `  ${this.#detail(this.#done, nowMs - this.#startMs)}` : '';
    return `${this.#label.padEnd(7)} ${bar} ${counts.padStart(2 * String(this.#total).length + 1)}${detail}`;
  }

  #draw(nowMs: number): void {
    this.#lastDrawMs = nowMs;
    if (!this.#enabled) return;
    // \r returns to the line start; \x1b[K clears what a longer previous line left behind.
    this.#stream.write(`\r${this.render(nowMs)}\x1b[K`);
  }
}
