// Original file: proto/kvcache/v1/admin.proto


/**
 * A CPU profile of this member's main thread (node:inspector's Profiler), taken for `seconds`
 * (1 to 60) and streamed back as the JSON of a .cpuprofile (Chrome DevTools opens it) in chunks.
 * One profile at a time per member: a second request while one runs gets KVC_BUSY.
 */
export interface ProfileRequest {
  'seconds'?: (number);
}

/**
 * A CPU profile of this member's main thread (node:inspector's Profiler), taken for `seconds`
 * (1 to 60) and streamed back as the JSON of a .cpuprofile (Chrome DevTools opens it) in chunks.
 * One profile at a time per member: a second request while one runs gets KVC_BUSY.
 */
export interface ProfileRequest__Output {
  'seconds': (number);
}
