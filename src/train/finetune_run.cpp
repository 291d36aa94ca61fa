#include "train/finetune_run.hpp"

#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "train/darknet_finetune.hpp"

namespace sf::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
T field(const nlohmann::json& request, const char* name, T fallback) {
  if (!request.contains(name)) return fallback;
  try {
    return request.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("finetune request: ") + name + ": " + e.what());
  }
}

// Each epoch draws from generators seeded by (seed, epoch), so that a resumed run trains exactly as one
// that never stopped.
uint64_t epoch_seed(uint64_t seed, int epoch) { return seed * 1000003ULL + uint64_t(epoch); }

// The held-out images: a seeded shuffle, its first val_fraction (at least one image, at least one left).
std::vector<size_t> held_out(size_t count, double fraction, uint64_t seed) {
  if (fraction <= 0 || count < 2) return {};
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(seed);
  std::shuffle(order.begin(), order.end(), random);
  const size_t n = std::clamp<size_t>(size_t(std::lround(fraction * double(count))), 1, count - 1);
  order.resize(n);
  std::sort(order.begin(), order.end());
  return order;
}

nlohmann::json loss_json(const FinetuneStep& step) {
  return {
      {"total", step.total()}, {"box", step.box}, {"objectness", step.objectness}, {"classes", step.classes}};
}

struct Checkpoint {
  fs::path dir;
  fs::path last() const { return dir / "last.weights"; }
  fs::path best() const { return dir / "best.weights"; }
  fs::path optimizer() const { return dir / "optimizer.pt"; }
  fs::path state() const { return dir / "state.json"; }
};

nlohmann::json read_state(const Checkpoint& checkpoint) {
  std::ifstream in(checkpoint.state());
  if (!in)
    throw std::runtime_error("--resume: no checkpoint in " + checkpoint.dir.string() +
                             " (run without --resume to start)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(checkpoint.state().string() + ": not valid JSON: " + e.what());
  }
}

}  // namespace

nlohmann::json to_json(const FinetuneRequest& r) {
  nlohmann::json images = nlohmann::json::array();
  for (const DatasetImage& image : r.images) {
    nlohmann::json boxes = nlohmann::json::array();
    for (const Detection& d : image.boxes)
      boxes.push_back({{"label", d.label}, {"box", {d.box.x, d.box.y, d.box.width, d.box.height}}});
    images.push_back({{"path", image.path.string()}, {"frame", image.frame}, {"boxes", boxes}});
  }
  return {{"cfg", r.cfg.string()},
          {"weights", r.weights.string()},
          {"out_dir", r.out_dir.string()},
          {"name", r.name},
          {"classes", r.classes},
          {"images", images},
          {"epochs", r.epochs},
          {"batch_size", r.batch_size},
          {"learning_rate", r.learning_rate},
          {"seed", r.seed},
          {"threads", r.threads},
          {"freeze", r.freeze},
          {"val_fraction", r.val_fraction},
          {"patience", r.patience},
          {"max_minutes", r.max_minutes},
          {"augment", {{"flip", r.augment.flip}, {"scale", r.augment.scale}, {"colour", r.augment.colour}}},
          {"resume", r.resume},
          {"provenance", r.provenance}};
}

FinetuneRequest parse_finetune_request(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("finetune request: expected a JSON object");
  FinetuneRequest r;
  r.cfg = field<std::string>(j, "cfg", "");
  r.weights = field<std::string>(j, "weights", "");
  r.out_dir = field<std::string>(j, "out_dir", "");
  r.name = field<std::string>(j, "name", "");
  if (r.cfg.empty() || r.weights.empty() || r.out_dir.empty() || r.name.empty())
    throw std::invalid_argument("finetune request: cfg, weights, out_dir and name are required");
  r.classes = field<std::map<std::string, int>>(j, "classes", {});
  for (const auto& image : field<nlohmann::json>(j, "images", nlohmann::json::array())) {
    DatasetImage d;
    d.path = field<std::string>(image, "path", "");
    d.frame = field<int64_t>(image, "frame", 0);
    for (const auto& box : field<nlohmann::json>(image, "boxes", nlohmann::json::array())) {
      const auto xywh = field<std::vector<float>>(box, "box", {});
      if (xywh.size() != 4) throw std::invalid_argument("finetune request: a box is [x, y, w, h]");
      Detection detection;
      detection.label = field<std::string>(box, "label", "");
      detection.box = {xywh[0], xywh[1], xywh[2], xywh[3]};
      d.boxes.push_back(detection);
    }
    r.images.push_back(std::move(d));
  }
  r.epochs = field(j, "epochs", r.epochs);
  r.batch_size = field(j, "batch_size", r.batch_size);
  r.learning_rate = field(j, "learning_rate", r.learning_rate);
  r.seed = field(j, "seed", r.seed);
  r.threads = field(j, "threads", r.threads);
  r.freeze = field(j, "freeze", r.freeze);
  r.val_fraction = field(j, "val_fraction", r.val_fraction);
  r.patience = field(j, "patience", r.patience);
  r.max_minutes = field(j, "max_minutes", r.max_minutes);
  const nlohmann::json augment = field<nlohmann::json>(j, "augment", nlohmann::json::object());
  r.augment.flip = field(augment, "flip", r.augment.flip);
  r.augment.scale = field(augment, "scale", r.augment.scale);
  r.augment.colour = field(augment, "colour", r.augment.colour);
  r.resume = field(j, "resume", r.resume);
  r.provenance = field<nlohmann::json>(j, "provenance", nlohmann::json::object());
  if (r.epochs < 1 || r.batch_size < 1 || r.threads < 1 || r.patience < 1 || r.learning_rate <= 0)
    throw std::invalid_argument("epochs, batch size, threads, patience and learning rate must be positive");
  if (r.val_fraction < 0 || r.val_fraction >= 1)
    throw std::invalid_argument("val fraction must be in [0, 1)");
  if (r.max_minutes < 0 || r.freeze < 0) throw std::invalid_argument("max minutes and freeze must be >= 0");
  if (r.augment.scale < 0 || r.augment.scale >= 1 || r.augment.colour < 0 || r.augment.colour >= 1)
    throw std::invalid_argument("augmentation scale and colour must be in [0, 1)");
  return r;
}

