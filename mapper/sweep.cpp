#include "mapper/sweep.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <sstream>
#include <type_traits>

#include "common/fd_io.hpp"
#include "common/input_error.hpp"
#include "dataflow/dataflow_line.hpp"
#include "mapper/content_id.hpp"
#include "mapper/trace_store.hpp"
#include "sim/evaluate.hpp"

namespace dcp {
namespace {

// A worker answers in batches of kResultsPerWrite samples (sooner when no further sample waits),
// so that the parent wakes once a batch rather than once a sample: on two cores the parent shares
// a core with the workers, and its wake-ups cost them time. It is sent twice that many ahead, so
// that it never idles waiting for the parent.
constexpr int kResultsPerWrite = 8;
constexpr std::size_t kSamplesInFlight = 2 * kResultsPerWrite;
constexpr auto kCommitInterval = std::chrono::seconds(1);
constexpr int kMaxJobs = 1024;

// What a worker sends back for each sample, followed by `text_bytes` of text: the dataflow line,
// or the error message when `failed`. Workers are forks of the parent, so raw structs are safe.
// Value-initialise it (`SampleMessage message{}`): padding included, no byte goes out unset.
struct SampleMessage {
  int64_t sample_index;
  int32_t arch;    // into SampleSpace::archs
  int32_t layer;   // into SampleSpace::layers
  int32_t kind;    // SampleKind
  int32_t failed;  // 1: the text is an error message
  uint64_t text_bytes;
  Result result;
};
static_assert(std::is_trivially_copyable_v<SampleMessage>);

// Whether a read of `fd` would return at once. On a poll error it answers no, so that the caller
// sends what it holds rather than block on a read while the parent waits for those answers.
bool readable_now(int fd) {
  pollfd polled{fd, POLLIN, 0};
  return poll(&polled, 1, 0) > 0;
}

[[noreturn]] void worker_main(const SampleSpace& space, int task_fd, int result_fd) {
  std::string answers;  // SampleMessages and their texts not yet written
  int answered = 0;
  const auto send_answers = [&] {
    if (!write_all(result_fd, answers.data(), answers.size())) _exit(1);
    answers.clear();
    answered = 0;
  };
  int64_t index = 0;
  while (true) {
    if (answered >= kResultsPerWrite || (answered > 0 && !readable_now(task_fd))) send_answers();
    if (!read_exact(task_fd, &index, sizeof index)) break;
    SampleMessage message{};
    message.sample_index = index;
    std::string text;
    try {
      const Sample sample = draw_sample(space, index);
      message.arch = sample.arch;
      message.layer = sample.layer;
      message.kind = static_cast<int32_t>(sample.kind);
      message.result = evaluate(space.layers[sample.layer], space.archs[sample.arch],
                                sample.dataflow, {}, "sample " + std::to_string(index));
      text = format_dataflow_line(sample.dataflow);
    } catch (const std::exception& error) {
      message.failed = 1;
      text = error.what();
    }
    message.text_bytes = text.size();
    answers.append(reinterpret_cast<const char*>(&message), sizeof message);
    answers += text;
    ++answered;
    if (message.failed) {
      send_answers();
      _exit(1);
    }
  }
  send_answers();
  _exit(0);
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped";
}

struct Worker {
  pid_t pid = -1;
  int task_fd = -1;    // the parent writes sample indices
  int result_fd = -1;  // the parent reads SampleMessages
  std::deque<int64_t> in_flight;
  std::string received;  // bytes of a message not yet complete
};

// Forked workers fed sample indices over pipes. The destructor kills and reaps whatever still
// runs, so an error in the parent never leaves workers behind.
class WorkerPool {
 public:
  using Store = std::function<void(const SampleMessage&, const std::string& dataflow_line)>;

  WorkerPool(const SampleSpace& space, int jobs) {
    // A dead worker's pipe must surface as a write error, not kill the parent.
    previous_sigpipe_ = std::signal(SIGPIPE, SIG_IGN);
    for (int w = 0; w < jobs; ++w) spawn(space);
  }
  ~WorkerPool() {
    for (Worker& worker : workers_) {
      close_fd(worker.task_fd);
      close_fd(worker.result_fd);
      if (worker.pid > 0) {
        kill(worker.pid, SIGKILL);
        waitpid(worker.pid, nullptr, 0);
      }
    }
    std::signal(SIGPIPE, previous_sigpipe_);
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Tops every worker up to kSamplesInFlight; once `pending` runs dry, closes the task pipes so
  // that workers exit after their last sample.
  void feed(std::deque<int64_t>& pending) {
    std::vector<int64_t> batch;
    for (Worker& worker : workers_) {
      batch.clear();
      while (worker.task_fd >= 0 && !pending.empty() &&
             worker.in_flight.size() + batch.size() < kSamplesInFlight) {
        batch.push_back(pending.front());
        pending.pop_front();
      }
      // A failed write means the worker died; its result pipe reports that, and the batch waits
      // in `pending` as before.
      if (!batch.empty() &&
          !write_all(worker.task_fd, batch.data(), batch.size() * sizeof batch.front()))
        pending.insert(pending.begin(), batch.begin(), batch.end());
      else
        worker.in_flight.insert(worker.in_flight.end(), batch.begin(), batch.end());
      if (pending.empty()) close_fd(worker.task_fd);
    }
  }

  // Waits up to `timeout` for results and stores each. Throws SweepError when a worker failed.
  void collect(std::chrono::milliseconds timeout, const Store& store) {
    std::vector<pollfd> polled;
    std::vector<Worker*> owners;
    for (Worker& worker : workers_) {
      if (worker.result_fd < 0) continue;
      polled.push_back({worker.result_fd, POLLIN, 0});
      owners.push_back(&worker);
    }
    if (poll(polled.data(), polled.size(), static_cast<int>(timeout.count())) < 0) {
      if (errno == EINTR) return;
      throw SweepError(std::string("poll: ") + std::strerror(errno));
    }
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (polled[i].revents != 0) receive(*owners[i], store);
    }
  }

