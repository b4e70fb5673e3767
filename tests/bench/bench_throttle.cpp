// bench_throttle: how closely the throttle (include/ferry/throttle.h) holds a rate on a real
// clock. Streams push bytes over loopback TCP into a sink, each acquiring `chunk` bytes before
// every send; the sink counts what arrives, and the counts are read at fixed times after the
// start, so the achieved rate is bytes received in the run / the run's length.
//
//   bench_throttle single [--rate 10MiB/s] [--seconds 30] [--chunk 65536]
//       one stream through one TokenBucket (burst = one chunk)
//   bench_throttle shared [--rate 20MiB/s] [--streams 4] [--seconds 30] [--chunk 65536]
//       N streams sharing one TokenBucket with that aggregate rate (burst 256 KiB), as the
//       distribution point's connections share its serving limit (server/dp_node_server.cpp)
//
// Output: one line per stream, tab-separated:
//   stream  <i>  <bytes/s achieved>  <error % against its share>  <min 1-s window bytes/s>
//   <max 1-s window bytes/s>  <median µs late>  <99th percentile µs late>
// where "late" is how long after its ideal moment (start + (bytes so far − burst) / rate) each
// acquire() returned, for single only (0 for shared); then a `total` line for shared. Used by
// tests/bench/bench_throttle.sh; results in docs/benchmarks.md ("Throttle accuracy").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ferry/error.h"
#include "ferry/throttle.h"

using ferry::kUnlimited;
using ferry::parse_rate;
using ferry::rate_text;
using ferry::TokenBucket;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
    std::cerr << "bench_throttle: " << what << ": " << std::strerror(errno) << "\n";
    std::exit(1);
}

struct Options {
    std::string mode;
    double rate = 0;
    int streams = 1;
    int seconds = 30;
    std::uint64_t chunk = 64 * 1024;
};

Options parse_options(int argc, char** argv) {
    Options options;
    if (argc < 2) {
        std::cerr << "usage: bench_throttle single|shared [--rate R] [--streams N] [--seconds S] "
                     "[--chunk BYTES]\n";
        std::exit(2);
    }
    options.mode = argv[1];
    options.rate = options.mode == "shared" ? 20 * 1024 * 1024 : 10 * 1024 * 1024;
    options.streams = options.mode == "shared" ? 4 : 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        const std::string value = argv[i + 1];
        if (name == "--rate")
            options.rate = parse_rate(value);
        else if (name == "--streams")
            options.streams = std::stoi(value);
        else if (name == "--seconds")
            options.seconds = std::stoi(value);
        else if (name == "--chunk")
            options.chunk = std::stoull(value);
        else {
            std::cerr << "bench_throttle: unknown option " << name << "\n";
            std::exit(2);
        }
    }
    if ((options.mode != "single" && options.mode != "shared") || options.streams < 1 ||
        options.seconds < 1 || options.chunk < 1 || options.rate == kUnlimited ||
        options.rate <= 0 || (options.mode == "single" && options.streams != 1)) {
        std::cerr << "bench_throttle: bad options\n";
        std::exit(2);
    }
    return options;
}

// A connected pair over loopback: the sender's end and the sink's end.
struct Pipe {
    int send_fd = -1;
    int sink_fd = -1;
};

