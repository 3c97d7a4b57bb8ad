#include "sales/problem/problem.hpp"

#include <gtest/gtest.h>

namespace sales {
namespace {

TEST(Problem, NotFoundNamesTheResourceAndItsId) {
  auto p = Problem::not_found("Product", 7);
  EXPECT_EQ(p.status, 404);
  EXPECT_EQ(p.title, "Not Found");
  EXPECT_EQ(p.detail, "Product 7 does not exist.");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(Problem::not_found("No resource at /x.").detail, "No resource at /x.");
}

}  // namespace
}  // namespace sales
