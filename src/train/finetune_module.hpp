#pragma once
// The interface of libsightflow_finetune.so, the fine-tuning module that `sightflow tune --finetune` loads
// with dlopen: libtorch costs a process about 0.8 s to load, so the sightflow binary does not link it and
// only this command pays. One C entry point; the request is JSON (FinetuneRequest in finetune_run.hpp),
// the answer is the files it writes. Plain C types only: no libtorch header here.
#include <cstddef>
#include <cstdint>

extern "C" {

// Reported after every training step and after each epoch's validation.
struct SfFinetuneProgress {
  int epoch;         // 1-based
  int epochs;        // the most epochs this run may train
  int64_t step;      // steps done in this epoch
  int64_t steps;     // steps per epoch
  double loss;       // mean training loss of the epoch so far
  double val_loss;   // the epoch's validation loss once validated, else -1
  double elapsed_s;  // since this run started
  double eta_s;      // estimated time to the last epoch, -1 while unknown
  int epoch_done;    // 1: this report closes the epoch (val_loss set)
};
typedef void (*SfFinetuneProgressFn)(const SfFinetuneProgress* progress, void* context);

// Trains as `request_json` asks and writes its files. Returns 0 when done; otherwise 1 with a message in
// `error` (cut to error_size - 1 bytes).
typedef int (*SfFinetuneRunFn)(const char* request_json, SfFinetuneProgressFn progress, void* context,
                               char* error, size_t error_size);
}

namespace sf::train {
inline constexpr const char* kFinetuneEntryPoint = "sightflow_finetune_run";
inline constexpr const char* kFinetuneModuleFile = "libsightflow_finetune.so";
}  // namespace sf::train
