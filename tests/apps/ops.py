"""The app of the process tests (tests/server/test_running.py), run through the command line
(``python -m japronto ops:app`` from tests/apps).

/pid          the worker's process id
/slow/{s}     async: sleeps s seconds, answers "slept"
/big/{n}      n bytes of "x"
/             "ok"

OPS_HOOK_LOG=<path>   startup (plain) and shutdown (async) hooks append "start PID" and
                      "stop PID" lines to that file
OPS_FAIL_STARTUP=1    a startup hook that raises: no worker can start
"""

import asyncio
import os

from japronto import Application

app = Application()


async def slow(request):
    await asyncio.sleep(float(request.match_dict["s"]))
    return request.Response(text="slept")


app.router.add_route("/", lambda request: request.Response(text="ok"))
app.router.add_route("/pid", lambda request: request.Response(text=str(os.getpid())))
app.router.add_route("/slow/{s}", slow)
app.router.add_route(
    "/big/{n}", lambda request: request.Response(body=b"x" * int(request.match_dict["n"]))
)

HOOK_LOG = os.environ.get("OPS_HOOK_LOG")
if HOOK_LOG:

    def _note(what):
        with open(HOOK_LOG, "a") as f:
            f.write(f"{what} {os.getpid()}\n")

    @app.on_startup
    def started(app):
        _note("start")

    @app.on_shutdown
    async def stopped(app):
        await asyncio.sleep(0)
        _note("stop")


if os.environ.get("OPS_FAIL_STARTUP"):

    @app.on_startup
    def fail(app):
        raise RuntimeError("the database is not there")


# Unguarded on purpose: an app loaded by the command line must not start a second server
# from a module-level app.run(); every test here would hang or fail if it did.
app.run(host="127.0.0.1", port=0)
