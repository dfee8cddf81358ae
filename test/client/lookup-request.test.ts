// Proves the client's hand-written LookupRequest encoder (src/client/lookup-request.ts) against the
// static protobufjs code it replaced (src/client/protos.ts, what the client sent before): random
// batches — namespaces with multi-byte characters, keys of 0 to 300 bytes (lengths past one varint
// byte), one to many prompts, empty prompts, linearizable, lease_ms at varint edges — encode to the
// very same bytes, and the members' decoder (src/rpc/lookup-codec.ts, proto-loader's on fallback)
// reads them back to the batch. Real protos, no mocks.
import t from 'tap';
import type { LookupBatch } from '../../src/client/lookup-batcher.js';
import { encodeLookupBatch } from '../../src/client/lookup-request.js';
import { clientRpcs } from '../../src/client/protos.js';
import type { LookupRequest, LookupRequest__Output } from '../../src/proto/index.js';
import { loadProtos } from '../../src/rpc/protos.js';
import { prng } from '../codec/prng.js';

const RANDOM_BATCHES = 300;
const NAMESPACES = ['', 'bench', 'tenant-a/llama:8b', 'hôte-ü/日本', 'x'.repeat(200)];
const KEY_LENGTHS = [0, 1, 8, 16, 32, 64, 65, 127, 128, 300];
const LEASES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 60_000, 0xffff_ffff, 2 ** 40];
const decodeMember = loadProtos().cache.Lookup!.requestDeserialize as (bytes: Buffer) => LookupRequest__Output;

function randomBatch(next: () => number): LookupBatch {
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  const prompt = (): Uint8Array[] => Array.from({ length: next() % 18 }, () => Uint8Array.from({ length: pick(KEY_LENGTHS) }, () => next() & 0xff));
  return {
    ns: pick(NAMESPACES),
    linearizable: next() % 3 === 0,
    leaseMs: next() % 2 === 0 ? 0 : pick(LEASES),
    prompts: Array.from({ length: 1 + (next() % 60) }, prompt),
  };
}

/** The request the client built for the static code before: defaults left out. */
function asRequest(batch: LookupBatch): LookupRequest {
  const [keys = [], ...more] = batch.prompts;
  const request: LookupRequest = { namespace: batch.ns, keys };
  if (batch.linearizable) request.linearizable = true;
  if (batch.leaseMs > 0) request.leaseMs = batch.leaseMs;
  if (more.length > 0) request.morePrompts = more.map((prompt) => ({ keys: prompt }));
  return request;
}

t.test('random batches encode to the static protobufjs bytes, and members read them back', async (t) => {
  const next = prng(31);
  const serialize = clientRpcs().lookup.serialize;
  let differingBytes = 0;
  let differingRead = 0;
  for (let i = 0; i < RANDOM_BATCHES; i++) {
    const batch = randomBatch(next);
    const bytes = encodeLookupBatch(batch);
    if (!bytes.equals(serialize(asRequest(batch)))) differingBytes++;
    const read = decodeMember(bytes);
    const prompts = [read.keys, ...read.morePrompts.map((prompt) => prompt.keys)].map((keys) => keys.map((key) => Buffer.from(key).toString('hex')));
    const same =
      read.namespace === batch.ns &&
      read.linearizable === batch.linearizable &&
      Number(read.leaseMs) === batch.leaseMs &&
      JSON.stringify(prompts) === JSON.stringify(batch.prompts.map((keys) => keys.map((key) => Buffer.from(key).toString('hex'))));
    if (!same) differingRead++;
  }
  t.equal(differingBytes, 0, `${RANDOM_BATCHES} batches: the same bytes as the static code`);
  t.equal(differingRead, 0, `${RANDOM_BATCHES} batches: read back alike by a member`);
});

t.test('one prompt of no keys is a request with only its namespace', async (t) => {
  t.same([...encodeLookupBatch({ ns: 'n', linearizable: false, leaseMs: 0, prompts: [[]] })], [(1 << 3) | 2, 1, 'n'.charCodeAt(0)]);
  t.same([...encodeLookupBatch({ ns: '', linearizable: false, leaseMs: 0, prompts: [] })], [(1 << 3) | 2, 0], 'no prompts at all: the namespace alone');
});
