// A loopback grpc-js server for the tests of src/proto's grpc-js patches: its client-streaming
// Upload answers, in order, what `describe` says of each message it received (identity
// serializers: the bytes as they came), and a client of it that uploads a list of messages.
import * as grpc from '@grpc/grpc-js';
import type { Test } from 'tap';

export async function uploadServer(t: Test, describe: (m: Buffer) => string, clientOptions: grpc.ChannelOptions = {}): Promise<(messages: Buffer[]) => Promise<string>> {
  const identity = (b: Buffer): Buffer => b;
  const path = '/test.Upload/Upload';
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  server.addService(
    { Upload: { path, requestStream: true, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    {
      Upload: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const seen: string[] = [];
        call.on('data', (m: Buffer) => seen.push(describe(m)));
        call.on('end', () => callback(null, Buffer.from(seen.join(','))));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.teardown(() => server.forceShutdown());
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 8 * 1024 * 1024, ...clientOptions });
  t.teardown(() => client.close());
  return (messages) =>
    new Promise<string>((resolve, reject) => {
      const call = client.makeClientStreamRequest<Buffer, Buffer>(path, identity, identity, new grpc.Metadata(), {}, (error, response) => (error ? reject(error) : resolve(response!.toString())));
      for (const m of messages) call.write(m);
      call.end();
    });
}
