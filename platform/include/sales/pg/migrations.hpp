#pragma once
// Versioned migrations: each service embeds store/migrations/NNNN_name.sql at build time
// (cmake/SalesService.cmake) and applies the ones its database has not seen, in order,
// all in one transaction (none or all), under an advisory lock so replicas never race.
#include <cstdint>
#include <string_view>
#include <vector>

namespace sales::pg {

class Pool;

struct Migration {
  std::int64_t version;
  std::string_view name;
  std::string_view sql;
};

// Returns how many migrations were applied now.
int migrate(Pool& pool, const std::vector<Migration>& migrations);

}  // namespace sales::pg

namespace sales::generated {
const std::vector<sales::pg::Migration>& migrations();  // defined per service by CMake
}
