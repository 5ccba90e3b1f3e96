// SystemC's library refers to sc_main, but dcp's programs (the CLI, tests, benchmarks) have
// their own main() and drive the kernel through evaluate(); this definition is never called.
#include <systemc>

int sc_main(int, char*[]) {
  return 0;
}
