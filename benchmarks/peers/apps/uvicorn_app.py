"""The peer benchmark's app for uvicorn: a raw ASGI callable, no framework.

    uvicorn --app-dir DIR uvicorn_app:app --host 127.0.0.1 --port PORT --loop uvloop \
        --http httptools --workers 1 --no-access-log --lifespan off

The same endpoints as the other apps; uvicorn adds `Server` and `Date` itself. JSON with the
standard library's compact `json.dumps`.
"""

import json
from urllib.parse import parse_qs

PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]
JSON = [(b"content-type", b"application/json")]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


async def respond(send, status, headers, body):
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    if method == "GET" and path == "/plaintext":
        await respond(send, 200, PLAIN, b"Hello, World!")
    elif method == "GET" and path == "/json":
        await respond(send, 200, JSON, dumps({"message": "Hello, World!"}))
    elif method == "POST" and path == "/echo":
        await respond(send, 200, JSON, dumps(json.loads(await read_body(receive))))
    else:
        parts = path.split("/")
        if method == "GET" and len(parts) == 5 and parts[1] == "user" and parts[3] == "post":
            fields = parse_qs(scope["query_string"].decode("latin-1")).get("fields")
            obj = {
                "user": int(parts[2]),
                "post": parts[4],
                "fields": fields[0].split(",") if fields else [],
            }
            await respond(send, 200, JSON, dumps(obj))
        else:
            await respond(send, 404, PLAIN, b"Not Found")
