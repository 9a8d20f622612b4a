"""The peer benchmark's app for aiohttp's web server, on uvloop.

    python aiohttp_app.py PORT   (listens on 127.0.0.1, one process, no access log)

The same endpoints as the other apps; aiohttp adds `Server` and `Date` itself. JSON with the
standard library's compact `json.dumps`.
"""

import asyncio
import json
import sys

import uvloop
from aiohttp import web


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


async def plaintext(request):
    return web.Response(text="Hello, World!")


async def json_hello(request):
    return web.json_response({"message": "Hello, World!"}, dumps=dumps)


async def user_post(request):
    fields = request.query.get("fields")
    obj = {
        "user": int(request.match_info["id"]),
        "post": request.match_info["slug"],
        "fields": fields.split(",") if fields else [],
    }
    return web.json_response(obj, dumps=dumps)


async def echo(request):
    return web.json_response(await request.json(), dumps=dumps)


app = web.Application()
app.router.add_get("/plaintext", plaintext)
app.router.add_get("/json", json_hello)
app.router.add_get("/user/{id}/post/{slug}", user_post)
app.router.add_post("/echo", echo)

if __name__ == "__main__":
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
