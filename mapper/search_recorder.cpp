#include "mapper/search_recorder.hpp"

#include "dataflow/dataflow_line.hpp"
#include "mapper/content_id.hpp"
#include "workloads/layer_identity.hpp"

namespace dcp {
namespace {

nlohmann::json search_parameters(const std::string& method, int64_t budget, uint64_t seed,
                                 const std::string& objective, const ArchSpec& arch,
                                 const std::vector<Layer>& layers) {
  std::string keys;
  for (const Layer& layer : layers) keys += layer_key(layer) + ";";
  return {{"search", method},
          {"budget", budget},
          {"seed", seed},
          {"objective", objective},
          {"archs", {arch_to_json(arch)}},
          {"layers", content_hash(keys)}};
}

}  // namespace

SearchRecorder::SearchRecorder(const std::string& path, const std::string& method, int64_t budget,
                               uint64_t seed, const std::string& objective, const ArchSpec& arch,
                               const std::vector<Layer>& layers)
    : budget_(budget),
      arch_id_(arch_content_id(arch)),
      kind_("search_" + method),
      writer_(path, search_parameters(method, budget, seed, objective, arch, layers)) {
  writer_.add_arch(arch);
  for (int64_t index : writer_.sample_indices()) recorded_layers_.insert(index / budget_);
}

void SearchRecorder::start_layer(int64_t layer_number, const Layer& layer) {
  layer_number_ = layer_number;
  calls_ = 0;
  writer_.add_layer(layer_number, layer);
}

void SearchRecorder::record(const Dataflow& dataflow, const Result& result) {
  writer_.add_sample({layer_number_ * budget_ + calls_++, arch_id_, layer_number_, kind_,
                      format_dataflow_line(dataflow), result});
}

}  // namespace dcp
