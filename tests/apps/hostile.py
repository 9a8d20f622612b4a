"""Handlers that misbehave, for tests/server/test_hostile.py (debug=False).

/sync            "sync"
/raise           raises ValueError
/raise-base      raises a BaseException subclass (not an Exception)
/raise-exit      raises SystemExit
/raise-bad-str   raises an exception whose str() itself raises
/junk/{kind}     returns junk: none, str, bytes, dict, int, type (the Response class),
                 coroutine (a sync handler returning an un-awaited coroutine)
/ajunk           async, returns "not a response"
/block           blocks the loop for one second (time.sleep), then "blocked"
/hang            never answers; /count reports started/cancelled
/echo            "len=<body length>", any method
"""

import asyncio
import sys
import time

from _shared import count, hang

from japronto import Application


class NotAnError(BaseException):
    pass


class BadStr(Exception):
    def __str__(self):
        raise RuntimeError("str() of this exception fails")

    def __repr__(self):
        raise RuntimeError("repr() of this exception fails")


def sync(request):
    return request.Response(text="sync")


def raising(request):
    raise ValueError("hostile")


def raise_base(request):
    raise NotAnError("hostile base")


def raise_exit(request):
    raise SystemExit(3)


def raise_bad_str(request):
    raise BadStr()


async def _never_awaited():
    return 1


def junk(request):
    kind = request.match_dict["kind"]
    if kind == "coroutine":
        return _never_awaited()
    return {
        "none": None,
        "str": "a string",
        "bytes": b"some bytes",
        "dict": {"a": 1},
        "int": 42,
        "type": request.Response,
    }[kind]


async def ajunk(request):
    await asyncio.sleep(0)
    return "not a response"


def block(request):
    time.sleep(1.0)
    return request.Response(text="blocked")


def echo_len(request):
    b = request.body
    return request.Response(text=f"len={0 if b is None else len(b)}")


app = Application(debug=False)
r = app.router
r.add_route("/sync", sync)
r.add_route("/raise", raising)
r.add_route("/raise-base", raise_base)
r.add_route("/raise-exit", raise_exit)
r.add_route("/raise-bad-str", raise_bad_str)
r.add_route("/junk/{kind}", junk)
r.add_route("/ajunk", ajunk)
r.add_route("/block", block)
r.add_route("/hang", hang)
r.add_route("/count", count)
r.add_route("/echo", echo_len)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
