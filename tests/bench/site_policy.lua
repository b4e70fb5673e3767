-- wrk script for tests/bench/bench_site.sh: agents polling their policy
-- (GET /api/v1/clients/UID/policy with the client's own token).
--
--   wrk -t T -c C -d 15s -s site_policy.lua URL -- POLLS MODE
--
-- POLLS: "UID TOKEN ETAG" lines, the ETag as ferryd last served it. MODE "etag" sends each
-- client's ETag in If-None-Match (an idle poll: 304 expected); "full" sends none (200 and the
-- whole signed policy). Every thread rotates through all the clients, starting at a different
-- place. done() prints one line: policy: 200=N 304=N other=N
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("index", #threads)
end

local requests = {}
local position = 0

function init(args)
    local with_etag = args[2] == "etag"
    for line in io.lines(args[1]) do
        local uid, token, etag = line:match("^(%S+) (%S+) (%S+)$")
        local headers = { ["Authorization"] = "Bearer " .. token }
        if with_etag then headers["If-None-Match"] = etag end
        table.insert(requests, wrk.format("GET", "/api/v1/clients/" .. uid .. "/policy", headers))
    end
    position = (index * 7919) % #requests
    status_200, status_304, status_other = 0, 0, 0
end

function request()
    position = position % #requests + 1
    return requests[position]
end

function response(status, headers, body)
    if status == 304 then
        status_304 = status_304 + 1
    elseif status == 200 then
        status_200 = status_200 + 1
    else
        status_other = status_other + 1
    end
end

function done(summary, latency, requests)
    local a, b, c = 0, 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("status_200")
        b = b + t:get("status_304")
        c = c + t:get("status_other")
    end
    io.write(string.format("policy: 200=%d 304=%d other=%d\n", a, b, c))
end
