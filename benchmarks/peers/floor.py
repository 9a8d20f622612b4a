"""What the route handler's own Python costs, outside any server: the floor under the route's count.

    valgrind --tool=callgrind python floor.py N      (see `floor`, which runs it for you)

`benchmarks/peers/count` measures the instructions our server spends per request on
`GET /user/{id}/post/{slug}?fields=a,b`, handler included. Part of that is the handler's own
Python (apps/ours.py, `user_post`): two attribute reads, two dict lookups, `int()`, `str.split`,
a three-key dict. No server can make that cheaper, so the issue's "route at most 1.5 times
plaintext" is only reachable if that part fits in the margin. This script runs exactly that
body N times on a stand-in request whose `match_dict` and `query` are ready-made dicts (plain
slots: cheaper to read than the server's lazily built ones, so this is a lower bound), and the
same loop with a handler that does nothing but return, so that the difference of the two, over
N, is the handler's work beyond a call. `json` does the same for the JSON endpoint's handler
(`json_hello`: a fresh one-key dict).
"""

import sys


class StandIn:
    """Holds what the server's Request gives user_post: match_dict and query, already built."""

    __slots__ = ("match_dict", "query")

    def __init__(self):
        self.match_dict = {"id": "123", "slug": "hello-world"}
        self.query = {"fields": "a,b"}


def user_post_body(request):
    # apps/ours.py's user_post, less `request.Response(json=...)`: its argument is built and
    # returned as is.
    m = request.match_dict
    fields = request.query.get("fields")
    return {
        "user": int(m["id"]),
        "post": m["slug"],
        "fields": fields.split(",") if fields else [],
    }


def json_body(request):
    # apps/ours.py's json_hello, less the Response call: TechEmpower's fresh dict.
    return {"message": "Hello, World!"}


def nothing(request):
    return request


def run(handler, n):
    r = StandIn()
    for _ in range(n):
        handler(r)


if __name__ == "__main__":
    which, n = sys.argv[1], int(sys.argv[2])
    run({"body": user_post_body, "json": json_body, "nothing": nothing}[which], n)
