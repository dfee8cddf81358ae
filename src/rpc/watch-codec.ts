// WatchResponse bytes shared by every watcher. A member with 100 watchers would otherwise encode
// each event 100 times. A WatchResponse is only `repeated WatchEvent events = 1`, so its encoding
// is the concatenation of each event's framed field (tag, length, event bytes): each event is
// framed once, with the method's own generic serializer on a one-event message, kept beside the
// event (a WeakMap: it goes when the ring drops the event), and a watcher's message is the
// concatenation of its events' frames. The Watch method's serializer passes such a Buffer
// through and encodes anything else (progress messages) as usual.
import type { CacheEvent } from '../store/index.js';
import type { WatchEvent as WatchEventMessage, WatchResponse } from '../proto/index.js';

export type WatchSerializer = (value: WatchResponse | Buffer) => Buffer;

/** The Watch method's response serializer: pre-encoded messages pass through. */
export function watchResponseSerializer(encodeGeneric: (value: WatchResponse) => Buffer): WatchSerializer {
  return (value) => (Buffer.isBuffer(value) ? value : encodeGeneric(value));
}

export class WatchFrames {
  readonly #encode: (value: WatchResponse) => Buffer;
  readonly #frames = new WeakMap<CacheEvent, Buffer>();

  constructor(encode: (value: WatchResponse) => Buffer) {
    this.#encode = encode;
  }

  /** One WatchResponse holding `events`, in order, as bytes. */
  message(events: readonly CacheEvent[], toMessage: (event: CacheEvent) => WatchEventMessage): Buffer {
    return Buffer.concat(events.map((event) => this.#frame(event, toMessage)));
  }

  #frame(event: CacheEvent, toMessage: (event: CacheEvent) => WatchEventMessage): Buffer {
    let frame = this.#frames.get(event);
    if (frame === undefined) {
      frame = this.#encode({ events: [toMessage(event)] });
      this.#frames.set(event, frame);
    }
    return frame;
  }
}
