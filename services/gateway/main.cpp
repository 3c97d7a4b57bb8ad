// API gateway: the one door clients use. Wiring only.
#include "api/gateway.hpp"
#include "domain/client_address.hpp"
#include "sales/http/async_server.hpp"
#include "sales/log/log.hpp"
#include "sales/service/app.hpp"

int main() {
  // One event loop by default: on a machine whose cores the gateway shares with the services
  // and PostgreSQL, a second loop cost more in wake-ups and migrations than it gave (2 cores:
  // ~22 against ~25 µs of gateway CPU per proxied request, and more requests/s). Give it
  // HTTP_THREADS = the cores it has to itself; Kubernetes scales it out by replicas.
  sales::service::App app({.name = "gateway", .default_port = 8080, .uses_database = false, .default_threads = 1});
  auto config = gateway::read_gateway_config(app.env());
  if (!app.validate()) return 2;
  auto options = app.server_options();
  options.on_quiet = nullptr;  // its malloc is mimalloc (CMakeLists.txt), which returns freed pages itself
  options.body_limit = static_cast<std::size_t>(app.env().integer("GATEWAY_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20));
  for (const auto& name : gateway::misspelt_settings(app.env())) {
    sales::log::warn("{} is set but the gateway has no such setting (misspelt?): it has no effect", name);
  }
  options.max_connections_per_client = config.max_connections_per_client;
  options.connection_client = [trusted = config.trusted_proxies](const std::string& peer) {
    return gateway::connection_client(peer, trusted);
  };
  if (options.max_connections_per_client >= options.max_connections) {
    sales::log::warn("GATEWAY_MAX_CONNECTIONS_PER_CLIENT={} is not below the server's {} connections (HTTP_MAX_CONNECTIONS, "
                     "or half the descriptors it may open): one client can still take every place",
                     options.max_connections_per_client, options.max_connections);
  }
  gateway::Gateway gw(std::move(config), app.metrics(), app.router());
  if (gw.cross_origin()) {
    options.decorate_answer = [&gw](const sales::http::Request& req, sales::http::Response& res) { gw.add_cors_fields(req, res); };
  }
  auto server = sales::http::make_async_server(
      options, [&gw](sales::http::Request& req) { return gw.handle(req); }, &app.metrics(), /*loop_per_thread=*/true);
  return app.serve(std::move(server));
}
