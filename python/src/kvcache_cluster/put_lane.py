"""The put lane, the Python client's side: PutPages calls to a plaintext member over a TCP
connection of their own on the member port instead of a gRPC stream, with the same messages, the
same answers and the same errors (the protocol: src/rpc/put-lane.ts; the TypeScript client's
side: src/client/put-lane.ts; docs/PYTHON.md, "The put lane").

After an 8-byte hello each way, frames are gRPC-framed (a zero byte and a 4-byte big-endian
length) and hold a kind byte, a 4-byte call id and the kind's body: OPEN (JSON: the relative
deadline and the call's metadata), MESSAGE (one PutPagesRequest), END and CANCEL from the client;
RESULT (the PutPagesResponse) or ERROR (JSON: gRPC status, details, trailers) from the member.

This client is synchronous, so each call takes a connection of its own from a small pool per
member (a thread's call never waits behind another's), sends its messages with sendmsg (a page's
bytes go from the caller's buffer to the socket, never joined into one bytes object) and reads its
answer. A member that does not take the lane (TLS, an older build) is left to gRPC for
RETRY_S; one that could not be reached, for RECONNECT_S.
"""
from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import grpc

from . import errors
from ._wire import cache_pb2

HELLO = b"KVCPUTS1"
OPEN, MESSAGE, END, CANCEL, RESULT, ERROR = 1, 2, 3, 4, 5, 6
RETRY_S = 60.0
RECONNECT_S = 1.0
CONNECT_TIMEOUT_S = 5.0
# Idle connections kept per member: as many as threads that put at once, within reason.
IDLE_PER_MEMBER_MAX = 8
# Answers are small (a key and a code per page); a longer frame is a broken member.
ANSWER_BYTES_MAX = 4 * 1024 * 1024
_HEAD = struct.Struct(">BIBI")


class LaneUnavailable(Exception):
    """The member does not take the lane now: put over gRPC."""


def _frame_head(kind: int, call_id: int, body_bytes: int) -> bytes:
    return _HEAD.pack(0, 5 + body_bytes, kind, call_id)


def _host_and_port(endpoint: str) -> Optional[Tuple[str, int]]:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class _Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.next_id = 1
        self.pending = b""


