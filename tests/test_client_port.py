"""The client port adapter in-process: stopping it closes every connection, including one accepted while
the stop runs, and a connection a stopped port accepts is closed without ever reaching the handler (an
ensemble role that ended must not serve it from its stale core); and a reply written before the port closes a
connection reaches the client even when the client sent more after it (no RST)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvloop

from zoopark.net import client as client_module
from zoopark.net.client import ClientHandler, ClientPort, ClientPortSettings

from procs import free_port


class Recorder(ClientHandler):
    """Counts what reaches the handler after the stop; a frame from the trigger connection asks for the stop
    (as a packet that ends an ensemble role does, while other clients are being accepted)."""

    def __init__(self) -> None:
        self.connected_ids: list[int] = []
        self.after_stop: list[int] = []
        self.stopping = False
        self.trigger = asyncio.Event()

    def connected(self, conn) -> None:
        self.connected_ids.append(conn.id)
        if self.stopping:
            self.after_stop.append(conn.id)

    def frames(self, conn, frames) -> None:
        if self.stopping:
            self.after_stop.append(conn.id)
        elif frames == [b"stop"]:
            self.trigger.set()

    def disconnected(self, conn) -> None:
        pass

    def four_letter(self, cmd, conn):
        return None


def _dial(port: int, clients: list[socket.socket], until: threading.Event, max_clients: int) -> None:
    """Connect as fast as we can until told to stop (or refused: the listener is gone)."""
    while not until.is_set() and len(clients) < max_clients:
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"\x00\x00\x00\x04ping")  # a frame: a connection that is served reaches the handler
        except OSError:
            s.close()
            return
        clients.append(s)


def _closed_by_server(s: socket.socket, deadline: float) -> bool:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        while True:
            got = s.recv(4096)
            if got == b"":
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False


async def _stop_while_clients_connect(dialled_before_stop: int) -> tuple[int, int, list[int], int]:
    handler = Recorder()
    port = ClientPort(handler, ClientPortSettings(max_client_cnxns=0, handshake_timeout_s=60))
    await port.start("127.0.0.1", 0)
    trigger = socket.create_connection(("127.0.0.1", port.bound_port()))
    clients: list[socket.socket] = [trigger]
    until = threading.Event()
    dialers = [threading.Thread(target=_dial, args=(port.bound_port(), clients, until, 300)) for _ in range(3)]
    for t in dialers:
        t.start()
    for _ in range(500):
        if len(handler.connected_ids) >= dialled_before_stop:
            break
        await asyncio.sleep(0.002)
    trigger.sendall(b"\x00\x00\x00\x04stop")
    await handler.trigger.wait()
    handler.stopping = True
    await port.stop()
    for _ in range(30):  # whatever the loop still had accepted comes in now
        await asyncio.sleep(0.01)
    until.set()
    for t in dialers:
        await asyncio.to_thread(t.join, 10)
    deadline = time.monotonic() + 5
    open_ones = 0
    for s in clients:
        if not await asyncio.to_thread(_closed_by_server, s, deadline):
            open_ones += 1
        s.close()
    return len(clients), open_ones, handler.after_stop, len(port.conns)


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_stop_closes_every_connection_even_one_accepted_during_the_stop(loop_kind) -> None:
    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    for attempt in range(4):  # the race is timing-dependent: several stops, each in a stream of connects
        total, open_ones, after_stop, left = runner(_stop_while_clients_connect(10 + 10 * attempt))
        assert total > 1
        assert open_ones == 0, f"{open_ones} of {total} connections left open after the port stopped"
        assert after_stop == [], f"connections served after the stop: {after_stop}"
        assert left == 0, "the port still tracks connections after it stopped"


async def _stop_while_starting() -> tuple[bool, list[int]]:
    """An ensemble role that ends while its client port is still opening: the port must never serve."""
    handler = Recorder()
    port = ClientPort(handler, ClientPortSettings(max_client_cnxns=0, handshake_timeout_s=60))
    number = free_port()
    starting = asyncio.ensure_future(port.start("127.0.0.1", number))
    await asyncio.sleep(0)  # the start is under way
    handler.stopping = True
    await port.stop()
    await starting
    served = False
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", number), 2)
    except OSError:
        pass  # refused: not listening, as it should be
    else:
        writer.write(b"\x00\x00\x00\x04ping")
        try:
            served = await asyncio.wait_for(reader.read(1), 2) != b""
        except (OSError, asyncio.TimeoutError):
            served = True  # still open after 2 s
        writer.close()
    for _ in range(10):
        await asyncio.sleep(0.01)
    return served, handler.after_stop


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_a_port_stopped_while_it_was_starting_never_serves(loop_kind) -> None:
    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    served, after_stop = runner(_stop_while_starting())
    assert not served, "a connection to a stopped port stayed open"
    assert after_stop == [], f"connections reached the handler after the stop: {after_stop}"


class Closer(ClientHandler):
    """Answers the frame `bye` with `reply` and closes the connection, as the core does after closeSession's
    reply or AUTH_FAILED; `closed` tells the client thread the server has closed its side."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.closed = threading.Event()
        self.gone: list[int] = []

    def connected(self, conn) -> None:
        pass

    def frames(self, conn, frames) -> None:
        if b"bye" in frames:
            conn.write(self.reply)
            conn.close("bye")
            self.closed.set()

    def disconnected(self, conn) -> None:
        self.gone.append(conn.id)

    def four_letter(self, cmd, conn):
        return None


def _read_to_end(s: socket.socket) -> tuple[int, str]:
    """Bytes received, and how the stream ended ("EOF", or the error that ended it)."""
    got = 0
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return got, "EOF"
            got += len(chunk)
    except OSError as e:
        return got, type(e).__name__


