#pragma once
// Every simulation of a search as trace-store rows, to train the predictor on the regions a
// search reaches (`dcp search --record`).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "mapper/trace_store.hpp"
#include "workloads/layer.hpp"

namespace dcp {

// Layer n of the searched list takes sample indices n * budget onwards, and each layer commits
// once, so a rerun of the same search skips the layers already recorded.
class SearchRecorder {
 public:
  // The store's sweep parameters are the search's (`method`, `budget`, `seed`, `objective`), the
  // arch and the layers' keys: a rerun of the same search resumes the store, another is refused.
  SearchRecorder(const std::string& path, const std::string& method, int64_t budget, uint64_t seed,
                 const std::string& objective, const ArchSpec& arch,
                 const std::vector<Layer>& layers);
  bool recorded(int64_t layer_number) const { return recorded_layers_.count(layer_number) > 0; }
  void start_layer(int64_t layer_number, const Layer& layer);
  void record(const Dataflow& dataflow, const Result& result);
  void finish_layer() { writer_.commit(); }

 private:
  int64_t budget_;
  std::string arch_id_;
  std::string kind_;
  TraceWriter writer_;
  std::set<int64_t> recorded_layers_;
  int64_t layer_number_ = 0;
  int64_t calls_ = 0;
};

}  // namespace dcp
