#pragma once
// The database part of App, in an object file of its own. app.cpp refers to these
// functions weakly (it defines SALES_DATABASE_HOOK as [[gnu::weak]]), and a weak reference
// does not pull an object out of a static library: only a binary that calls App::db(),
// which is defined here, links this file. So the gateway links no PostgreSQL code and,
// with --as-needed, does not load libpq and what libpq loads (OpenSSL, Kerberos, LDAP,
// GnuTLS): about 4 MB of RSS it would otherwise carry for nothing.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sales/pg/migrations.hpp"
#include "sales/pg/pool.hpp"

#ifndef SALES_DATABASE_HOOK
#define SALES_DATABASE_HOOK
#endif

namespace sales::service::database {

struct Settings {
  std::string host;
  int port = 5432;
  std::string name;
  std::string user;
  std::string password;
};

SALES_DATABASE_HOOK std::shared_ptr<pg::Pool> open(const Settings& s, pg::PoolOptions options);
// Applies the migrations that are missing; returns how many ran (pg::migrate: throws
// pg::MigrationStopped when `stop` turned true while another replica held the lock).
SALES_DATABASE_HOOK int migrate(pg::Pool& pool, const std::vector<pg::Migration>& migrations,
                                const std::atomic<bool>& stop);
// Opens the pool's connections for the start (PoolOptions::open_at_start); returns how many
// are open then. Throws what connecting throws.
SALES_DATABASE_HOOK std::size_t open_at_start(pg::Pool& pool);
// Connections the pool has open (leased or idle).
SALES_DATABASE_HOOK std::size_t open_connections(const pg::Pool& pool);
// One round trip; throws when the database does not answer.
SALES_DATABASE_HOOK void ping(pg::Pool& pool);

}  // namespace sales::service::database
