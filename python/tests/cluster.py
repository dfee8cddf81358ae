"""The one real cluster the Python tests share in a run.

Under `npm test` the tap wrapper (test/python/python.test.ts) starts `kvc dev` once and passes its
members in $KVC_TEST_ENDPOINTS. Run directly (`python3 -m unittest discover -s tests` in python/),
the first test that needs a cluster starts one here the same way, `node bin/kvc.js dev --json`
on free loopback ports, and it is stopped when the interpreter exits. Either way the members are
real processes serving gRPC on 127.0.0.1.
"""
from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KVC_BIN = os.path.join(REPO, "bin", "kvc.js")
NODES = 3
# kvc dev loads TypeScript in three processes and elects a leader: seconds on 2 cores.
DEV_UP_TIMEOUT_S = 60
PORT_TRIES = 50
PORT_RANGE_LOW = 20_000
PORT_RANGE_HIGH = 30_000

_lock = threading.Lock()
_endpoints: Optional[List[str]] = None


def endpoints() -> List[str]:
    """The shared cluster's member addresses, starting it on first use."""
    global _endpoints
    with _lock:
        if _endpoints is None:
            given = os.environ.get("KVC_TEST_ENDPOINTS")
            _endpoints = given.split(",") if given else _start_dev()
        return list(_endpoints)


def _free_base_port() -> int:
    """A port p with p..p+NODES-1 free, drawn from the range the TypeScript tests draw from
    (scripts/bench/ports.ts), below the kernel's ephemeral ports."""
    rng = random.Random()
    for _ in range(PORT_TRIES):
        base = rng.randrange(PORT_RANGE_LOW, PORT_RANGE_HIGH - NODES)
        try:
            for port in range(base, base + NODES):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free range of loopback ports")


def _start_dev() -> List[str]:
    directory = tempfile.mkdtemp(prefix="kvc-py-tests-")
    process = subprocess.Popen(
        ["node", KVC_BIN, "dev", "--json", "--nodes", str(NODES), "--base-port", str(_free_base_port()), "--dir", os.path.join(directory, "cluster")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, start_new_session=True,
    )
    line = {}

    def read() -> None:
        line.update(json.loads(process.stdout.readline() or "{}"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(DEV_UP_TIMEOUT_S)

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        for pid in [process.pid, *line.get("pids", [])]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(directory, ignore_errors=True)

    atexit.register(stop)
    if "endpoints" not in line:
        stop()
        raise RuntimeError(f"kvc dev printed no line in {DEV_UP_TIMEOUT_S} s")
    return line["endpoints"]


def wait_until(predicate, timeout_s: float = 10.0, interval_s: float = 0.05) -> bool:
    """Polls `predicate` until it is true or `timeout_s` passed (a bounded loop)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def wait_applied(client, namespace: str, keys, matched: int, timeout_s: float = 10.0) -> bool:
    """Waits until every member's Lookup of `keys` matches `matched`: a lagging follower may
    under-report for a moment after a write (reads rotate over the members)."""
    return wait_until(lambda: all(client.lookup(namespace, keys, endpoint=e) == matched for e in client.endpoints()), timeout_s)
