// Command-line option parsing shared by the scripts.

/** A non-negative integer option, or `fallback` when absent; a bad value throws naming the option. */
export function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}
