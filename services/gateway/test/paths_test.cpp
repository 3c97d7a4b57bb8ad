// The canonical spelling of a path, as the services' router reads it.
#include "domain/paths.hpp"

#include <gtest/gtest.h>

namespace gateway {
namespace {

TEST(Paths, AliasesOfOneResourceHaveOneCanonicalSpelling) {
  for (const char* alias : {"/products/42", "/products/42/", "/products/042", "/products//0042/", "//products/42"}) {
    EXPECT_EQ(canonical_path(alias), "/products/42") << alias;
  }
  EXPECT_EQ(canonical_path("/inventory//stock/"), "/inventory/stock");
  EXPECT_EQ(canonical_path("/products/0"), "/products/0");
  EXPECT_EQ(canonical_path("/products/000"), "/products/0");
  EXPECT_EQ(canonical_path("/products/0x1"), "/products/0x1") << "only numbers lose their zeros";
  EXPECT_EQ(canonical_path("/"), "/");
  EXPECT_EQ(canonical_path("//"), "/");
}

TEST(Paths, IsCanonicalAgreesWithCanonicalPath) {
  for (const char* path : {"/", "//", "/products", "/products/", "/products/42", "/products/042", "/products/0",
                           "/products/00", "/products//42", "/a/0b/01x", "/orders/7/cancel", "/orders/07/cancel/", ""}) {
    EXPECT_EQ(is_canonical(path), canonical_path(path) == path) << '"' << path << '"';
  }
}

}  // namespace
}  // namespace gateway
