"""Direct I/O: connections that read and write their sockets themselves, from C.

An ordinary asyncio transport costs thousands of instructions per read and write cycle on
top of the system calls (uvloop's included: a read is two callbacks into Python-level
protocol methods, and a write goes through transport.write). A japronto connection needs none
of what that machinery offers on its hot path, so here the listening socket and every
accepted socket are registered with ``loop.add_reader``, and the C protocol does the rest:

- ``Protocol._read_ready`` (C) is the reader callback: one ``recv`` into the connection's read
  buffer, then parsing, handlers and one ``send`` of all the responses that are ready;
- only what the kernel does not take is handed to ``DirectTransport.write``, which queues it,
  waits with ``loop.add_writer`` for the socket to drain, and applies back-pressure to the
  protocol (``pause_writing``/``resume_writing``) like any asyncio transport;
- everything else a transport does (close, abort, pause and resume reading, extra info) is the
  plain Python below, off the hot path.

DirectTransport is a real ``asyncio.Transport``: handlers see it as ``request.transport`` and
may write to it, close it, or read ``get_extra_info('peername')``. ``_jp_fd`` is what tells
the C protocol to use the socket directly (see protocol_connection_made), and
``Protocol._direct_blocked`` tells it that bytes are queued here, so that later responses
queue behind them instead of overtaking them.

Both loops provide add_reader/add_writer for sockets; the stdlib loop's are Python-level but
still far cheaper than its transports. ``serve`` is the counterpart of
``loop.create_server(factory, sock=sock)``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

__all__ = ["DirectServer", "DirectTransport", "serve"]

log = logging.getLogger("japronto")

# Accept errors that mean "out of resources for now": stop accepting for a while (as asyncio
# does) instead of spinning on a listening socket that stays readable.
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_ACCEPT_BACKOFF = 1.0
# Connections accepted per readiness of the listening socket: enough to drain a burst, few
# enough that established connections are not starved.
_ACCEPT_BATCH = 64

_HIGH_WATER = 64 * 1024
_LOW_WATER = 16 * 1024


class DirectTransport(asyncio.Transport):
    """The transport of one directly served connection (see the module's docstring).

    The protocol reads with its own reader callback and writes with ``send``; this object
    holds what could not be sent yet, the closing state, and the socket.
    """

    def __init__(self, loop, sock: socket.socket, protocol, peername):
        super().__init__({"socket": sock, "peername": peername})
        self._loop = loop
        self._sock = sock
        self._jp_fd = sock.fileno()
        self._protocol = protocol
        self._buffer = bytearray()
        self._reading = False
        self._closing = False
        self._conn_lost = False
        self._protocol_paused = False
        self._high = _HIGH_WATER
        self._low = _LOW_WATER
        try:
            self._extra["sockname"] = sock.getsockname()
        except OSError:
            pass

    def __repr__(self):
        state = "closing" if self._closing else "open"
        return f"<DirectTransport fd={self._jp_fd} {state} buffered={len(self._buffer)}>"

    def _start(self):
        self._protocol.connection_made(self)
        if not self._closing:
            self.resume_reading()

    # -- reading ---------------------------------------------------------------------------

    def is_reading(self):
        return self._reading

    def pause_reading(self):
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._jp_fd)

    def resume_reading(self):
        if not self._reading and not self._closing:
            self._reading = True
            self._loop.add_reader(self._jp_fd, self._protocol._read_ready)

    # -- writing ---------------------------------------------------------------------------

    def write(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
        if self._closing or not data:
            return
        if not self._buffer:
            try:
                n = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                self._force_close(exc)
                return
            if n == len(data):
                return
            data = memoryview(data)[n:]
            self._loop.add_writer(self._jp_fd, self._write_ready)
            self._protocol._direct_blocked = True
        self._buffer += data
        self._maybe_pause_protocol()

    def _write_ready(self):
        if self._conn_lost:
            return
        try:
            n = self._sock.send(self._buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._force_close(exc)
            return
        del self._buffer[:n]
        if not self._buffer:
            self._loop.remove_writer(self._jp_fd)
            self._protocol._direct_blocked = False
        self._maybe_resume_protocol()
        if not self._buffer and self._closing:
            self._call_soon_lost(None)

    def can_write_eof(self):
        return False

    def get_write_buffer_size(self):
        return len(self._buffer)

    def get_write_buffer_limits(self):
        return (self._low, self._high)

    def set_write_buffer_limits(self, high=None, low=None):
        if high is None:
            high = _HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._maybe_pause_protocol()

    def _maybe_pause_protocol(self):
        if not self._protocol_paused and len(self._buffer) > self._high:
            self._protocol_paused = True
            try:
                self._protocol.pause_writing()
            except Exception:
                log.exception("protocol.pause_writing() failed")

    def _maybe_resume_protocol(self):
        if self._protocol_paused and len(self._buffer) <= self._low:
            self._protocol_paused = False
            try:
                self._protocol.resume_writing()
            except Exception:
                log.exception("protocol.resume_writing() failed")

    # -- closing ---------------------------------------------------------------------------

    def is_closing(self):
        return self._closing

    def close(self):
        """Stops reading at once and closes once the queued bytes are sent."""
        if self._closing:
            return
        self._closing = True
        self.pause_reading()
        if not self._buffer:
            self._call_soon_lost(None)

    def abort(self):
        self._force_close(None)

    def _force_close(self, exc):
        if self._conn_lost:
            return
        if self._buffer:
            self._buffer.clear()
            self._loop.remove_writer(self._jp_fd)
        self._closing = True
        self.pause_reading()
        self._call_soon_lost(exc)

    def _call_soon_lost(self, exc):
        if not self._conn_lost:
            self._conn_lost = True
            # Soon, not now: the caller may be the protocol itself, mid-callback.
            self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._sock.close()
            self._protocol = None


class DirectServer:
    """What ``serve`` returns: the listening side, shaped like ``asyncio.Server`` as far as
    the Application uses it (close, wait_closed, is_serving, sockets)."""

    def __init__(self, loop, sock: socket.socket, protocol_factory):
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._serving = False
        self._closed = loop.create_future()
        self._backoff = None
        self._nodelay = sock.family in (socket.AF_INET, socket.AF_INET6)

    @property
    def sockets(self):
        return (self._sock,) if self._sock is not None else ()

    def is_serving(self):
        return self._serving

    def _start(self):
        self._sock.setblocking(False)
        self._serving = True
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def _accept(self):
        for _ in range(_ACCEPT_BATCH):
            try:
                conn, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno in _RESOURCE_ERRORS:
                    log.error(
                        "accept() failed (%s); not accepting for %.0f s", exc, _ACCEPT_BACKOFF
                    )
                    self._loop.remove_reader(self._sock.fileno())
                    self._backoff = self._loop.call_later(_ACCEPT_BACKOFF, self._resume_accept)
                else:
                    log.error("accept() failed: %s", exc)
                return
            try:
                conn.setblocking(False)
                if self._nodelay:
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if conn.family == socket.AF_UNIX:
                    peer = peer or ""
                DirectTransport(self._loop, conn, self._factory(), peer)._start()
            except Exception:
                log.exception("setting up an accepted connection failed")
                conn.close()

    def _resume_accept(self):
        self._backoff = None
        if self._serving:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self):
        """Stops accepting; established connections are the application's to close."""
        if not self._serving:
            return
        self._serving = False
        if self._backoff is not None:
            self._backoff.cancel()
            self._backoff = None
        else:
            self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._sock = None
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self):
        if self._serving:
            await self._closed


async def serve(loop, protocol_factory, sock: socket.socket) -> DirectServer:
    """Like ``loop.create_server(protocol_factory, sock=sock)`` with direct I/O: ``sock`` is a
    bound, listening socket; each accepted connection gets ``protocol_factory()``, which must
    be a japronto ``_core.Protocol``."""
    server = DirectServer(loop, sock, protocol_factory)
    server._start()
    return server
