"""Routing: method restrictions, placeholders, and handler kinds.

/only-get             method="GET": "only-get"
/multi                methods=["get", "POST"] (lower case on purpose): "multi <METHOD>"
/user/{id}/post/{pid} JSON of request.match_dict
/bound                a bound method: "bound <attr>"
/callable             an instance with __call__: "callable"
/introspect           JSON of checks on request.app, .route, .extra, .transport
"""

import json

from japronto import Application


class Handlers:
    def __init__(self):
        self.attr = "x1"

    def method(self, request):
        return request.Response(text=f"bound {self.attr}")


class CallableHandler:
    def __call__(self, request):
        return request.Response(text="callable")


def only_get(request):
    return request.Response(text="only-get")


def multi(request):
    return request.Response(text=f"multi {request.method}")


def params(request):
    return request.Response(text=json.dumps(dict(request.match_dict)), mime_type="application/json")


def introspect(request):
    request.extra["mine"] = 1
    peer = request.transport.get_extra_info("peername")
    out = {
        "app_is_app": request.app is app,
        "route_handler_is_introspect": request.route.handler is introspect,
        "route_pattern": request.route.pattern,
        "extra_is_dict": isinstance(request.extra, dict),
        "extra_kept": request.extra.get("mine") == 1,
        "transport_peer_host": peer[0] if peer else None,
    }
    return request.Response(text=json.dumps(out), mime_type="application/json")


app = Application()
r = app.router
r.add_route("/only-get", only_get, method="GET")
r.add_route("/multi", multi, methods=["get", "POST"])
r.add_route("/user/{id}/post/{pid}", params)
r.add_route("/bound", Handlers().method)
r.add_route("/callable", CallableHandler())
r.add_route("/introspect", introspect)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
