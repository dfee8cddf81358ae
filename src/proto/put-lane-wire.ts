// The put lane's wire constants, shared by the member (src/rpc put-lane.ts, which describes the
// protocol) and the client (src/client put-lane.ts).

/** What a put-lane connection starts with, both ways. Neither an HTTP/2 preface, TLS nor the socket lane's hello starts so. */
export const PUT_LANE_HELLO = Buffer.from('KVCPUTS1', 'latin1');

/** The kind byte of a put-lane frame: OPEN, MESSAGE, END and CANCEL from the client; RESULT and ERROR from the member. */
export const PUT_LANE_KINDS = { open: 1, message: 2, end: 3, cancel: 4, result: 5, error: 6 } as const;

/** A frame's kind byte and call id (4 bytes, big-endian), before its body. */
export const PUT_LANE_HEAD_BYTES = 5;

/** The gRPC frame header and a put-lane frame's head, for a frame whose body is `bodyBytes` long. */
export function putLaneFrameHead(kind: number, id: number, bodyBytes: number): Buffer {
  const head = Buffer.allocUnsafe(5 + PUT_LANE_HEAD_BYTES);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(PUT_LANE_HEAD_BYTES + bodyBytes, 1);
  head.writeUInt8(kind, 5);
  head.writeUInt32BE(id, 6);
  return head;
}
