#pragma once
// The store backends the store tests run against: a SQLite file, and a PostgreSQL server that the test
// starts itself (initdb into a temporary folder, 127.0.0.1, a free port) and stops at the end.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sf::test {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::string url() const = 0;  // what open_store() and --db take
};

std::vector<std::string> store_backends();  // names: "sqlite", "postgres"
std::unique_ptr<StoreBackend> make_store_backend(const std::string& name, const std::filesystem::path& dir);

}  // namespace sf::test
