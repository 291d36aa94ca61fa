#pragma once
// An algorithm is what a schedule runs: it gets frames, it gives detections, labels or values.
// Write your own by deriving from Algorithm (see examples/people_counter.cpp).
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>

#include "sightflow/detection.hpp"
#include "sightflow/frame.hpp"
#include "sightflow/model.hpp"
#include "sightflow/stage_times.hpp"

namespace sf {

struct AlgorithmOutput {
  std::vector<Detection> detections;
  std::vector<Classification> labels;
  nlohmann::json values = nlohmann::json::object();
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  // Called once, on the thread that will call run(), before the first run (load models here).
  virtual void init() {}
  // `frames`: the run's frames, oldest first, newest last (see Schedule). Record stage times in `times`.
  virtual AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) = 0;

  // Optional split of run() for overlap: prepare() is called on the stream's decode thread as soon as a
  // run is scheduled (possibly before init() and while run() executes on the worker, so it must not touch
  // what run() changes); its result is handed to run_prepared() on the worker.
  virtual Prepared prepare(std::span<const Frame> /*frames*/, StageTimes& /*times*/) const { return nullptr; }
  virtual AlgorithmOutput run_prepared(std::span<const Frame> frames, const Prepared& /*prepared*/,
                                       StageTimes& times) {
    return run(frames, times);
  }

  // Real time: the pipeline calls this before it picks the frame to run on, and keeps the result until
  // the run ends (Model::reserve). An algorithm that runs a shared model returns the model's reservation.
  virtual std::unique_ptr<Reservation> reserve() { return nullptr; }
};

// Finds nothing, at no cost: `--detector none`, to measure what everything around inference costs.
class NoopAlgorithm : public Algorithm {
 public:
  AlgorithmOutput run(std::span<const Frame>, StageTimes&) override { return {}; }
};

// Runs a Model on the newest frame of each run, keeping only the wanted classes and scores.
// Detection models give boxes; classification models give labels (top-k with probabilities).
class DetectorAlgorithm : public Algorithm {
 public:
  // Uses a model shared with other algorithms (ModelPool::acquire): batched with their requests.
  DetectorAlgorithm(std::shared_ptr<Model> model, std::set<std::string> classes = {}, float min_score = 0.f);
  // Builds its own model (create_model); bad names or parameters throw here, before the run starts.
  DetectorAlgorithm(const std::string& model_name, const ModelParams& params,
                    std::set<std::string> classes = {}, float min_score = 0.f);
  AlgorithmOutput run(std::span<const Frame> frames, StageTimes& times) override;
  // The model's pre-processing of the newest frame, ahead of the forward pass.
  Prepared prepare(std::span<const Frame> frames, StageTimes& times) const override;
  AlgorithmOutput run_prepared(std::span<const Frame> frames, const Prepared& prepared,
                               StageTimes& times) override;
  std::unique_ptr<Reservation> reserve() override { return model_->reserve(); }

 private:
  std::shared_ptr<Model> model_;
  std::set<std::string> classes_;
  float min_score_;
};

}  // namespace sf
