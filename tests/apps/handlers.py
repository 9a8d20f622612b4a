"""Error handlers chosen in registration order, and a catch-all (exc_type=None) last;
log_request=True without debug.

Registered, in this order: LookupError -> 409 "lookup: <type>", KeyError -> 410 "key" (never
wins: LookupError, its base, was registered first), None -> 503 "catch-all: <type>".

/key      raises KeyError("k")
/index    raises IndexError("i")
/value    raises ValueError("v")
/acancel  async, raises asyncio.CancelledError after an await
/junk     returns 42 (the TypeError saying so goes to the catch-all)
/ok       "ok"
anything else: RouteNotFoundException, also caught by the catch-all
"""

import asyncio

from japronto import Application


def key(request):
    raise KeyError("k")


def index(request):
    raise IndexError("i")


def value(request):
    raise ValueError("v")


async def acancel(request):
    await asyncio.sleep(0)
    raise asyncio.CancelledError()


def junk(request):
    return 42


def ok(request):
    return request.Response(text="ok")


def on_lookup(request, exc):
    return request.Response(code=409, text=f"lookup: {type(exc).__name__}")


def on_key(request, exc):
    return request.Response(code=410, text="key")


def on_anything(request, exc):
    return request.Response(code=503, text=f"catch-all: {type(exc).__name__}")


app = Application(log_request=True)
app.add_error_handler(LookupError, on_lookup)
app.add_error_handler(KeyError, on_key)
app.add_error_handler(None, on_anything)
for name, fn in [("key", key), ("index", index), ("value", value), ("acancel", acancel)]:
    app.router.add_route(f"/{name}", fn)
app.router.add_route("/junk", junk)
app.router.add_route("/ok", ok)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
