# Chapter 4: the request object. Run: python examples/4_request.py [port]
import sys

from japronto import Application


# What the request line and the headers say.
def basics(request):
    lines = [
        f"method: {request.method}",
        f"path: {request.path}",
        f"query_string: {request.query_string}",
        f"query: {request.query}",
        f"version: {request.version}",
        f"user agent: {request.headers.get('user-agent')}",
        f"host: {request.hostname} port: {request.port}",
        f"keep_alive: {request.keep_alive}",
        f"cookies: {request.cookies}",
    ]
    return request.Response(text="\n".join(lines) + "\n")


# Repeated query names: query keeps the last value, query_all every pair.
def search(request):
    tags = [value for name, value in request.query_all if name == "tag"]
    return request.Response(json={"q": request.query.get("q"), "tags": tags})


# The body: raw bytes, text, or JSON. A bad body raises a ValueError.
def body(request):
    if request.body is None:
        return request.Response(text="No body\n")
    if request.mime_type == "application/json":
        try:
            data = request.json
        except ValueError as e:
            return request.Response(code=400, text=f"Bad JSON: {e}\n")
        return request.Response(json={"you sent": data})
    return request.Response(text=f"{len(request.body)} bytes: {request.text}\n")


# HTML forms: urlencoded or multipart, with uploaded files.
def form(request):
    files = {name: [f.name, f.type, len(f.body)] for name, f in request.files.items()}
    return request.Response(json={"fields": request.form, "files": files})


app = Application()
app.router.add_route("/basics", basics)
app.router.add_route("/search", search)
app.router.add_route("/body", body, method="POST")
app.router.add_route("/form", form, method="POST")

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    app.run(port=port)
