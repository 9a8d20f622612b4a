"""Reload on code changes, for development (``reload=True``, ``--reload``).

The process that asked for reload becomes a watcher: it runs the same command again as a
child process (marked by JAPRONTO_RELOAD_CHILD, in its own session so that a terminal's
Ctrl-C reaches only the watcher), watches the application's Python files, and when one
changes, stops the child with SIGTERM (a graceful shutdown) and starts a new one. An edited
file that no longer compiles is reported and the old child keeps serving until the next
change. A child that exits by itself (an import error, say) is reported too, and the watcher
waits for the next change.

Files are watched with watchfiles when it is installed (``pip install japronto[reload]``),
else by polling their modification times twice a second, which costs a stat() per file.
"""

import logging
import os
import signal
import subprocess
import sys
import sysconfig
import time

__all__ = ["run_with_reloader"]

log = logging.getLogger("japronto")

CHILD_ENV = "JAPRONTO_RELOAD_CHILD"
POLL = 0.5
_SKIP_DIRS = {".git", ".hg", ".venv", "venv", "__pycache__", "node_modules", ".tox", "build"}


def _child_command():
    """How this process was started, to start it again."""
    orig = getattr(sys, "orig_argv", None)
    if orig:
        return [sys.executable, *orig[1:]]
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        name = spec.name[: -len(".__main__")] if spec.name.endswith(".__main__") else spec.name
        return [sys.executable, "-m", name, *sys.argv[1:]]
    return [sys.executable, *sys.argv]


def _roots():
    """The directories of the application: the working directory and that of the main
    module or script, minus the interpreter's own library directories."""
    roots = {os.getcwd()}
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        roots.add(os.path.dirname(os.path.abspath(path)))
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f and f.endswith(".py") and not _is_library(f):
            roots.add(os.path.dirname(os.path.abspath(f)))
    # Drop roots inside other roots.
    ordered = sorted(roots, key=len)
    kept = []
    for r in ordered:
        if not any(r == k or r.startswith(k + os.sep) for k in kept):
            kept.append(r)
    return [r for r in kept if not _is_library(r)]


def _is_library(path):
    path = os.path.abspath(path)
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        lib = sysconfig.get_paths().get(key)
        if lib and (path == lib or path.startswith(lib + os.sep)):
            return True
    return "site-packages" in path.split(os.sep)


def _python_files(roots):
    """{path: mtime} of every .py file under roots."""
    found = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
            for name in filenames:
                if name.endswith(".py"):
                    p = os.path.join(dirpath, name)
                    try:
                        found[p] = os.stat(p).st_mtime_ns
                    except OSError:
                        pass
    return found


class _Poller:
    def __init__(self, roots):
        self.roots = roots
        self.seen = _python_files(roots)

    def changes(self, timeout):
        """Changed, added or removed .py files within timeout seconds (maybe none)."""
        time.sleep(timeout)
        now = _python_files(self.roots)
        changed = [p for p, m in now.items() if self.seen.get(p) != m]
        changed += [p for p in self.seen if p not in now]
        self.seen = now
        return changed


class _Watchfiles:
    def __init__(self, roots):
        import threading

        import watchfiles

        self._stop = threading.Event()
        self._iter = watchfiles.watch(
            *roots,
            watch_filter=watchfiles.PythonFilter(),
            stop_event=self._stop,
            rust_timeout=int(POLL * 1000),
            yield_on_timeout=True,
        )

    def changes(self, timeout):
        return sorted({path for _change, path in next(self._iter, set())})


def _watcher(roots):
    if os.environ.get("JAPRONTO_RELOAD_POLL"):
        return _Poller(roots), "polling"
    try:
        return _Watchfiles(roots), "watchfiles"
    except ImportError:
        return _Poller(roots), "polling"


def _syntax_error(paths):
    """The first compile error among the changed files that still exist, or None."""
    for path in paths:
        if not path.endswith(".py") or not os.path.exists(path):
            continue
        try:
            with open(path, "rb") as f:
                compile(f.read(), path, "exec")
        except (SyntaxError, ValueError) as e:
            return e
        except OSError:
            continue
    return None


def _drop_bytecode(paths):
    """Removes the cached bytecode of the changed files, so that the next child compiles them
    again. A .pyc is trusted while its source's modification time in whole seconds and its
    size are unchanged: an edit within the second of the last compile that keeps the size
    (one digit for another) would otherwise be served from the old bytecode."""
    import importlib.util

    for path in paths:
        if not path.endswith(".py"):
            continue
        for opt in ("", 1, 2):
            try:
                os.unlink(importlib.util.cache_from_source(path, optimization=opt))
            except (OSError, ValueError, NotImplementedError):
                pass  # none there, or no cache for this path


def run_with_reloader():
    """In the child: None (serve as usual). In the watcher: runs until SIGINT or SIGTERM and
    returns the exit status."""
    if os.environ.get(CHILD_ENV):
        return None
    roots = _roots()
    watcher, how = _watcher(roots)
    cmd = _child_command()
    env = dict(os.environ, **{CHILD_ENV: "1"})
    signals = []

    def on_signal(signum, frame):
        signals.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    log.info("reloader %d: watching %s (%s)", os.getpid(), ", ".join(roots), how)

    def start():
        return subprocess.Popen(cmd, env=env, start_new_session=True)

    child = start()
    reported_exit = False
    try:
        while not signals:
            changed = watcher.changes(POLL)
            if child.poll() is not None and not reported_exit:
                log.error(
                    "the server exited with status %d; waiting for a change", child.returncode
                )
                reported_exit = True
            if not changed or signals:
                continue
            err = _syntax_error(changed)
            if err is not None:
                log.error("not reloading, %s: %s", type(err).__name__, err)
                continue
            log.info("reloading: %s changed", ", ".join(os.path.relpath(p) for p in changed[:3]))
            _stop(child, forced=signals)
            _drop_bytecode(changed)
            child = start()
            reported_exit = False
    finally:
        _stop(child, forced=signals)
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def _stop(child, forced):
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    seen = len(forced)
    deadline = time.monotonic() + 40
    while child.poll() is None:
        if len(forced) > seen or time.monotonic() > deadline:
            child.kill()
        time.sleep(0.05)
