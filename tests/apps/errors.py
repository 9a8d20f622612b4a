"""Handlers that fail, and error handlers (debug=False).

/raise        plain handler raising ValueError("secret-marker-1f3a")
/araise       async handler raising the same after an await
/junk         plain handler returning 42 (not a Response)
/ajunk        async handler returning None
/teapot       raises Teapot, answered by its error handler: 418 "handled: short and stout"
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


def sync(request):
    return request.Response(text="sync")


def handle_teapot(request, exc):
    return request.Response(code=418, text=f"handled: {exc}")


def handle_not_found(request, exc):
    return request.Response(code=404, text=f"custom 404: {request.path}")


app = Application(debug=False)
app.add_error_handler(Teapot, handle_teapot)
app.add_error_handler(RouteNotFoundException, handle_not_found)
app.router.add_route("/raise", raising)
app.router.add_route("/araise", araising)
app.router.add_route("/junk", junk)
app.router.add_route("/ajunk", ajunk)
app.router.add_route("/teapot", teapot)
app.router.add_route("/sync", sync)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
