// Ids in a path are positive integers; anything else names no resource: 404 with a Problem
// Details body, never a 400 that differs per service, never a 500, and nothing changes.
// products and customers have their own such test; these are the saga's resources, each
// route that takes an id, reading and writing.
#include <gtest/gtest.h>

#include "support/api.hpp"

namespace e2e {
namespace {

struct Route {
  const char* method;
  const char* before;  // the path up to the id
  const char* after;   // the rest of the path
  const char* body;
};

constexpr Route kRoutes[] = {
    {"GET", "/orders/", "", ""},
    {"POST", "/orders/", "/cancel", ""},
    {"GET", "/payments/", "", ""},
    {"PUT", "/payments/", "/confirm", ""},
    {"PUT", "/payments/", "/refund", ""},
    {"GET", "/shipping/", "", ""},
    {"PUT", "/shipping/", "", R"({"status":"SHIPPED"})"},
    {"GET", "/inventory/stock/", "", ""},
    {"POST", "/inventory/stock/", "/adjust", R"({"delta":1})"},
    {"GET", "/inventory/reservations/", "", ""},
};

TEST(MalformedIds, AreA404ProblemOnEverySagaRoute) {
  for (const auto& route : kRoutes) {
    for (const char* id : {"abc", "0", "-1", "1.5", "1e3", "99999999999999999999999"}) {
      const std::string target = std::string(route.before) + id + route.after;
      const std::string type = *route.body ? "application/json" : "";
      auto r = request(route.method, target, route.body, type);
      EXPECT_TRUE(is_problem(r, 404)) << route.method << " " << target << "\n" << r;
    }
  }
}

}  // namespace
}  // namespace e2e
