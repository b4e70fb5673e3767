-- wrk script for tests/bench/bench_site.sh: agents reporting status in batches
-- (POST /api/v1/status with the client's own token).
--
--   wrk -t T -c C -d 15s -s site_status.lua URL -- TOKENS T ADVERTISEMENT BATCH
--
-- TOKENS: "UID TOKEN FAMILY" lines (seed_site --tokens-out). Thread k of T takes the clients on
-- lines k, k+T, …, so no two threads send for the same client; each request is one client's
-- batch of BATCH messages for ADVERTISEMENT (e.g. ADV-0001) with new outbox sequence numbers,
-- going through the states an install goes through. done() prints one line:
--   status: batches=N new_messages=N duplicates=N failed=N elapsed_s=S
local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("index", #threads)
end

local clients = {}
local next_client = 0
local advertisement, batch
local states = { "available", "downloading", "downloaded", "waiting", "installing", "installed" }

function init(args)
    local nthreads = tonumber(args[2])
    advertisement, batch = args[3], tonumber(args[4])
    local line_no = 0
    for line in io.lines(args[1]) do
        if (line_no % nthreads) + 1 == index then
            local uid, token = line:match("^(%S+) (%S+)")
            table.insert(clients, { token = token, seq = 0 })
        end
        line_no = line_no + 1
    end
    batches, new_messages, duplicates, failed = 0, 0, 0, 0
end

function request()
    next_client = next_client % #clients + 1
    local client = clients[next_client]
    local messages = {}
    for i = 1, batch do
        client.seq = client.seq + 1
        local state = states[(client.seq - 1) % #states + 1]
        local message = '{"seq": ' .. client.seq .. ', "advertisement": "' .. advertisement ..
            '", "state": "' .. state .. '", "at": ' .. (1700000000 + client.seq)
        if state == "installed" then
            message = message .. ', "exit_code": 0, "log_tail": "hello 1.0 installed\\n"'
        end
        messages[i] = message .. "}"
    end
    return wrk.format("POST", "/api/v1/status",
        { ["Authorization"] = "Bearer " .. client.token, ["Content-Type"] = "application/json" },
        '{"messages": [' .. table.concat(messages, ", ") .. "]}")
end

function response(status, headers, body)
    if status ~= 200 then
        failed = failed + 1
        return
    end
    batches = batches + 1
    new_messages = new_messages + (tonumber(body:match('"new": (%d+)')) or 0)
    duplicates = duplicates + (tonumber(body:match('"duplicates": (%d+)')) or 0)
end

function done(summary, latency, requests)
    local b, n, d, f = 0, 0, 0, 0
    for _, t in ipairs(threads) do
        b = b + t:get("batches")
        n = n + t:get("new_messages")
        d = d + t:get("duplicates")
        f = f + t:get("failed")
    end
    io.write(string.format("status: batches=%d new_messages=%d duplicates=%d failed=%d elapsed_s=%.3f\n",
        b, n, d, f, summary.duration / 1e6))
end
