"""Keeps every Python process a test starts on this machine: connections go to loopback only.

The test session puts this folder on PYTHONPATH (see tests/conftest.py), so each Python it
starts — command-line runs, Jupyter kernels, Voila — imports it at start-up, as Python does
any ``sitecustomize``. A connection to an address other than 127.0.0.1, ::1 or a local
socket file fails with a PermissionError naming the address, before any packet is sent.
"""

from __future__ import annotations

import errno
import os
import socket

ALLOWED = {"127.0.0.1", "::1", "localhost"}


def _host(address: object) -> str | None:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None


def _guard(connect):  # type: ignore[no-untyped-def]
    def guarded(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
        if self.family != getattr(socket, "AF_UNIX", None) and _host(address) not in ALLOWED:
            raise PermissionError(errno.EACCES, f"a test process may connect to this machine only, "
                                                f"not to {_host(address)}")
        return connect(self, address)

    return guarded


if os.environ.get("REVIEWKIT_TEST_NETGUARD") == "1":
    socket.socket.connect = _guard(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guard(socket.socket.connect_ex)  # type: ignore[method-assign]
