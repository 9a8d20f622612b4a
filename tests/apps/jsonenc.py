"""Response(json=...) of the values in _json_cases.py, for tests/server/test_json.py.

/case/{name}       Response(json=CASES[name]) (or FAILING[name], which raise: 500)
/strings/{n}       Response(json=[every test string of length n])
/keys/{n}          Response(json={string: index for the test strings of length n})
/top/{n}/{i}       Response(json=the i-th test string of length n)
/echo (POST)       Response(json=request.json)
"""

from _json_cases import CASES, FAILING, strings_of_length

from japronto import Application


def case(request):
    name = request.match_dict["name"]
    value = CASES[name] if name in CASES else FAILING[name]
    return request.Response(json=value)


def strings(request):
    return request.Response(json=strings_of_length(int(request.match_dict["n"])))


def keys(request):
    n = int(request.match_dict["n"])
    return request.Response(json={s: i for i, s in enumerate(strings_of_length(n))})


def top(request):
    n, i = int(request.match_dict["n"]), int(request.match_dict["i"])
    return request.Response(json=strings_of_length(n)[i])


def echo(request):
    return request.Response(json=request.json)


app = Application()
r = app.router
r.add_route("/case/{name}", case)
r.add_route("/strings/{n}", strings)
r.add_route("/keys/{n}", keys)
r.add_route("/top/{n}/{i}", top)
r.add_route("/echo", echo, method="POST")

if __name__ == "__main__":
    import sys

    app.run(host="127.0.0.1", port=int(sys.argv[1]))
