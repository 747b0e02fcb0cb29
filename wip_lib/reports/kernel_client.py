"""A Jupyter kernel client that never misses a kernel's message for longer than a second.

The asynchronous client (``jupyter_client``'s ``AsyncKernelClient``, which nbclient, Papermill and
our warm kernels use) waits for a message by polling the socket's ``zmq.FD`` on the event loop.
That descriptor is edge-triggered: a wake-up can be missed, and the message then sits in the
socket, unread, until the poll times out. Its final look at the socket (a zero-time
``zmq_poll``, level-triggered) finds it then.

Seen in this project's test suite: a notebook cell that takes a second ran 600 s (the cell
timeout), its kernel idle and its reply waiting, then the run went on as if nothing had
happened. With no timeout (Papermill's default) the wait would never end, and with a missed
output message the output would be lost after nbclient's four-second wait for it.

The fix is to poll in slices of at most :data:`POLL_SLICE_S`: each slice ends in that
level-triggered look, so a missed wake-up costs at most one slice. The messages, their order and
every timeout are unchanged. :class:`SteadyKernelManager` hands out clients that poll this way;
Papermill takes it as ``kernel_manager_class`` (:data:`KERNEL_MANAGER`).
"""
from __future__ import annotations

import time
import typing as t
from queue import Empty

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

#: Longest wait (seconds) before the socket is looked at directly: the most a missed wake-up
#: can delay a message.
POLL_SLICE_S = 1.0

#: The kernel manager class by name, for ``papermill.execute_notebook(kernel_manager_class=...)``.
KERNEL_MANAGER = "wip_lib.reports.kernel_client.SteadyKernelManager"


class SlicedPollChannel(AsyncZMQSocketChannel):
    """An asynchronous channel whose wait for a message is a series of polls of at most
    :data:`POLL_SLICE_S` seconds (module docstring); ``timeout`` (seconds, None: no limit)
    bounds the whole wait as before."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, t.Any]:
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = POLL_SLICE_S if left is None else min(POLL_SLICE_S, left)
            if await self.socket.poll(int(step * 1000)):
                return await self._recv()
            if left is not None and left <= step:
                raise Empty


class SteadyKernelClient(AsyncKernelClient):
    """``AsyncKernelClient`` with :class:`SlicedPollChannel` for every message channel, and no
    heartbeat channel.

    The heartbeat's thread awaits its ping and pong on the same edge-triggered descriptor, with
    no slices: seen in this project's test suite, a replaced kernel's client waited on
    ``stop_channels()`` for good (the heartbeat thread in ``select``, the month-end's worker
    joining it). Nothing here needs the heartbeat: a client made by a kernel manager asks the
    manager whether the kernel is alive (its process), which is what nbclient, Papermill and the
    warm kernels ask."""

    shell_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    control_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True,
                       hb: bool = False, control: bool = True) -> None:
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False,
                               control=control)


class SteadyKernelManager(AsyncKernelManager):
    """``AsyncKernelManager`` whose clients are :class:`SteadyKernelClient`."""

    client_class = DottedObjectName("wip_lib.reports.kernel_client.SteadyKernelClient")
    # AsyncKernelManager declares the factory with a default of its own: set it too.
    client_factory = Type(SteadyKernelClient, klass=AsyncKernelClient)
