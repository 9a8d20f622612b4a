"""One worker: an event loop serving one listening socket until SIGTERM or SIGINT.

Order of a worker's life: startup hooks, listen, serve (with the reaper's sweep), then on the
first signal a graceful shutdown (stop accepting; idle connections close at once; requests in
flight get up to ``shutdown_timeout`` seconds; a request only partly received is answered
503; what remains is then cut off), shutdown hooks, exit 0. A second signal exits at once
with status 1. A failure before serving (a hook, the socket) is logged and the worker exits
with STARTUP_FAILED, which tells the supervisor not to keep respawning it.
"""

import asyncio
import inspect
import logging
import os
import signal
import sys
import time

from . import _core, _direct
from .reaper import Reaper, refusing_factory
from .sockets import describe

__all__ = ["STARTUP_FAILED", "serve"]

log = logging.getLogger("japronto")

STARTUP_FAILED = 3


async def run_hooks(hooks, app, what):
    """Runs each hook(app) in order, awaiting those that return an awaitable."""
    for hook in hooks:
        result = hook(app)
        if inspect.isawaitable(result):
            await result


def serve(app, listen, *, shutdown_timeout, ready=None, parent=None):
    """Serves in this process; returns the exit status (0 after a graceful shutdown).

    A worker of a master (parent: the master's pid) ignores SIGINT, which a terminal sends
    to the whole process group: the master turns it into one SIGTERM for each worker. It
    also shuts down by itself if the master disappears."""
    loop = app.loop
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(_serve(app, listen, loop, shutdown_timeout, ready, parent))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _serve(app, listen, loop, shutdown_timeout, ready, parent):
    stop = asyncio.Event()
    signals = []
    handled = (signal.SIGTERM,) if parent else (signal.SIGINT, signal.SIGTERM)
    if parent:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def on_signal(signum):
        signals.append(signum)
        if len(signals) == 1:
            log.info("%s: shutting down gracefully", signal.Signals(signum).name)
            stop.set()
        else:
            log.warning("second signal: exiting now")
            os._exit(1)

    for signum in handled:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        try:
            sock = listen.for_worker()
            await run_hooks(app._startup_hooks, app, "startup")
            server = app._server = app._make_server(loop)
            reaper = Reaper(server, app._reaper)
            factory = refusing_factory(lambda: _core.Protocol(server), reaper, app._max_connections)
            listener = await _listen(loop, factory, sock, listen.backlog)
        except Exception:
            log.exception("worker %d failed to start", os.getpid())
            return STARTUP_FAILED
        reaper.start(loop)
        orphan_watch = loop.create_task(_watch_parent(parent, stop)) if parent else None
        name = type(loop).__module__.split(".")[0]
        log.info("worker %d serving on %s (%s loop)", os.getpid(), describe(sock), name)
        if ready is not None:
            ready()
        await stop.wait()
        reaper.stop()
        if orphan_watch is not None:
            orphan_watch.cancel()
        await _shutdown(loop, listener, server, shutdown_timeout)
        try:
            await run_hooks(app._shutdown_hooks, app, "shutdown")
        except Exception:
            log.exception("a shutdown hook failed")
        log.info("worker %d stopped", os.getpid())
        return 0
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


_IO_MODES = ("direct", "transport")


def io_mode():
    """JAPRONTO_IO=direct (the default: connections read and write their sockets from C, see
    japronto/_direct.py) or JAPRONTO_IO=transport (the loop's own transports, through
    asyncio's buffered-protocol interface)."""
    mode = os.environ.get("JAPRONTO_IO", "direct")
    if mode not in _IO_MODES:
        raise ValueError(f"JAPRONTO_IO must be one of {_IO_MODES}, not {mode!r}")
    return mode


async def _listen(loop, factory, sock, backlog):
    """Starts serving on the listening socket sock, the way JAPRONTO_IO says."""
    if io_mode() == "direct":
        return await _direct.serve(loop, factory, sock)
    return await loop.create_server(factory, sock=sock, backlog=backlog)


async def _watch_parent(parent, stop):
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("the master %d is gone: shutting down", parent)
    stop.set()


async def _shutdown(loop, listener, server, timeout):
    listener.close()  # accepts no more
    for conn in list(server.connections):
        conn.close_gracefully()
    deadline = time.monotonic() + timeout
    while server.connections and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if server.connections:
        log.warning(
            "%d connection(s) still busy after %.1f s: closing them",
            len(server.connections),
            timeout,
        )
        for conn in list(server.connections):
            transport = conn.transport
            if transport is not None:
                transport.abort()  # connection_lost cancels its handlers
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks(loop) if t is not current and not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    await listener.wait_closed()


def exit_with(status):
    """Flushes logging and the standard streams, then leaves a forked child without running
    the parent's atexit handlers."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
