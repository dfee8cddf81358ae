// What commands print: one JSON document per line on stdout for `--json`, aligned tables for
// people. Progress and logs go to stderr, so stdout stays machine-readable either way.

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/** `value` as one line of JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The outcome of a command: `json` as one JSON document with --json, else the line for people. */
export function printOutcome(asJson: boolean | undefined, json: unknown, human: string): void {
  if (asJson === true) printJson(json);
  else printLine(human);
}

/** Rows under their headers, each column as wide as its widest cell, two spaces apart. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const renderRow = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        return column.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [renderRow(columns.map((c) => c.header)), ...rows.map(renderRow)].join('\n');
}

/** Megabytes (10^6 bytes, as throughput is usually quoted) per second. */
export function megabytesPerSecond(bytes: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : bytes / 1e6 / (elapsedMs / 1000);
}

/** Rounds for display and JSON: throughput figures do not carry more than 3 significant decimals. */
export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
