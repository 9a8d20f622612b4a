"""Handlers shared by several test apps (tests/apps/*.py); this module makes no Application.

Everything here reports what the server handed to the handler, so that the black-box tests
in tests/server can check it from the client side.
"""

import asyncio
import hashlib
import json
from urllib.parse import parse_qs

# Counters of the /hang and /sleep handlers, reported by /count and /stats. One server
# process serves one test, so they start at zero for each test.
STATE = {"started": 0, "cancelled": 0, "finished": 0, "active": 0, "max_active": 0}


def echo(request):
    """Everything the server saw, as JSON (``headers`` as the mapping gives them, ``raw_headers``
    every field in the order sent, repeats included). The body is returned as a latin-1 string (a
    lossless mapping of bytes) when it is at most 64 KiB, and always as length and sha256.
    ``?lookup=NAME`` (repeatable) adds request.headers.get(NAME) for each NAME."""
    body = request.body
    lookups = {}
    for name in parse_qs(request.query_string or "").get("lookup", []):
        lookups[name] = request.headers.get(name)
    out = {
        "method": request.method,
        "path": request.path,
        "query_string": request.query_string,
        "version": request.version,
        "headers": [[k, v] for k, v in request.headers.items()],
        "raw_headers": [[k, v] for k, v in request.headers.raw()],
        "lookups": lookups,
        "body": None if body is None else (body.decode("latin-1") if len(body) <= 65536 else ""),
        "body_is_none": body is None,
        "body_type": type(body).__name__,
        "body_len": 0 if body is None else len(body),
        "body_sha256": None if body is None else hashlib.sha256(body).hexdigest(),
        "keep_alive": request.keep_alive,
        "match_dict": dict(request.match_dict or {}),
        "remote_addr": str(request.remote_addr),
    }
    return request.Response(text=json.dumps(out), mime_type="application/json")


async def sleep(request):
    """Sleeps match_dict['ms'] milliseconds, then answers the number. Tracks how many run at
    once (``active``) and the most ever seen (``max_active``)."""
    ms = int(request.match_dict["ms"])
    STATE["active"] += 1
    STATE["max_active"] = max(STATE["max_active"], STATE["active"])
    try:
        await asyncio.sleep(ms / 1000)
    finally:
        STATE["active"] -= 1
    return request.Response(text=str(ms))


async def hang(request):
    """Never answers on its own: records that it started, and that it was cancelled."""
    STATE["started"] += 1
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        STATE["cancelled"] += 1
        raise
    STATE["finished"] += 1
    return request.Response(text="woke up")


def count(request):
    """The counters as JSON: started, cancelled, finished (of /hang), active, max_active."""
    return request.Response(text=json.dumps(STATE), mime_type="application/json")


def ident(request):
    """A plain handler answering its placeholder."""
    return request.Response(text=request.match_dict["n"])


async def aident(request):
    """An async handler with no await at all, answering its placeholder."""
    return request.Response(text="a" + request.match_dict["n"])


def response_forms(request):
    """request.Response called every way Python allows, as JSON: the bodies each form made,
    and what the unbound method raised for calls without a request."""
    from japronto import _core

    bound = request.Response
    made = [
        request.Response(text="method").body,
        bound(text="bound").body,
        type(request).Response(request, text="own type").body,
        _core.Request.Response(request, text="base type").body,
        bound("positional", 201).body,
    ]
    errors = []
    for args in [(), (42,), ("text",)]:
        try:
            _core.Request.Response(*args)
        except TypeError:
            errors.append("TypeError")
    out = {
        "made": [b.decode() for b in made],
        "errors": errors,
        "exact_type": type(request) is _core.Request,
    }
    return request.Response(text=json.dumps(out), mime_type="application/json")
