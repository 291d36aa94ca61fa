#include "test_certificate.hpp"

#include <stdexcept>

namespace sf::test {

Certificate make_certificate(const TempDir& dir, const std::string& name, const std::string& names) {
  Certificate c{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  std::string output;
  int rc = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                        "-addext", "subjectAltName=" + names, "-keyout", c.key, "-out", c.cert},
                       &output);
  if (rc != 0) throw std::runtime_error("openssl req failed: " + output);
  return c;
}

}  // namespace sf::test
