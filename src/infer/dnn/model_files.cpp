// Model files on disk: sha256 checks against the catalog, with messages that say where a missing or
// damaged file comes from.
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

#include "sightflow/model_catalog.hpp"

namespace sf {

namespace fs = std::filesystem;

std::string sha256_file(const fs::path& path) {
  // An ifstream opens a directory without complaint and reads nothing: refuse anything but a file.
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw ModelFileError("cannot read " + path.string() + ": not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelFileError("cannot read " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw ModelFileError("sha256 of " + path.string() + ": OpenSSL could not start a digest");
  // Streamed in 1 MiB chunks: model files can be far larger than is worth holding in memory twice.
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto n = in.gcount();
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(n)) != 1)
      throw ModelFileError("sha256 of " + path.string() + ": OpenSSL digest failed");
  }
  if (in.bad()) throw ModelFileError("error while reading " + path.string());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    throw ModelFileError("sha256 of " + path.string() + ": OpenSSL digest failed");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

FileCheck check_file(const fs::path& models_dir, const ModelFile& file) {
  FileCheck check;
  check.path = fs::absolute(models_dir / file.path).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(check.path, ec)) {
    check.state = FileState::Missing;
    return check;
  }
  if (file.sha256.empty()) {
    check.state = FileState::Unchecked;
    return check;
  }
  check.actual_sha256 = sha256_file(check.path);
  check.state = check.actual_sha256 == file.sha256 ? FileState::Ok : FileState::Mismatch;
  return check;
}

namespace {
// "/models/" -> "/models", so that messages show the folder the way users write it.
std::string folder_text(const fs::path& dir) {
  auto path = fs::absolute(dir).lexically_normal();
  if (path.filename().empty() && path.has_parent_path()) path = path.parent_path();
  return path.string();
}
}  // namespace

std::map<std::string, fs::path> require_files(const fs::path& models_dir, const CatalogEntry& entry) {
  std::map<std::string, fs::path> paths;
  for (const auto& file : entry.files) {
    auto prefix = "model '" + entry.name + "': file " + file.path;
    auto origin = file.source.empty() ? std::string() : "it comes from: " + file.source;
    FileCheck check;
    try {
      check = check_file(models_dir, file);
    } catch (const ModelFileError& e) {
      throw ModelFileError("model '" + entry.name + "': " + e.what());
    }
    switch (check.state) {
      case FileState::Missing:
        throw ModelFileError(prefix + " not found in " + folder_text(models_dir) +
                             " (set --models or SIGHTFLOW_MODELS" + (origin.empty() ? "" : "; " + origin) +
                             ")");
      case FileState::Mismatch:
        throw ModelFileError(prefix + " (" + check.path.string() + ") has sha256 " + check.actual_sha256 +
                             ", the catalog expects " + file.sha256 +
                             ": the file is damaged or a different version" +
                             (origin.empty() ? "" : " (" + origin + ")"));
      case FileState::Ok:
      case FileState::Unchecked:
        paths[file.role] = check.path;
        break;
    }
  }
  return paths;
}

}  // namespace sf
