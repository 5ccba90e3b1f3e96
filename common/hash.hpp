#pragma once
// Stable hashes for things that must give the same number on every platform and library
// version (store content ids, sample seeds, train/test splits), which std::hash does not promise.
#include <cstdint>
#include <string_view>

namespace dcp {

constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ULL;

// 64-bit FNV-1a. `basis` is FNV's offset basis unless a caller must reproduce older hashes.
inline uint64_t fnv1a_64(std::string_view bytes, uint64_t basis = kFnvOffsetBasis) {
  uint64_t hash = basis;
  for (const unsigned char byte : bytes) hash = (hash ^ byte) * 1099511628211ULL;
  return hash;
}

// splitmix64's output function: every input bit reaches every output bit.
inline uint64_t mix64(uint64_t value) {
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

constexpr uint64_t kSplitmixIncrement = 0x9e3779b97f4a7c15ULL;

// One splitmix64 step from `value`.
inline uint64_t splitmix64(uint64_t value) {
  return mix64(value + kSplitmixIncrement);
}

}  // namespace dcp
