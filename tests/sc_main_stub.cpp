// SystemC's library references sc_main; test binaries get their main() from Catch2, so this
// definition only satisfies the linker and is never called.
#include <systemc>

int sc_main(int, char*[]) { return 0; }
