"""Where the server listens: a TCP address (IPv4 or IPv6), a Unix socket path, or a socket
the caller already opened (a socket object or a file descriptor, e.g. from systemd or a
process manager).

With several workers on a TCP address and SO_REUSEPORT available, the master only binds (to
claim the port and fail early) and each worker opens its own listening socket on the same
address, so that the kernel spreads connections across workers; otherwise the master's
listening socket is inherited and shared by every worker.

A TCP address is first bound without SO_REUSEPORT, which fails (EADDRINUSE) if any socket
holds the port, another japronto's SO_REUSEPORT sockets included: the kernel lets a socket
join a port's SO_REUSEPORT group whenever both set the option and have the same user, so a
second server started by mistake on a busy port would otherwise serve a share of its
connections in silence. Only with per-worker sockets is that bind then swapped for an
SO_REUSEPORT one on the same port; another server that binds in the microseconds between
the two would not be noticed, and any later japronto fails its own first bind.
"""

import os
import socket
import stat

__all__ = ["Listen", "ListenError", "describe"]

BACKLOG = 2048
HAS_REUSEPORT = hasattr(socket, "SO_REUSEPORT")


class ListenError(OSError):
    """The address could not be listened on (in use, not permitted, ...); the message names
    it, the errno is the system's."""


class Listen:
    """What to listen on; ``socket()`` opens it (in the master), ``for_worker()`` gives each
    worker its listening socket."""

    def __init__(self, host="0.0.0.0", port=8080, *, unix_socket=None, sock=None, backlog=None):
        self.host = host
        self.port = port
        self.unix_socket = unix_socket
        self.given = sock
        self.backlog = backlog or BACKLOG
        self.reuseport = False
        self._sock = None

    def open(self, per_worker=False):
        """Binds (and, unless each worker listens on its own, listens). Errors are
        ListenError, an OSError."""
        try:
            return self._open(per_worker)
        except OSError as e:
            why = e.strerror or str(e)
            raise ListenError(e.errno, f"cannot listen on {self._where()}: {why}") from e

    def _where(self):
        if self.given is not None:
            return f"the given socket {self.given!r}"
        if self.unix_socket is not None:
            return f"unix:{self.unix_socket}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def _open(self, per_worker):
        if self.given is not None:
            sock = self.given
            if isinstance(sock, int):
                sock = socket.socket(fileno=sock)
            sock.listen(self.backlog)  # harmless when it already listens
        elif self.unix_socket is not None:
            path = self.unix_socket
            try:
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)  # a stale socket from a previous run
            except FileNotFoundError:
                pass
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            sock.listen(self.backlog)
        else:
            self.reuseport = per_worker and HAS_REUSEPORT
            sock = self._tcp(reuseport=False)  # the port must be free (see the module's doc)
            self.port = sock.getsockname()[1]  # port 0 asks for any free one
            if self.reuseport:
                sock.close()
                sock = self._tcp(reuseport=True)  # held, not listened on, while the master runs
            else:
                sock.listen(self.backlog)
        sock.setblocking(False)
        self._sock = sock
        return sock

    def _tcp(self, reuseport):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuseport:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((self.host, self.port))
        except BaseException:
            sock.close()
            raise
        return sock

    def for_worker(self):
        """In a worker: its own SO_REUSEPORT socket, or the inherited shared one."""
        if not self.reuseport:
            return self._sock
        sock = self._tcp(reuseport=True)
        sock.listen(self.backlog)
        sock.setblocking(False)
        # The master's bound socket is not this worker's business.
        self._sock.close()
        self._sock = sock
        return sock

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self.unix_socket is not None and self.given is None:
            try:
                os.unlink(self.unix_socket)
            except OSError:
                pass

    def describe(self):
        return describe(self._sock) if self._sock is not None else repr(self)


def describe(sock):
    """A human address: http://host:port/ or unix:/path."""
    if sock.family == socket.AF_UNIX:
        return f"unix:{sock.getsockname()}"
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"http://{host}:{port}/"
