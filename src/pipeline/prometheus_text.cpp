#include "pipeline/prometheus_text.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace sf {

namespace {

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[64];
  std::snprintf(text, sizeof text, "%.15g", value);
  return text;
}

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

PrometheusLabels with(PrometheusLabels labels, const std::string& key, const std::string& value) {
  labels.emplace_back(key, value);
  return labels;
}

}  // namespace

std::string format_labels(const PrometheusLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
  }
  return out + "}";
}

PrometheusText::Family& PrometheusText::family(const std::string& name, const std::string& help,
                                               const std::string& type) {
  auto [it, added] = families_.try_emplace(name, Family{help, type, {}});
  if (added) order_.push_back(name);
  return it->second;
}

void PrometheusText::counter(const std::string& name, const std::string& help, const PrometheusLabels& labels,
                             double value) {
  family(name, help, "counter").samples.push_back(name + format_labels(labels) + " " + format_value(value));
}

void PrometheusText::gauge(const std::string& name, const std::string& help, const PrometheusLabels& labels,
                           double value) {
  family(name, help, "gauge").samples.push_back(name + format_labels(labels) + " " + format_value(value));
}

void PrometheusText::histogram(const std::string& name, const std::string& help,
                               const PrometheusLabels& labels, const StageStat& stat) {
  auto& f = family(name, help, "histogram");
  int64_t cumulative = 0;
  for (size_t i = 0; i < StageStat::kBuckets.size(); ++i) {
    cumulative += stat.bucket_counts()[i];
    f.samples.push_back(name + "_bucket" +
                        format_labels(with(labels, "le", format_value(StageStat::kBuckets[i]))) + " " +
                        std::to_string(cumulative));
  }
  f.samples.push_back(name + "_bucket" + format_labels(with(labels, "le", "+Inf")) + " " +
                      std::to_string(stat.count()));
  f.samples.push_back(name + "_sum" + format_labels(labels) + " " + format_value(stat.sum()));
  f.samples.push_back(name + "_count" + format_labels(labels) + " " + std::to_string(stat.count()));
}

std::string PrometheusText::str() const {
  std::ostringstream out;
  for (const auto& name : order_) {
    const auto& f = families_.at(name);
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << f.type << "\n";
    for (const auto& s : f.samples) out << s << "\n";
  }
  return out.str();
}

namespace {

// Figures of the parts that count for themselves (sinks, the store's writer), labelled by pipeline.
class PrometheusCounterReport : public CounterReport {
 public:
  PrometheusCounterReport(PrometheusText& out, const PrometheusLabels& labels) : out_(out), labels_(labels) {}
  void counter(const CounterName& name, double value) override {
    out_.counter(name.metric, name.help, labels_, value);
  }
  void gauge(const CounterName& name, double value) override {
    out_.gauge(name.metric, name.help, labels_, value);
  }
  void histogram(const CounterName& name, const StageStat& stat) override {
    out_.histogram(name.metric, name.help, labels_, stat);
  }

 private:
  PrometheusText& out_;
  const PrometheusLabels& labels_;
};

}  // namespace

void add_pipeline_metrics(PrometheusText& out, const Metrics& metrics, double now_s,
                          const PrometheusLabels& pipeline_labels) {
  for (const auto& [stream, s] : metrics.streams(now_s)) {
    PrometheusLabels l{{"stream", stream}};
    out.counter("sightflow_frames_read_total", "Frames decoded from the source.", l, double(s.frames_read));
    out.counter("sightflow_frames_skipped_total", "Frames skipped by the stream's fps limit.", l,
                double(s.frames_skipped));
    out.counter("sightflow_source_reconnects_total", "Times a live source was reconnected.", l,
                double(s.reconnects));
    out.gauge("sightflow_in_fps", "Frames read per second over the last seconds.", l, s.in_fps);
    out.histogram("sightflow_read_seconds", "Time to read and decode one frame.", l, s.read);
  }
  for (const auto& [key, a] : metrics.algorithms(now_s)) {
    PrometheusLabels l{{"stream", key.first}, {"algo", key.second}};
    out.counter("sightflow_runs_total", "Algorithm runs completed.", l, double(a.runs));
    out.counter("sightflow_runs_dropped_total",
                "Scheduled runs dropped because inference was busy (real-time mode).", l,
                double(a.runs_dropped));
    out.counter("sightflow_runs_failed_total", "Algorithm runs that failed (no result).", l,
                double(a.runs_failed));
    out.counter("sightflow_detections_total", "Detections produced.", l, double(a.detections));
    out.gauge("sightflow_out_fps", "Results per second over the last seconds.", l, a.out_fps);
    out.gauge("sightflow_queue_depth", "Runs waiting for the algorithm's worker.", l, double(a.queue_depth));
    out.gauge("sightflow_queue_capacity", "Capacity of the algorithm's run queue.", l,
              double(a.queue_capacity));
    const std::pair<const char*, const StageStat*> stages[] = {{"resize", &a.resize},
                                                               {"model", &a.model},
                                                               {"post", &a.post},
                                                               {"sink", &a.sink},
                                                               {"total", &a.total}};
    for (const auto& [stage, stat] : stages)
      out.histogram("sightflow_stage_seconds",
                    "Per-stage latency of a run: resize, model, post, sink; total from capture to written.",
                    with(l, "stage", stage), *stat);
  }
  PrometheusCounterReport parts(out, pipeline_labels);
  metrics.report_counters(parts);
}

}  // namespace sf
