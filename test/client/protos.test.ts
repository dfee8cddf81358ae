// Proves that the client's RPC descriptors (src/client/protos.ts: protobufjs static code generated
// by pbjs, src/proto's clientMessageTypes, no .proto parsing) behave exactly as @grpc/proto-loader's loadSync
// of the .proto files with the same options: for every RPC of cache.proto and admin.proto the same
// path, and on a value with every field of the request and response set (every oneof member in
// turn, nested messages, repeated fields, 64-bit integers, bytes, enums) the same request bytes
// and the same decoded response object; the empty message too; an array is refused alike.
// In-process, no server: the wire behaviour against real members is test/client/client.test.ts's.

import { createRequire } from 'node:module';
import * as protoLoader from '@grpc/proto-loader';
import t from 'tap';
import { clientRpcs, PROTO_LOADER_OPTIONS, type Rpc } from '../../src/client/protos.js';
import { CLIENT_PROTO_FILES } from '../../src/proto/index.js';

/** The parts of protobufjs's reflection that the sample builder reads. */
interface Field {
  name: string;
  type: string;
  repeated: boolean;
  partOf: { name: string } | null;
  resolvedType: MessageType | { values: Record<string, number> } | null;
}
interface MessageType {
  fieldsArray: Field[];
}

const SCALARS: Record<string, unknown> = {
  string: 'text-é',
  bytes: Buffer.from([0, 1, 2, 255]),
  bool: true,
  double: 1.5,
  float: 0.25,
  int32: -7,
  uint32: 4_000_000_000,
  sint32: -9,
  int64: -1234567890123,
  uint64: 9_007_199_254_740_000,
  sint64: -5,
  fixed64: 77,
  fixed32: 78,
};

/** A value of `type` with every field set; the `oneofPick`th member of each oneof (wrapping). */
function sample(type: MessageType, oneofPick: number, depth = 0): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  for (const field of type.fieldsArray) {
    if (field.partOf !== null) {
      const index = seen.get(field.partOf.name) ?? 0;
      seen.set(field.partOf.name, index + 1);
      const members = type.fieldsArray.filter((other) => other.partOf?.name === field.partOf?.name).length;
      if (index !== oneofPick % members) continue;
    }
    const one = fieldValue(field, oneofPick, depth);
    if (one !== undefined) value[field.name] = field.repeated ? [one, one] : one;
  }
  return value;
}

function fieldValue(field: Field, oneofPick: number, depth: number): unknown {
  if (field.type in SCALARS) return SCALARS[field.type];
  const resolved = field.resolvedType;
  if (resolved !== null && 'values' in resolved) return Object.keys(resolved.values).at(-1);
  if (resolved !== null && depth < 4) return sample(resolved, oneofPick, depth + 1);
  return undefined;
}

/** The services as proto-loader's loadSync makes them, and the reflection of its types. */
const definition = protoLoader.loadSync([...CLIENT_PROTO_FILES], PROTO_LOADER_OPTIONS);
const fromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
const protobuf = fromLoader('protobufjs') as { Root: new () => { loadSync(files: string[], options: object): { lookupType(name: string): MessageType } } };
const reflection = new protobuf.Root().loadSync(CLIENT_PROTO_FILES.map((file) => `${PROTO_LOADER_OPTIONS.includeDirs?.[0]}/${file}`), { keepCase: false });

/** Every method of the client's services, by its path. */
const loaderMethods = new Map<string, protoLoader.MethodDefinition<object, object>>();
for (const name of ['kvcache.v1.CacheService', 'kvcache.v1.AdminService']) {
  for (const method of Object.values(definition[name] as protoLoader.ServiceDefinition)) loaderMethods.set(method.path, method);
}

function typeName(definition: protoLoader.MessageTypeDefinition<object, object>): string {
  return (definition.type as { name: string }).name;
}

function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return 'nothing thrown';
}

const rpcs = Object.entries(clientRpcs()) as [string, Rpc<unknown, unknown>][];

t.test('the client calls every RPC of its services, at the same paths', async (t) => {
  t.same(rpcs.map(([, rpc]) => rpc.path).sort(), [...loaderMethods.keys()].sort());
});

t.test('each RPC serializes and deserializes as loadSync does', async (t) => {
  for (const [name, rpc] of rpcs) {
    const method = loaderMethods.get(rpc.path);
    if (method === undefined) {
      t.fail(`${name}: ${rpc.path} is not in the protos`);
      continue;
    }
    const requestType = reflection.lookupType(`kvcache.v1.${typeName(method.requestType)}`);
    const responseType = reflection.lookupType(`kvcache.v1.${typeName(method.responseType)}`);
    for (let pick = 0; pick < 3; pick++) {
      const request = sample(requestType, pick);
      t.strictSame(rpc.serialize(request), method.requestSerialize(request), `${name}: request bytes (oneof pick ${pick})`);
      const bytes = method.responseSerialize(sample(responseType, pick));
      t.strictSame(rpc.deserialize(bytes), method.responseDeserialize(bytes), `${name}: decoded response (oneof pick ${pick})`);
    }
    t.strictSame(rpc.deserialize(Buffer.alloc(0)), method.responseDeserialize(Buffer.alloc(0)), `${name}: the empty response, defaults filled`);
    t.throws(() => rpc.serialize([]), { message: thrownMessage(() => method.requestSerialize([] as never)) }, `${name}: an array is refused alike`);
  }
});
