// Shipping service: owns shipping data. Its resources arrive with the order saga; until then it
// serves health and metrics, and every other route answers an honest 404 problem.
#include "sales/service/app.hpp"

int main() {
  sales::service::App app({.name = "shipping", .default_port = 8006});
  return app.run();
}
