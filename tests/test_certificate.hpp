#pragma once
// A self-signed certificate and its key, made with the openssl CLI in a test's temporary folder.
#include <string>

#include "test_support.hpp"

namespace sf::test {

struct Certificate {
  std::string cert, key;  // PEM files
};

// For `names`: subjectAltName entries such as "IP:127.0.0.1,DNS:localhost". Throws when openssl fails.
Certificate make_certificate(const TempDir& dir, const std::string& name, const std::string& names);

}  // namespace sf::test
