"""Leak checks: every kind of handler, and endpoints that report the live native objects
(japronto._core._live_counts) and reference counts of objects the handlers passed on.

/sync                 "sync"
/async                awaits, then "async"
/raise, /araise       raise (500)
/junk                 returns 42 (500)
/hang                 never answers; cancelled when the client goes
/sleep/{ms}           as in _shared.sleep
/body                 a Response with the module-level bytes BODY
/keep                 keeps its request and its Response in KEPT, answers "kept"
/unkeep               empties KEPT
/echo                 "len=<body length>", any method
/json                 reads request.json twice: "ok <type>", or "bad" (400) when it raises
/live                 JSON: the live counts after gc.collect(), and refcounts:
                      body (BODY), kept_request, kept_response (None if nothing kept yet)
/count                the /hang counters
/lost                 aborts its transport and calls its connection's connection_lost itself,
                      from inside the handler (as a transport reporting a loss at once would),
                      then reads its request's path and X-A header (kept for /lost-seen); its
                      "lost" is never sent
/lost-seen            JSON: the distinct (path, X-A) pairs /lost read after the loss
"""

import asyncio
import gc
import json
import sys

from _shared import count, hang, sleep

from japronto import Application, _core

BODY = b"leak-check-body " * 64
KEPT = []
LOST_SEEN = set()


def sync(request):
    return request.Response(text="sync")


async def asynchronous(request):
    await asyncio.sleep(0)
    return request.Response(text="async")


def raising(request):
    raise ValueError("leak-check")


async def araising(request):
    await asyncio.sleep(0)
    raise ValueError("leak-check")


def junk(request):
    return 42


def body(request):
    return request.Response(body=BODY)


def keep(request):
    response = request.Response(text="kept")
    KEPT[:] = [request, response]
    return response


def unkeep(request):
    KEPT.clear()
    return request.Response(text="dropped")


def echo_len(request):
    b = request.body
    return request.Response(text=f"len={0 if b is None else len(b)}")


def json_(request):
    try:
        value = request.json
        assert request.json is value
    except ValueError:
        return request.Response(text="bad", code=400)
    return request.Response(text=f"ok {type(value).__name__}")


def lost(request):
    transport = request.transport
    response = request.Response(text="lost")
    transport.abort()
    # A transport's connection_lost comes later, from the loop; this one comes now.
    protocol = getattr(transport, "_protocol", None) or transport.get_protocol()
    protocol.connection_lost(None)
    # The request still reads its bytes: the connection lets them go after the handler.
    LOST_SEEN.add((request.path, request.headers.get("X-A")))
    return response


def lost_seen(request):
    return request.Response(json=sorted(LOST_SEEN, key=repr))


def live(request):
    gc.collect()
    out = {
        "counts": _core._live_counts(),
        # sys.getrefcount counts its own argument: 1 here means "only its owner holds it".
        "body": sys.getrefcount(BODY) - 1,
        "kept_request": sys.getrefcount(KEPT[0]) - 1 if KEPT else None,
        "kept_response": sys.getrefcount(KEPT[1]) - 1 if KEPT else None,
    }
    return request.Response(text=json.dumps(out), mime_type="application/json")


app = Application(debug=False, max_body_size=1 << 20)
r = app.router
r.add_route("/sync", sync)
r.add_route("/async", asynchronous)
r.add_route("/raise", raising)
r.add_route("/araise", araising)
r.add_route("/junk", junk)
r.add_route("/hang", hang)
r.add_route("/sleep/{ms}", sleep)
r.add_route("/body", body)
r.add_route("/keep", keep)
r.add_route("/unkeep", unkeep)
r.add_route("/echo", echo_len)
r.add_route("/json", json_)
r.add_route("/live", live)
r.add_route("/count", count)
r.add_route("/lost", lost)
r.add_route("/lost-seen", lost_seen)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
