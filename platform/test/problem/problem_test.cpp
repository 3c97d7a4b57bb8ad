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

TEST(Problem, ADetailNamesTenItemsAndCountsTheRest) {
  std::size_t asked = 0;
  auto item = [&](std::size_t i) { return ++asked, "p" + std::to_string(i); };
  EXPECT_EQ(join_in_detail(0, item), "");
  EXPECT_EQ(join_in_detail(2, item), "p0; p1");
  EXPECT_EQ(join_in_detail(12, item), "p0; p1; p2; p3; p4; p5; p6; p7; p8; p9; and 2 more");
  asked = 0;
  EXPECT_EQ(join_in_detail(60000, item), "p0; p1; p2; p3; p4; p5; p6; p7; p8; p9; and 59990 more");
  EXPECT_EQ(asked, 10u) << "only the named items are made";
}

}  // namespace
}  // namespace sales