  bool finished() const {
    return std::all_of(workers_.begin(), workers_.end(),
                       [](const Worker& worker) { return worker.pid < 0; });
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }

  void spawn(const SampleSpace& space) {
    int tasks[2], results[2];
    if (pipe(tasks) != 0 || pipe(results) != 0)
      throw SweepError(std::string("cannot create a pipe: ") + std::strerror(errno));
    std::fflush(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) throw SweepError(std::string("cannot fork a worker: ") + std::strerror(errno));
    if (pid == 0) {
      // A worker outliving a killed parent would simulate for nobody.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      std::signal(SIGPIPE, SIG_DFL);
      close(tasks[1]);
      close(results[0]);
      // Another worker's pipe held open here would hide that worker's end of file.
      for (Worker& other : workers_) {
        close_fd(other.task_fd);
        close_fd(other.result_fd);
      }
      worker_main(space, tasks[0], results[1]);
    }
    close(tasks[0]);
    close(results[1]);
    Worker worker;
    worker.pid = pid;
    worker.task_fd = tasks[1];
    worker.result_fd = results[0];
    workers_.push_back(std::move(worker));
  }

  void receive(Worker& worker, const Store& store) {
    char buffer[1 << 16];
    const ssize_t got = read(worker.result_fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) return;
    if (got <= 0) {
      end_of_worker(worker);
      return;
    }
    worker.received.append(buffer, static_cast<std::size_t>(got));
    std::size_t used = 0;
    SampleMessage message;
    while (worker.received.size() - used >= sizeof message) {
      std::memcpy(&message, worker.received.data() + used, sizeof message);
      if (worker.received.size() - used - sizeof message < message.text_bytes) break;
      const std::string text = worker.received.substr(used + sizeof message, message.text_bytes);
      used += sizeof message + message.text_bytes;
      if (message.failed)
        throw SweepError(
            "sample " + std::to_string(message.sample_index) +
            " failed in a worker (a bug: the sampler yields only legal dataflows): " + text);
      worker.in_flight.erase(
          std::find(worker.in_flight.begin(), worker.in_flight.end(), message.sample_index));
      store(message, text);
    }
    worker.received.erase(0, used);
  }

  void end_of_worker(Worker& worker) {
    close_fd(worker.result_fd);
    close_fd(worker.task_fd);
    int status = 0;
    waitpid(worker.pid, &status, 0);
    worker.pid = -1;
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean && worker.in_flight.empty()) return;
    std::string samples;
    for (const int64_t index : worker.in_flight)
      samples += (samples.empty() ? "" : ", ") + std::to_string(index);
    throw SweepError("a worker " + describe_exit(status) + " while simulating sample(s) " +
                     samples);
  }

  std::vector<Worker> workers_;
  void (*previous_sigpipe_)(int) = SIG_DFL;
};

std::string file_content(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  if (!file) throw InputError(path, "", "cannot read", "a readable model YAML");
  return content.str();
}

void check_config(const SweepConfig& config, const SweepOptions& options) {
  if (config.samples < 1)
    throw InputError("sweep", "samples", std::to_string(config.samples), ">= 1");
  if (config.random_layers < 0)
    throw InputError("sweep", "random layers", std::to_string(config.random_layers), ">= 0");
  if (options.jobs < 1 || options.jobs > kMaxJobs)
    throw InputError("sweep", "jobs", std::to_string(options.jobs),
                     "1.." + std::to_string(kMaxJobs));
  if (config.archs.empty()) throw InputError("sweep", "archs", "none", "one or more archs");
}

}  // namespace

nlohmann::json sweep_parameters(const SweepConfig& config) {
  std::string file_hashes;
  for (const std::string& path : config.layer_files)
    file_hashes += content_hash(file_content(path));
  nlohmann::json archs = nlohmann::json::array();
  for (const ArchSpec& arch : config.archs) archs.push_back(arch_to_json(arch));
  nlohmann::json mix = {{"random", config.mix.random},
                        {"code", config.mix.code},
                        {"fixed", config.mix.fixed},
                        {"neighbour", config.mix.neighbour},
                        {"grown", config.mix.grown}};
  // Only when used: stores swept before the jump kind existed stay resumable.
  if (config.mix.jump > 0) mix["jump"] = config.mix.jump;
  return {{"seed", config.seed},
          {"samples", config.samples},
          {"random_layers", config.random_layers},
          {"layer_files_hash", content_hash(file_hashes)},
          {"archs", archs},
          {"mix", mix}};
}

