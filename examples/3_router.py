# Chapter 3: the router. Run: python examples/3_router.py [port]
import sys

from japronto import Application

app = Application()
router = app.router


def index(request):
    return request.Response(text="Index\n")


# Any method: no method given.
router.add_route("/", index)


def get_only(request):
    return request.Response(text="You used GET\n")


# One method, or several.
router.add_route("/get", get_only, method="GET")


def post_or_put(request):
    return request.Response(text=f"You used {request.method}\n")


router.add_route("/change", post_or_put, methods=["POST", "PUT"])


# {name} matches one path segment; its value is in request.match_dict.
def user_post(request):
    user = request.match_dict["user"]
    post = request.match_dict["post"]
    return request.Response(text=f"Post {post} of {user}\n")


router.add_route("/users/{user}/posts/{post}", user_post)


# The decorator form does the same as add_route and returns the function.
@app.route("/hello/{name}", methods=["GET"])
def hello(request):
    return request.Response(text=f"Hello, {request.match_dict['name']}!\n")


# {{ and }} are literal braces.
@app.route("/literally/{{braces}}")
def braces(request):
    return request.Response(text="Braces\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
