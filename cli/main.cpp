#include "cli/dcp_command.hpp"

int main(int argc, char** argv) {
  return dcp::cli::run(argc, argv);
}