SampleSpace make_sweep_space(const SweepConfig& config, std::ostream& warnings) {
  std::vector<Layer> layers;
  for (const std::string& path : config.layer_files) {
    const Network network = load_network(path);
    layers.insert(layers.end(), network.layers.begin(), network.layers.end());
  }
  const std::vector<Layer> synthetic = random_layers(config.random_layers, config.seed);
  layers.insert(layers.end(), synthetic.begin(), synthetic.end());
  if (layers.empty())
    throw InputError("sweep", "layers", "none to sweep",
                     "one or more model YAMLs, or at least one random layer");
  return make_sample_space(config.archs, layers, config.mix, config.seed, warnings);
}

Shard parse_shard(const std::string& text) {
  Shard shard;
  const std::size_t slash = text.find('/');
  const char* end = text.data() + text.size();
  const auto number =
      std::from_chars(text.data(), text.data() + std::min(slash, text.size()), shard.number);
  const auto count = slash == std::string::npos
                         ? std::from_chars_result{text.data(), std::errc::invalid_argument}
                         : std::from_chars(text.data() + slash + 1, end, shard.count);
  const bool parsed = number.ec == std::errc() && number.ptr == text.data() + slash &&
                      count.ec == std::errc() && count.ptr == end;
  if (!parsed || shard.count < 1 || shard.number < 1 || shard.number > shard.count)
    throw InputError("shard", "", "'" + text + "' is not a shard",
                     "k/n with 1 <= k <= n, e.g. 3/16");
  return shard;
}

SweepSummary run_sweep(const SweepConfig& config, const std::string& out_path,
                       const SweepOptions& options, std::ostream& warnings) {
  const auto start = std::chrono::steady_clock::now();
  check_config(config, options);
  const SampleSpace space = make_sweep_space(config, warnings);
  TraceWriter writer(out_path, sweep_parameters(config));
  std::vector<std::string> arch_ids;
  for (const ArchSpec& arch : space.archs) {
    writer.add_arch(arch);
    arch_ids.push_back(arch_content_id(arch));
  }
  for (std::size_t layer = 0; layer < space.layers.size(); ++layer)
    writer.add_layer(static_cast<int64_t>(layer), space.layers[layer]);
  writer.commit();

  SweepSummary summary;
  const std::vector<int64_t> stored = writer.sample_indices();
  std::deque<int64_t> pending;
  for (int64_t index = options.shard.number - 1; index < config.samples;
       index += options.shard.count) {
    ++summary.rows_in_shard;
    if (!std::binary_search(stored.begin(), stored.end(), index)) pending.push_back(index);
  }
  summary.rows_present = summary.rows_in_shard - static_cast<int64_t>(pending.size());
  if (options.on_start) options.on_start(static_cast<int64_t>(pending.size()));

  auto last_commit = std::chrono::steady_clock::now();
  // Commits; false when the keep_going hook ends the run.
  const auto commit = [&] {
    summary.rows_written += writer.uncommitted_rows();
    writer.commit();
    last_commit = std::chrono::steady_clock::now();
    return !options.keep_going || options.keep_going(summary.rows_written);
  };
  // One read from a worker's pipe can hold hundreds of rows. Committing inside it keeps every
  // transaction at commit_rows, so a run that dies (or fills the disk) loses at most that many.
  const auto store = [&](const SampleMessage& message, const std::string& dataflow_line) {
    if (summary.interrupted) return;
    writer.add_sample({message.sample_index, arch_ids[message.arch], message.layer,
                       sample_kind_name(static_cast<SampleKind>(message.kind)), dataflow_line,
                       message.result});
    if (options.on_row) options.on_row();
    if (writer.uncommitted_rows() >= options.commit_rows && !commit()) summary.interrupted = true;
  };
  try {
    WorkerPool pool(space, std::min<int>(options.jobs, std::max<int>(1, pending.size())));
    while (!pool.finished() && !summary.interrupted) {
      pool.feed(pending);
      const auto until_commit = std::chrono::duration_cast<std::chrono::milliseconds>(
          last_commit + kCommitInterval - std::chrono::steady_clock::now());
      pool.collect(std::max(until_commit, std::chrono::milliseconds(1)), store);
      const bool due = writer.uncommitted_rows() > 0 &&
                       std::chrono::steady_clock::now() - last_commit >= kCommitInterval;
      if (due && !commit()) summary.interrupted = true;
    }
    if (!summary.interrupted) commit();
  } catch (const SweepError& error) {
    commit();
    throw SweepError(std::string(error.what()) + "; " + std::to_string(summary.rows_written) +
                     " rows of this run are committed to " + out_path +
                     ", rerun the same command to resume");
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace dcp
