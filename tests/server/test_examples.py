"""examples/: every program runs as documented.

examples/hello.py is the seed's hello world, unchanged: it serves on 0.0.0.0:8080 with
debug=True, so this test needs port 8080 free (it says so if it is not).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wire import Conn, build_request, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.mark.timeout(30)
def test_hello_example_serves_hello_world(loop_name, tmp_path):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", 8080))
        except OSError as e:
            pytest.fail(f"examples/hello.py serves on port 8080, which is in use here: {e}")
    err = tmp_path / "hello.stderr"
    env = dict(os.environ, JAPRONTO_LOOP=loop_name)
    with open(err, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "hello.py")], env=env, stderr=f
        )
    try:
        assert _wait_for_port(8080, proc), err.read_text()
        with Conn(8080) as c:
            c.send(build_request("GET", "/"))
            r = c.response()
        assert (r.status, r.body) == (200, b"Hello world!")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    log = err.read_text()
    assert rc == 0, log
    assert "GET / 200" in log  # debug=True logs each request


# --- one program per tutorial chapter (docs/tutorial), each on a free port ------------------


@pytest.fixture
def example(loop_name, tmp_path, request):
    """``example(name) -> Server``: examples/<name>.py started with its port as argument."""
    from conftest import launch

    servers = []

    def start(name):
        server = launch(
            f"example-{name}", loop_name, tmp_path, script=ROOT / "examples" / f"{name}.py"
        )
        servers.append(server)
        request.node._jp_servers = servers
        return server

    yield start
    problems = [p for s in servers for p in s.stop()]
    assert problems == [], problems


def ask(server, method, target, headers=(), body=None, host="127.0.0.1"):
    with Conn(server.port) as c:
        c.send(build_request(method, target, headers, body, host=host))
        return c.response()


def test_chapter_2_async(example):
    server = example("2_async")
    r = ask(server, "GET", "/now")
    assert r.status == 200 and abs(int(r.text) - time.time()) < 60
    with Conn(server.port) as c:
        # /slow and /both wait; the plain /now pipelined after them is answered in order.
        start = time.monotonic()
        c.send(
            build_request("GET", "/slow")
            + build_request("GET", "/both")
            + build_request("GET", "/now")
        )
        slow, both, now = c.responses(3)
        elapsed = time.monotonic() - start
    assert slow.text == "Slept half a second\n"
    assert both.json() == {"alpha": 5, "beta": 4}
    assert now.status == 200
    # The two handlers waited at the same time (0.5 s and 0.2 s, not 0.9 s one after the
    # other): a bound on concurrency, not on speed.
    assert elapsed < 0.9 + 0.35, elapsed


def test_chapter_3_router(example):
    server = example("3_router")
    cases = [
        ("GET", "/", 200, "Index\n"),
        ("DELETE", "/", 200, "Index\n"),
        ("GET", "/get", 200, "You used GET\n"),
        ("POST", "/change", 200, "You used POST\n"),
        ("PUT", "/change", 200, "You used PUT\n"),
        ("GET", "/users/ana/posts/7", 200, "Post 7 of ana\n"),
        ("GET", "/users/ana%20b/posts/7", 200, "Post 7 of ana b\n"),
        ("GET", "/users/a%2Fb/posts/1", 200, "Post 1 of a/b\n"),
        ("GET", "/hello/Ana", 200, "Hello, Ana!\n"),
        ("GET", "/literally/%7Bbraces%7D", 200, "Braces\n"),
        ("GET", "/users/ana/posts/", 404, None),
        ("GET", "/nowhere", 404, None),
    ]
    for method, target, status, text in cases:
        r = ask(server, method, target, body=b"x" if method in ("POST", "PUT") else None)
        assert r.status == status, (method, target, r)
        if text is not None:
            assert r.text == text
    r = ask(server, "POST", "/get", body=b"x")
    assert r.status == 405 and "GET" in r.header("Allow")
    r = ask(server, "GET", "/change")
    assert r.status == 405 and {"POST", "PUT"} <= {m.strip() for m in r.header("Allow").split(",")}


def test_chapter_4_request(example):
    server = example("4_request")
    r = ask(
        server,
        "GET",
        "/basics?name=Ana&x=1",
        [("User-Agent", "curl/7.88.1"), ("Cookie", "theme=dark; lang=pt")],
        host="127.0.0.1:8080",
    )
    assert r.text == (
        "method: GET\n"
        "path: /basics\n"
        "query_string: name=Ana&x=1\n"
        "query: {'name': 'Ana', 'x': '1'}\n"
        "version: 1.1\n"
        "user agent: curl/7.88.1\n"
        "host: 127.0.0.1 port: 8080\n"
        "keep_alive: True\n"
        "cookies: {'theme': 'dark', 'lang': 'pt'}\n"
    )
    assert ask(server, "GET", "/search?q=shoes&tag=red&tag=big").json() == {
        "q": "shoes",
        "tags": ["red", "big"],
    }
    assert ask(server, "POST", "/body").text == "No body\n"
    assert ask(server, "POST", "/body", body=b"hello").text == "5 bytes: hello\n"
    js = [("Content-Type", "application/json")]
    assert ask(server, "POST", "/body", js, b'{"a": [1, 2]}').json() == {"you sent": {"a": [1, 2]}}
    bad = ask(server, "POST", "/body", js, b'{"a": ')
    assert bad.status == 400 and bad.text.startswith("Bad JSON: ")
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    assert ask(server, "POST", "/form", form, b"name=Ana&city=Porto").json() == {
        "fields": {"name": "Ana", "city": "Porto"},
        "files": {},
    }
    boundary = "xyz"
    multipart = (
        b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nAna\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="photo"; filename="me.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n"
        b"--xyz--\r\n"
    )
    mp = [("Content-Type", f"multipart/form-data; boundary={boundary}")]
    assert ask(server, "POST", "/form", mp, multipart).json() == {
        "fields": {"name": "Ana"},
        "files": {"photo": ["me.png", "image/png", 4]},
    }


def test_chapter_5_response(example):
    server = example("5_response")
    r = ask(server, "GET", "/text")
    assert r.body == "Olá, mundo!\n".encode()
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert ask(server, "GET", "/html").header("Content-Type") == "text/html; charset=utf-8"
    r = ask(server, "GET", "/latin1")
    assert r.body == "café\n".encode("latin-1")
    assert r.header("Content-Type") == "text/plain; charset=latin-1"
    r = ask(server, "GET", "/json")
    assert r.json() == {"items": [1, 2, 3], "ok": True}
    assert r.header("Content-Type").startswith("application/json")
    r = ask(server, "GET", "/binary")
    assert r.body == b"\x89PNG\r\n" and r.header("Content-Type") == "image/png"
    r = ask(server, "GET", "/teapot")
    assert (r.status, r.reason, r.text) == (418, "I'm a teapot", "I'm a teapot\n")
    r = ask(server, "GET", "/created")
    assert (r.status, r.header("Location"), r.body) == (201, "/items/7", b"")
    r = ask(server, "GET", "/headers")
    assert r.header_all("X-Tag") == ["one", "two"] and r.header("Cache-Control") == "no-store"
    r = ask(server, "GET", "/cookies")
    cookies = sorted(r.header_all("Set-Cookie"))
    assert len(cookies) == 2
    assert cookies[0].startswith("session=a1b2c3") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("theme=dark") and "Max-Age=3600" in cookies[1]


def test_chapter_6_exceptions(example):
    server = example("6_exceptions")
    r = ask(server, "GET", "/secret")
    assert (r.status, r.text) == (401, "Log in first\n")
    r = ask(server, "GET", "/buy/socks")
    assert r.status == 409 and r.json() == {"error": "out of stock", "item": "socks"}
    r = ask(server, "GET", "/nope")
    assert (r.status, r.text) == (404, "Nothing at /nope\n")
    with Conn(server.port) as c:
        c.send(build_request("GET", "/crash") + build_request("GET", "/secret"))
        crash, after = c.responses(2)
    assert (crash.status, crash.text) == (500, "Internal Server Error\n")
    assert after.status == 401  # the connection goes on
    wait_for(lambda: "ZeroDivisionError" in server.stderr(), what="the traceback in the log")


def test_chapter_7_extend(example):
    server = example("7_extend")
    assert ask(server, "GET", "/greet").text == "Hello Ana, you asked for /greet\n"
    with Conn(server.port) as c:
        c.send(
            build_request("GET", "/session")
            + build_request("GET", "/session")
            + build_request("GET", "/sessions")
        )
        one, two, open_now = c.responses(3)
    assert one.json() == {"session": 1, "same": True}
    assert two.json() == {"session": 2, "same": True}
    assert open_now.json() == {"open": []}  # each closed once its response was done
    js = [("Content-Type", "application/json")]
    assert ask(server, "POST", "/kind", js, b"{}").text == "JSON\n"
    assert ask(server, "GET", "/kind").text == "not JSON\n"
