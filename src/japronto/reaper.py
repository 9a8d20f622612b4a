"""The reaper: one periodic sweep per worker that closes idle keep-alive connections and
cuts off clients that are too slow to send their request or to read our answers, and the
per-worker connection limit.

A client too slow sending its request is answered 408 Request Timeout and its connection
closed; an idle one is closed gracefully; one that reads nothing of its answers is aborted.

One task wakes every ``check_interval`` seconds and reads, for each live connection, three
cheap fields the C protocol keeps (``state``, ``last_activity``, ``request_started``); there is
no timer per connection and nothing on the request path. A deadline is therefore enforced to
within ``check_interval``.

The send timeout has no field of its own: a connection is ``writing`` while its output waits
for the client (writing paused, or closing with bytes unsent), and the sweep remembers, for
those alone, when it last saw what the client has yet to take (the transport's buffer and
the socket's send queue) shrink. A client that reads, however
slowly, keeps its connection; one that reads nothing for ``send_timeout`` is aborted. Without
this, a client that sends requests and never reads the answers would hold a connection and its
buffered output forever.
"""

import asyncio
import fcntl
import logging
import struct
import termios
import time

__all__ = ["DEFAULTS", "Reaper", "reaper_settings", "refusing_factory"]

log = logging.getLogger("japronto")

# Seconds; None (or 0) turns one off. check_interval and idle_timeout are Japronto's.
DEFAULTS = {
    "check_interval": 10.0,  # how often the sweep runs
    "idle_timeout": 60.0,  # a keep-alive connection waiting for its next request
    "header_timeout": 20.0,  # from the first byte of a request to the end of its head
    "body_timeout": 30.0,  # without a single read while a body is being received
    "request_timeout": 300.0,  # from the first byte of a request to the end of its body
    "send_timeout": 60.0,  # output waiting for a client that takes none of it
}


def reaper_settings(given):
    """DEFAULTS overridden by ``given`` (a dict, or None); unknown keys and bad values are a
    ValueError raised when the Application is made, not later in a worker."""
    settings = dict(DEFAULTS)
    for key, value in dict(given or {}).items():
        if key not in DEFAULTS:
            raise ValueError(
                f"reaper_settings: unknown key {key!r}; known: {', '.join(sorted(DEFAULTS))}"
            )
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
        ):
            raise ValueError(f"reaper_settings[{key!r}] must be a number >= 0 or None")
        settings[key] = float(value) if value else None
    if not settings["check_interval"]:
        raise ValueError("reaper_settings['check_interval'] must be > 0")
    return settings


def _unsent(transport):
    """Bytes the client has yet to take: the transport's write buffer and, beneath it, the
    socket's send queue (TIOCOUTQ). The queue counts: the kernel holds megabytes there, and
    the socket is writable again only once about half of that is gone, so a client reading
    slowly drains it for seconds before the transport's own buffer shrinks at all."""
    size = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            size += struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        except (OSError, ValueError):  # closed under us, or not a socket that has a queue
            pass
    return size


class Reaper:
    """The sweep of one worker over ``server.connections`` (live _core.Protocol objects)."""

    def __init__(self, server, settings):
        self.connections = server.connections
        self.settings = settings
        self.refused = 0  # connections refused by refusing_factory since the last sweep
        self.max_connections = None
        self._task = None
        # conn -> (monotonic time its write buffer last shrank, or it was first seen writing;
        # that buffer's size then), for the connections found `writing` by the last sweep.
        self._writing = {}

    def start(self, loop):
        self._task = loop.create_task(self._run())

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self):
        interval = self.settings["check_interval"]
        while True:
            await asyncio.sleep(interval)
            try:
                self.sweep()
            except Exception:  # a bug here must not stop the sweeps to come
                log.exception("reaper sweep failed")

    def sweep(self):
        """Closes what is past its deadline; returns how many connections it closed."""
        s = self.settings
        idle, header, body, whole, send = (
            s["idle_timeout"],
            s["header_timeout"],
            s["body_timeout"],
            s["request_timeout"],
            s["send_timeout"],
        )
        now = time.monotonic()
        closed = 0
        seen, writing = self._writing, {}
        for conn in list(self.connections):
            state = conn.state
            if state == "idle":
                if idle and now - conn.last_activity >= idle:
                    conn.close_gracefully()
                    closed += 1
                continue
            if state == "writing":
                transport = conn.transport
                if transport is None:
                    continue
                size = _unsent(transport)
                since, before = seen.get(conn, (now, -1))
                if before < 0 or size < before:  # first seen, or the client took some
                    since = now
                if send and now - since >= send:
                    log.info("closing a connection whose client read nothing for %gs", send)
                    transport.abort()
                    closed += 1
                else:
                    writing[conn] = (since, size)
                continue
            # A request partly received and late is answered 408, its body saying which
            # deadline passed, and the connection closes after it.
            reason = None
            if state == "head":
                if header and now - conn.request_started >= header:
                    why = "request head"
                    reason = f"the request head took longer than {header:g} s"
            elif state == "body":
                why = "request body"
                if body and now - conn.last_activity >= body:
                    reason = f"nothing of the request body arrived for {body:g} s"
                elif whole and now - conn.request_started >= whole:
                    reason = f"the request took longer than {whole:g} s"
            else:  # handling: a request is being answered, the connection is not idle
                continue
            if reason is not None and conn.time_out("Request Timeout: " + reason):
                log.info("closing a connection too slow sending its %s (408)", why)
                closed += 1
        self._writing = writing
        if self.refused:
            log.warning(
                "refused %d connection(s): this worker is at max_connections=%d",
                self.refused,
                self.max_connections,
            )
            self.refused = 0
        return closed


_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 21\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"Too many connections\n"
)


class _Refuse(asyncio.Protocol):
    """A connection over the limit: answered 503 at once and closed, its request unread."""

    def connection_made(self, transport):
        transport.write(_REFUSAL)
        transport.close()


def refusing_factory(make, reaper, max_connections):
    """A protocol factory: ``make()`` while the worker has fewer than max_connections live
    connections, otherwise a connection that is answered 503 and closed."""
    connections = reaper.connections
    reaper.max_connections = max_connections

    def factory():
        if len(connections) >= max_connections:
            reaper.refused += 1
            return _Refuse()
        return make()

    return factory
