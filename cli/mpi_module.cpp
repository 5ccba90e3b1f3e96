// The module dcp_mpi: MpiSession's calls, on OpenMPI.
#include <mpi.h>

#include "cli/mpi_session.hpp"

namespace {

void init(int* rank, int* size) {
  MPI_Init(nullptr, nullptr);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
}

void finalize() {
  MPI_Finalize();
}

bool all_succeeded(bool succeeded) {
  int local = succeeded ? 1 : 0;
  int global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return global != 0;
}

}  // namespace

extern "C" const dcp::cli::MpiFunctions* dcp_mpi_functions() {
  static const dcp::cli::MpiFunctions functions{init, finalize, all_succeeded};
  return &functions;
}
