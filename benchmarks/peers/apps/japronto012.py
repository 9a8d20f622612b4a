"""The peer benchmark's app for Japronto 0.1.2 (PyPI, 2018), on an older CPython.

    python japronto012.py PORT   (listens on 127.0.0.1, one worker: 0.1.2 forks it)

The same endpoints as the other apps. Japronto 0.1.2 adds neither `Server` nor `Date`, so
this app adds both (the date formatted at most once a second, as TechEmpower's entries do),
and its `json=` uses `json.dumps` with spaces, so the body is serialised here with the same
compact `json.dumps` the other apps use. Kept to Python 3.7 syntax.
"""

import json
import sys
import time
from email.utils import formatdate

from japronto import Application

_date = [0, ""]


def headers():
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = formatdate(now, usegmt=True)
    return {"Server": "japronto", "Date": _date[1]}


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def plaintext(request):
    return request.Response(text="Hello, World!", headers=headers())


def json_hello(request):
    return request.Response(
        text=dumps({"message": "Hello, World!"}), mime_type="application/json", headers=headers()
    )


def user_post(request):
    m = request.match_dict
    fields = request.query.get("fields")
    obj = {"user": int(m["id"]), "post": m["slug"], "fields": fields.split(",") if fields else []}
    return request.Response(text=dumps(obj), mime_type="application/json", headers=headers())


def echo(request):
    return request.Response(
        text=dumps(request.json), mime_type="application/json", headers=headers()
    )


app = Application()
app.router.add_route("/plaintext", plaintext, method="GET")
app.router.add_route("/json", json_hello, method="GET")
app.router.add_route("/user/{id}/post/{slug}", user_post, method="GET")
app.router.add_route("/echo", echo, method="POST")

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080, worker_num=1)
