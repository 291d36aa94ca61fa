#pragma once
// What the live view adds to the web server's /metrics, besides its pipelines' figures:
//   sightflow_video_viewers{stream}                        MJPEG viewers watching now
//   sightflow_latest_detections{stream, algo}              detections in the newest result (people now)
//   sightflow_line_crossings_total{stream, line, direction} the `lines` stage's totals in the newest results
//   sightflow_zone_occupancy{stream, zone}                 tracks inside the zone in the newest results
#include "pipeline/metric_families.hpp"
#include "web/live_view.hpp"

namespace sf {

void add_live_view_metrics(MetricFamilies& out, const LiveView& live);

}  // namespace sf
