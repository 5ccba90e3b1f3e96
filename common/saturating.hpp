#pragma once
// int64 arithmetic that sticks at the int64 maximum instead of overflowing. Tiles and fan-outs
// come from user files and random draws, and a simulation's counts and cycles grow with the
// layer, so their products can exceed int64. A saturated size still compares correctly against
// any buffer or PE count, and a saturated count stays saturated, so evaluate() can refuse the
// result instead of reporting a wrapped number. Operands are non-negative.
#include <cstdint>
#include <limits>

namespace dcp {

constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

inline int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? kSaturated : product;
}

inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kSaturated : sum;
}

// Written without `a + b - 1`, which overflows for tiles near the int64 limit.
inline int64_t ceil_div(int64_t numerator, int64_t denominator) {
  return numerator / denominator + (numerator % denominator != 0 ? 1 : 0);
}

// Whole units of a non-negative double, kSaturated from 2^63 up (casting those is undefined).
inline int64_t saturating_from_double(double value) {
  return value < static_cast<double>(kSaturated) ? static_cast<int64_t>(value) : kSaturated;
}

}  // namespace dcp
