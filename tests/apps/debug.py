"""debug=True: a failing handler's 500 carries its traceback.

/raise   raises ValueError("debug-marker-77c2") from a function named deep_failure
/sync    "sync"
"""

from japronto import Application

MARKER = "debug-marker-77c2"


def deep_failure():
    raise ValueError(MARKER)


def raising(request):
    deep_failure()


def sync(request):
    return request.Response(text="sync")


app = Application(debug=True)
app.router.add_route("/raise", raising)
app.router.add_route("/sync", sync)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
