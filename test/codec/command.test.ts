// Proves that store commands (src/codec/command.ts) round-trip for every operation, with optional
// page fields present and absent, every dtype, 0-byte and 32 MiB pages and several pages per put;
// that decoded keys and page data are views into the input; and that malformed fields (unknown
// operation or dtype, out-of-range checksum, negative numbers, wrong arity) are refused with a
// CodecError on both sides.

import t from 'tap';
import { COMMAND_PREFIX_BYTES_MAX, CodecError, PUT_DATA_BY_TAIL_BYTES_MIN, crc32c, decodeCommand, encodeCommand, encodeCommandAfter, offerRoomBefore, putPayloadBuffer } from '../../src/codec/index.js';
import type { Command, Dtype, PageMeta } from '../../src/codec/index.js';

const MIB = 1024 * 1024;
const PAGE_BYTES = 32 * MIB;

function key(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 31 + i) & 0xff);
}

function page(n: number, data: Uint8Array, extra: Partial<PageMeta> = {}): { meta: PageMeta; data: Uint8Array } {
  const meta: PageMeta = {
    ns: 'llama-3-8b/tenant:a', key: key(n), dtype: 'fp16', shape: [32, 2, 8, 16, 128], tokens: 16,
    bytes: data.byteLength, crc32c: crc32c(data), createdAtMs: 1_700_000_000_000 + n, ...extra,
  };
  return { meta, data };
}

function isViewInto(part: Uint8Array, whole: Uint8Array): boolean {
  return part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset &&
    part.byteOffset + part.byteLength <= whole.byteOffset + whole.byteLength;
}

t.test('every operation round-trips', async (t) => {
  const commands: Command[] = [
    { op: 'put', pages: [] },
    { op: 'put', pages: [page(1, Uint8Array.of(1, 2, 3, 4))] },
    {
      op: 'put',
      pages: [
        page(2, new Uint8Array(0), { parentKey: key(1), ttlMs: 60_000 }),
        page(3, Uint8Array.of(9), { dtype: 'u8', shape: [1], tokens: 0 }),
        page(4, Uint8Array.of(1, 2), { dtype: 'bf16', shape: [], ttlMs: 0 }),
        page(5, Uint8Array.of(1, 2, 3, 4), { dtype: 'fp32', crc32c: 0xffff_ffff, ns: '' }),
      ],
    },
    { op: 'delete', ns: 'a', keys: [key(1), key(2)] },
    { op: 'delete', ns: 'a', keys: [] },
    { op: 'drop-ns', ns: 'tenant/ü-名' },
    { op: 'pin', ns: 'a', keys: [key(7)], ttlMs: 30_000, nowMs: 1_700_000_000_123 },
    { op: 'unpin', ns: 'a', keys: [key(7)] },
    { op: 'evict', ns: 'b', keys: [key(8), key(9), new Uint8Array(0)] },
    { op: 'noop' },
  ];
  for (const command of commands) t.same(decodeCommand(encodeCommand(command)), command, command.op);
  const decoded = decodeCommand(encodeCommand(commands[2]));
  t.ok(decoded.op === 'put' && !('ttlMs' in decoded.pages[1].meta) && !('parentKey' in decoded.pages[1].meta),
    'absent optional fields stay absent');
});

t.test('keys and page data are views into the encoded command', async (t) => {
  const encoded = encodeCommand({ op: 'put', pages: [page(1, Uint8Array.of(5, 6, 7), { parentKey: key(0) })] });
  const decoded = decodeCommand(encoded);
  if (decoded.op !== 'put') throw new Error('expected a put');
  const [{ meta, data }] = decoded.pages;
  t.ok(isViewInto(data, encoded) && isViewInto(meta.key, encoded), 'data and key are views');
  t.ok(meta.parentKey !== undefined && isViewInto(meta.parentKey, encoded), 'parentKey is a view');
  const del = encodeCommand({ op: 'delete', ns: 'a', keys: [key(3)] });
  const decodedDelete = decodeCommand(del);
  t.ok(decodedDelete.op === 'delete' && isViewInto(decodedDelete.keys[0], del), 'delete keys are views');
});

t.test('a put of two 32 MiB pages round-trips intact', async (t) => {
  const first = new Uint8Array(PAGE_BYTES).fill(0x3c);
  const second = new Uint8Array(PAGE_BYTES);
  for (let i = 0; i < second.length; i += 997) second[i] = i & 0xff;
  const encoded = encodeCommand({ op: 'put', pages: [page(1, first), page(2, second)] });
  t.ok(encoded.buffer.byteLength < 2 * PAGE_BYTES + 64 * 1024, 'one buffer sized for the record');
  const decoded = decodeCommand(encoded);
  if (decoded.op !== 'put') throw new Error('expected a put');
  t.equal(decoded.pages.length, 2);
  t.equal(crc32c(decoded.pages[0].data), crc32c(first), 'the first page is intact');
  t.equal(crc32c(decoded.pages[1].data), crc32c(second), 'the second page is intact');
  t.equal(decoded.pages[1].meta.crc32c, crc32c(second), 'metadata kept');
});

