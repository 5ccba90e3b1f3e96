#include "sim/evaluate.hpp"

#include <algorithm>

#include "common/input_error.hpp"
#include "common/saturating.hpp"
#include "sim/model.hpp"
#include "sim/schedule.hpp"

namespace dcp {

const char* cost_level_name(CostLevel level) {
  static const char* const kNames[] = {"DRAM", "L2", "NoC", "L1", "L0"};
  return kNames[static_cast<int>(level)];
}

const char* stall_cause_name(StallCause cause) {
  static const char* const kNames[] = {"dram", "noc", "l1_fill", "writeback"};
  return kNames[static_cast<int>(cause)];
}

const char* bound_name(Bound bound) {
  static const char* const kNames[] = {"compute", "L2", "NoC", "DRAM"};
  return kNames[static_cast<int>(bound)];
}

AccessCounts& AccessCounts::operator+=(const AccessCounts& other) {
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      reads[level][tensor] = saturating_add(reads[level][tensor], other.reads[level][tensor]);
      writes[level][tensor] = saturating_add(writes[level][tensor], other.writes[level][tensor]);
    }
  for (int tensor = 0; tensor < kNumTensors; ++tensor)
    noc_link_words[tensor] = saturating_add(noc_link_words[tensor], other.noc_link_words[tensor]);
  return *this;
}

AccessCounts& AccessCounts::operator-=(const AccessCounts& other) {
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      reads[level][tensor] -= other.reads[level][tensor];
      writes[level][tensor] -= other.writes[level][tensor];
    }
  for (int tensor = 0; tensor < kNumTensors; ++tensor)
    noc_link_words[tensor] -= other.noc_link_words[tensor];
  return *this;
}

AccessCounts& AccessCounts::add_scaled(const AccessCounts& other, int64_t factor) {
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      reads[level][tensor] =
          saturating_add(reads[level][tensor], saturating_mul(other.reads[level][tensor], factor));
      writes[level][tensor] = saturating_add(writes[level][tensor],
                                             saturating_mul(other.writes[level][tensor], factor));
    }
  for (int tensor = 0; tensor < kNumTensors; ++tensor)
    noc_link_words[tensor] = saturating_add(noc_link_words[tensor],
                                            saturating_mul(other.noc_link_words[tensor], factor));
  return *this;
}

AccessCounts AccessCounts::scaled(int64_t factor) const {
  AccessCounts result = *this;
  for (int level = 0; level < kNumCostLevels; ++level)
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      result.reads[level][tensor] = saturating_mul(result.reads[level][tensor], factor);
      result.writes[level][tensor] = saturating_mul(result.writes[level][tensor], factor);
    }
  for (int64_t& link_words : result.noc_link_words) link_words = saturating_mul(link_words, factor);
  return result;
}

bool BusyCycles::operator==(const BusyCycles& other) const {
  return compute == other.compute && l2 == other.l2 && noc == other.noc && dram == other.dram;
}

bool AccessCounts::operator==(const AccessCounts& other) const {
  return reads == other.reads && writes == other.writes && noc_link_words == other.noc_link_words;
}

namespace {

// Input rows (or cols) some output actually reads: with a stride larger than the kernel, or
// padding, not every row of the input is touched and none of those need to leave DRAM.
int64_t touched_input_extent(int64_t outputs, int64_t kernel, int64_t stride, int64_t pad,
                             int64_t input_extent) {
  std::vector<bool> touched(static_cast<std::size_t>(input_extent), false);
  for (int64_t out = 0; out < outputs; ++out)
    for (int64_t tap = 0; tap < kernel; ++tap) {
      const int64_t position = out * stride + tap - pad;
      if (position >= 0 && position < input_extent)
        touched[static_cast<std::size_t>(position)] = true;
    }
  return std::count(touched.begin(), touched.end(), true);
}

}  // namespace

int64_t compulsory_dram_bytes(const Layer& layer, const ArchSpec& arch) {
  const int64_t input =
      layer.input_channels() * layer.N *
      touched_input_extent(layer.Y, layer.R, layer.stride, layer.pad, layer.in_h) *
      touched_input_extent(layer.X, layer.S, layer.stride, layer.pad, layer.in_w);
  const int64_t elements =
      input + layer.tensor_elements(Tensor::Weight) + layer.tensor_elements(Tensor::Output);
  return elements * arch.word_bytes * layer.repeat;
}

