"""KvcError: the one exception the client raises for operating errors, and the translation of a
gRPC status (with its trailers) into it, as src/client/client-error.ts does. A server sends its
registry code (docs/ERRORS.md) in the `kvc-code` trailer and, for KVC_NOT_LEADER/KVC_NO_LEADER,
the leader's host:port in `kvcache-leader`. Failures no server coded get the client codes of
docs/CLIENT.md. Caller mistakes are TypeError/ValueError instead, raised before anything is sent.
"""
from __future__ import annotations

from typing import Optional

import grpc

KVC_CODE_TRAILER = "kvc-code"
LEADER_TRAILER = "kvcache-leader"

KVC_UNAVAILABLE = "KVC_UNAVAILABLE"
KVC_CANCELLED = "KVC_CANCELLED"
KVC_TRANSPORT = "KVC_TRANSPORT"
KVC_PROTOCOL = "KVC_PROTOCOL"
KVC_DEADLINE_EXCEEDED = "KVC_DEADLINE_EXCEEDED"
KVC_INCOMPLETE_PAGE = "KVC_INCOMPLETE_PAGE"
KVC_CHECKSUM_MISMATCH = "KVC_CHECKSUM_MISMATCH"
KVC_NOT_FOUND = "KVC_NOT_FOUND"
# The same-host shared-memory read path (docs/CLIENT.md "Same-host shared memory").
KVC_SHM_NOT_ON_HOST = "KVC_SHM_NOT_ON_HOST"
KVC_TOO_MANY_LEASES = "KVC_TOO_MANY_LEASES"
KVC_LEASE_UNKNOWN = "KVC_LEASE_UNKNOWN"
KVC_LEASE_NOT_OWNED = "KVC_LEASE_NOT_OWNED"


class KvcError(Exception):
    """An operating error: `code` is a KVC_* string, `grpc_status` a grpc.StatusCode (UNKNOWN for
    what the client detected itself), `endpoint` the member that answered or failed, `leader` the
    address a redirect named, `attempts` how many tries were made."""

    def __init__(self, code: str, message: str, grpc_status: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
                 endpoint: Optional[str] = None, leader: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.grpc_status = grpc_status
        self.endpoint = endpoint
        self.leader = leader
        self.attempts = 1

    @property
    def grpc_code(self) -> int:
        """The gRPC status number (e.g. 14 for UNAVAILABLE)."""
        return int(self.grpc_status.value[0])


def local_error(code: str, message: str, endpoint: str) -> KvcError:
    """An error the client detected in what a server sent."""
    return KvcError(code, f"{code}: {message} (from {endpoint})", grpc.StatusCode.UNKNOWN, endpoint)


_UNCODED = {
    grpc.StatusCode.DEADLINE_EXCEEDED: KVC_DEADLINE_EXCEEDED,
    grpc.StatusCode.UNAVAILABLE: KVC_UNAVAILABLE,
    grpc.StatusCode.CANCELLED: KVC_CANCELLED,
}


def uncoded(status: grpc.StatusCode) -> str:
    """The client code of a status that came without a `kvc-code` trailer."""
    return _UNCODED.get(status, KVC_TRANSPORT)


def from_rpc_error(error: grpc.RpcError, endpoint: str) -> KvcError:
    """A failed call's grpc.RpcError (a grpc.Call) as a KvcError."""
    status = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    trailers = {}
    try:
        for key, value in error.trailing_metadata() or ():
            trailers.setdefault(key, value.decode() if isinstance(value, bytes) else value)
    except (AttributeError, TypeError):
        pass
    code = trailers.get(KVC_CODE_TRAILER) or uncoded(status)
    leader = trailers.get(LEADER_TRAILER) or None
    return KvcError(code, f"{code}: {details} (from {endpoint})", status, endpoint, leader)
