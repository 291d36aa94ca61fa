#include "cli/finetune.hpp"

#include <dlfcn.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <span>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "common/atomic_file.hpp"
#include "dataset/dataset.hpp"
#include "sightflow/evaluation.hpp"
#include "sightflow/model_catalog.hpp"
#include "sightflow/model_entry_file.hpp"
#include "train/finetune_module.hpp"

namespace sf::cli {
namespace fs = std::filesystem;
namespace {

// Next to the sightflow binary, unless $SIGHTFLOW_FINETUNE_MODULE names another file.
fs::path module_path() {
  if (const char* env = std::getenv("SIGHTFLOW_FINETUNE_MODULE"); env && *env) return env;
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return (error ? fs::path(".") : self.parent_path()) / train::kFinetuneModuleFile;
}

SfFinetuneRunFn load_module() {
  const fs::path path = module_path();
  if (!fs::exists(path))
    throw std::runtime_error("tune --finetune needs the fine-tuning module " + path.string() +
                             ", which is not there: this sightflow was built without libtorch "
                             "(apt-get install libtorch-dev, then cmake -DSIGHTFLOW_TORCH=ON)");
  // Kept loaded until the process ends: libtorch does not unload cleanly.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw std::runtime_error("cannot load " + path.string() + ": " + dlerror());
  void* entry = dlsym(handle, train::kFinetuneEntryPoint);
  if (entry == nullptr)
    throw std::runtime_error(path.string() + " has no " + train::kFinetuneEntryPoint +
                             " (a module from another build?)");
  return reinterpret_cast<SfFinetuneRunFn>(entry);
}

// The entry of a catalog name or a model entry file, as YAML (copied into the tuned model's entry).
YAML::Node entry_node(const std::string& model) {
  const fs::path file = is_model_entry_file(model) ? fs::path(model) : model_locations().catalog;
  const YAML::Node models = YAML::LoadFile(file.string())["models"];
  if (is_model_entry_file(model)) return YAML::Clone(models.begin()->second);
  return YAML::Clone(models[model]);
}

CatalogEntry find_entry(const std::string& model) {
  if (is_model_entry_file(model)) return load_model_entry_file(model);
  const ModelCatalog catalog = ModelCatalog::load(model_locations().catalog);
  const CatalogEntry* entry = catalog.find(model);
  if (entry == nullptr)
    throw std::invalid_argument("tune --finetune: unknown model '" + model + "' (a darknet catalog model: " +
                                "yolo-fastest-body, yolo-fastest-xl, ...; see sightflow models)");
  return *entry;
}

// Dataset labels -> the network's classes: the labels the model has, or those of --classes.
std::map<std::string, int> class_map(const CatalogEntry& entry, const std::vector<std::string>& wanted) {
  std::vector<std::string> names = entry.class_names;
  if (names.empty() && entry.file("labels")) {
    std::ifstream in(require_files(model_locations().models_dir, entry).at("labels"));
    for (std::string line; std::getline(in, line);) names.push_back(line);
  }
  std::map<std::string, int> classes;
  for (size_t i = 0; i < names.size(); ++i)
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), names[i]) != wanted.end())
      classes[names[i]] = int(i);
  for (const auto& name : wanted)
    if (!classes.count(name))
      throw std::invalid_argument("--classes: " + entry.name + " has no class '" + name + "'");
  return classes;
}

struct ProgressContext {
  bool terminal = false;
};

void report_progress(const SfFinetuneProgress* p, void* context) {
  const auto& c = *static_cast<ProgressContext*>(context);
  const double eta = std::max(0.0, p->eta_s);
  if (p->epoch_done) {
    std::fprintf(stderr, "%sepoch %d/%d: training loss %.4f, held-out loss %.4f (%.0f s, ETA %02d:%02d)\n",
                 c.terminal ? "\r\033[K" : "", p->epoch, p->epochs, p->loss, p->val_loss, p->elapsed_s,
                 int(eta) / 60, int(eta) % 60);
  } else if (c.terminal) {
    const double done = (double(p->epoch - 1) + double(p->step) / double(p->steps)) / double(p->epochs);
    std::fprintf(stderr, "\r[%s] epoch %d/%d step %lld/%lld loss %.4f ETA %02d:%02d ",
                 progress_bar(done).c_str(), p->epoch, p->epochs, static_cast<long long>(p->step),
                 static_cast<long long>(p->steps), p->loss, int(eta) / 60, int(eta) % 60);
  }
  std::fflush(stderr);
}

