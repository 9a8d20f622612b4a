# Chapter 2: asynchronous handlers. Run: python examples/2_async.py [port]
import asyncio
import sys
import time

from japronto import Application


# A plain function answers at once, on the event loop's thread.
def now(request):
    return request.Response(text=f"{time.time():.0f}\n")


# An async def handler may await. While it waits, the server goes on
# answering other requests, on this connection and on others.
async def slow(request):
    await asyncio.sleep(0.5)
    return request.Response(text="Slept half a second\n")


async def lookup(name):
    # Stands in for a database or another service: anything awaitable.
    await asyncio.sleep(0.2)
    return len(name)


# Several awaits at once: both lookups take 0.2 s, together still 0.2 s.
async def both(request):
    a, b = await asyncio.gather(lookup("alpha"), lookup("beta"))
    return request.Response(json={"alpha": a, "beta": b})


app = Application()
app.router.add_route("/now", now)
app.router.add_route("/slow", slow)
app.router.add_route("/both", both)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
