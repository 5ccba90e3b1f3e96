#pragma once
// The `dcp` command as a function, for main() and for the fuzz target that drives it with
// arbitrary arguments (tests/fuzz/fuzz_cli.cpp).
namespace dcp::cli {

// Parses the arguments (argv[0] is the program name) and runs the subcommand. Returns the exit
// status: 0, or 2 after one `dcp: error: ...` line on stderr; never throws.
int run(int argc, char** argv);

}  // namespace dcp::cli
