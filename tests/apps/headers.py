"""Handlers that report the header lines they saw, for the tests of the connection's header
array, which starts small and grows (tests/server/test_header_growth.py). Default limits:
max_headers=100.

/h               every field line, in order, as JSON [[name, value], ...] (request.headers.raw())
/late/{ms}       async: sleeps ms milliseconds first, then reads and answers the same
/nomem-next      answers "armed", after making the next allocation of the process fail
                 (CPython's _testcapi.set_nomemory): pipelined right before a head that makes
                 the connection grow its header array, that allocation is the growth's
/unhook          removes _testcapi's allocation hooks
"""

import asyncio
import json

from japronto import Application


def fields(request):
    return json.dumps([[k, v] for k, v in request.headers.raw()])


def h(request):
    return request.Response(text=fields(request), mime_type="application/json")


async def late(request):
    await asyncio.sleep(int(request.match_dict["ms"]) / 1000)
    return request.Response(text=fields(request), mime_type="application/json")


def nomem_next(request):
    import _testcapi

    response = request.Response(text="armed")
    # The counter starts now: allocation 1 (the next one) fails, the rest succeed.
    _testcapi.set_nomemory(0, 1)
    return response


def unhook(request):
    import _testcapi

    _testcapi.remove_mem_hooks()
    return request.Response(text="ok")


app = Application()
app.router.add_route("/h", h)
app.router.add_route("/late/{ms}", late)
app.router.add_route("/nomem-next", nomem_next)
app.router.add_route("/unhook", unhook)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
