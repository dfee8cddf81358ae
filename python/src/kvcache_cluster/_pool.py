"""The members a client knows and one gRPC channel per member, as src/client/endpoint-pool.ts:
writes go to the leader hint (the last `kvcache-leader` trailer seen, or the member that last
accepted a write), reads rotate round-robin over every known member, and addresses are learned
from redirects and Status answers. Thread-safe: adapters call one client from several threads.
"""
from __future__ import annotations

import threading
from typing import Dict, List, Optional

import grpc

# Most members the pool will learn about: bounds what a confused server could make it dial.
ENDPOINTS_MAX = 256
# Equal to LIMITS.rpc.clientMessageBytesMax: one 1 MiB chunk and its envelope, or 8192 64-byte keys.
CLIENT_MESSAGE_BYTES_MAX = 4 * 1024 * 1024
# Reconnect quickly after a member restarts (gRPC's default backoff grows to 120 s).
RECONNECT_BACKOFF_INITIAL_MS = 100
RECONNECT_BACKOFF_MAX_MS = 1_000
KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000

# Channel options, all explicit (CONVENTIONS). gRPC C-core's own retries are off: the client's
# retry loop (client.py) is the one place that decides what may be repeated. C-core sizes its
# HTTP/2 flow-control window by bandwidth-delay probing, which the TypeScript client has to set
# by hand (grpc-node.flow_control_window).
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", CLIENT_MESSAGE_BYTES_MAX),
    ("grpc.max_send_message_length", CLIENT_MESSAGE_BYTES_MAX),
    ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_INITIAL_MS),
    ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_INITIAL_MS),
    ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MAX_MS),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
    ("grpc.enable_retries", 0),
    ("grpc.http2.bdp_probe", 1),
)


class EndpointPool:
    def __init__(self, endpoints: List[str], credentials: Optional[grpc.ChannelCredentials] = None):
        # With credentials every channel is TLS (Client's ca/cert/key); without, plaintext.
        self._credentials = credentials
        self._lock = threading.Lock()
        self._order: List[str] = []
        self._channels: Dict[str, grpc.Channel] = {}
        self._next = 0
        self._leader: Optional[str] = None
        self._closed = False
        for endpoint in endpoints:
            self.add(endpoint)
        if not self._order:
            raise ValueError("at least one endpoint (host:port) is required")

    def add(self, endpoint: str) -> bool:
        if not isinstance(endpoint, str) or endpoint == "":
            return False
        with self._lock:
            if endpoint in self._order or len(self._order) >= ENDPOINTS_MAX:
                return False
            self._order.append(endpoint)
            return True

    def known(self) -> List[str]:
        with self._lock:
            return list(self._order)

    @property
    def leader(self) -> Optional[str]:
        return self._leader

    def set_leader(self, endpoint: Optional[str]) -> None:
        if endpoint is not None:
            self.add(endpoint)
        self._leader = endpoint

    def next_replica(self) -> str:
        with self._lock:
            endpoint = self._order[self._next % len(self._order)]
            self._next = (self._next + 1) % len(self._order)
            return endpoint

    def leader_or_next(self) -> str:
        leader = self._leader
        return leader if leader is not None else self.next_replica()

    @property
    def closed(self) -> bool:
        return self._closed

    def channel(self, endpoint: str) -> grpc.Channel:
        with self._lock:
            if self._closed:
                raise ValueError("the client is closed")
            channel = self._channels.get(endpoint)
            if channel is None:
                if self._credentials is None:
                    channel = grpc.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
                else:
                    channel = grpc.secure_channel(endpoint, self._credentials, options=CHANNEL_OPTIONS)
                self._channels[endpoint] = channel
            return channel

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.close()