// Precision, recall, F1 and AP50 of a model on the held-out images, against the dataset's labels (the
// reference model's boxes) of the trained classes.
nlohmann::json score_heldout(const std::string& model_name, const ModelParams& params,
                             const std::vector<const DatasetImage*>& images,
                             const std::map<std::string, int>& classes) {
  auto model = create_model(model_name, params);
  DetectionEvaluator evaluator(0.5);
  for (const DatasetImage* image : images) {
    const cv::Mat frame = cv::imread(image->path.string(), cv::IMREAD_COLOR);
    if (frame.empty()) throw std::runtime_error("cannot read image " + image->path.string());
    std::vector<Detection> found = model->infer(std::span<const cv::Mat>(&frame, 1)).at(0).detections;
    std::erase_if(found, [&](const Detection& d) { return !classes.count(d.label); });
    std::vector<GroundTruthBox> truth;
    for (const Detection& d : image->boxes)
      if (classes.count(d.label)) truth.push_back({d.box, false});
    evaluator.add_frame(found, truth);
  }
  const EvalSummary s = evaluator.summary();
  const double f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return {{"precision", s.precision},
          {"recall", s.recall},
          {"f1", f1},
          {"ap50", s.average_precision},
          {"true_positives", s.true_positives},
          {"false_positives", s.false_positives},
          {"false_negatives", s.false_negatives}};
}

// NAME.yaml beside the tuned files: the starting model's entry with the tuned files in it.
fs::path write_entry_file(const FinetuneSettings& f, const std::string& name, const CatalogEntry& base) {
  const fs::path out(f.out);
  YAML::Node entry = entry_node(f.model);
  entry["description"] = base.description + "; fine-tuned by sightflow tune --finetune on " + f.dataset;
  YAML::Node files(YAML::NodeType::Sequence);
  const auto add = [&](const std::string& role, const fs::path& file, const std::string& source) {
    YAML::Node node;
    node["role"] = role;
    node["path"] = file.filename().string();
    node["sha256"] = sha256_file(file);
    node["source"] = source;
    files.push_back(node);
  };
  const std::string source = "sightflow tune --finetune of " + f.model + " on " + f.dataset;
  add("model", out / (name + ".weights"), source);
  add("config", out / (name + ".cfg"), source);
  if (base.file("labels")) {  // the class list travels with the model
    const fs::path labels = require_files(model_locations().models_dir, base).at("labels");
    fs::copy_file(labels, out / (name + ".names"), fs::copy_options::overwrite_existing);
    add("labels", out / (name + ".names"), base.file("labels")->source);
  }
  entry["files"] = files;
  YAML::Node root;
  root["models"][name] = entry;
  YAML::Emitter yaml;
  yaml << root;
  const fs::path path = out / (name + ".yaml");
  write_file_atomically(path, "# A model entry file (docs/TUNE.md): sightflow run --detector " +
                                  path.string() + "\n" + yaml.c_str() + "\n");
  return path;
}

}  // namespace