std::vector<Pipe> connect_pairs(int count) {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0) die("bind");
    if (listen(listener, count) != 0) die("listen");
    if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        die("getsockname");
    std::vector<Pipe> pipes(static_cast<std::size_t>(count));
    for (auto& pipe : pipes) {
        pipe.send_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (pipe.send_fd < 0) die("socket");
        if (connect(pipe.send_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            die("connect");
        pipe.sink_fd = accept(listener, nullptr, nullptr);
        if (pipe.sink_fd < 0) die("accept");
        const int on = 1;
        setsockopt(pipe.send_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    close(listener);
    return pipes;
}

void send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
        if (sent <= 0) return;  // the sink went away at the end of the run
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    return values[index];
}

}  // namespace

int main(int argc, char** argv) try {
    const Options options = parse_options(argc, argv);
    const auto streams = static_cast<std::size_t>(options.streams);
    const bool single = options.mode == "single";
    std::vector<Pipe> pipes = connect_pairs(options.streams);

    // The sink: one reader per stream, counting bytes.
    std::vector<std::atomic<std::uint64_t>> received(streams);
    std::vector<std::thread> readers;
    for (std::size_t i = 0; i < streams; ++i) {
        received[i] = 0;
        readers.emplace_back([&, i] {
            std::vector<char> buffer(256 * 1024);
            for (;;) {
                const ssize_t got = recv(pipes[i].sink_fd, buffer.data(), buffer.size(), 0);
                if (got <= 0) return;
                received[i] += static_cast<std::uint64_t>(got);
            }
        });
    }

    // single: burst = one chunk; shared: the aggregate bucket every stream draws from.
    TokenBucket bucket(options.rate,
                       single ? static_cast<double>(options.chunk) : 256.0 * 1024);

    std::atomic<bool> stop{false};
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    Steady::time_point start;
    std::vector<std::vector<double>> late(streams);
    std::vector<std::thread> senders;
    for (std::size_t i = 0; i < streams; ++i) {
        senders.emplace_back([&, i] {
            const std::vector<char> data(options.chunk, 'x');
            ++ready;
            while (!go) std::this_thread::yield();
            std::uint64_t sent = 0;
            while (!stop) {
                const bool granted = bucket.acquire(options.chunk, &stop);
                if (!granted) break;
                sent += options.chunk;
                if (single && sent > options.chunk) {
                    const double ideal = static_cast<double>(sent - options.chunk) /
                                         static_cast<double>(options.rate);
                    const double actual =
                        std::chrono::duration<double>(Steady::now() - start).count();
                    late[i].push_back((actual - ideal) * 1e6);
                }
                send_all(pipes[i].send_fd, data.data(), data.size());
            }
        });
    }
    while (ready < options.streams) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // buckets full, threads parked
    start = Steady::now();
    go = true;

    // Snapshots of every stream's count each second.
    std::vector<std::vector<std::uint64_t>> counts(streams, std::vector<std::uint64_t>{0});
    for (int second = 1; second <= options.seconds; ++second) {
        std::this_thread::sleep_until(start + std::chrono::seconds(second));
        for (std::size_t i = 0; i < streams; ++i) counts[i].push_back(received[i].load());
    }
    stop = true;
    for (auto& sender : senders) sender.join();
    for (auto& pipe : pipes) shutdown(pipe.send_fd, SHUT_WR);
    for (auto& reader : readers) reader.join();
    for (auto& pipe : pipes) {
        close(pipe.send_fd);
        close(pipe.sink_fd);
    }

    const double share = static_cast<double>(options.rate) / options.streams;
    std::uint64_t total = 0;
    std::printf("# %s: %s over %d stream(s), %d s, chunk %llu bytes\n", options.mode.c_str(),
                rate_text(options.rate).c_str(), options.streams, options.seconds,
                static_cast<unsigned long long>(options.chunk));
    for (std::size_t i = 0; i < streams; ++i) {
        const std::uint64_t bytes = counts[i].back();
        total += bytes;
        const double achieved = static_cast<double>(bytes) / options.seconds;
        double low = 1e300;
        double high = 0;
        for (std::size_t s = 1; s < counts[i].size(); ++s) {
            const auto window = static_cast<double>(counts[i][s] - counts[i][s - 1]);
            low = std::min(low, window);
            high = std::max(high, window);
        }
        std::printf("stream\t%zu\t%.0f\t%+.3f\t%.0f\t%.0f\t%.0f\t%.0f\n", i + 1, achieved,
                    (achieved - share) / share * 100, low, high, percentile(late[i], 0.5),
                    percentile(late[i], 0.99));
    }
    if (!single) {
        const double achieved = static_cast<double>(total) / options.seconds;
        std::printf("total\t%.0f\t%+.3f\n", achieved,
                    (achieved - static_cast<double>(options.rate)) / options.rate * 100);
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_throttle: " << e.what() << "\n";
    return 2;
}
