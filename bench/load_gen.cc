#include "load_gen.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace medseal::bench {

LoadResult run_load(const std::string& host, int port, size_t clients,
                    std::chrono::milliseconds duration, const SendRequest& send) {
  return run_load(std::vector<Target>{{host, port}}, clients, duration, send);
}

LoadResult run_load(const std::vector<Target>& targets, size_t clients,
                    std::chrono::milliseconds duration, const SendRequest& send) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::vector<float>> latencies(clients);  // per client: no sharing while running
  std::vector<size_t> failures(clients, 0);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const Target& target = targets[c % targets.size()];
      httplib::Client client(target.host, target.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (size_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        const Clock::time_point t0 = Clock::now();
        const bool ok = send(client, c, n);
        const float ms = std::chrono::duration<float, std::milli>(Clock::now() - t0).count();
        if (ok) {
          latencies[c].push_back(ms);
        } else {
          ++failures[c];
        }
      }
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& t : threads) t.join();
  LoadResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<float> all;
  for (size_t c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    r.failures += failures[c];
  }
  r.requests = all.size();
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

}  // namespace medseal::bench
