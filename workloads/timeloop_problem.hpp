#pragma once
// Reads a Timeloop problem (workload) YAML as a dcp layer: the CNN-layer shape with the instance
// sizes M, C, P, Q, R, S, N and the strides. Timeloop problems carry no padding, so the input is
// exactly what the output needs: in_h = (P - 1) * Hstride + R, in_w = (Q - 1) * Wstride + S.
#include <string>

#include "workloads/layer.hpp"

namespace dcp {

// `problem.instance` holds the sizes (each 1 when absent, as in Timeloop); every other key under
// `problem` but `shape` and `version` is an error, and so is any instance key but M, C, P, Q, R,
// S, N, Wstride, Hstride, Wdilation, Hdilation. The layer is a conv named `name`, with
// repeat = N. Hstride must equal Wstride (dcp layers have one stride) and dilations must be 1.
// Errors are InputErrors naming the file and the field ("problem.instance.Hstride").
Layer load_timeloop_problem(const std::string& path, const std::string& name);

}  // namespace dcp
