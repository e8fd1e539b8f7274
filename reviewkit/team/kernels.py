"""The forms' kernels: forked ready-made, at most two per person, and none kept for a page nobody opened.

Loaded by a reviewer's server on the hub and by ``reviewkit serve`` (the configuration names
these classes). Each form page runs its notebook in a kernel of its own:

- ``ForkedKernelManager`` starts that kernel as a fork of the fork server
  (``reviewkit.core.forkserver``), which has already imported ipykernel, ipywidgets and the
  forms, so a kernel is ready in milliseconds and shares that memory with the others; without a
  fork server it starts the kernel as usual.
- ``FormsKernelManager`` keeps at most ``max_kernels`` kernels (a person's two tabs, say): a
  further page takes the place of the one used least recently. A kernel no page is connected
  to is shut down after ``unconnected_seconds`` without activity (a plain GET of the form's
  address that never opens the page's connection, or a browser closed without leaving the
  page); idle kernels are culled as before.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager, ServerKernelManager
from tornado.ioloop import PeriodicCallback
from traitlets import Integer

from reviewkit.core.forkserver import FORKSERVER_ENV, spawn

MAX_KERNELS = 2
UNCONNECTED_SECONDS = 300  # long enough for a page on a very busy machine to load and connect
CHECK_EVERY_SECONDS = 10


class ForkedKernelManager(ServerKernelManager):
    """A kernel forked from the fork server when there is one (Python kernels only)."""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        sock = os.environ.get(FORKSERVER_ENV, "")
        at = kernel_cmd.index("-m") if "-m" in kernel_cmd else -1
        if not (sock and Path(sock).exists() and kernel_cmd[at + 1:at + 2] == ["ipykernel_launcher"]):
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner = self.provisioner
        assert provisioner is not None
        env = dict(kw.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())
        cwd = str(kw.get("cwd") or os.getcwd())
        argv = [sys.executable, *kernel_cmd[at:]]  # interpreter options (-X...) were set when the fork server started
        try:
            proc = await asyncio.to_thread(spawn, sock, argv, env, cwd, os.getpid())
        except OSError as e:
            self.log.warning("fork server unavailable (%s); starting the kernel as usual", e)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner.process = proc  # type: ignore[attr-defined] - Popen-like: poll, wait, kill, send_signal
        provisioner.pid = proc.pid  # type: ignore[attr-defined]
        provisioner.pgid = proc.pid  # type: ignore[attr-defined] - the fork starts a session of its own
        provisioner.cwd = cwd  # type: ignore[attr-defined]
        self._reconcile_connection_info(provisioner.connection_info)


class FormsKernelManager(AsyncMappingKernelManager):
    """At most a few kernels for one person's pages; unconnected ones go soon."""

    max_kernels = Integer(MAX_KERNELS, config=True, help="Kernels at most; a new page replaces the least used one.")
    unconnected_seconds = Integer(UNCONNECTED_SECONDS, config=True,
                                  help="A kernel no page is connected to is shut down after this long without "
                                       "activity (0: never).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._started_at: dict[str, float] = {}
        self._checker: PeriodicCallback | None = None

    async def start_kernel(self, *, kernel_id: str | None = None, path: str | None = None, **kwargs: Any) -> str:
        if kernel_id is None or kernel_id not in self:
            await self._make_room()
        kid = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        self._started_at[kid] = time.monotonic()
        self._start_checker()
        return kid

    async def _make_room(self) -> None:
        """Shut down the least recently used kernels until a new one fits under the cap."""
        while len(self.list_kernel_ids()) >= max(1, self.max_kernels):
            oldest = min(self.list_kernel_ids(), key=lambda k: self.get_kernel(k).last_activity)
            self.log.info("kernel %s shut down: a newer page took its place (at most %d)", oldest, self.max_kernels)
            await self.shutdown_kernel(oldest, now=True)

    def _start_checker(self) -> None:
        if self._checker is None and self.unconnected_seconds > 0:
            every = min(CHECK_EVERY_SECONDS, max(1, self.unconnected_seconds // 2))
            self._checker = PeriodicCallback(self._shut_unconnected, 1000 * every)
            self._checker.start()

    async def _shut_unconnected(self) -> None:
        now = time.monotonic()
        for kid in list(self.list_kernel_ids()):
            if self._kernel_connections.get(kid, 0) > 0:
                continue
            try:
                km = self.get_kernel(kid)
            except KeyError:
                continue
            if getattr(km, "execution_state", "") in ("busy", "starting"):
                continue  # still running the form for the page that asked for it
            idle_for = (self._utcnow() - km.last_activity).total_seconds()
            if min(idle_for, now - self._started_at.get(kid, 0.0)) >= self.unconnected_seconds:
                self.log.info("kernel %s shut down: no page connected for %d s", kid, self.unconnected_seconds)
                try:
                    await self.shutdown_kernel(kid, now=True)
                except Exception as e:  # noqa: BLE001 - one kernel that will not stop must not stop the check
                    self.log.warning("kernel %s did not shut down: %s", kid, e)

    @staticmethod
    def _utcnow() -> Any:
        from jupyter_server._tz import utcnow  # start-up: the server's own clock, only when checking

        return utcnow()

    def remove_kernel(self, kernel_id: str) -> Any:
        self._started_at.pop(kernel_id, None)
        return super().remove_kernel(kernel_id)

    def __del__(self) -> None:
        if self._checker is not None:
            self._checker.stop()

