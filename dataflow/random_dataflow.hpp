#pragma once
// Random legal dataflows: the random-search baseline, and test inputs for the simulator.
#include <random>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// Draws each level's spatial dim and loop order uniformly, its fan-out log-uniformly within the
// PEs left (L0: the MAC lanes), and its tiles log-uniformly inside the parent tile, bounded so
// that every fan-out has as many sub-tiles as units; then repairs (repair_dataflow) whatever
// overflows a buffer. The same rng state gives the same dataflow. Throws InputError like
// repair_dataflow when the layer cannot fit the arch at all.
Dataflow random_legal_dataflow(const Layer& layer, const ArchSpec& arch, std::mt19937_64& rng);

// Uniform in log space over low..high (low >= 1): each doubling of the value is equally likely,
// so small tiles, fan-outs and channel counts are drawn as often as large ones. high <= low
// returns low without drawing.
int64_t log_uniform(int64_t low, int64_t high, std::mt19937_64& rng);

}  // namespace dcp