nlohmann::json run_finetune(const FinetuneRequest& r,
                            const std::function<void(const SfFinetuneProgress&)>& progress) {
  const Clock::time_point start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  torch::set_num_threads(r.threads);
  fs::create_directories(r.out_dir / "checkpoint");
  const Checkpoint checkpoint{r.out_dir / "checkpoint"};

  // The split, and the settings a checkpoint must share to be resumed.
  const std::vector<size_t> heldout = held_out(r.images.size(), r.val_fraction, r.seed);
  std::vector<DatasetImage> train_images, val_images;
  for (size_t i = 0, h = 0; i < r.images.size(); ++i) {
    if (h < heldout.size() && heldout[h] == i) {
      val_images.push_back(r.images[i]);
      ++h;
    } else {
      train_images.push_back(r.images[i]);
    }
  }
  nlohmann::json settings = to_json(r);
  settings.erase("images"), settings.erase("provenance"), settings.erase("resume");
  nlohmann::json split = {{"train", nlohmann::json::array()}, {"heldout", nlohmann::json::array()}};
  for (const auto& image : train_images) split["train"].push_back(image.path.string());
  for (const auto& image : val_images) split["heldout"].push_back(image.path.string());

  DarknetNetwork network = load_darknet_network(r.cfg, r.weights);
  if (train_images.empty()) throw std::invalid_argument("fine-tuning needs at least one image");
  const TrainingSet train_set = make_training_set(train_images, network, r.classes);
  const TrainingSet& val_set =
      val_images.empty() ? train_set : make_training_set(val_images, network, r.classes);
  const FinetuneStep before = evaluate_loss(network, val_set);

  nlohmann::json history = nlohmann::json::array();
  int first_epoch = 1, best_epoch = 0, stale = 0;
  double best_loss = std::numeric_limits<double>::infinity(), resumed_seconds = 0;
  if (r.resume) {
    const nlohmann::json state = read_state(checkpoint);
    nlohmann::json theirs = state.value("settings", nlohmann::json::object()), ours = settings;
    theirs.erase("epochs"), ours.erase("epochs"), theirs.erase("max_minutes"), ours.erase("max_minutes");
    theirs.erase("threads"), ours.erase("threads");
    if (theirs != ours || state.value("split", nlohmann::json()) != split)
      throw std::runtime_error("--resume: the checkpoint in " + checkpoint.dir.string() +
                               " was made with other data or settings (only --epochs, --max-minutes and "
                               "--threads may change); run without --resume to start again");
    network->load_weights(checkpoint.last());
    first_epoch = state.at("epoch").get<int>() + 1;
    best_epoch = state.at("best_epoch").get<int>();
    best_loss = state.at("best_loss").get<double>();
    stale = state.at("stale").get<int>();
    history = state.at("history");
    resumed_seconds = state.value("seconds", 0.0);
  }
  network->freeze_layers(r.freeze);
  std::vector<torch::Tensor> learnable;
  for (auto& parameter : network->parameters())
    if (parameter.requires_grad()) learnable.push_back(parameter);
  if (learnable.empty()) throw std::invalid_argument("--freeze leaves nothing to train");
  torch::optim::Adam optimizer(learnable, torch::optim::AdamOptions(r.learning_rate));
  if (r.resume && first_epoch > 1) torch::load(optimizer, checkpoint.optimizer().string());

  const auto n = size_t(train_set.images.size(0));
  const size_t batch = std::min(size_t(r.batch_size), n);
  const int64_t steps = int64_t((n + batch - 1) / batch);
  const double budget_s = r.max_minutes * 60;
  std::string stopped = "epochs";
  if (first_epoch > r.epochs) stopped = "already trained";
  if (stale >= r.patience) stopped = "early stopping", first_epoch = r.epochs + 1;
  int64_t steps_done = 0;  // in this run: the ETA's pace
  for (int epoch = first_epoch; epoch <= r.epochs; ++epoch) {
    std::mt19937_64 random(epoch_seed(r.seed, epoch));
    torch::manual_seed(epoch_seed(r.seed, epoch));
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), random);
    network->train();
    for (const auto& module : network->modules(false))  // batch-norm statistics stay as loaded
      if (auto batch_norm = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(module)) batch_norm->eval();

    double loss_sum = 0;
    int64_t step = 0;
    bool out_of_time = false;
    for (size_t first = 0; first < n; first += batch, ++step) {
      const std::vector<int64_t> indexes(order.begin() + long(first),
                                         order.begin() + long(std::min(n, first + batch)));
      torch::Tensor images = train_set.images.index_select(0, torch::tensor(indexes, torch::kLong));
      std::vector<YoloTarget> targets;
      for (size_t j = 0; j < indexes.size(); ++j)
        for (YoloTarget t : train_set.boxes[size_t(indexes[j])]) {
          t.image = int(j);
          targets.push_back(t);
        }
      augment_batch(images, targets, r.augment, random);
      const YoloLossParts parts = yolo_loss(network->forward(images), network->yolo_layers(), targets,
                                            network->input_width(), network->input_height());
      optimizer.zero_grad();
      parts.total().backward();
      optimizer.step();
      loss_sum += parts.total().item<double>();
      ++steps_done;
      const double seconds = elapsed();
      const int64_t steps_left = int64_t(r.epochs - epoch) * steps + (steps - step - 1);
      if (progress)
        progress({epoch, r.epochs, step + 1, steps, loss_sum / double(step + 1), -1, seconds,
                  seconds / double(steps_done) * double(steps_left), 0});
      if (budget_s > 0 && seconds >= budget_s) {
        out_of_time = true;
        ++step;
        break;
      }
    }
    const FinetuneStep validation = evaluate_loss(network, val_set);
    const double val_loss = validation.total();
    network->save_weights(checkpoint.last());
    if (val_loss < best_loss) {
      best_loss = val_loss, best_epoch = epoch, stale = 0;
      network->save_weights(checkpoint.best());
    } else {
      ++stale;
    }
    history.push_back({{"epoch", epoch},
                       {"steps", step},
                       {"train_loss", loss_sum / double(std::max<int64_t>(step, 1))},
                       {"val_loss", loss_json(validation)},
                       {"seconds", resumed_seconds + elapsed()}});
    torch::save(optimizer, checkpoint.optimizer().string());
    const nlohmann::json state = {{"epoch", epoch},         {"best_epoch", best_epoch},
                                  {"best_loss", best_loss}, {"stale", stale},
                                  {"history", history},     {"settings", settings},
                                  {"split", split},         {"seconds", resumed_seconds + elapsed()}};
    write_file_atomically(checkpoint.state(), state.dump(1) + "\n");
    if (progress)
      progress({epoch, r.epochs, step, steps, history.back()["train_loss"].get<double>(), val_loss, elapsed(),
                elapsed() / double(steps_done) * double(int64_t(r.epochs - epoch) * steps), 1});
    if (out_of_time) {
      stopped = "time budget";
      break;
    }
    if (stale >= r.patience) {
      stopped = "early stopping";
      break;
    }
  }
  if (best_epoch == 0) throw std::runtime_error("no epoch was trained (see " + checkpoint.dir.string() + ")");

  // The best epoch's weights, beside the cfg they belong to.
  const fs::path weights_out = r.out_dir / (r.name + ".weights"), cfg_out = r.out_dir / (r.name + ".cfg");
  fs::copy_file(r.cfg, cfg_out, fs::copy_options::overwrite_existing);
  fs::copy_file(checkpoint.best(), weights_out, fs::copy_options::overwrite_existing);
  DarknetNetwork best = load_darknet_network(cfg_out, weights_out);
  const FinetuneStep after = evaluate_loss(best, val_set);

  size_t train_boxes = 0, val_boxes = 0;
  for (const auto& boxes : train_set.boxes) train_boxes += boxes.size();
  if (!val_images.empty())
    for (const auto& boxes : val_set.boxes) val_boxes += boxes.size();
  nlohmann::json record = {
      {"model", {{"cfg", cfg_out.string()}, {"weights", weights_out.string()}, {"from", r.weights.string()}}},
      {"provenance", r.provenance},
      {"data",
       {{"images", r.images.size()},
        {"train_images", train_images.size()},
        {"train_boxes", train_boxes},
        {"heldout_images", val_images.size()},
        {"heldout_boxes", val_boxes},
        {"heldout", split["heldout"]}}},
      {"settings", settings},
      {"epochs", history},
      {"best_epoch", best_epoch},
      {"stopped", stopped},
      {"validation",
       {{"on", val_images.empty() ? "training images (no held-out part)" : "held-out images"},
        {"loss_before", loss_json(before)},
        {"loss_after", loss_json(after)}}},
      {"seconds", resumed_seconds + elapsed()}};
  write_file_atomically(r.out_dir / "finetune.json", record.dump(2) + "\n");
  return record;
}

}  // namespace sf::train
