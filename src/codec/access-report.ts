// Access reports: a member's recent page accesses (lookups and reads), sent to the leader so its
// eviction order reflects reads served by every member (DESIGN §6). They travel beside Raft
// messages on the peer stream (peer.proto RaftBatch.access_report), never through the log.
// Layout: [6, [[ns, keys[], ageMs[], leaseMs[]], ...]] — per namespace, parallel arrays. Ages and
// lease times are relative (ms before / after the moment of sending), so members need no common
// clock. Decoding checks types and that the arrays line up; anything else is the receiver's.

import { readArray, readBytes, readString, readTuple, readUint } from './fields.js';
import { CodecError } from './codec-error.js';
import { FormatTag, packTuple, unpackTuple } from './msgpack.js';

export interface AccessReportEntry {
  key: Uint8Array;
  /** How long before sending the page was last looked up or read. */
  ageMs: number;
  /** How long after sending a lookup lease still protects it (0 = none). */
  leaseMs: number;
}

export type AccessReport = Map<string, AccessReportEntry[]>;

const NAMESPACE_FIELDS = 4;

export function encodeAccessReport(report: AccessReport): Uint8Array {
  const namespaces: unknown[] = [];
  for (const [ns, entries] of report) {
    namespaces.push([
      readString(ns, 'report.ns'),
      entries.map((e, i) => readBytes(e.key, `report.keys[${i}]`)),
      entries.map((e, i) => readUint(e.ageMs, `report.ageMs[${i}]`)),
      entries.map((e, i) => readUint(e.leaseMs, `report.leaseMs[${i}]`)),
    ]);
  }
  return packTuple([FormatTag.AccessReport, namespaces], 0);
}

export function decodeAccessReport(bytes: Uint8Array): AccessReport {
  const t = readTuple(unpackTuple(bytes, FormatTag.AccessReport, 'access report'), 2, 'access report');
  const report: AccessReport = new Map();
  readArray(t[1], 'report.namespaces').forEach((value, n) => {
    const path = `report.namespaces[${n}]`;
    const f = readTuple(value, NAMESPACE_FIELDS, path);
    const ns = readString(f[0], `${path}.ns`);
    const keys = readArray(f[1], `${path}.keys`);
    const ages = readArray(f[2], `${path}.ageMs`);
    const leases = readArray(f[3], `${path}.leaseMs`);
    if (ages.length !== keys.length || leases.length !== keys.length) throw new CodecError(`${path}: keys, ages and leases differ in length`);
    const entries = report.get(ns) ?? [];
    keys.forEach((key, i) => {
      entries.push({ key: readBytes(key, `${path}.keys[${i}]`), ageMs: readUint(ages[i], `${path}.ageMs[${i}]`), leaseMs: readUint(leases[i], `${path}.leaseMs[${i}]`) });
    });
    report.set(ns, entries);
  });
  return report;
}
