#pragma once
// libpq's view of bound parameters: a C string each, NULL for SQL NULL. The strings stay
// owned by `params`, which must outlive the call that uses the pointers.
#include <vector>

#include "sales/pg/pool.hpp"

namespace sales::pg {

inline std::vector<const char*> param_values(const std::vector<Param>& params) {
  std::vector<const char*> values(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
  return values;
}

}  // namespace sales::pg
