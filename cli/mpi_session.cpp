#include "cli/mpi_session.hpp"

#include "common/shared_module.hpp"

namespace dcp::cli {

MpiSession::MpiSession()
    // Global: OpenMPI opens its own components, which look for its symbols there.
    : mpi_(*call_module_entry<const MpiFunctions*>(DCP_MPI_LIBRARY, "dcp_mpi_functions",
                                                   /*global=*/true)) {
  mpi_.init(&rank_, &size_);
}

MpiSession::~MpiSession() {
  mpi_.finalize();
}

}  // namespace dcp::cli