class PutLanes:
    """The put lanes of one client, by member address; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: Dict[str, List[_Connection]] = {}
        self._retry_at: Dict[str, float] = {}
        self._closed = False
        self.attempts = {"lane": 0, "grpc": 0}

    def usable(self, endpoint: str) -> bool:
        with self._lock:
            return not self._closed and time.monotonic() >= self._retry_at.get(endpoint, 0.0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.sock.close()

    def call(self, endpoint: str, messages: Iterable[Sequence[Any]], metadata: Optional[List[Tuple[str, str]]],
             deadline_ms: int) -> Any:
        """One PutPages call over the lane: returns the cache_pb2.PutPagesResponse, raises KvcError as
        the gRPC call would (its status and trailers; KVC_DEADLINE_EXCEEDED, KVC_UNAVAILABLE), or
        LaneUnavailable before anything was sent when the member does not take the lane."""
        deadline = time.monotonic() + deadline_ms / 1000
        connection = self._take(endpoint)
        try:
            response = self._call(connection, endpoint, messages, metadata, deadline_ms, deadline)
        except BaseException:
            connection.sock.close()
            raise
        self._give_back(endpoint, connection)
        return response

    def _take(self, endpoint: str) -> _Connection:
        with self._lock:
            idle = self._idle.get(endpoint)
            if idle:
                return idle.pop()
        address = _host_and_port(endpoint)
        if address is None:
            self._refused(endpoint, RETRY_S)
            raise LaneUnavailable(f"{endpoint} is not host:port")
        try:
            sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT_S)
        except OSError as error:
            self._refused(endpoint, RECONNECT_S)
            raise LaneUnavailable(f"no connection to {endpoint}: {error}") from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(HELLO)
            answer = b""
            while len(answer) < len(HELLO):
                chunk = sock.recv(len(HELLO) - len(answer))
                if not chunk or not HELLO.startswith(answer + chunk):
                    raise LaneUnavailable(f"{endpoint} does not take the put lane")
                answer += chunk
        except (OSError, LaneUnavailable) as error:
            sock.close()
            self._refused(endpoint, RETRY_S)
            if isinstance(error, LaneUnavailable):
                raise
            raise LaneUnavailable(f"{endpoint} closed the put lane: {error}") from error
        return _Connection(sock)

    def _refused(self, endpoint: str, for_s: float) -> None:
        with self._lock:
            self._retry_at[endpoint] = time.monotonic() + for_s

    def _give_back(self, endpoint: str, connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(endpoint, [])
            if not self._closed and len(idle) < IDLE_PER_MEMBER_MAX:
                idle.append(connection)
                return
        connection.sock.close()

    def _call(self, connection: _Connection, endpoint: str, messages: Iterable[Sequence[Any]],
              metadata: Optional[List[Tuple[str, str]]], deadline_ms: int, deadline: float) -> Any:
        sock = connection.sock
        call_id = connection.next_id
        connection.next_id += 1
        open_body = json.dumps({"timeoutMs": deadline_ms, "metadata": dict(metadata or [])}).encode()
        try:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            _send(sock, [_frame_head(OPEN, call_id, len(open_body)), open_body])
            for parts in messages:
                # An early answer (an error such as KVC_NOT_LEADER) stops the upload, as on gRPC.
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                _send(sock, [_frame_head(MESSAGE, call_id, sum(len(p) for p in parts)), *parts])
            else:
                _send(sock, [_frame_head(END, call_id, 0)])
            while True:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                kind, answered_id, body = _read_frame(connection)
                if answered_id == call_id:
                    break
        except socket.timeout:
            try:
                sock.setblocking(False)
                sock.send(_frame_head(CANCEL, call_id, 0))
            except OSError:
                pass
            raise errors.KvcError(errors.KVC_DEADLINE_EXCEEDED, f"{errors.KVC_DEADLINE_EXCEEDED}: Deadline exceeded after {deadline_ms} ms (from {endpoint})",
                                  grpc.StatusCode.DEADLINE_EXCEEDED, endpoint, None) from None
        except (OSError, ValueError) as error:
            raise errors.KvcError(errors.KVC_UNAVAILABLE, f"{errors.KVC_UNAVAILABLE}: the put-lane connection to {endpoint} failed: {error} (from {endpoint})",
                                  grpc.StatusCode.UNAVAILABLE, endpoint, None) from error
        if kind == RESULT:
            return cache_pb2.PutPagesResponse.FromString(body)
        if kind == ERROR:
            raise _error_from(body, endpoint)
        raise errors.KvcError(errors.KVC_PROTOCOL, f"{errors.KVC_PROTOCOL}: a put-lane answer of kind {kind} (from {endpoint})",
                              grpc.StatusCode.UNKNOWN, endpoint, None)


def _send(sock: socket.socket, parts: List[Any]) -> None:
    """Writes every byte of `parts`, in order, in as few sendmsg calls as the socket takes."""
    views = [memoryview(p).cast("B") for p in parts if len(p) > 0]
    while views:
        sent = sock.sendmsg(views)
        while views and sent >= len(views[0]):
            sent -= len(views[0])
            views.pop(0)
        if views and sent > 0:
            views[0] = views[0][sent:]


def _read_frame(connection: _Connection) -> Tuple[int, int, bytes]:
    header = _read_exactly(connection, 5)
    flag, length = header[0], int.from_bytes(header[1:5], "big")
    if flag != 0 or length < 5 or length > ANSWER_BYTES_MAX:
        raise ValueError(f"a put-lane frame with flag {flag} and length {length}")
    frame = _read_exactly(connection, length)
    return frame[0], int.from_bytes(frame[1:5], "big"), frame[5:]


def _read_exactly(connection: _Connection, size: int) -> bytes:
    data = connection.pending
    while len(data) < size:
        chunk = connection.sock.recv(max(65536, size - len(data)))
        if not chunk:
            raise ValueError("the member closed the put-lane connection")
        data += chunk
    connection.pending = data[size:]
    return data[:size]


def _error_from(body: bytes, endpoint: str) -> errors.KvcError:
    """An ERROR frame as the KvcError the same status over gRPC makes (errors.from_rpc_error)."""
    try:
        answer = json.loads(body.decode())
        code_number = int(answer.get("code", 2))
        details = str(answer.get("details", ""))
        trailers = {str(k): str(v) for k, v in (answer.get("metadata") or {}).items()}
    except (ValueError, AttributeError, TypeError):
        code_number, details, trailers = 13, "a put-lane error answer that is no JSON", {}
    status = next((s for s in grpc.StatusCode if s.value[0] == code_number), grpc.StatusCode.UNKNOWN)
    code = trailers.get(errors.KVC_CODE_TRAILER) or errors.uncoded(status)
    leader = trailers.get(errors.LEADER_TRAILER) or None
    return errors.KvcError(code, f"{code}: {details} (from {endpoint})", status, endpoint, leader)
