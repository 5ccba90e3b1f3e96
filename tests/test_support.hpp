#pragma once
// Helpers shared by the Catch2 tests: temporary files, text edits and a small hand-checked
// conv layer with a legal dataflow for it.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "dataflow/dataflow.hpp"
#include "workloads/layer.hpp"

namespace dcp::test {

// A uniquely named file in the temporary directory, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& text, const std::string& extension = ".yaml") {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() / ("dcp_test_" + std::to_string(::getpid()) +
                                                       "_" + std::to_string(counter++) + extension))
                .string();
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `text` with the first `from` replaced by `to`; `from` must occur.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The eyeriss preset as a plain three-level hierarchy: one shared 512 B L0 per PE and every
// tensor double-buffered and kept at every level. Tests of counting and timing rules use it, so
// that their hand counts do not hang on the preset's per-tensor allocation (split spads,
// bypasses), which tests of their own cover.
inline ArchSpec plain_eyeriss() {
  ArchSpec arch = load_arch("arch/presets/eyeriss.yaml");
  arch.name = "plain_eyeriss";
  arch.l0_bytes = 512;
  arch.l0_partition_bytes = {};
  arch.double_buffered = {true, true, true};
  arch.l1_bypass = {};
  arch.l2_bypass = {};
  return arch;
}

inline Layer conv_layer() {
  return make_conv("test", "conv", 16, 32, 16, 16, 3, 3, 1, 1, 1);  // K32 C16 Y16 X16 R3 S3
}

// `layer` with a batch of `batch` images (its N dim).
inline Layer batched(Layer layer, int64_t batch) {
  layer.N = batch;
  return layer;
}

// A level that unrolls one dim `fanout` ways, in the default order.
inline LevelMapping single_spatial_level(Dim dim, int64_t fanout, const DimArray& tile) {
  LevelMapping mapping;
  mapping.set_single_spatial(dim, fanout);
  mapping.tile = tile;
  return mapping;
}

// A dataflow for conv_layer whose tiles divide evenly: K over 4 clusters, C over 4 PEs, 2 lanes
// on X. Legal on test_dataflow's small arch.
inline Dataflow legal_conv_dataflow() {
  Dataflow dataflow;
  dataflow.name = "hand";
  dataflow.levels[0] = single_spatial_level(Dim::K, 4, {32, 16, 8, 8, 3, 3, 1});
  dataflow.levels[1] = single_spatial_level(Dim::C, 4, {8, 8, 4, 4, 3, 3, 1});
  dataflow.levels[2] = single_spatial_level(Dim::X, 2, {2, 2, 2, 2, 3, 3, 1});
  return dataflow;
}

}  // namespace dcp::test
