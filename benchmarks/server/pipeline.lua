-- pipeline.lua: wrk sends DEPTH requests back to back on each connection, then waits for
-- their DEPTH responses before sending the next round (wrk counts the requests in what
-- request() returns and pipelines that many).
--
--   wrk -t1 -c100 -d10s -s pipeline.lua http://127.0.0.1:8080/ -- 24
--   PIPELINE=16 wrk -t1 -c256 -d10s -s pipeline.lua http://127.0.0.1:8080/plaintext
--
-- DEPTH is the first script argument, else $PIPELINE, else 1. The headers are those of
-- TechEmpower's plaintext test (wrk adds Host from the URL); the path is the URL's.

wrk.headers["Accept"] =
    "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"
wrk.headers["Connection"] = "keep-alive"

local batch

function init(args)
    local depth = tonumber(args[1] or os.getenv("PIPELINE") or "1")
    if depth == nil or depth < 1 then
        error("pipeline.lua: depth must be a positive number, got " .. tostring(args[1]))
    end
    local one = wrk.format(nil, nil)
    batch = string.rep(one, depth)
end

function request()
    return batch
end
