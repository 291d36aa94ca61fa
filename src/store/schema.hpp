#pragma once
// The store's schema, shared by SQLite and PostgreSQL (their SQL differs only where noted). Each migration
// moves the schema one version up; the version is kept in the database (SQLite: PRAGMA user_version;
// PostgreSQL: table sightflow_schema), so an old file is upgraded in place when opened.
#include <string>
#include <vector>

namespace sf::schema {

enum class Dialect { Sqlite, Postgres };

// migrations(d)[i] takes a database from version i to i + 1.
std::vector<std::string> migrations(Dialect dialect);

}  // namespace sf::schema