t.test('encodeCommandAfter: encodeCommand behind a prefix, byte for byte, the payload copied once into a buffer of its own', async (t) => {
  const sizes = [0, 1, PUT_DATA_BY_TAIL_BYTES_MIN - 1, PUT_DATA_BY_TAIL_BYTES_MIN, 0xffff, 0x10000, MIB + 3, 2 * MIB];
  const commands: Command[] = sizes.map((bytes, n) => {
    const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + n) & 0xff);
    const extra: Partial<PageMeta> = n % 2 === 0 ? { parentKey: key(n + 1), ttlMs: 2 ** 33 } : { crc32c: 0xffff_ffff, createdAtMs: 5 };
    return { op: 'put', pages: [page(n, data, extra)] };
  });
  // Not the put path: several pages, a view at an odd offset, other operations.
  const big = new Uint8Array(3 * PUT_DATA_BY_TAIL_BYTES_MIN).fill(3);
  commands.push({ op: 'put', pages: [page(20, big), page(21, big)] });
  commands.push({ op: 'put', pages: [page(22, big.subarray(1, 1 + PUT_DATA_BY_TAIL_BYTES_MIN))] });
  commands.push({ op: 'delete', ns: 'a', keys: [key(1)] }, { op: 'noop' }, { op: 'put', pages: [] });
  for (const [i, command] of commands.entries()) {
    const expected = encodeCommand(command);
    for (const prefix of [0, 9]) {
      const out = encodeCommandAfter(prefix, command);
      t.equal(out.byteLength, prefix + expected.byteLength, `command ${i}, prefix ${prefix}: length`);
      t.ok(Buffer.from(out.buffer, out.byteOffset + prefix, expected.byteLength).equals(expected), `command ${i}, prefix ${prefix}: bytes`);
      t.equal(out.byteOffset, 0, `command ${i}: a buffer of its own`);
      t.equal(out.buffer.byteLength, out.byteLength, `command ${i}: exactly sized`);
    }
  }
  t.throws(() => encodeCommandAfter(9, { op: 'put', pages: [page(1, big, { dtype: 'fp8' as Dtype })] }), CodecError, 'checks fields as encodeCommand');
});

t.test('putPayloadBuffer: the first encodeCommandAfter writes the head in front of the payload, copying nothing', async (t) => {
  const meta = page(1, new Uint8Array(0), { parentKey: key(2), ttlMs: 5 }).meta;
  for (const bytes of [PUT_DATA_BY_TAIL_BYTES_MIN, 0x10000, 2 * MIB + 1]) {
    const data = putPayloadBuffer(meta, bytes);
    t.equal(data.byteLength, bytes);
    data.fill(bytes & 0xff);
    const command: Command = { op: 'put', pages: [{ meta: { ...meta, bytes, crc32c: 0xffff_ffff, createdAtMs: 2 ** 40 }, data }] };
    const expected = encodeCommand(command);
    const first = encodeCommandAfter(COMMAND_PREFIX_BYTES_MAX, command);
    t.equal(first.buffer, data.buffer, `${bytes}: the payload's own buffer`);
    t.equal(first.byteOffset + first.byteLength, data.byteOffset + data.byteLength, 'ending with the payload');
    t.ok(Buffer.from(first.subarray(COMMAND_PREFIX_BYTES_MAX)).equals(expected), 'encodeCommand\'s bytes behind the prefix');
    const second = encodeCommandAfter(9, command);
    t.not(second.buffer, data.buffer, 'a second encoding copies: the room went to the first');
    t.ok(Buffer.from(second.subarray(9)).equals(expected), 'the same bytes');
    t.ok(Buffer.from(first.subarray(COMMAND_PREFIX_BYTES_MAX)).equals(expected), 'and the first is left as it was');
  }
  // Room sized for other fields than the command holds (a longer namespace): copied, not overrun.
  const data = putPayloadBuffer({ ns: '', key: new Uint8Array(0), shape: [] }, PUT_DATA_BY_TAIL_BYTES_MIN);
  const command: Command = { op: 'put', pages: [page(3, data, { ns: 'n'.repeat(300), shape: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] })] };
  const out = encodeCommandAfter(9, command);
  t.not(out.buffer, data.buffer, 'too little room: a buffer of its own');
  t.ok(Buffer.from(out.subarray(9)).equals(encodeCommand(command)), 'with the same bytes');
});

