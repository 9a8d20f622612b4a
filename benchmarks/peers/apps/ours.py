"""The peer benchmark's app for our server: the four endpoints every peer serves.

    python ours.py PORT          (listens on 127.0.0.1, one worker)

- `GET /plaintext`: 'Hello, World!' as text/plain (TechEmpower's plaintext).
- `GET /json`: `{"message":"Hello, World!"}` from a dict made and serialised per request
  (TechEmpower's JSON).
- `GET /user/{id}/post/{slug}?fields=a,b`: JSON from both placeholders and the query.
- `POST /echo`: the JSON body parsed and serialised back.

The library adds `Server` and `Date` itself, and serialises `json=` with its own C encoder
(json.c) for plain data, as every body here is; anything else goes to orjson when it is
importable, else to the standard library's compact `json.dumps` (the peers' apps use the
latter). The event loop is the library's choice (uvloop when installed, or JAPRONTO_LOOP).
"""

import sys

from japronto import Application


def plaintext(request):
    return request.Response(text="Hello, World!")


def json_hello(request):
    return request.Response(json={"message": "Hello, World!"})


def user_post(request):
    m = request.match_dict
    fields = request.query.get("fields")
    return request.Response(
        json={
            "user": int(m["id"]),
            "post": m["slug"],
            "fields": fields.split(",") if fields else [],
        }
    )


def echo(request):
    return request.Response(json=request.json)


app = Application()
app.router.add_route("/plaintext", plaintext, method="GET")
app.router.add_route("/json", json_hello, method="GET")
app.router.add_route("/user/{id}/post/{slug}", user_post, method="GET")
app.router.add_route("/echo", echo, method="POST")

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
