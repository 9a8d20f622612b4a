"""The peer benchmark's app for socketify.py (uWebSockets through CFFI).

    python socketify_app.py PORT   (listens on 127.0.0.1, one process)

The same endpoints as the other apps; uWebSockets adds `Server` and `Date` itself. JSON with
the standard library's compact `json.dumps`.
"""

import json
import sys

from socketify import App, AppListenOptions


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def plaintext(res, req):
    res.write_header("Content-Type", "text/plain; charset=utf-8")
    res.end("Hello, World!")


def json_hello(res, req):
    res.write_header("Content-Type", "application/json")
    res.end(dumps({"message": "Hello, World!"}))


def user_post(res, req):
    fields = req.get_query("fields")
    obj = {
        "user": int(req.get_parameter(0)),
        "post": req.get_parameter(1),
        "fields": fields.split(",") if fields else [],
    }
    res.write_header("Content-Type", "application/json")
    res.end(dumps(obj))


# The body is gathered in on_data handlers registered before the route handler returns, and
# the response is kept referenced until it is answered: with `await res.get_data()` in an
# async handler socketify 0.0.31 aborted the process under load ("ffi.from_handle() detected
# that the address passed points to garbage": the response had been collected while uWS
# still held its handle).
_pending = set()


def echo(res, req):
    chunks = []
    _pending.add(res)

    def on_data(res, chunk, is_end):
        if chunk is not None:
            chunks.append(chunk)
        if is_end:
            _pending.discard(res)
            res.write_header("Content-Type", "application/json")
            res.end(dumps(json.loads(b"".join(chunks))))

    res.on_aborted(lambda res: _pending.discard(res))
    res.on_data(on_data)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app = App()
    app.get("/plaintext", plaintext)
    app.get("/json", json_hello)
    app.get("/user/:id/post/:slug", user_post)
    app.post("/echo", echo)
    app.listen(AppListenOptions(port=port, host="127.0.0.1"), lambda config: None)
    app.run()


if __name__ == "__main__":
    main()
