"""request.json (decoded in C when it can be, see src/japronto/_core/jsondecode.c) beside the
Python path it replaces, for tests/server/test_request_json.py.

POST /probe   JSON: {"json": outcome of request.json, "again_same": whether a second read
              gave the same object (or the same error), "fallback": whether reading it
              called json.loads (the Python helper ran), "today": outcome of
              request_helpers.get_json(request) called directly (today's path: request.text
              then json.loads)}. An outcome is ["ok", repr(value)] or
              ["error", exception class name, str(exception)]; repr tells 1, 1.0 and True
              apart, and keeps dict order.
POST /echo    Response(json=request.json), errors uncaught (the app's own error response)
POST /today   Response(json=request_helpers.get_json(request)), errors uncaught

json.loads calls are counted by replacing the helper module's reference to the json module
with a counting stand-in (get_json looks `_json` up at each call).
"""

import json
import sys

from japronto import Application, request_helpers


class _CountingJson:
    JSONDecodeError = json.JSONDecodeError

    def __init__(self):
        self.calls = 0

    def loads(self, s):
        self.calls += 1
        return json.loads(s)


COUNTER = _CountingJson()
request_helpers._json = COUNTER


def _outcome(fn):
    try:
        value = fn()
    except Exception as e:  # what a handler would catch
        return ["error", type(e).__name__, str(e)], e
    return ["ok", repr(value)], value


def probe(request):
    before = COUNTER.calls
    first, v1 = _outcome(lambda: request.json)
    fallback = COUNTER.calls != before
    _, v2 = _outcome(lambda: request.json)
    again_same = v2 is v1 if first[0] == "ok" else (type(v2), str(v2)) == (type(v1), str(v1))
    today, _ = _outcome(lambda: request_helpers.get_json(request))
    out = {"json": first, "again_same": again_same, "fallback": fallback, "today": today}
    return request.Response(text=json.dumps(out), mime_type="application/json")


def echo(request):
    return request.Response(json=request.json)


def today(request):
    return request.Response(json=request_helpers.get_json(request))


app = Application(max_body_size=1 << 22)
r = app.router
r.add_route("/probe", probe, method="POST")
r.add_route("/echo", echo, method="POST")
r.add_route("/today", today, method="POST")

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
