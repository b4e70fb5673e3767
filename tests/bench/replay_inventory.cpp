// replay_inventory: the serial part of inventory ingestion, alone. Benchmark-only.
//
//   replay_inventory --db SITE/ferry.db --pool POOL.tsv [--reports N] [--seed S] [--batch B]
//                    [--pragmas SQL]
//
// Opens a seeded site's database (seed_site) the way ferryd's InventoryWriter does and applies
// N full inventory reports (default 5,000), each from a client drawn at random, with the
// distribution of tests/bench/site_inventory.lua: 16 facts, about half of them new values, and
// 150-300 packages drawn from the family's pool. Only SqliteClientStore::apply_inventory is
// timed — the part of a report that holds the writer's mutex in ferryd, so the part that
// bounds how many reports a site takes per second whatever the number of cores. The log is
// checkpointed once a second, as ferryd's WalCheckpointer does. The difference of each report
// is worked out before the timer starts, as ferryd does before the mutex. --batch B puts B
// reports in one transaction, --pragmas runs SQL on the connection first (experiments: see
// docs/benchmarks.md). ferryd must not be running.
// Prints: "replay: N reports, S s, R/s, U us each". Exit 0 on success, 2 on any error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ferry/command_line.h"
#include "ferry/error.h"
#include "ferry/sqlite.h"
#include "sqlite_client_store.h"
#include "wal_checkpointer.h"

namespace {

using namespace ferry::server;
namespace sql = ferry::sql;

struct Pool {
    std::vector<Software> core, extra;
};

struct Options {
    std::string db, pool;
    long long reports = 5000;
    unsigned seed = 1;
    long long batch = 1;  // reports per transaction
    std::string pragmas;  // run on the connection first, e.g. "PRAGMA foreign_keys=OFF"
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "replay_inventory: " << why
              << "\nusage: replay_inventory --db SITE/ferry.db --pool POOL.tsv [--reports N] "
                 "[--seed S] [--batch B] [--pragmas SQL]\n";
    std::exit(2);
}

long long number_option(const std::string& name, const std::string& value, long long min) {
    try {
        return ferry::whole_number(name, value, min, std::numeric_limits<long long>::max());
    } catch (const ferry::UsageError& e) {
        usage(e.what());
    }
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; i += 2) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) usage(arg + " needs a value");
        const std::string value = argv[i + 1];
        if (arg == "--db")
            o.db = value;
        else if (arg == "--pool")
            o.pool = value;
        else if (arg == "--reports")
            o.reports = number_option(arg, value, 1);
        else if (arg == "--batch")
            o.batch = number_option(arg, value, 1);
        else if (arg == "--pragmas")
            o.pragmas = value;
        else if (arg == "--seed")
            o.seed = static_cast<unsigned>(number_option(arg, value, 0));
        else
            usage("unknown option " + arg);
    }
    if (o.db.empty() || o.pool.empty()) usage("--db and --pool are required");
    return o;
}

std::map<std::string, Pool> read_pools(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ferry::Error(ferry::ErrorCode::Io, "cannot read " + path);
    std::map<std::string, Pool> pools;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string family, kind, name, version;
        std::getline(fields, family, '\t');
        std::getline(fields, kind, '\t');
        std::getline(fields, name, '\t');
        std::getline(fields, version, '\t');
        auto& pool = pools[family];
        (kind == "core" ? pool.core : pool.extra).push_back({name, version});
    }
    return pools;
}

struct Target {
    std::int64_t id;
    std::string family;
};

std::vector<Target> read_clients(sql::Database& db) {
    std::vector<Target> clients;
    auto rows = db.prepare(
        "SELECT c.id, lower(f.text_value) FROM client c JOIN client_fact f "
        "ON f.client_id = c.id AND f.key = 'os.name'");
    while (rows.step()) clients.push_back({rows.column_int64(0), rows.column_text(1)});
    if (clients.empty()) throw ferry::Error(ferry::ErrorCode::InvalidInput, "no seeded clients");
    return clients;
}

