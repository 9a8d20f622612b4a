"""The seed's hello world, unchanged except that host and port come from the command line."""

from japronto import Application


def hello(request):
    return request.Response(text="Hello world!")


app = Application()
app.router.add_route("/", hello)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
