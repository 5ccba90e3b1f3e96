// Compiled into every program that links mimalloc (the dcp_malloc target), whose pre-initialiser
// runs before any shared library's constructor.
#include <mimalloc.h>

namespace {

// SystemC's constructors allocate and zero a 3 MiB heap for temporaries (sc_dt's sc_temp_heap) as
// the library loads: 768 page faults at 4 KiB pages, and on the virtual machines here, where one
// costs 20-30 us, that was 12 ms of every `dcp` start-up. With large OS pages mimalloc asks for
// transparent huge pages (madvise) and the heap costs two faults. Only the default changes:
// MIMALLOC_LARGE_OS_PAGES in the environment still decides.
void prefer_large_os_pages(int, char**, char**) {
  mi_option_set_default(mi_option_large_os_pages, 1);
}

}  // namespace

// Only an executable's .preinit_array runs before the shared libraries' constructors.
__attribute__((section(".preinit_array"),
               used)) void (*const dcp_prefer_large_os_pages)(int, char**,
                                                              char**) = prefer_large_os_pages;
