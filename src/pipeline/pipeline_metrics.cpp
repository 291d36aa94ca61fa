#include "pipeline/pipeline_metrics.hpp"

namespace sf {

namespace {

// Figures of the parts that count for themselves (sinks, the store's writer).
class FamilyCounterReport : public CounterReport {
 public:
  FamilyCounterReport(MetricFamilies& out, const MetricLabels& labels) : out_(out), labels_(labels) {}
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
  MetricFamilies& out_;
  const MetricLabels& labels_;
};

}  // namespace

void add_pipeline_metrics(MetricFamilies& out, const Metrics& metrics, const MetricLabels& part_labels) {
  double now = steady_now();  // rates are not exported; only the copies' counters are read
  for (const auto& [stream, s] : metrics.streams(now)) {
    MetricLabels l{{"stream", stream}};
    out.counter("sightflow_frames_read_total", "Frames decoded from the source.", l, double(s.frames_read));
    out.counter("sightflow_frames_skipped_total", "Frames skipped by the stream's fps limit.", l,
                double(s.frames_skipped));
    out.counter("sightflow_source_reconnects_total", "Times a live source was reconnected.", l,
                double(s.reconnects));
    out.histogram("sightflow_read_seconds", "Time to read and decode one frame.", l, s.read);
  }
  for (const auto& [key, a] : metrics.algorithms(now)) {
    MetricLabels l{{"stream", key.first}, {"algo", key.second}};
    out.counter("sightflow_runs_total", "Algorithm runs completed.", l, double(a.runs));
    out.counter("sightflow_runs_dropped_total",
                "Scheduled runs dropped because inference was busy (real-time mode).", l,
                double(a.runs_dropped));
    out.counter("sightflow_runs_failed_total", "Algorithm runs that failed (no result).", l,
                double(a.runs_failed));
    out.counter("sightflow_detections_total", "Detections produced.", l, double(a.detections));
    out.gauge("sightflow_queue_depth", "Runs waiting for the algorithm's worker.", l, double(a.queue_depth));
    out.gauge("sightflow_queue_capacity", "Capacity of the algorithm's run queue.", l,
              double(a.queue_capacity));
    const std::pair<const char*, const StageStat*> stages[] = {
        {"resize", &a.resize}, {"model", &a.model}, {"post", &a.post}, {"sink", &a.sink}};
    for (const auto& [stage, stat] : stages)
      out.histogram("sightflow_stage_seconds", "Time of one stage of a run: resize, model, post, sink.",
                    with_label(l, "stage", stage), *stat);
    // Apart from the stages: it spans them and the queues between, so a sum over `stage` stays meaningful.
    out.histogram("sightflow_result_latency_seconds",
                  "Time from a frame's capture to its result written by the sinks.", l, a.total);
  }
  FamilyCounterReport parts(out, part_labels);
  metrics.report_counters(parts);
}

}  // namespace sf
