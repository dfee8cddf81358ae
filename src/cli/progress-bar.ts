// A one-line progress bar for long CLI phases (bench, trace replay, chaos), always on stderr so
// stdout stays what --json promises. Where it draws is the command's choice (progressEnabled):
// on a terminal by default, and anywhere with --progress. On a terminal it redraws its line in
// place at most every REDRAW_INTERVAL_MS; on anything else (a pipe, a log file: --progress) a
// carriage-return redraw would litter the file, so it writes one whole line at most every
// LINE_INTERVAL_MS, and the final state. Ticking per page therefore costs nothing.

const REDRAW_INTERVAL_MS = 100;
const LINE_INTERVAL_MS = 1_000;
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

/** Whether a command draws its progress: asked with --progress, else on a terminal unless --json. */
export function progressEnabled(o: { progress?: boolean; json?: boolean }, stream: NodeJS.WriteStream = process.stderr): boolean {
  return o.progress === true || (o.json !== true && stream.isTTY === true);
}

export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  /** A terminal: redraw in place. Otherwise whole lines, less often. */
  readonly #inPlace: boolean;
  readonly #detail: ((done: number, elapsedMs: number) => string) | undefined;
  readonly #startMs = performance.now();
  #done = 0;
  #lastDrawMs = -Infinity;
  #drawn = false;
  /** The units done when last drawn: off a terminal, a final line that repeats it is left out. */
  #drawnDone = -1;
  #finished = false;

  constructor(o: ProgressBarOptions) {
    this.#label = o.label;
    this.#total = Math.max(0, o.total);
    this.#stream = o.stream ?? process.stderr;
    this.#inPlace = this.#stream.isTTY === true;
    this.#enabled = o.enabled ?? this.#inPlace;
    this.#detail = o.detail;
  }

  get done(): number {
    return this.#done;
  }

  tick(count = 1): void {
    this.#done = Math.min(this.#total, this.#done + count);
    const now = performance.now();
    if (now - this.#lastDrawMs >= (this.#inPlace ? REDRAW_INTERVAL_MS : LINE_INTERVAL_MS)) this.#draw(now);
  }

  /** Sets the units done (a bar of elapsed time, say) and draws as tick does. */
  update(done: number): void {
    this.tick(Math.max(0, done) - this.#done);
  }

  /** Writes `line` (without its newline) above the bar, which a terminal then redraws below it. */
  log(line: string): void {
    if (!this.#enabled || !this.#inPlace || !this.#drawn || this.#finished) {
      this.#stream.write(`${line}\n`);
      return;
    }
    this.#stream.write(`\r${line}\x1b[K\n`);
    this.#draw(performance.now());
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.#finished) return;
    if (this.#inPlace || this.#done !== this.#drawnDone) this.#draw(performance.now());
    this.#finished = true;
    if (this.#enabled && this.#inPlace) this.#stream.write('\n');
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
    if (!this.#enabled || this.#finished) return;
    this.#drawn = true;
    this.#drawnDone = this.#done;
    // \r returns to the line start; \x1b[K clears what a longer previous line left behind.
    this.#stream.write(this.#inPlace ? `\r${this.render(nowMs)}\x1b[K` : `${this.render(nowMs)}\n`);
  }
}

export interface TimedProgressOptions {
  label: string;
  durationMs: number;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

/**
 * A bar of the seconds elapsed out of a planned duration (a chaos run's workload), which redraws
 * itself every second between start() and stop(); lines logged meanwhile go above it. Before
 * start(), after stop(), and when not enabled, log() is a plain line on the stream.
 */
export class TimedProgress {
  readonly #o: TimedProgressOptions;
  readonly #stream: NodeJS.WriteStream;
  #bar: ProgressBar | undefined;
  #timer: NodeJS.Timeout | undefined;
  #startMs = 0;

  constructor(o: TimedProgressOptions) {
    this.#o = o;
    this.#stream = o.stream ?? process.stderr;
  }

  start(): void {
    if (!this.#o.enabled || this.#bar !== undefined) return;
    const totalS = Math.max(1, Math.round(this.#o.durationMs / 1000));
    const bar = new ProgressBar({ label: this.#o.label, total: totalS, stream: this.#stream, enabled: true, detail: (done) => `${done} s of ${totalS} s` });
    this.#startMs = performance.now();
    this.#bar = bar;
    this.#timer = setInterval(() => bar.update(this.#elapsedS()), 1_000);
    this.#timer.unref();
    bar.update(0);
  }

  /** Draws the seconds elapsed by now and ends the bar. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#bar?.update(this.#elapsedS());
    this.#bar?.finish();
  }

  log(line: string): void {
    if (this.#bar !== undefined) this.#bar.log(line);
    else this.#stream.write(`${line}\n`);
  }

  #elapsedS(): number {
    return Math.floor((performance.now() - this.#startMs) / 1000);
  }
}
