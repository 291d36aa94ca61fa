// The entry point of libsightflow_finetune.so (finetune_module.hpp): JSON in, files out, no exception
// across the C boundary.
#include "train/finetune_module.hpp"

#include <cstring>
#include <exception>
#include <string>

#include "train/finetune_run.hpp"

namespace {

void copy_message(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int sightflow_finetune_run(const char* request_json,
                                                                             SfFinetuneProgressFn progress,
                                                                             void* context, char* error,
                                                                             size_t error_size) {
  try {
    const auto request = sf::train::parse_finetune_request(nlohmann::json::parse(request_json));
    sf::train::run_finetune(request, [&](const SfFinetuneProgress& p) {
      if (progress) progress(&p, context);
    });
    return 0;
  } catch (const std::exception& e) {
    copy_message(e.what(), error, error_size);
  } catch (...) {
    copy_message("unknown error while fine-tuning", error, error_size);
  }
  return 1;
}
