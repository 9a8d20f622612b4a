"""Answers every request, whatever its method and path (up to 5 segments), with a JSON
description of what the server saw: see _shared.echo."""

from _shared import echo

from japronto import Application

app = Application()
app.router.add_route("/", echo)
for depth in range(1, 6):
    app.router.add_route("".join(f"/{{s{i}}}" for i in range(depth)), echo)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
