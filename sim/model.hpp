#pragma once
// The SystemC model behind evaluate(). Elaborated once per process; each run() serves one job by
// resuming the kernel until the job's last step has drained.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "sim/schedule.hpp"

namespace dcp::sim {

// One box on the timeline: a transfer, a compute burst or a stall on one unit.
struct TimelineEvent {
  std::string unit;
  std::string name;
  int64_t start = 0;
  int64_t duration = 0;
};

struct PipelineResult {
  int64_t cycles = 0;
  std::array<int64_t, kNumStallCauses> stall_cycles{};
  BusyCycles busy;
  int64_t walked_steps = 0;
};

// Runs the compiled schedule through the event model. `timeline` (may be null) receives events.
PipelineResult run_pipeline(ScheduleCompiler& compiler, const ArchSpec& arch,
                            const WalkOptions& walk, std::vector<TimelineEvent>* timeline);

// Writes events as Chrome trace-event JSON (one track per unit; 1 µs on screen = 1 cycle).
void write_timeline(const std::vector<TimelineEvent>& events, const std::string& path);

}  // namespace dcp::sim
