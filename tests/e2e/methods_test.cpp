// RFC 9110's methods every resource answers besides its own, through the gateway: HEAD is
// the GET's head with its length (§9.3.2), OPTIONS says what the resource allows (§9.3.7).
// Neither changes anything.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "sales_test/env.hpp"
#include "support/api.hpp"

namespace e2e {
namespace {

using sales_test::unique_suffix;

struct Creatable {
  const char* path;
  std::function<Res()> create;
};

std::vector<Creatable> creatables() {
  return {
      {"/products", [] { return create_product("e2e-methods-" + unique_suffix(), "4.50"); }},
      {"/customers", [] { return create_customer({{"name", "Methods"}, {"email", "methods." + unique_suffix() + "@example.org"}}); }},
  };
}

TEST(Methods, HeadIsTheGetsHeadWithItsLength) {
  for (const auto& res : creatables()) {
    auto created = res.create();
    ASSERT_EQ(created.status, 201) << created;
    auto item = std::string(res.path) + "/" + std::to_string(created.id());
    auto got = get(item);
    ASSERT_EQ(got.status, 200) << got;
    auto head = request("HEAD", item);
    EXPECT_EQ(head.status, 200) << head;
    EXPECT_EQ(head.header("Content-Length"), std::to_string(got.body.size())) << "a client sizes a download by it\n" << head;
    EXPECT_EQ(head.header("Content-Type"), got.header("Content-Type")) << head;
    EXPECT_TRUE(head.body.empty()) << head;
  }
}

TEST(Methods, OptionsIs204WithAllowAndChangesNothing) {
  using Set = std::set<std::string>;
  for (const auto& res : creatables()) {
    auto created = res.create();
    ASSERT_EQ(created.status, 201) << created;
    auto item = std::string(res.path) + "/" + std::to_string(created.id());
    auto one = request("OPTIONS", item);
    EXPECT_EQ(one.status, 204) << one;
    EXPECT_EQ(allowed_methods(one), (Set{"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})) << one;
    EXPECT_TRUE(one.body.empty()) << one;
    auto collection = request("OPTIONS", res.path);
    EXPECT_EQ(collection.status, 204) << collection;
    EXPECT_EQ(allowed_methods(collection), (Set{"GET", "HEAD", "POST", "OPTIONS"})) << collection;
    EXPECT_EQ(get(item).json, created.json) << "nothing changed";
  }
}

}  // namespace
}  // namespace e2e
