"""Routing: method restrictions, placeholders, and handler kinds.

/only-get             method="GET": "only-get"
/multi                methods=["get", "POST"] (lower case on purpose): "multi <METHOD>"
/user/{id}/post/{pid} JSON of request.match_dict
/bound                a bound method: "bound <attr>"
/callable             an instance with __call__: "callable"
/introspect           JSON of checks on request.app, .route, .extra, .transport
/extended             uses request.greet(...) (extend_request method) and request.ua and
                      request.agent (property extensions, one renamed)
/done                 registers two done-callbacks; async
/done-count           JSON: how many done-callbacks ran, with the paths they saw
/keep                 stores the request object and answers "kept"
/kept                 JSON of what the stored requests show now: path, query, headers, body
/brace/{{x}}/{v}      a literal "{x}" segment, then a placeholder: JSON of match_dict
/many/{a0}/.../{a11}  twelve placeholders: JSON of match_dict
/acallable            an instance with an async def __call__: "acallable"
/partial              functools.partial of a two-argument function: "partial p1"
/done-sync            a plain handler registering a done-callback: "done-sync"
/deco                 @app.route(methods=["GET", "post"]): "deco <METHOD>"
/deco/{x}             @app.router.route(method="put"), async: "adeco <x>"
/twice-a, /twice-b    one function under two @app.route decorators: "twice <path>"
/deco-direct          calls the decorated function directly: "direct <deco's answer>"
/purge                method="PURGE" (no method id of the parser's): "purge <METHOD>"
/a-literal-route-longer-than-the-route-memo-keeps   "long"
/forms                request.Response called every way (_shared.response_forms), on
                      the app's Request subclass
"""

import functools
import json

from _shared import response_forms

from japronto import Application


class Handlers:
    def __init__(self):
        self.attr = "x1"

    def method(self, request):
        return request.Response(text=f"bound {self.attr}")


class CallableHandler:
    def __call__(self, request):
        return request.Response(text="callable")


class AsyncCallableHandler:
    async def __call__(self, request):
        return request.Response(text="acallable")


def with_prefix(prefix, request):
    return request.Response(text=f"partial {prefix}")


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


def greet(request, name):
    return f"hello {name} at {request.path}"


def user_agent(request):
    return request.headers.get("User-Agent", "-")


DONE = []


async def done(request):
    request.add_done_callback(lambda req: DONE.append(("first", req.path)))
    request.add_done_callback(lambda req: DONE.append(("second", req.path)))
    return request.Response(text="done")


def done_sync(request):
    request.add_done_callback(lambda req: DONE.append(("sync", req.path)))
    return request.Response(text="done-sync")


def done_count(request):
    return request.Response(json=DONE)


KEPT = []


def keep(request):
    KEPT.append(request)
    return request.Response(text="kept")


def kept(request):
    out = [
        {
            "path": r.path,
            "query_string": r.query_string,
            "x_marker": r.headers.get("X-Marker"),
            "body": r.body.decode("latin-1") if r.body is not None else None,
            "method": r.method,
            "route": r.route.pattern if r.route is not None else None,
        }
        for r in KEPT
    ]
    return request.Response(json=out)


def extended(request):
    return request.Response(text=f"{request.greet('you')} | {request.ua} | {request.agent}")


app = Application()
app.extend_request(greet)
app.extend_request(user_agent, name="ua", property=True)
app.extend_request(user_agent, name="agent", property=True)
r = app.router
r.add_route("/only-get", only_get, method="GET")
r.add_route("/multi", multi, methods=["get", "POST"])
r.add_route("/user/{id}/post/{pid}", params)
r.add_route("/bound", Handlers().method)
r.add_route("/callable", CallableHandler())
r.add_route("/introspect", introspect)
r.add_route("/extended", extended)
r.add_route("/done", done)
r.add_route("/done-count", done_count)
r.add_route("/keep", keep)
r.add_route("/kept", kept)
r.add_route("/brace/{{x}}/{v}", params)
r.add_route("/many" + "".join(f"/{{a{i}}}" for i in range(12)), params)
r.add_route("/acallable", AsyncCallableHandler())
r.add_route("/partial", functools.partial(with_prefix, "p1"))
r.add_route("/done-sync", done_sync)
r.add_route("/forms", response_forms)
r.add_route("/purge", lambda request: request.Response(text=f"purge {request.method}"), "PURGE")
r.add_route(
    "/a-literal-route-longer-than-the-route-memo-keeps",
    lambda request: request.Response(text="long"),
)


@app.route("/deco", methods=["GET", "post"])
def deco(request):
    return request.Response(text=f"deco {request.method}")


@app.router.route("/deco/{x}", method="put")
async def adeco(request):
    return request.Response(text=f"adeco {request.match_dict['x']}")


@app.route("/twice-a")
@app.route("/twice-b")
def twice(request):
    return request.Response(text=f"twice {request.path}")


@app.route("/deco-direct")
def deco_direct(request):
    # The decorators gave the functions back unchanged: still plain callables.
    return request.Response(text=f"direct {deco(request).body.decode()} {adeco.__name__}")


if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
