"""The kernel client polls in slices: a message whose wake-up the event loop missed is read
within one slice, never at the end of the wait (wip_lib/reports/kernel_client.py)."""
from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from wip_lib.reports import kernel_client
from wip_lib.reports.kernel_client import SlicedPollChannel

SLICE = 0.05


class MissedWakeUps:
    """A socket whose every wake-up is missed, as an edge-triggered ``zmq.FD`` can miss one: a
    poll sees a waiting message only when its timeout ends (the final, level-triggered look),
    and a poll without a timeout never ends."""

    def __init__(self, messages=()):
        self.messages = list(messages)
        self.polls: list[int | None] = []

    async def poll(self, timeout_ms=None):
        self.polls.append(timeout_ms)
        if timeout_ms is None:
            await asyncio.Event().wait()
        await asyncio.sleep(timeout_ms / 1000)
        return 1 if self.messages else 0


def _channel(cls, socket: MissedWakeUps):
    channel = cls.__new__(cls)  # no zmq socket or session: get_msg is what is tested
    channel.socket = socket

    async def recv():
        return socket.messages.pop(0)

    channel._recv = recv
    return channel


@pytest.fixture(autouse=True)
def short_slices(monkeypatch):
    monkeypatch.setattr(kernel_client, "POLL_SLICE_S", SLICE)


def _timed(coro):
    started = time.monotonic()
    result = asyncio.run(coro)
    return result, time.monotonic() - started


def test_a_missed_wake_up_hangs_the_plain_channel_for_good():
    """The failure the slices fix: with no timeout the plain channel never reads the message."""
    plain = _channel(AsyncZMQSocketChannel, MissedWakeUps([{"msg": 1}]))
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(plain.get_msg(timeout=None), 1.0))


@pytest.mark.parametrize("timeout", [None, 30.0])
def test_a_waiting_message_is_read_within_one_slice(timeout):
    socket = MissedWakeUps([{"msg": 1}])
    got, took = _timed(_channel(SlicedPollChannel, socket).get_msg(timeout=timeout))
    assert got == {"msg": 1}
    assert took < 10 * SLICE  # one slice, not the 30 s timeout (nor never)
    assert socket.polls == [int(SLICE * 1000)]


def test_with_no_message_the_timeout_still_ends_the_wait():
    socket = MissedWakeUps()
    started = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(_channel(SlicedPollChannel, socket).get_msg(timeout=0.2))
    took = time.monotonic() - started
    # The wait ends at the timeout, not before (less a millisecond per slice: a poll's timeout
    # is whole milliseconds) and not long after; the slices never add up to more than it (on a
    # busy machine a slice's sleep overruns and the next ones are shorter).
    assert 0.2 - 0.001 * len(socket.polls) <= took < 0.2 + 10 * SLICE
    assert sum(socket.polls) <= 200 and len(socket.polls) >= 4
    assert max(socket.polls) <= SLICE * 1000


def test_a_zero_timeout_looks_once():
    socket = MissedWakeUps()
    with pytest.raises(Empty):
        asyncio.run(_channel(SlicedPollChannel, socket).get_msg(timeout=0))
    assert socket.polls == [0]


def test_a_kernel_runs_code_through_the_steady_client():
    from jupyter_core.utils import run_sync

    km = kernel_client.SteadyKernelManager(kernel_name="python3")
    run_sync(km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    try:
        assert isinstance(kc, kernel_client.SteadyKernelClient)
        kc.start_channels()
        run_sync(kc.wait_for_ready)(timeout=60)
        assert isinstance(kc.shell_channel, SlicedPollChannel)
        assert isinstance(kc.iopub_channel, SlicedPollChannel)
        # No heartbeat thread (its unsliced wait once hung stop_channels for good); the
        # kernel's liveness is its manager's.
        assert not kc.hb_channel.is_alive()
        assert run_sync(kc.is_alive)()
        msg_id = kc.execute("print(6 * 7)")
        reply = run_sync(kc.get_shell_msg)(timeout=60)
        # wait_for_ready asks again for the kernel's info each second it goes unanswered: on a
        # loaded machine a second reply to it can come first (the executor matches replies the
        # same way).
        while reply["parent_header"]["msg_type"] == "kernel_info_request":
            reply = run_sync(kc.get_shell_msg)(timeout=60)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "ok"
        seen = []
        while True:
            msg = run_sync(kc.get_iopub_msg)(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                seen.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert "".join(seen) == "42\n"
        km.provisioner.process.kill()
        km.provisioner.process.wait(timeout=30)
        assert not run_sync(kc.is_alive)()  # a dead kernel is seen without a heartbeat
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)
