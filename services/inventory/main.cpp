// Inventory service: owns inventory data. Its resources arrive with the order saga; until then it
// serves health and metrics, and every other route answers an honest 404 problem.
#include "sales/service/app.hpp"

int main() {
  sales::service::App app({.name = "inventory", .default_port = 8005});
  return app.run();
}
