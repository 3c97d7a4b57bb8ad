// Product service: the catalogue. Wiring only.
#include "api/product_handlers.hpp"
#include "sales/service/app.hpp"
#include "store/product_store.hpp"

int main() {
  sales::service::App app({.name = "product", .default_port = 8001});
  app.set_migrations(sales::generated::migrations());
  product::ProductStore store(app.db());
  product::register_routes(app.router(), store);
  return app.run();
}
