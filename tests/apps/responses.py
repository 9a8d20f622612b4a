"""Response features over the wire.

/code/{n}     Response(code=n, text="code n")
/headers      custom headers X-One: 1, X-Two: two words
/json         Response(json={"a": [1, 2], "b": "é"})
/bytes        Response(body=b"\x00\x01\xfe\xff")
/latin1       Response(text="café", encoding="latin-1")
/mime         Response(text="<p>hi</p>", mime_type="text/html")
/cookies      two Set-Cookie headers from a SimpleCookie
/close        a response carrying Connection: close
/twice        calls request.Response twice; "distinct" if they are two objects
/ways         request.Response reached every way a method is (bound, through the class,
              through __get__, positionally); "same" if each gives the response text= gives,
              with a TypeError for a self that is not a Request
/both         "TypeError" if Response(text=..., body=...) raises TypeError
/crlf         "ValueError" if a header value with CR LF raises ValueError
/header-list  headers as a list of pairs, a name repeated: X-Rep: a, X-Rep: b, X-Last: z
/positional   Response("<b>p</b>", 201, None, None, "text/html"): every argument by position
/huge-header  X-Huge: 1 MiB of "h"
/big          a 1 MiB body of b"0123456789abcdef" repeated
/forms        request.Response called every way (_shared.response_forms)
"""

from http.cookies import SimpleCookie

from _shared import response_forms

from japronto import Application


def code(request):
    n = int(request.match_dict["n"])
    return request.Response(code=n, text=f"code {n}")


def headers(request):
    return request.Response(text="h", headers={"X-One": "1", "X-Two": "two words"})


def json_(request):
    return request.Response(json={"a": [1, 2], "b": "é"})


def bytes_(request):
    return request.Response(body=b"\x00\x01\xfe\xff")


def latin1(request):
    return request.Response(text="café", encoding="latin-1")


def mime(request):
    return request.Response(text="<p>hi</p>", mime_type="text/html")


def cookies(request):
    c = SimpleCookie()
    c["session"] = "abc123"
    c["session"]["path"] = "/"
    c["theme"] = "dark"
    return request.Response(text="cookies", cookies=c)


def close(request):
    return request.Response(text="closing", headers={"Connection": "close"})


def twice(request):
    a = request.Response(text="a")
    b = request.Response(text="b")
    return request.Response(text="distinct" if a is not b else "same")


def ways(request):
    Request = type(request)
    made = [
        request.Response(text="w"),
        request.Response("w"),
        Request.Response(request, text="w"),
        Request.Response.__get__(request, Request)(text="w"),
    ]
    bound = request.Response
    made.append(bound(text="w"))
    try:
        Request.Response(object(), text="w")
    except TypeError:
        pass
    else:
        return request.Response(text="no TypeError for a foreign self")
    shapes = {(r.code, r.text, r.mime_type, r.headers) for r in made}
    same = shapes == {(200, "w", "text/plain", None)}
    return request.Response(text="same" if same else repr(shapes))


def both(request):
    try:
        request.Response(text="x", body=b"y")
    except TypeError:
        return request.Response(text="TypeError")
    return request.Response(text="accepted")


def crlf(request):
    try:
        request.Response(text="x", headers={"X-Evil": "a\r\nSet-Cookie: pwned=1"})
    except ValueError:
        return request.Response(text="ValueError")
    return request.Response(text="accepted")


def header_list(request):
    return request.Response(text="l", headers=[("X-Rep", "a"), ("X-Rep", "b"), ("X-Last", "z")])


def positional(request):
    return request.Response("<b>p</b>", 201, None, None, "text/html")


def huge_header(request):
    return request.Response(text="huge", headers={"X-Huge": "h" * (1 << 20)})


BIG = b"0123456789abcdef" * 65536


def big(request):
    return request.Response(body=BIG)


app = Application()
r = app.router
r.add_route("/code/{n}", code)
r.add_route("/headers", headers)
r.add_route("/json", json_)
r.add_route("/bytes", bytes_)
r.add_route("/latin1", latin1)
r.add_route("/mime", mime)
r.add_route("/cookies", cookies)
r.add_route("/close", close)
r.add_route("/twice", twice)
r.add_route("/ways", ways)
r.add_route("/both", both)
r.add_route("/crlf", crlf)
r.add_route("/header-list", header_list)
r.add_route("/positional", positional)
r.add_route("/huge-header", huge_header)
r.add_route("/big", big)
r.add_route("/forms", response_forms)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
