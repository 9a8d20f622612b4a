"""The peer benchmark's app for granian: RSGI, granian's own (and fastest) interface.

    granian --interface rsgi --host 127.0.0.1 --port PORT --workers 1 ... granian_app:app

The same endpoints as the other apps. Granian adds neither `Server` nor `Date` to RSGI
responses (checked when this was written), so this app adds both, the date formatted at most
once a second. JSON with the standard library's compact `json.dumps`.
"""

import json
import time
from email.utils import formatdate
from urllib.parse import parse_qs

_date = [0, ""]


def headers(content_type):
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = formatdate(now, usegmt=True)
    return [("content-type", content_type), ("server", "granian"), ("date", _date[1])]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


async def app(scope, proto):
    if scope.proto != "http":
        return
    path, method = scope.path, scope.method
    if method == "GET" and path == "/plaintext":
        proto.response_bytes(200, headers("text/plain; charset=utf-8"), b"Hello, World!")
    elif method == "GET" and path == "/json":
        proto.response_bytes(200, headers("application/json"), dumps({"message": "Hello, World!"}))
    elif method == "POST" and path == "/echo":
        body = await proto()
        proto.response_bytes(200, headers("application/json"), dumps(json.loads(body)))
    else:
        parts = path.split("/")
        if method == "GET" and len(parts) == 5 and parts[1] == "user" and parts[3] == "post":
            fields = parse_qs(scope.query_string).get("fields")
            obj = {
                "user": int(parts[2]),
                "post": parts[4],
                "fields": fields[0].split(",") if fields else [],
            }
            proto.response_bytes(200, headers("application/json"), dumps(obj))
        else:
            proto.response_bytes(404, headers("text/plain; charset=utf-8"), b"Not Found")
