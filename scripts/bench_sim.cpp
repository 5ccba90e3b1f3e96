// Simulator throughput: simulations per second on one core over every ResNet-50 layer at the
// eyeriss preset, under the fixed dataflows and under random legal dataflows, with the share of
// L1 steps that went through the event model and the peak memory. Prints a table.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/fixed_dataflows.hpp"
#include "dataflow/random_dataflow.hpp"
#include "sim/evaluate.hpp"

namespace {

struct Job {
  const dcp::Layer* layer;
  dcp::Dataflow dataflow;
};

struct Measurement {
  double seconds_median = 0;
  double job_ms_median = 0;  // one simulation, median over the jobs
  double job_ms_p90 = 0;
  int64_t simulated_steps = 0;
  int64_t total_steps = 0;
};

Measurement measure(const std::vector<Job>& jobs, const dcp::ArchSpec& arch, int repeats) {
  std::vector<double> seconds;
  Measurement measurement;
  std::vector<double> job_ms;
  for (int repeat = 0; repeat < repeats; ++repeat) {
    measurement.simulated_steps = measurement.total_steps = 0;
    job_ms.clear();
    const auto start = std::chrono::steady_clock::now();
    for (const Job& job : jobs) {
      const auto job_start = std::chrono::steady_clock::now();
      const dcp::Result result = dcp::evaluate(*job.layer, arch, job.dataflow);
      job_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - job_start)
              .count());
      measurement.simulated_steps += result.simulated_steps;
      measurement.total_steps += result.total_steps;
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  measurement.seconds_median = seconds[seconds.size() / 2];
  std::sort(job_ms.begin(), job_ms.end());
  measurement.job_ms_median = job_ms[job_ms.size() / 2];
  measurement.job_ms_p90 = job_ms[job_ms.size() * 9 / 10];
  return measurement;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string network_path = argc > 1 ? argv[1] : "workloads/models/resnet50.yaml";
  const std::string arch_path = argc > 2 ? argv[2] : "arch/presets/eyeriss.yaml";
  const int random_per_layer = argc > 3 ? std::stoi(argv[3]) : 20;
  const int repeats = 3;
  const dcp::ArchSpec arch = dcp::load_arch(arch_path);
  const dcp::Network network = dcp::load_network(network_path);

  std::vector<std::pair<std::string, std::vector<Job>>> cases;
  for (const std::string& name : dcp::fixed_dataflow_names()) {
    std::vector<Job> jobs;
    for (const dcp::Layer& layer : network.layers)
      jobs.push_back({&layer, dcp::make_fixed_dataflow(name, layer, arch)});
    cases.emplace_back("fixed " + name, std::move(jobs));
  }
  std::mt19937_64 rng(1);
  std::vector<Job> random_jobs;
  for (const dcp::Layer& layer : network.layers)
    for (int draw = 0; draw < random_per_layer; ++draw)
      random_jobs.push_back({&layer, dcp::random_legal_dataflow(layer, arch, rng)});
  cases.emplace_back("random legal (seed 1)", std::move(random_jobs));

  std::printf("%s on %s, one core, median of %d runs\n\n", network.name.c_str(), arch.name.c_str(),
              repeats);
  std::printf("%-24s %6s %9s %8s %11s %11s %24s\n", "dataflows", "sims", "seconds", "sims/s",
              "median_ms", "p90_ms", "event-model steps");
  size_t all_jobs = 0;
  double all_seconds = 0;
  for (const auto& [label, jobs] : cases) {
    const Measurement m = measure(jobs, arch, repeats);
    all_jobs += jobs.size();
    all_seconds += m.seconds_median;
    char steps[64];
    std::snprintf(steps, sizeof steps, "%lld of %lld", static_cast<long long>(m.simulated_steps),
                  static_cast<long long>(m.total_steps));
    std::printf("%-24s %6zu %9.3f %8.0f %11.3f %11.3f %24s\n", label.c_str(), jobs.size(),
                m.seconds_median, static_cast<double>(jobs.size()) / m.seconds_median,
                m.job_ms_median, m.job_ms_p90, steps);
  }
  std::printf("%-24s %6zu %9.3f %8.0f\n", "all", all_jobs, all_seconds,
              static_cast<double>(all_jobs) / all_seconds);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("\npeak memory (max RSS): %.1f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024);
  return 0;
}
