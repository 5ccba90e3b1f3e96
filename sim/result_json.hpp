#pragma once
// Machine-readable form of a Result (used by `--json` and by trace stores).
#include <nlohmann/json.hpp>

#include "sim/evaluate.hpp"

namespace dcp {

nlohmann::json result_to_json(const Result& result);

}  // namespace dcp