int finetune(const FinetuneSettings& f) {
  Dataset dataset;
  try {
    dataset = load_dataset(f.dataset);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("--dataset " + f.dataset + ": " + e.what() +
                             " (expected a folder written by sightflow dataset capture)");
  }
  if (dataset.images.empty()) throw std::invalid_argument("dataset " + f.dataset + " has no images");
  const CatalogEntry base = find_entry(f.model);
  if (base.format != "darknet" || base.decoder != "darknet-yolo")
    throw std::invalid_argument(
        "tune --finetune trains darknet models (yolo-fastest-body, yolo-fastest-xl, ...); " + f.model +
        " is " + base.format);
  const auto files = require_files(model_locations().models_dir, base);  // names a missing file first
  const std::map<std::string, int> classes = class_map(base, f.classes);
  const SfFinetuneRunFn run = load_module();

  const std::string name =
      (is_model_entry_file(f.model) ? fs::path(f.model).stem().string() : f.model) + "-tuned";
  nlohmann::json images = nlohmann::json::array();
  for (const DatasetImage& image : dataset.images) {
    nlohmann::json boxes = nlohmann::json::array();
    for (const Detection& d : image.boxes)
      boxes.push_back({{"label", d.label}, {"box", {d.box.x, d.box.y, d.box.width, d.box.height}}});
    images.push_back({{"path", image.path.string()}, {"frame", image.frame}, {"boxes", boxes}});
  }
  const nlohmann::json request = {
      {"cfg", files.at("config").string()},
      {"weights", files.at("model").string()},
      {"out_dir", f.out},
      {"name", name},
      {"classes", classes},
      {"images", images},
      {"epochs", f.epochs},
      {"batch_size", f.batch},
      {"learning_rate", f.learning_rate},
      {"seed", f.seed},
      {"threads", std::max(1, cv::getNumThreads())},
      {"freeze", f.freeze},
      {"val_fraction", f.val_fraction},
      {"patience", f.patience},
      {"max_minutes", f.max_minutes},
      {"augment", f.no_augment ? nlohmann::json{{"flip", false}, {"scale", 0}, {"colour", 0}}
                               : nlohmann::json::object()},
      {"resume", f.resume},
      {"provenance",
       {{"dataset", fs::absolute(f.dataset).string()},
        {"dataset_manifest", dataset.manifest},
        {"model", f.model},
        {"params", f.params}}}};

  ProgressContext context{isatty(STDERR_FILENO) == 1};
  char error[4096] = "";
  if (run(request.dump().c_str(), report_progress, &context, error, sizeof error) != 0)
    throw std::runtime_error(std::string("tune --finetune: ") + error);

  // The same held-out frames, through OpenCV DNN: the model as it ships, and as tuned.
  const fs::path record_path = fs::path(f.out) / "finetune.json";
  nlohmann::json record;
  {
    std::ifstream in(record_path);
    record = nlohmann::json::parse(in);
  }
  const fs::path entry_path = write_entry_file(f, name, base);
  std::map<std::string, const DatasetImage*> by_path;
  for (const DatasetImage& image : dataset.images) by_path[image.path.string()] = &image;
  std::vector<const DatasetImage*> heldout;
  for (const auto& path : record["data"]["heldout"]) heldout.push_back(by_path.at(path.get<std::string>()));
  const ModelParams params = parse_params(f.params);
  if (!heldout.empty()) {
    record["validation"]["detection_before"] = score_heldout(f.model, params, heldout, classes);
    record["validation"]["detection_after"] = score_heldout(entry_path.string(), params, heldout, classes);
  }
  record["model"]["entry"] = entry_path.string();
  write_file_atomically(record_path, record.dump(2) + "\n");

  const auto& v = record["validation"];
  std::printf("%s on %s: %zu training images, %zu held out; %zu epochs (%s), best epoch %d, %.0f s\n",
              f.model.c_str(), f.dataset.c_str(), record["data"]["train_images"].get<size_t>(),
              heldout.size(), record["epochs"].size(), record["stopped"].get<std::string>().c_str(),
              record["best_epoch"].get<int>(), record["seconds"].get<double>());
  std::printf("held-out loss: before %.4f, after %.4f\n", v["loss_before"]["total"].get<double>(),
              v["loss_after"]["total"].get<double>());
  if (v.contains("detection_before")) {
    const auto line = [](const char* when, const nlohmann::json& s) {
      std::printf("held-out against the reference, %s: P %.3f R %.3f F1 %.3f AP50 %.3f\n", when,
                  s["precision"].get<double>(), s["recall"].get<double>(), s["f1"].get<double>(),
                  s["ap50"].get<double>());
    };
    line("before", v["detection_before"]);
    line("after", v["detection_after"]);
  }
  std::printf("model -> %s (sightflow run --detector %s)\nrecord -> %s\n", entry_path.c_str(),
              entry_path.c_str(), record_path.c_str());
  if (f.json) std::cout << record.dump() << std::endl;
  return 0;
}

}  // namespace sf::cli
