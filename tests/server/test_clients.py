"""Real clients against the server: http.client, httpx (sync and async) and curl."""

import asyncio
import hashlib
import http.client
import json
import os
import re
import time

import httpx
import pytest
from wire import curl_path, run_curl

pytestmark = pytest.mark.timeout(30)
needs_curl = pytest.mark.skipif(curl_path() is None, reason="curl is not installed")


@needs_curl
def test_curl_prints_hello_world(hello):
    out = run_curl(f"http://127.0.0.1:{hello.port}/")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"Hello world!"


@needs_curl
def test_curl_reuses_the_connection(hello):
    url = f"http://127.0.0.1:{hello.port}/"
    out = run_curl("-v", url, url, url)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"Hello world!" * 3
    assert re.search(rb"Re-?using existing", out.stderr), out.stderr.decode(errors="replace")


@needs_curl
def test_curl_head(hello):
    out = run_curl("-I", f"http://127.0.0.1:{hello.port}/")
    assert out.returncode == 0, out.stderr
    head = out.stdout.decode().lower()
    assert head.startswith("http/1.1 200")
    assert "content-length: 12\r\n" in head


@needs_curl
def test_curl_chunked_upload(echo):
    body = os.urandom(50_000)
    out = run_curl(
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
        f"http://127.0.0.1:{echo.port}/curl/chunked",
        input=body,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["method"] == "POST"
    assert got["body_sha256"] == hashlib.sha256(body).hexdigest()
    te = [v for k, v in got["headers"] if k.lower() == "transfer-encoding"]
    assert te and te[0].lower() == "chunked", got["headers"]


@needs_curl
def test_curl_expect_100_continue(echo, tmp_path):
    body = os.urandom(200_000)
    path = tmp_path / "body.bin"
    path.write_bytes(body)
    t0 = time.monotonic()
    out = run_curl(
        "-v",
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "3",
        "--data-binary",
        f"@{path}",
        f"http://127.0.0.1:{echo.port}/curl/expect",
    )
    elapsed = time.monotonic() - t0
    assert out.returncode == 0, out.stderr
    assert b"HTTP/1.1 100 Continue" in out.stderr
    # Without a 100, curl would wait its 3 s expect100-timeout before sending the body.
    assert elapsed < 2.5, elapsed
    got = json.loads(out.stdout)
    assert got["body_sha256"] == hashlib.sha256(body).hexdigest()


@needs_curl
def test_curl_http10(echo):
    out = run_curl("--http1.0", f"http://127.0.0.1:{echo.port}/curl/v10?x=1")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert (got["version"], got["path"], got["query_string"]) == ("1.0", "/curl/v10", "x=1")
    assert got["keep_alive"] is False


def test_http_client_get_and_post(echo):
    conn = http.client.HTTPConnection("127.0.0.1", echo.port, timeout=5)
    try:
        conn.request("GET", "/hc/get?a=1", headers={"X-Client": "http.client"})
        r = conn.getresponse()
        got = json.loads(r.read())
        assert r.status == 200
        assert (got["path"], got["query_string"]) == ("/hc/get", "a=1")
        conn.request("POST", "/hc/post", body=b"posted", headers={"Content-Type": "text/plain"})
        r = conn.getresponse()
        assert json.loads(r.read())["body"] == "posted"
        assert not r.will_close
    finally:
        conn.close()


def test_httpx_sync(echo):
    with httpx.Client(base_url=f"http://127.0.0.1:{echo.port}", timeout=5) as client:
        r = client.get("/")
        assert r.status_code == 200
        r = client.post("/httpx/json", json={"k": [1, 2, 3]})
        got = r.json()
        assert got["method"] == "POST" and json.loads(got["body"]) == {"k": [1, 2, 3]}
        for i in range(50):
            r = client.get(f"/httpx/{i}", params={"i": i})
            assert r.json()["query_string"] == f"i={i}"
        assert r.headers["content-type"].startswith("application/json")
        r = client.head("/")
        assert r.status_code == 200 and r.content == b""
        assert int(r.headers["content-length"]) > 0


def test_httpx_hello(hello):
    r = httpx.get(f"http://127.0.0.1:{hello.port}/", timeout=5)
    assert (r.status_code, r.text) == (200, "Hello world!")
    assert r.http_version == "HTTP/1.1"


def test_httpx_async_concurrent(slow):
    async def main():
        limits = httpx.Limits(max_connections=10)
        base = f"http://127.0.0.1:{slow.port}"
        async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:
            paths = [f"/sleep/{(i * 7) % 50}" if i % 2 else f"/id/{i}" for i in range(100)]
            rs = await asyncio.gather(*(client.get(p) for p in paths))
            return paths, rs

    paths, rs = asyncio.run(main())
    for path, r in zip(paths, rs):
        assert r.status_code == 200
        assert r.text == path.rsplit("/", 1)[1]
