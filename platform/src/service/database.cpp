#include "database.hpp"

#include <openssl/crypto.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "sales/service/app.hpp"

namespace {
// libpq links libldap (for ldap:// lookups in pg_service.conf, which we never use) and
// libldap links GnuTLS, whose library constructor initialises it in every process that
// loads it: about 0.8 MB of RSS for a library nothing here calls (libldap initialises GnuTLS
// itself before any LDAP over TLS). GnuTLS skips that when GNUTLS_NO_IMPLICIT_INIT=1 is in
// the environment at start, before any library constructor runs. So the executable's
// .preinit_array (run before every library constructor; linked exactly into the binaries
// that load libpq, see database.hpp) re-executes the binary once with that variable added.
// Nothing has been initialised yet, so this costs only a millisecond of start-up; the pid
// stays the same. A GNUTLS_NO_IMPLICIT_INIT already set (even to 0) is left alone, and if
// the exec fails the process simply carries on.
constexpr const char kSkipGnutlsInit[] = "GNUTLS_NO_IMPLICIT_INIT=1";

void reexec_without_gnutls_init(int, char** argv, char** envp) {
  constexpr std::size_t kMaxEnv = 4096;
  static char* env[kMaxEnv + 2];
  std::size_t n = 0;
  for (; envp && envp[n]; ++n) {
    if (std::strncmp(envp[n], kSkipGnutlsInit, sizeof "GNUTLS_NO_IMPLICIT_INIT=" - 1) == 0 || n == kMaxEnv) return;
    env[n] = envp[n];
  }
  env[n] = const_cast<char*>(kSkipGnutlsInit);
  env[n + 1] = nullptr;
  const char* self = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  execve(self ? self : "/proc/self/exe", argv, env);
}
[[gnu::used, gnu::section(".preinit_array")]] void (*preinit_reexec)(int, char**, char**) =
    &reexec_without_gnutls_init;
}  // namespace

namespace sales::service {

pg::Pool& App::db() {
  if (!pool_) throw std::logic_error(opts_.name + " has no database");
  return *pool_;
}

namespace database {

std::shared_ptr<pg::Pool> open(const Settings& s, pg::PoolOptions options) {
  auto transport = pg::transport_options(s.host);
  if (transport.find("sslmode=disable") != std::string::npos) {
    // Without TLS, libpq uses OpenSSL only for SCRAM (hashes, HMAC, random), whose errors
    // do not read OpenSSL's error strings. Loading them at OpenSSL's first use costs
    // about 0.5 MB of RSS (the table, and the code of every module that registers some).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr);
  }
  options.conninfo =
      pg::conninfo(s.host, s.port, s.name, s.user, s.password, options.connect_timeout) + transport;
  return std::make_shared<pg::Pool>(std::move(options));
}

int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations) { return pg::migrate(pool, migrations); }

void ping(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  pg::exec(pool, kPing);
}

}  // namespace database
}  // namespace sales::service
