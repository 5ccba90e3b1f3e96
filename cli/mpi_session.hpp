#pragma once
// The MPI calls `dcp sweep --mpi` needs, behind a small RAII type. MPI (OpenMPI's eight
// libraries) lives in the module dcp_mpi, opened only when --mpi is given: a plain
// `dcp` run neither loads nor initialises it.
namespace dcp::cli {

// The entry points of the module dcp_mpi (mpi_module.cpp, the one file that includes mpi.h).
struct MpiFunctions {
  void (*init)(int* rank, int* size);  // MPI_Init, then this process's rank and the world size
  void (*finalize)();
  bool (*all_succeeded)(bool succeeded);  // MPI_Allreduce of `succeeded` with MPI_LAND
};

class MpiSession {
 public:
  MpiSession();   // opens dcp_mpi, MPI_Init
  ~MpiSession();  // MPI_Finalize
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Collective: true on every rank iff every rank passed true. Every rank must call it, failed
  // or not, so that no rank waits forever for one that has given up.
  bool all_succeeded(bool succeeded) const { return mpi_.all_succeeded(succeeded); }

 private:
  const MpiFunctions& mpi_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace dcp::cli

// The symbol MpiSession looks up in the module.
extern "C" const dcp::cli::MpiFunctions* dcp_mpi_functions();
