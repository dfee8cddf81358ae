// Byte sizes as operators write them in a cluster config: a plain integer of bytes, or a number
// with a binary (IEC) unit such as `64MiB` or `1.5 GiB`. Decimal units (`MB`) are refused rather
// than guessed, because 64MB and 64MiB differ by 5% and a WAL segment size should not be a guess.

const UNIT_BYTES: Readonly<Record<string, number>> = Object.freeze({
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
});

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** What a size accepts, for error messages. */
export const SIZE_FORMS = 'a size such as 64MiB, 4GiB or 1048576 (units B, KiB, MiB, GiB, TiB)';

/**
 * The number of bytes `value` names, or undefined when it is not a size. Fractions of a byte
 * round down; the result is always a non-negative safe integer.
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) return undefined;
  const unit = match[2] === '' ? 'b' : match[2]!.toLowerCase();
  const multiplier = UNIT_BYTES[unit];
  if (multiplier === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * multiplier);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `bytes` in the largest binary unit that keeps it at least 1, e.g. "2.0 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
