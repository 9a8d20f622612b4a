"""Sync and async handlers for ordering, concurrency and cancellation tests.

/sleep/{ms}   async: sleeps ms milliseconds, answers "ms" (tracks active/max_active)
/sync         plain handler: "sync"
/id/{n}       plain handler: "n"
/aid/{n}      async handler without any await: "a" + n
/hang         async: sleeps forever; counts started/cancelled/finished
/count        JSON of the counters (started, cancelled, finished, active, max_active)
/stats        the same JSON
/loop         async: the running loop's class, and whether request.app.loop is it
/aheaders/{ms} async: sleeps ms milliseconds, then answers JSON of the request's header pairs
              (read only after the sleep, when later pipelined requests have been parsed)
"""

import asyncio
import json

from _shared import aident, count, hang, ident, sleep

from japronto import Application


def sync(request):
    return request.Response(text="sync")


async def loop_info(request):
    running = asyncio.get_running_loop()
    cls = type(running)
    return request.Response(
        text=json.dumps(
            {
                "loop": f"{cls.__module__}.{cls.__qualname__}",
                "app_loop_is_running_loop": request.app.loop is running,
            }
        ),
        mime_type="application/json",
    )


async def headers_later(request):
    await asyncio.sleep(int(request.match_dict["ms"]) / 1000)
    pairs = [[k, v] for k, v in request.headers.raw()]
    return request.Response(text=json.dumps(pairs), mime_type="application/json")


app = Application()
r = app.router
r.add_route("/sleep/{ms}", sleep)
r.add_route("/sync", sync)
r.add_route("/id/{n}", ident)
r.add_route("/aid/{n}", aident)
r.add_route("/hang", hang)
r.add_route("/count", count)
r.add_route("/stats", count)
r.add_route("/loop", loop_info)
r.add_route("/aheaders/{ms}", headers_later)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