namespace {

double table_entry(const EnergyTable& energy, CostLevel level) {
  switch (level) {
    case CostLevel::Dram:
      return energy.dram_pj;
    case CostLevel::L2:
      return energy.l2_pj;
    case CostLevel::Noc:
      return energy.noc_hop_pj;
    case CostLevel::L1:
      return energy.l1_pj;
    case CostLevel::L0:
      return energy.l0_pj;
  }
  return 0;
}

// Whether any count or cycle figure stuck at the int64 maximum (common/saturating.hpp): the
// layer is too large for exact int64 results.
bool saturated(const Result& result) {
  std::vector<int64_t> figures = {result.cycles,     result.busy.compute, result.busy.l2,
                                  result.busy.noc,   result.busy.dram,    result.dram_bytes,
                                  result.total_steps};
  figures.insert(figures.end(), result.stall_cycles.begin(), result.stall_cycles.end());
  for (int level = 0; level < kNumCostLevels; ++level) {
    figures.insert(figures.end(), result.counts.reads[level].begin(),
                   result.counts.reads[level].end());
    figures.insert(figures.end(), result.counts.writes[level].begin(),
                   result.counts.writes[level].end());
  }
  return std::find(figures.begin(), figures.end(), kSaturated) != figures.end();
}

}  // namespace

Result evaluate(const Layer& layer, const ArchSpec& arch, const Dataflow& dataflow,
                const EvalOptions& options, const std::string& source) {
  require_legal(layer, arch, dataflow, source);
  sim::ScheduleCompiler compiler(layer, arch, dataflow);
  std::vector<sim::TimelineEvent> timeline;
  const sim::PipelineResult pipeline =
      sim::run_pipeline(compiler, arch, {options.skip_steady_state, options.reload_state},
                        options.timeline_path.empty() ? nullptr : &timeline);
  if (!options.timeline_path.empty()) sim::write_timeline(timeline, options.timeline_path);

  // One instance was simulated; repeats (attention heads) are independent and run back to back.
  const int64_t repeat = layer.repeat;
  Result result;
  result.macs = layer.macs();
  result.cycles = saturating_mul(pipeline.cycles, repeat);
  result.counts = compiler.counts();
  // Every MAC reads its two operands and the partial sum from L0 and writes the sum back.
  const int64_t instance_macs = result.macs / repeat;
  AccessCounts mac_accesses;
  const int l0 = static_cast<int>(CostLevel::L0);
  mac_accesses.reads[l0] = {instance_macs, instance_macs, instance_macs};
  mac_accesses.writes[l0][static_cast<int>(Tensor::Output)] = instance_macs;
  result.counts += mac_accesses;
  result.counts = result.counts.scaled(repeat);

  for (int level = 0; level < kNumCostLevels; ++level) {
    const double per_access = table_entry(arch.energy, static_cast<CostLevel>(level));
    for (int tensor = 0; tensor < kNumTensors; ++tensor) {
      const int64_t accesses = static_cast<CostLevel>(level) == CostLevel::Noc
                                   ? result.counts.noc_link_words[tensor]
                                   : saturating_add(result.counts.reads[level][tensor],
                                                    result.counts.writes[level][tensor]);
      result.energy_pj[level][tensor] = static_cast<double>(accesses) * per_access;
      result.total_energy_pj += result.energy_pj[level][tensor];
    }
  }
  result.mac_energy_pj = static_cast<double>(result.macs) * arch.energy.mac_pj;
  result.leakage_energy_pj = static_cast<double>(result.cycles) * arch.energy.leakage_pj_per_cycle;
  result.total_energy_pj += result.mac_energy_pj + result.leakage_energy_pj;

  for (int cause = 0; cause < kNumStallCauses; ++cause)
    result.stall_cycles[cause] = saturating_mul(pipeline.stall_cycles[cause], repeat);
  result.busy.compute = saturating_mul(pipeline.busy.compute, repeat);
  result.busy.l2 = saturating_mul(pipeline.busy.l2, repeat);
  result.busy.noc = saturating_mul(pipeline.busy.noc, repeat);
  result.busy.dram = saturating_mul(pipeline.busy.dram, repeat);
  const std::array<std::pair<int64_t, Bound>, 4> busy = {{{result.busy.compute, Bound::Compute},
                                                          {result.busy.l2, Bound::L2},
                                                          {result.busy.noc, Bound::Noc},
                                                          {result.busy.dram, Bound::Dram}}};
  result.bound = std::max_element(busy.begin(), busy.end(), [](const auto& a, const auto& b) {
                   return a.first < b.first;
                 })->second;
  result.pe_utilization = static_cast<double>(result.macs) /
                          (static_cast<double>(result.cycles) * arch.num_pes * arch.macs_per_pe);
  const int dram = static_cast<int>(CostLevel::Dram);
  for (int tensor = 0; tensor < kNumTensors; ++tensor) {
    const int64_t words =
        saturating_add(result.counts.reads[dram][tensor], result.counts.writes[dram][tensor]);
    result.dram_bytes = saturating_add(result.dram_bytes, saturating_mul(words, arch.word_bytes));
  }
  result.simulated_steps = pipeline.walked_steps;
  result.total_steps = compiler.total_steps();
  if (saturated(result)) {
    throw InputError(source, layer.name,
                     "an access or cycle count of its simulation exceeds the int64 range",
                     "layers whose counts fit in int64: fewer MACs or larger tiles");
  }
  return result;
}

}  // namespace dcp
