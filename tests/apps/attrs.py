"""Answers every request with a JSON description of the parsed Request attributes: query,
query_all, text, json, mime_type, encoding, form, form_all, files, cookies, hostname, port.
An attribute that raises is reported as {"error": <exception class name>, "message": str,
"is_value_error": bool}; files as {name: {"name", "type", "len", "sha256"}}. The text and
json attributes are read twice, to check that the cached value (or the error) is stable."""

import hashlib
import json

from japronto import Application


class _Error(dict):
    """What _read gives for an attribute that raised."""


def _read(request, name):
    try:
        first = getattr(request, name)
    except Exception as e:  # what a handler would catch
        return _Error(
            error=type(e).__name__,
            message=str(e),
            is_value_error=isinstance(e, ValueError),
        )
    again = getattr(request, name)
    assert again is first, f"request.{name} is not cached"
    return first


def attrs(request):
    out = {}
    for name in (
        "query",
        "text",
        "json",
        "mime_type",
        "encoding",
        "form",
        "cookies",
        "hostname",
        "port",
    ):
        out[name] = _read(request, name)
    for name in ("query_all", "form_all"):
        value = _read(request, name)
        out[name] = value if isinstance(value, _Error) else [list(p) for p in value]
    files = _read(request, "files")
    if not isinstance(files, _Error):
        files = {
            k: {
                "name": f.name,
                "type": f.type,
                "len": len(f.body),
                "sha256": hashlib.sha256(f.body).hexdigest(),
            }
            for k, f in files.items()
        }
    out["files"] = files
    return request.Response(text=json.dumps(out), mime_type="application/json")


app = Application()
app.router.add_route("/", attrs)
app.router.add_route("/{p}", attrs)

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