t.test('offerRoomBefore: room before a view into a larger buffer takes the head in place, once; too little is copied', async (t) => {
  const meta = page(1, new Uint8Array(0), { parentKey: key(2) }).meta;
  const bytes = 0x10000;
  const received = Buffer.alloc(300 + bytes, 0xee);
  const data = received.subarray(300);
  data.fill(7);
  const command: Command = { op: 'put', pages: [{ meta: { ...meta, bytes, crc32c: 1, createdAtMs: 2 ** 40 }, data }] };
  const expected = encodeCommand(command);
  offerRoomBefore(data, 300);
  const out = encodeCommandAfter(9, command);
  t.equal(out.buffer, received.buffer, 'the received buffer itself');
  t.equal(out.byteOffset + out.byteLength, received.byteLength, 'ending with the payload');
  t.ok(Buffer.from(out.subarray(9)).equals(expected), "encodeCommand's bytes behind the prefix");
  t.not(encodeCommandAfter(9, command).buffer, received.buffer, 'the room is given once');

  const tight = Buffer.alloc(20 + bytes).subarray(20);
  const small: Command = { op: 'put', pages: [{ meta: { ...meta, bytes, crc32c: 1, createdAtMs: 1 }, data: tight }] };
  offerRoomBefore(tight, 20);
  const copied = encodeCommandAfter(9, small);
  t.not(copied.buffer, tight.buffer, '20 bytes do not hold the head: a buffer of its own');
  t.ok(Buffer.from(copied.subarray(9)).equals(encodeCommand(small)), 'with the same bytes');
  t.throws(() => offerRoomBefore(tight, 21), { code: 'ERR_ASSERTION' }, 'room past the start of the buffer is a bug, caught');
});

t.test('long strings encode after a large payload (msgpackr writes them with Buffer#utf8Write)', async (t) => {
  const ns = 'n'.repeat(128);
  const big: Command = { op: 'put', pages: [page(1, new Uint8Array(PUT_DATA_BY_TAIL_BYTES_MIN), { ns })] };
  t.equal((decodeCommand(encodeCommand(big)) as { pages: { meta: PageMeta }[] }).pages[0]!.meta.ns, ns, 'a large page into a 128-character namespace');
  t.same(decodeCommand(encodeCommand({ op: 'drop-ns', ns })), { op: 'drop-ns', ns }, 'and the next command with that namespace');
  t.ok(decodeCommand(encodeCommandAfter(9, big).subarray(9)), 'and the proposal path');
});

t.test('malformed commands are refused on both sides', async (t) => {
  const good = page(1, Uint8Array.of(1));
  const bad: [string, Command][] = [
    ['unknown op', { op: 'truncate' } as unknown as Command],
    ['unknown dtype', { op: 'put', pages: [page(1, Uint8Array.of(1), { dtype: 'fp8' as Dtype })] }],
    ['checksum over 32 bits', { op: 'put', pages: [page(1, Uint8Array.of(1), { crc32c: 2 ** 32 })] }],
    ['negative tokens', { op: 'put', pages: [page(1, Uint8Array.of(1), { tokens: -1 })] }],
    ['fractional shape', { op: 'put', pages: [page(1, Uint8Array.of(1), { shape: [1.5] })] }],
    ['key not bytes', { op: 'put', pages: [page(1, Uint8Array.of(1), { key: 'k' as never })] }],
    ['data not bytes', { op: 'put', pages: [{ meta: good.meta, data: [1] as never }] }],
    ['numeric ns', { op: 'drop-ns', ns: 5 as never }],
    ['keys not an array', { op: 'delete', ns: 'a', keys: key(1) as never }],
    ['negative ttl', { op: 'pin', ns: 'a', keys: [], ttlMs: -1, nowMs: 0 }],
  ];
  for (const [name, command] of bad) t.throws(() => encodeCommand(command), CodecError, `encode: ${name}`);
  // Hand-built records the encoder would never produce.
  const raw: [string, number[]][] = [
    ['op code 0', [0x92, 5, 0]],
    ['op code 8', [0x92, 5, 8]],
    ['noop with an extra field', [0x93, 5, 7, 0]],
    ['drop-ns without ns', [0x92, 5, 3]],
    ['pin without nowMs', [0x95, 5, 4, 0xa1, 0x61, 0x90, 1]],
    ['put with a page of 10 fields', [0x93, 5, 1, 0x91, 0x9a, 0xa0, 0xc4, 0, 0xc0, 0xa4, 0x66, 0x70, 0x31, 0x36, 0x90, 0, 0, 0, 0, 0xc0]],
    ['an Entry tag', [0x92, 1, 7]],
  ];
  for (const [name, bytes] of raw) t.throws(() => decodeCommand(Uint8Array.from(bytes)), CodecError, `decode: ${name}`);
});
