// Field readers for decoded records. Each takes an untrusted value and the field's path (for the
// message), and returns it typed or throws CodecError. Encoders use the same readers on what they
// are given, so a record that would not decode is refused at the sender, where the bug is.

import { CodecError } from './codec-error.js';
import { describe } from './msgpack.js';

/** Node ids travel as unsigned 32-bit integers (src/raft/conf-change.ts encodes them so). */
const NODE_ID_MAX = 0xffff_ffff;
const UINT32_MAX = 0xffff_ffff;

/**
 * A hostile encoder can send -0 as a float64; it passes the integer checks, so the readers return
 * `value + 0`, which turns -0 into +0 and leaves every other number unchanged.
 */
function fail(path: string, expected: string, value: unknown): never {
  throw new CodecError(`${path}: expected ${expected}, got ${describe(value)}`);
}

/** A msgpack array of exactly `length` elements. */
export function readTuple(value: unknown, length: number, path: string): unknown[] {
  if (!Array.isArray(value) || value.length !== length) fail(path, `an array of ${length}`, value);
  return value;
}

/** A msgpack array of any length (the input's size already bounds it: msgpackr checks that). */
export function readArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'an array', value);
  return value;
}

/** A non-negative safe integer: terms, indexes, byte counts, milliseconds. */
export function readUint(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, 'a non-negative integer', value);
  return value + 0;
}

export function readUint32(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    fail(path, 'an unsigned 32-bit integer', value);
  }
  return value + 0;
}

/** A node id; 0 (NONE) is allowed, it means "nobody" in votes and leader fields. */
export function readNodeId(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > NODE_ID_MAX) {
    fail(path, 'a node id', value);
  }
  return value + 0;
}

export function readNodeIds(value: unknown, path: string): number[] {
  const items = readArray(value, path);
  return items.map((item, i) => readNodeId(item, `${path}[${i}]`));
}

/** An integer that must be one of the values of a numeric enum, given as [min, max]. */
export function readEnum(value: unknown, min: number, max: number, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `an integer in [${min}, ${max}]`, value);
  }
  return value + 0;
}

export function readBool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'a boolean', value);
  return value;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

/** Binary: a Uint8Array (a view into the decoded input, never a copy). */
export function readBytes(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(path, 'bytes', value);
  return value;
}

/** An optional field travels as msgpack nil when absent. */
export function readOptional<T>(value: unknown, read: (v: unknown, path: string) => T, path: string): T | undefined {
  return value === null ? undefined : read(value, path);
}
