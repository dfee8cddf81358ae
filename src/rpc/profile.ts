// AdminService.Profile: a CPU profile of this member's main thread through node:inspector's
// Profiler, taken for a bounded number of seconds and streamed back as .cpuprofile JSON in
// chunks. One at a time per process (the inspector has one profiler): a second request meanwhile
// gets KVC_BUSY. A client that goes away stops the profile early and frees the profiler.
import { Session } from 'node:inspector/promises';
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import type { ProfileChunk, ProfileRequest__Output as ProfileRequest } from '../proto/index.js';

export const PROFILE_SECONDS_MIN = 1;
export const PROFILE_SECONDS_MAX = 60;
/** Bytes of profile JSON per streamed message (well under the 4 MiB client message limit). */
const PROFILE_CHUNK_BYTES = 1024 * 1024;
/** Sampling interval: the inspector's default (1 ms) is finer than a busy member needs. */
const SAMPLING_INTERVAL_US = 1_000;

let running = false;

export async function profile(request: ProfileRequest, call: grpc.ServerWritableStream<ProfileRequest, ProfileChunk>): Promise<void> {
  const seconds = request.seconds;
  if (!Number.isInteger(seconds) || seconds < PROFILE_SECONDS_MIN || seconds > PROFILE_SECONDS_MAX) {
    throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `seconds must be ${PROFILE_SECONDS_MIN} to ${PROFILE_SECONDS_MAX}, got ${seconds}` });
  }
  if (running) throw new KvcError('KVC_BUSY', { detail: 'a CPU profile of this member is being taken' });
  running = true;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await session.post('Profiler.start');
    await waitOrCancelled(seconds * 1000, call);
    const { profile: taken } = await session.post('Profiler.stop');
    if (call.cancelled) return;
    const json = Buffer.from(JSON.stringify(taken));
    for (let offset = 0; offset < json.byteLength; offset += PROFILE_CHUNK_BYTES) {
      if (!call.write({ data: json.subarray(offset, offset + PROFILE_CHUNK_BYTES) })) await new Promise((resolve) => call.once('drain', resolve));
    }
  } finally {
    session.disconnect();
    running = false;
  }
}

function waitOrCancelled(ms: number, call: grpc.ServerWritableStream<ProfileRequest, ProfileChunk>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      call.off('cancelled', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    call.once('cancelled', done);
  });
}
