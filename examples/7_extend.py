# Chapter 7: extending the request. Run: python examples/7_extend.py [port]
import itertools
import sys

from japronto import Application

# Stands in for a pool of database connections.
_ids = itertools.count(1)
open_sessions = set()


class Session:
    def __init__(self):
        self.id = next(_ids)
        open_sessions.add(self.id)

    def close(self):
        open_sessions.discard(self.id)


# A method: request.greeting('Ana').
def greeting(request, name):
    return f"Hello {name}, you asked for {request.path}"


# A property: request.session, made on first use, kept in request.extra, and
# closed by a done-callback once the response has been sent.
def session(request):
    if "session" not in request.extra:
        request.extra["session"] = Session()
        request.add_done_callback(close_session)
    return request.extra["session"]


def close_session(request):
    request.extra["session"].close()


# Another property, under a name of our choice.
def is_json(request):
    return request.mime_type == "application/json"


def greet(request):
    return request.Response(text=request.greeting("Ana") + "\n")


def use_session(request):
    first = request.session
    again = request.session  # the same object: made once per request
    return request.Response(json={"session": first.id, "same": first is again})


def sessions(request):
    return request.Response(json={"open": sorted(open_sessions)})


def kind(request):
    return request.Response(text="JSON\n" if request.wants_json else "not JSON\n")


app = Application()
app.extend_request(greeting)
app.extend_request(session, property=True)
app.extend_request(is_json, name="wants_json", property=True)
app.router.add_route("/greet", greet)
app.router.add_route("/session", use_session)
app.router.add_route("/sessions", sessions)
app.router.add_route("/kind", kind)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
