#pragma once
// The MPI calls `dcp sweep --mpi` needs, behind a small RAII type so that only this file includes
// mpi.h. MPI is initialised only when --mpi is given: a plain `dcp` run never touches it.
namespace dcp::cli {

class MpiSession {
 public:
  MpiSession();   // MPI_Init
  ~MpiSession();  // MPI_Finalize
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Collective: true on every rank iff every rank passed true. Every rank must call it, failed
  // or not, so that no rank waits forever for one that has given up.
  bool all_succeeded(bool succeeded) const;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace dcp::cli