async def _reply_then_close(reply: bytes) -> tuple[int, str, list[int], int]:
    handler = Closer(reply)
    port = ClientPort(handler, ClientPortSettings(max_client_cnxns=0, handshake_timeout_s=60))
    await port.start("127.0.0.1", 0)

    def client() -> tuple[int, str]:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a client slower than the server's writes
        s.settimeout(10)
        s.connect(("127.0.0.1", port.bound_port()))
        try:
            s.sendall(b"\x00\x00\x00\x04ping")
            s.sendall(b"\x00\x00\x00\x03bye")
            assert handler.closed.wait(10)
            s.sendall(b"\x00\x00\x00\x04ping")  # a request sent before the client has read the replies
            return _read_to_end(s)
        finally:
            s.close()

    got, end = await asyncio.to_thread(client)
    for _ in range(500):  # the handler hears of the end
        if handler.gone:
            break
        await asyncio.sleep(0.01)
    await port.stop()
    return got, end, handler.gone, len(port.conns)


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_a_reply_written_before_the_server_closes_reaches_a_client_that_sent_more(loop_kind) -> None:
    """The server closes after a reply while the client, not yet reading, has sent another request: closing a
    socket with unread input made the kernel send RST and drop the replies it still held, so the client got
    ECONNRESET instead of its replies (ZooKeeper delivers them, then EOF)."""
    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    reply = bytes(range(256)) * (32 * 1024)  # 8 MiB: more than the kernel buffers take at once
    got, end, gone, left = runner(_reply_then_close(reply))
    assert (got, end) == (len(reply), "EOF")
    assert len(gone) == 1 and left == 0  # the handler heard of the close once; the port forgot it


async def _closed_then_silent() -> tuple[bytes, str, float]:
    """The server closes after its reply; the client reads it and EOF but never closes its own side."""
    handler = Closer(b"\x00\x00\x00\x03bye")
    port = ClientPort(handler, ClientPortSettings(max_client_cnxns=0, handshake_timeout_s=60))
    await port.start("127.0.0.1", 0)

    def client() -> tuple[bytes, str, float]:
        s = socket.create_connection(("127.0.0.1", port.bound_port()), timeout=10)
        try:
            s.sendall(b"\x00\x00\x00\x03bye")
            got = b""
            while (chunk := s.recv(100)) != b"":
                got += chunk
            t0 = time.monotonic()
            deadline = t0 + 10
            while time.monotonic() < deadline:  # the server cut the connection when a send is refused
                try:
                    s.sendall(b"\x00\x00\x00\x04ping")
                except OSError as e:
                    return got, type(e).__name__, time.monotonic() - t0
                time.sleep(0.02)
            return got, "still open", time.monotonic() - t0
        finally:
            s.close()

    try:
        return await asyncio.to_thread(client)
    finally:
        await port.stop()


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_a_client_that_never_closes_its_side_is_cut_off_after_the_linger(loop_kind, monkeypatch) -> None:
    monkeypatch.setattr(client_module, "_LINGER_S", 0.2)
    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    got, how, after_s = runner(_closed_then_silent())
    assert got == b"\x00\x00\x00\x03bye"  # the reply, then EOF
    assert how in ("BrokenPipeError", "ConnectionResetError") and after_s < 5, (how, after_s)


async def _handshake_deadlines(timeout_s: float) -> tuple[float, float]:
    """Connection A opens, then B; A sends a frame in time, B never does. The port's one handshake timer is
    set for A's deadline: firing then, it must leave A (done) and B (not yet due) alone and close B at B's
    own deadline. Returns how long after it opened each connection was closed (inf: still open)."""
    port = ClientPort(Recorder(), ClientPortSettings(max_client_cnxns=0, handshake_timeout_s=timeout_s))
    await port.start("127.0.0.1", 0)
    a = socket.create_connection(("127.0.0.1", port.bound_port()))
    a_t0 = time.monotonic()
    await asyncio.sleep(timeout_s / 2)
    b = socket.create_connection(("127.0.0.1", port.bound_port()))
    b_t0 = time.monotonic()
    a.sendall(b"\x00\x00\x00\x04ping")

    def closed_after(s: socket.socket, t0: float) -> float:
        return time.monotonic() - t0 if _closed_by_server(s, t0 + 4 * timeout_s) else float("inf")
    try:
        b_after = await asyncio.to_thread(closed_after, b, b_t0)
        a_after = await asyncio.to_thread(closed_after, a, a_t0)
        return a_after, b_after
    finally:
        a.close()
        b.close()
        await port.stop()


@pytest.mark.parametrize("loop_kind", ["uvloop", "asyncio"])
def test_the_handshake_timeout_closes_each_silent_connection_at_its_own_deadline(loop_kind) -> None:
    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    a_after, b_after = runner(_handshake_deadlines(0.4))
    assert a_after == float("inf"), f"A sent a frame in time but was closed after {a_after:.2f} s"
    assert 0.35 <= b_after < 1.2, f"B, silent, was closed after {b_after:.2f} s (timeout 0.4 s)"


async def _deadlines_after_a_failing_callback() -> list[str]:
    class Conn:
        remote_ip = "127.0.0.1"

    fired: list[str] = []
    done = asyncio.Event()

    def boom() -> None:
        fired.append("first")
        raise RuntimeError("a connection's close failed")

    def second() -> None:
        fired.append("second")
        done.set()
    deadlines = client_module.Deadlines()
    deadlines.add(Conn(), 0.01, boom)  # type: ignore[arg-type]
    deadlines.add(Conn(), 0.02, second)  # type: ignore[arg-type]
    await asyncio.wait_for(done.wait(), 5)
    return fired


def test_a_failing_deadline_does_not_stop_the_next() -> None:
    assert asyncio.run(_deadlines_after_a_failing_callback()) == ["first", "second"]
