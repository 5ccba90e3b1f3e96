#include "cli/arch_space_command.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "arch/arch_space.hpp"
#include "cli/flag_context.hpp"
#include "cli/output_file.hpp"
#include "cli/table.hpp"

namespace dcp::cli {
namespace {

struct ArchSpaceOptions {
  std::string space_path;
  int64_t configs = 8;
  uint64_t seed = 1;
  std::string out_dir;
};

std::string kib(int64_t bytes) {
  return format_number(static_cast<double>(bytes) / 1024.0);
}

void run_arch_space(const ArchSpaceOptions& options) {
  const ArchSpace space = load_arch_space(options.space_path);
  const std::vector<ArchSpec> archs =
      with_flag("--configs", [&] { return sample_archs(space, options.seed, options.configs); });
  Table table({"config", "PEs", "array", "L0 KiB", "L1 KiB", "L2 KiB", "L1 B/c", "L2 B/c",
               "NoC B/c", "DRAM B/c", "L2 pJ"});
  for (const ArchSpec& arch : archs) {
    table.add_row({arch.name, std::to_string(arch.num_pes),
                   std::to_string(arch.array_rows) + "x" + std::to_string(arch.array_cols),
                   kib(arch.l0_bytes), kib(arch.l1_bytes), kib(arch.l2_bytes),
                   format_number(arch.l1_bandwidth), format_number(arch.l2_bandwidth),
                   format_number(arch.noc_bandwidth), format_number(arch.dram_bandwidth),
                   format_number(arch.energy.l2_pj)});
    if (options.out_dir.empty()) continue;
    std::filesystem::create_directories(options.out_dir);
    std::ostringstream yaml;
    yaml << "# Config " << arch.source << " drawn with seed " << options.seed << ".\n";
    write_arch_yaml(arch, yaml);
    write_output((std::filesystem::path(options.out_dir) / (arch.name + ".yaml")).string(), "--out",
                 yaml.str());
  }
  table.print(std::cout);
  if (!options.out_dir.empty())
    std::cout << archs.size() << " arch YAMLs -> " << options.out_dir << "\n";
}

}  // namespace

void add_arch_space_command(CLI::App& app) {
  auto options = std::make_shared<ArchSpaceOptions>();
  CLI::App* command = app.add_subcommand(
      "arch-space", "Draw hardware configs from an arch space and write them as arch YAMLs");
  command->add_option("space", options->space_path, "Arch-space YAML (arch/spaces/*.yaml)")
      ->required();
  command->add_option("--configs", options->configs, "How many configs")->capture_default_str();
  command->add_option("--seed", options->seed, "Seed of the draw (as `dcp sweep --seed`)")
      ->capture_default_str();
  command->add_option("--out", options->out_dir, "Write <config name>.yaml files here")
      ->check(output_directory());
  command->callback([options] { run_arch_space(*options); });
}

}  // namespace dcp::cli
