// What a `kvc chaos` run leaves of its work directory; apart from run.ts so that its test loads
// nothing else of the harness.

/**
 * What of the work directory outlives the run: all of it with `keep`; else the members' logs of a
 * run that failed its checks or had incidents (a member that did not come back: its log is what
 * says why, and the incident names it), unless they went to `logDir` the caller chose; else nothing.
 */
export function keptDirOf(
  o: { keep?: boolean; logDir?: string },
  root: string,
  logDir: string,
  result: { verdict: { ok: boolean }; incidents: readonly string[] },
): string | undefined {
  if (o.keep === true) return root;
  if (o.logDir !== undefined) return undefined;
  return !result.verdict.ok || result.incidents.length > 0 ? logDir : undefined;
}

