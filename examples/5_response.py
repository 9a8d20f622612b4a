# Chapter 5: the response object. Run: python examples/5_response.py [port]
import sys
from http.cookies import SimpleCookie

from japronto import Application


# Text, encoded as UTF-8 unless told otherwise; text/plain unless told otherwise.
def text(request):
    return request.Response(text="Olá, mundo!\n")


def html(request):
    return request.Response(text="<h1>Hi</h1>", mime_type="text/html")


def latin1(request):
    return request.Response(text="café\n", encoding="latin-1")


# JSON: any object json.dumps accepts.
def json(request):
    return request.Response(json={"items": [1, 2, 3], "ok": True})


# Bytes, sent as they are (application/octet-stream unless told otherwise).
def binary(request):
    return request.Response(body=b"\x89PNG\r\n", mime_type="image/png")


# Any status from 100 to 599, with its standard reason phrase.
def teapot(request):
    return request.Response(code=418, text="I'm a teapot\n")


def created(request):
    return request.Response(code=201, headers={"Location": "/items/7"})


# Headers: a dict, or a list of pairs when a name repeats.
def headers(request):
    return request.Response(
        text="See the headers\n",
        headers=[("X-Tag", "one"), ("X-Tag", "two"), ("Cache-Control", "no-store")],
    )


# Cookies: a SimpleCookie; each cookie becomes its own Set-Cookie header.
def cookies(request):
    cookies = SimpleCookie()
    cookies["session"] = "a1b2c3"
    cookies["session"]["httponly"] = True
    cookies["theme"] = "dark"
    cookies["theme"]["max-age"] = 3600
    return request.Response(text="Cookies set\n", cookies=cookies)


app = Application()
for handler in [text, html, latin1, json, binary, teapot, created, headers, cookies]:
    app.router.add_route(f"/{handler.__name__}", handler)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
