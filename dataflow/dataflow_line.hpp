#pragma once
// A dataflow on one line: how trace stores keep the dataflow of each sample.
#include <string>

#include "dataflow/dataflow.hpp"

namespace dcp {

// Levels L2|L1|L0, each "<spatial map>:<loop order>:<tiles of K,C,Y,X,R,S,N>". The spatial map is
// '-' when nothing is unrolled, else each unrolled dim in K..N order as its letter and fan-out,
// marked 'r' or 'c' when bound to the array's rows or columns, e.g.
// "K4N3:KCYXRSN:64,3,56,56,3,3,3|C2Y7:KCRSYXN:16,3,8,56,3,3,1|-:KCYRSXN:4,1,1,56,3,3,1". The name
// is not part of it.
std::string format_dataflow_line(const Dataflow& dataflow);
// Throws InputError(source, field, ...) naming the character where text not in that form goes
// wrong.
Dataflow parse_dataflow_line(const std::string& text, const std::string& source,
                             const std::string& field = "dataflow");

}  // namespace dcp
