-- post.lua: wrk POSTs a JSON body on each request, no pipelining (a static request: wrk
-- formats it once, so the script costs wrk nothing per request).
--
--   wrk -t1 -c100 -d10s -s post.lua http://127.0.0.1:8080/echo
--
-- The body is the file in $BODY_FILE, else body-1k.json beside this script (1024 bytes of
-- compact JSON). wrk adds Host and Content-Length.

local function here()
    local src = debug.getinfo(1, "S").source
    return src:match("^@(.*/)") or "./"
end

local path = os.getenv("BODY_FILE") or (here() .. "body-1k.json")
local f = assert(io.open(path, "rb"), "post.lua: cannot open " .. path)
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Connection"] = "keep-alive"
