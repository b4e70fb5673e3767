-- wrk script for tests/bench/bench_site.sh: full inventory reports, one per client, as agents
-- send them (POST /api/v1/clients/UID/inventory with the client's own token).
--
--   wrk -t T -c C -d 3600s -s site_inventory.lua URL -- TOKENS POOL COUNT T SEQ DONE_DIR
--
-- TOKENS: "UID TOKEN FAMILY" lines (seed_site --tokens-out); POOL: the software pool
-- (seed_site --pool-out). Thread k of T takes the clients on lines k, k+T, k+2T, … and posts
-- its share of COUNT reports, each a full inventory (16 facts, 150-300 packages drawn from the
-- pool for the client's family) with sequence SEQ (SEQ+1 on the second round through the
-- clients, and so on). When its share is answered a thread stops and creates DONE_DIR/thread-k,
-- so that the caller can end wrk (SIGINT) without waiting out -d; a refused report is logged
-- to DONE_DIR/failures-k (status and the start of the answer). done() prints one line:
--   inventory: ok=N failed=N unchanged=N elapsed_s=S per_s=R
-- where elapsed is from the first request sent to the last answer received, over all threads.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local function now()
    local ts = ffi.new("bench_timespec")
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: the same clock in every thread
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("index", #threads)
end

local function json_string(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

local clients, pools = {}, {}
local share, answered, sent = 0, 0, 0
local next_client = 0
local done_dir

-- The software lists, built before the round starts: VARIANTS per family, each drawn as an
-- agent's would be (the family's core packages and 150-300 in all, from the pool, without
-- duplicates). A report takes one at random. Built during the round, one per report, they took
-- wrk about 0.25 of the 2 CPUs that ferryd needs; the reports are the same kind either way.
local VARIANTS = 64
local software_lists = {}

local function software_list(pool)
    local r = math.random
    local items = {}
    for i = 1, #pool.core do items[i] = pool.core[i] end
    local wanted = math.min(#pool.extra, math.max(0, r(150, 300) - #pool.core))
    local left = #pool.extra
    for i = 1, #pool.extra do -- selection sampling: no duplicates
        if r() * left < wanted then
            items[#items + 1] = pool.extra[i]
            wanted = wanted - 1
        end
        left = left - 1
    end
    return table.concat(items, ", ")
end

local function software_for(family)
    local lists = software_lists[family]
    if not lists then
        lists = {}
        for i = 1, VARIANTS do lists[i] = software_list(pools[family]) end
        software_lists[family] = lists
    end
    return lists[math.random(#lists)]
end


function init(args)
    local tokens_file, pool_file = args[1], args[2]
    local count, nthreads, seq = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
    done_dir = args[6]
    local line_no = 0
    for line in io.lines(tokens_file) do
        if (line_no % nthreads) + 1 == index then
            local uid, token, family = line:match("^(%S+) (%S+) (%S+)$")
            table.insert(clients, { uid = uid, token = token, family = family, seq = seq - 1 })
        end
        line_no = line_no + 1
    end
    for line in io.lines(pool_file) do
        local family, kind, name, version = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
        local pool = pools[family]
        if not pool then
            pool = { core = {}, extra = {} }
            pools[family] = pool
        end
        table.insert(pool[kind],
            '{"name": ' .. json_string(name) .. ', "version": ' .. json_string(version) .. '}')
    end
    share = math.floor(count / nthreads) + ((index <= count % nthreads) and 1 or 0)
    ok, failed, unchanged = 0, 0, 0
    started, finished = 0, 0
    math.randomseed(index * 7919)
    for family in pairs(pools) do software_for(family) end
end

local memory = { 2048, 4096, 4096, 8192, 8192, 8192, 16384, 16384, 32768, 65536 }
local os_facts = {
    debian = { '"os.name": "Debian", "os.version": 12, "os.build": "bookworm", ' ..
    '"os.kernel": "6.1.0-18-amd64", "os.arch": "x86_64"' },
    ubuntu = { '"os.name": "Ubuntu", "os.version": 22.04, "os.build": "jammy", ' ..
    '"os.kernel": "5.15.0-94-generic", "os.arch": "x86_64"' },
    windows = { '"os.name": "Windows", "os.version": 11, "os.build": "22631", ' ..
    '"os.kernel": "10.0.22631", "os.arch": "AMD64"' },
}

local function inventory(client)
    local r = math.random
    local facts = os_facts[client.family][1] ..
        string.format(', "agent.version": "0.9.2", "hw.cpu": "Intel(R) Core(TM) i7-1265U", ' ..
            '"hw.cores": %d, "hw.memory_mb": %d, "hw.disk_gb": %d, "hw.vendor": "Dell Inc.", ' ..
            '"hw.model": "Latitude 5420", "hw.serial": "SN%07d", "net.fqdn": "%s.corp.example.com", ' ..
            '"net.ip": "10.%d.%d.%d", "net.mac": "00:50:56:%02x:%02x:%02x"',
            ({ 2, 4, 8, 16 })[r(4)], memory[r(#memory)], ({ 256, 512, 1024 })[r(3)], r(9999999),
            client.uid, r(0, 63), r(0, 255), r(1, 254), r(0, 255), r(0, 255), r(0, 255))
    return '{"full": true, "seq": ' .. client.seq .. ', "facts": {' .. facts ..
        '}, "software": [' .. software_for(client.family) .. ']}'
end

function request()
    if started == 0 then started = now() end
    next_client = next_client % #clients + 1
    local client = clients[next_client]
    client.seq = client.seq + 1
    sent = sent + 1
    return wrk.format("POST", "/api/v1/clients/" .. client.uid .. "/inventory",
        { ["Authorization"] = "Bearer " .. client.token, ["Content-Type"] = "application/json" },
        inventory(client))
end

function response(status, headers, body)
    if answered >= share then return end
    answered = answered + 1
    if status ~= 200 then
        failed = failed + 1
        local log = io.open(done_dir .. "/failures-" .. index, "a")
        log:write(status, " ", body:sub(1, 160):gsub("\n", " "), "\n")
        log:close()
    elseif not body:find('"changed": true', 1, true) then
        unchanged = unchanged + 1
    else
        ok = ok + 1
    end
    if answered == share then
        finished = now()
        io.open(done_dir .. "/thread-" .. index, "w"):close() -- last: the caller waits for it
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local ok_n, failed_n, unchanged_n, first, last = 0, 0, 0, math.huge, 0
    for _, t in ipairs(threads) do
        ok_n = ok_n + t:get("ok")
        failed_n = failed_n + t:get("failed")
        unchanged_n = unchanged_n + t:get("unchanged")
        if t:get("started") > 0 then first = math.min(first, t:get("started")) end
        last = math.max(last, t:get("finished"))
    end
    local elapsed = last - first
    io.write(string.format("inventory: ok=%d failed=%d unchanged=%d elapsed_s=%.3f per_s=%.1f\n",
        ok_n, failed_n, unchanged_n, elapsed, (ok_n + failed_n + unchanged_n) / elapsed))
end
