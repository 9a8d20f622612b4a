"""The command line: ``python -m japronto [options] module:attribute`` (or ``japronto ...``).

The target is ``module:attribute`` or Japronto's ``module.attribute``; the working directory
is importable, as with ``python -m``. A bad target is one line on stderr and exit status 2.
"""

import argparse
import importlib
import os
import sys

from . import app as _app_module
from .reaper import DEFAULTS

__all__ = ["load_app", "main"]


class TargetError(Exception):
    """The module path does not name an Application."""


def load_app(target):
    """The Application at target; TargetError with a one-line reason otherwise."""
    from .app import Application

    if ":" in target:
        module_name, _, attr = target.partition(":")
        candidates = [(module_name, attr)]
    else:
        # module.attribute: the longest importable prefix is the module.
        parts = target.split(".")
        candidates = [
            (".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)
        ]
    if not candidates or not all(candidates[0]):
        raise TargetError(f"{target!r} is not module:attribute (or module.attribute)")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    _app_module._loading = True
    try:
        for module_name, attr in candidates:  # noqa: B007 (the one imported is used below)
            try:
                module = importlib.import_module(module_name)
                break
            except ModuleNotFoundError as e:
                if not (e.name and (module_name == e.name or module_name.startswith(e.name + "."))):
                    raise  # a module the application imports is missing: show the traceback
        else:
            raise TargetError(f"no module named {candidates[-1][0]!r}")
    finally:
        _app_module._loading = False
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(obj, Application):
        raise TargetError(f"{target} is a {type(obj).__name__}, not a japronto Application")
    return obj


def _seconds(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def parser():
    p = argparse.ArgumentParser(
        prog="japronto",
        description="Run a japronto Application.",
        epilog="Timeouts of 0 turn that timeout off. See docs/running.md.",
    )
    p.add_argument("target", help="the Application: module:attribute or module.attribute")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    p.add_argument("--unix-socket", metavar="PATH", help="listen on a Unix socket instead")
    p.add_argument(
        "--fd", type=int, metavar="N", help="serve an already listening socket: file descriptor N"
    )
    p.add_argument(
        "--worker-num",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes, forked by a master that replaces those that die (default 1)",
    )
    p.add_argument("--reload", action="store_true", help="restart when a .py file changes")
    p.add_argument(
        "--debug", action="store_true", help="debug logging, access log, tracebacks in 500s"
    )
    p.add_argument("--access-log", action="store_true", help="log one line per request")
    p.add_argument(
        "--shutdown-timeout",
        type=_seconds,
        metavar="S",
        help="grace period for requests in flight on SIGTERM/SIGINT "
        "(default $JAPRONTO_SHUTDOWN_TIMEOUT, else 30)",
    )
    p.add_argument(
        "--max-connections",
        type=_positive,
        metavar="N",
        help="concurrent connections per worker; more are answered 503 (default 10000)",
    )
    for key, default in DEFAULTS.items():
        p.add_argument(
            "--" + key.replace("_", "-"),
            type=_seconds,
            metavar="S",
            dest=key,
            help=f"reaper: {key.replace('_', ' ')} in seconds (default {default:g})",
        )
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        application = load_app(args.target)
    except TargetError as e:
        print(f"japronto: error: {e}", file=sys.stderr)
        return 2
    settings = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if settings:
        from .reaper import reaper_settings

        application._reaper_settings.update(settings)
        try:
            application._reaper = reaper_settings(application._reaper_settings)
        except ValueError as e:
            print(f"japronto: error: {e}", file=sys.stderr)
            return 2
    if args.max_connections:
        application._max_connections = args.max_connections
    from .sockets import ListenError

    try:
        application.run(
            host=args.host,
            port=args.port,
            unix_socket=args.unix_socket,
            sock=args.fd,
            worker_num=args.worker_num,
            reload=args.reload,
            debug=args.debug,
            access_log=True if args.access_log else None,
            shutdown_timeout=args.shutdown_timeout,
        )
    except ListenError as e:
        print(f"japronto: error: {e}", file=sys.stderr)
        return 1
    return 0
