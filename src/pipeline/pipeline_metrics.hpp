#pragma once
// A pipeline's figures as Prometheus families:
//   sightflow_frames_read_total, sightflow_frames_skipped_total, sightflow_source_reconnects_total {stream}
//   sightflow_read_seconds {stream}                      histogram: read and decode one frame
//   sightflow_runs_total, sightflow_runs_dropped_total, sightflow_runs_failed_total,
//   sightflow_detections_total {stream, algo}
//   sightflow_queue_depth, sightflow_queue_capacity {stream, algo}
//   sightflow_stage_seconds {stream, algo, stage}        histogram: resize, model, post, sink
//   sightflow_result_latency_seconds {stream, algo}      histogram: from capture to written by the sinks
// then what its sinks count themselves (Metrics::report_counters: results stored, webhook deliveries, ...),
// labelled by `part_labels` so that one pipeline's sink series differ from another's in one process.
// Rates (frames or results per second) are Prometheus's to compute: rate(sightflow_frames_read_total[1m]).
#include "pipeline/metric_families.hpp"
#include "sightflow/metrics.hpp"

namespace sf {

void add_pipeline_metrics(MetricFamilies& out, const Metrics& metrics, const MetricLabels& part_labels = {});

}  // namespace sf
