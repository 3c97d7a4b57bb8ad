#include "sales/json/writer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace sales::json {
namespace {

TEST(Writer, AnOptionalIsItsValueOrNull) {
  Writer w;
  w.begin_object()
      .field("a", std::optional<std::string>("x\"y"))
      .field("b", std::optional<std::string>())
      .field("c", std::optional<std::int64_t>(42))
      .field("d", std::optional<std::int64_t>())
      .end_object();
  EXPECT_EQ(w.str(), R"({"a":"x\"y","b":null,"c":42,"d":null})");
}

}  // namespace
}  // namespace sales::json
