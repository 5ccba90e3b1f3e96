#pragma once
// The trace store: one SQLite file (WAL) of simulator results, one row per (hardware, layer,
// dataflow) sample, written by `dcp sweep` and read by `dcp train` / `dcp eval`.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "dataflow/dataflow.hpp"
#include "sim/evaluate.hpp"
#include "workloads/layer.hpp"

namespace dcp {

struct TraceRecord {
  int64_t sample_index = 0;  // position in the sweep's deterministic sample sequence
  std::string layer_key;     // layer identity for train/test splits: type and dims, not the name
  std::string sample_kind;   // how the dataflow was drawn (sample_kind_name)
  Layer layer;
  ArchSpec arch;
  Dataflow dataflow;
  Result result;
};

// Every row, ordered by sample_index. Throws InputError naming the file for a file that is not
// SQLite, is corrupt, or is not a dcp trace store; a store of another schema version in one line
// naming the schema it was made with.
std::vector<TraceRecord> read_traces(const std::string& path);

// One `samples` row as the writer takes it.
struct TraceRow {
  int64_t sample_index = 0;
  std::string arch_id;   // arch_content_id (content_id.hpp) of an arch added with add_arch
  int64_t layer_id = 0;  // as given to add_layer
  std::string sample_kind;
  std::string dataflow_line;  // format_dataflow_line (dataflow/dataflow_line.hpp)
  Result result;
};

// Appends rows to a store, in transactions: rows become durable at commit(), and a crash loses
// only the rows added since. One writer per file at a time.
class TraceWriter {
 public:
  // Creates the store, or opens the one at `path` if its sweep parameters equal
  // `sweep_parameters`. Throws InputError for a file that is not a dcp trace store (as
  // read_traces), or naming the first parameter that differs, e.g. "meta.sweep.seed".
  TraceWriter(const std::string& path, const nlohmann::json& sweep_parameters);
  ~TraceWriter();  // commits
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Idempotent: adding what is already there does nothing. Like add_sample, part of the
  // transaction commit() ends.
  void add_arch(const ArchSpec& arch);
  void add_layer(int64_t layer_id, const Layer& layer);
  // Every sample_index stored, ascending.
  std::vector<int64_t> sample_indices();
  // Throws InputError for an index already stored.
  void add_sample(const TraceRow& row);
  void commit();
  int64_t uncommitted_rows() const { return uncommitted_rows_; }
  // Copies every row of the store at `path`, whose sweep parameters must equal this store's;
  // rows whose sample_index is already here must be identical. Returns the rows added.
  int64_t merge_from(const std::string& path);

 private:
  // Opens a transaction unless one is open; commit() ends it.
  void begin();

  struct Database;
  std::unique_ptr<Database> database_;
  int64_t uncommitted_rows_ = 0;
};

// Sweep parameters (the `meta` table's "sweep" entry) of the store at `path`.
nlohmann::json read_sweep_parameters(const std::string& path);
// Copies the stores `inputs` (shards of one sweep: equal sweep parameters) into `out_path`,
// created if absent. Returns the rows added.
int64_t merge_traces(const std::vector<std::string>& inputs, const std::string& out_path);

}  // namespace dcp
