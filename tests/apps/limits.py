"""Small limits, to test them without huge requests.

max_pipeline_depth=4, max_body_size=1024, max_head_size=2048, max_headers=10,
max_request_line=256

/             "ok"
/echo         "len=<body length>" (any method)
/sleep/{ms}   as in _shared.sleep
/hang, /count as in _shared
"""

from _shared import count, hang, sleep

from japronto import Application

MAX_PIPELINE_DEPTH = 4
MAX_BODY_SIZE = 1024
MAX_HEAD_SIZE = 2048
MAX_HEADERS = 10
MAX_REQUEST_LINE = 256


def ok(request):
    return request.Response(text="ok")


def body_len(request):
    body = request.body
    return request.Response(text=f"len={0 if body is None else len(body)}")


app = Application(
    max_pipeline_depth=MAX_PIPELINE_DEPTH,
    max_body_size=MAX_BODY_SIZE,
    max_head_size=MAX_HEAD_SIZE,
    max_headers=MAX_HEADERS,
    max_request_line=MAX_REQUEST_LINE,
)
app.router.add_route("/", ok)
app.router.add_route("/echo", body_len)
app.router.add_route("/sleep/{ms}", sleep)
app.router.add_route("/hang", hang)
app.router.add_route("/count", count)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
