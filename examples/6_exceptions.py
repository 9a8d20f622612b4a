# Chapter 6: handling exceptions. Run: python examples/6_exceptions.py [port]
import sys

from japronto import Application, RouteNotFoundException


class NotAuthorized(Exception):
    pass


class OutOfStock(Exception):
    def __init__(self, item):
        super().__init__(item)
        self.item = item


def secret(request):
    raise NotAuthorized()


def buy(request):
    raise OutOfStock(request.match_dict["item"])


def crash(request):
    return 1 / 0


# An error handler takes the request and the exception, and returns a Response.
def not_authorized(request, exc):
    return request.Response(code=401, text="Log in first\n")


def out_of_stock(request, exc):
    return request.Response(code=409, json={"error": "out of stock", "item": exc.item})


# No route matched: RouteNotFoundException. Without a handler for it, a plain 404.
def not_found(request, exc):
    return request.Response(code=404, text=f"Nothing at {request.path}\n")


app = Application()
app.add_error_handler(NotAuthorized, not_authorized)
app.add_error_handler(OutOfStock, out_of_stock)
app.add_error_handler(RouteNotFoundException, not_found)
app.router.add_route("/secret", secret)
app.router.add_route("/buy/{item}", buy)
# Nothing handles ZeroDivisionError: a 500, and the traceback in the log.
app.router.add_route("/crash", crash)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
