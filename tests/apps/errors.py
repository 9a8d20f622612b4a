"""Handlers that fail, and error handlers (debug=False).

/raise        plain handler raising ValueError("secret-marker-1f3a")
/araise       async handler raising the same after an await
/junk         plain handler returning 42 (not a Response)
/ajunk        async handler returning None
/teapot       raises Teapot, answered by its error handler: 418 "handled: short and stout"
/cancel       plain handler raising asyncio.CancelledError
/acancel      async handler raising asyncio.CancelledError after an await
/aselfcancel  async handler whose own task is cancelled (current_task().cancel())
/failing-eh   raises Broken, whose error handler itself raises RuntimeError("eh-marker-5d1e")
/junk-eh      raises Junky, whose error handler returns "junk" (not a Response)
/cancel-eh    raises Gone, whose error handler raises asyncio.CancelledError
/async-eh     raises Later, whose error handler is an async def (not allowed)
/sync         "sync"
anything else RouteNotFoundException, answered by a custom handler: 404 "custom 404: <path>"
"""

import asyncio

from japronto import Application, RouteNotFoundException

MARKER = "secret-marker-1f3a"


class Teapot(Exception):
    pass


def raising(request):
    raise ValueError(MARKER)


async def araising(request):
    await asyncio.sleep(0)
    raise ValueError(MARKER)


def junk(request):
    return 42


async def ajunk(request):
    await asyncio.sleep(0)


def teapot(request):
    raise Teapot("short and stout")


def cancel(request):
    raise asyncio.CancelledError()


async def acancel(request):
    await asyncio.sleep(0)
    raise asyncio.CancelledError()


async def aselfcancel(request):
    asyncio.current_task().cancel()
    await asyncio.sleep(1)
    return request.Response(text="not cancelled")


class Broken(Exception):
    pass


class Junky(Exception):
    pass


class Later(Exception):
    pass


class Gone(Exception):
    pass


def cancel_eh(request):
    raise Gone("gone-marker-31aa")


def handle_gone(request, exc):
    raise asyncio.CancelledError()


def failing_eh(request):
    raise Broken("original-marker-9b0c")


def junk_eh(request):
    raise Junky("junky")


def async_eh(request):
    raise Later("later")


def handle_broken(request, exc):
    raise RuntimeError("eh-marker-5d1e")


def handle_junky(request, exc):
    return "junk"


async def handle_later(request, exc):
    return request.Response(text="never")


def sync(request):
    return request.Response(text="sync")


def handle_teapot(request, exc):
    return request.Response(code=418, text=f"handled: {exc}")


def handle_not_found(request, exc):
    return request.Response(code=404, text=f"custom 404: {request.path}")


app = Application(debug=False)
app.add_error_handler(Teapot, handle_teapot)
app.add_error_handler(RouteNotFoundException, handle_not_found)
app.add_error_handler(Broken, handle_broken)
app.add_error_handler(Junky, handle_junky)
app.add_error_handler(Later, handle_later)
app.add_error_handler(Gone, handle_gone)
app.router.add_route("/raise", raising)
app.router.add_route("/araise", araising)
app.router.add_route("/junk", junk)
app.router.add_route("/ajunk", ajunk)
app.router.add_route("/teapot", teapot)
app.router.add_route("/cancel", cancel)
app.router.add_route("/acancel", acancel)
app.router.add_route("/aselfcancel", aselfcancel)
app.router.add_route("/failing-eh", failing_eh)
app.router.add_route("/junk-eh", junk_eh)
app.router.add_route("/async-eh", async_eh)
app.router.add_route("/cancel-eh", cancel_eh)
app.router.add_route("/sync", sync)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
