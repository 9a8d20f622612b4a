"""The benchmark app for our server: the seed's hello world, plus TechEmpower's plaintext route.

    python hello_japronto.py [PORT]          (default 8080; listens on 127.0.0.1)

`/` answers 'Hello world!' exactly as the seed's hello world does (Japronto's own benchmark
hits it); `/plaintext` answers 'Hello, World!' like TechEmpower's plaintext test. One worker,
no debug logging. The event loop is the library's choice: uvloop when installed, and the
library honours the JAPRONTO_LOOP environment variable to pick another.
"""

import sys

from japronto import Application


def hello(request):
    return request.Response(text="Hello world!")


def plaintext(request):
    return request.Response(text="Hello, World!")


app = Application()
app.router.add_route("/", hello)
app.router.add_route("/plaintext", plaintext)

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
