"""The master process: forks the workers, replaces those that die, and stops them all on
SIGTERM or SIGINT.

The master never makes an event loop (a loop must not cross a fork); it polls its children
ten times a second with waitpid(WNOHANG). Each worker reports that it serves by writing one
byte to a pipe. A worker that dies before that is a start-up failure: after
MAX_STARTUP_FAILURES of them in a row (or one that exits with STARTUP_FAILED, the status of a
failing hook or socket) the master stops the others and exits 1 instead of respawning forever.
"""

import logging
import os
import signal
import time

from .worker import STARTUP_FAILED, exit_with, serve

__all__ = ["supervise"]

log = logging.getLogger("japronto")

MAX_STARTUP_FAILURES = 5
POLL = 0.1


def describe_status(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(sig).name}"
        except ValueError:
            return f"signal {sig}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


class _Worker:
    def __init__(self, pid, ready_fd):
        self.pid = pid
        self.ready_fd = ready_fd
        self.ready = False


def supervise(app, listen, worker_num, *, shutdown_timeout):
    """Runs worker_num workers until a signal; returns the master's exit status."""
    signals = []

    def on_signal(signum, frame):
        signals.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    workers = {}
    failures = 0
    status = 0
    try:
        for _ in range(worker_num):
            w = _spawn(app, listen, shutdown_timeout, old)
            workers[w.pid] = w
        log.info("master %d: %d workers on %s", os.getpid(), worker_num, listen.describe())
        while not signals:
            time.sleep(POLL)
            for w in workers.values():
                if not w.ready and _read_ready(w):
                    failures = 0
            for pid, st in _reap():
                w = workers.pop(pid, None)
                if w is None:
                    continue
                _read_ready(w)  # it may have become ready just before it died
                os.close(w.ready_fd)
                how = describe_status(st)
                if signals:
                    break
                if not w.ready:
                    failures += 1
                    log.error("worker %d died during start-up (%s)", pid, how)
                    if (
                        os.WIFEXITED(st) and os.WEXITSTATUS(st) == STARTUP_FAILED
                    ) or failures >= MAX_STARTUP_FAILURES:
                        log.error("workers cannot start: giving up")
                        status = 1
                        signals.append(signal.SIGTERM)
                        break
                else:
                    log.warning("worker %d died (%s); starting a new one", pid, how)
                nw = _spawn(app, listen, shutdown_timeout, old)
                workers[nw.pid] = nw
        if _stop_all(workers, signals, shutdown_timeout):
            status = 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        listen.close()
    log.info("master %d stopped", os.getpid())
    return status


def _spawn(app, listen, shutdown_timeout, old_handlers):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        master = os.getppid()
        os.close(r)
        status = 1
        try:
            for s, h in old_handlers.items():
                signal.signal(s, h)
            app._loop = None  # a fresh loop in each worker, never one from the master

            def ready():
                os.write(w, b"1")
                os.close(w)

            status = serve(
                app, listen, shutdown_timeout=shutdown_timeout, ready=ready, parent=master
            )
        except BaseException:
            log.exception("worker %d failed", os.getpid())
        finally:
            exit_with(status)
    os.close(w)
    os.set_blocking(r, False)
    return _Worker(pid, r)


def _read_ready(w):
    try:
        if os.read(w.ready_fd, 1):
            w.ready = True
    except BlockingIOError:
        pass
    return w.ready


def _reap():
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, st


def _stop_all(workers, signals, shutdown_timeout):
    """SIGTERM to every worker, then waits for them; a second signal (or a worker still
    there after the grace period and a margin) gets SIGKILL. True when one was killed."""
    seen = len(signals)
    forced = False
    for pid in workers:
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + shutdown_timeout + 5
    while workers:
        for pid, st in _reap():
            w = workers.pop(pid, None)
            if w is not None:
                os.close(w.ready_fd)
                if not (os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0):
                    log.warning("worker %d ended with %s", pid, describe_status(st))
        if not workers:
            break
        if len(signals) > seen or time.monotonic() > deadline:
            log.warning("killing %d worker(s)", len(workers))
            for pid in workers:
                _kill(pid, signal.SIGKILL)
            seen = len(signals) + 1000
            forced = True
        time.sleep(0.05)
    return forced


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