Inventory generate(const Pool& pool, std::mt19937& random) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
    Inventory inventory;
    inventory.full = true;
    auto fact = [&](std::string key, std::string text, std::optional<double> number) {
        inventory.facts.push_back({std::move(key), std::move(text), number});
    };
    auto number = [&](std::string key, double value) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", value);
        fact(std::move(key), text, value);
    };
    // The facts that vary between reports in site_inventory.lua; the others keep their values.
    number("hw.cores", std::vector<int>{2, 4, 8, 16}[pick(0, 3)]);
    number("hw.memory_mb", 2048 << pick(0, 5));
    number("hw.disk_gb", 256 << pick(0, 2));
    fact("hw.serial", "SN" + std::to_string(pick(0, 9999999)), std::nullopt);
    fact("net.ip",
         "10." + std::to_string(pick(0, 63)) + "." + std::to_string(pick(0, 255)) + "." +
             std::to_string(pick(1, 254)),
         std::nullopt);
    fact("net.mac", "00:50:56:" + std::to_string(pick(0, 255)), std::nullopt);
    inventory.software = pool.core;
    const int wanted = std::max(0, pick(150, 300) - static_cast<int>(pool.core.size()));
    std::vector<Software> extra = pool.extra;
    std::shuffle(extra.begin(), extra.end(), random);
    extra.resize(std::min<std::size_t>(extra.size(), static_cast<std::size_t>(wanted)));
    inventory.software.insert(inventory.software.end(), extra.begin(), extra.end());
    return inventory;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        const auto pools = read_pools(options.pool);
        ferry::sql::OpenOptions open;
        open.create = false;
        open.checkpoint_on_commit = false;
        ferry::sql::Database db(options.db, open);
        db.exec("PRAGMA cache_size=2048");  // InventoryWriter's
        if (!options.pragmas.empty()) db.exec(options.pragmas);
        const auto clients = read_clients(db);
        WalCheckpointer checkpointer(options.db);
        checkpointer.start();
        SqliteClientStore store(db);
        std::mt19937 random(options.seed);
        std::chrono::steady_clock::duration applying{};
        std::unique_ptr<sql::Transaction> batch;
        for (long long i = 0; i < options.reports; ++i) {
            const auto& client = clients[random() % clients.size()];
            const auto pool = pools.find(client.family);
            if (pool == pools.end())
                throw ferry::Error(ferry::ErrorCode::InvalidInput, "no pool for " + client.family);
            Inventory inventory = generate(pool->second, random);
            auto seq = db.prepare("SELECT inventory_seq FROM client WHERE id = ?");
            seq.bind(1, client.id);
            seq.step();
            inventory.seq = seq.column_int64(0) + 1;
            seq.reset();
            // As ferryd does: the difference is worked out before the writer's lock is taken.
            const InventoryDiff diff = store.diff_inventory(client.id, inventory);
            const auto t0 = std::chrono::steady_clock::now();
            if (options.batch > 1 && !batch) batch = std::make_unique<sql::Transaction>(db);
            if (!store.apply_inventory(client.id, inventory, 1700000000, nullptr, &diff))
                throw ferry::Error(ferry::ErrorCode::Conflict, "a report was not applied");
            if (batch && ((i + 1) % options.batch == 0 || i + 1 == options.reports)) {
                batch->commit();
                batch.reset();
            }
            applying += std::chrono::steady_clock::now() - t0;
        }
        checkpointer.stop();
        const double s = std::chrono::duration<double>(applying).count();
        std::printf("replay: %lld reports, %.3f s, %.1f/s, %.1f us each\n", options.reports, s,
                    options.reports / s, s * 1e6 / options.reports);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "replay_inventory: " << e.what() << "\n";
        return 2;
    }
}
