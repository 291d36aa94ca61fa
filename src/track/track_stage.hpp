#pragma once
// The "track" stage: ByteTracker over each result's detections (see byte_tracker.hpp).
#include <memory>
#include <nlohmann/json.hpp>

#include "sightflow/stage.hpp"
#include "track/byte_tracker.hpp"

namespace sf {

// Options: high, low, new_track, match_iou, low_iou, tentative_iou, min_hits, max_gap (seconds),
// tentative_gap (seconds), occlusion_iou, occlusion_noise, smooth_boxes (bool), measurement_noise,
// position_noise, velocity_noise (BoxNoise). Throws std::invalid_argument naming an unknown or bad option.
ByteTrackerOptions track_options_from_json(const nlohmann::json& options);
// The stage takes those and keep_untracked (bool, default false): by default a tracked result holds only
// detections with a track_id; true keeps the others too (without an id). hold (media seconds, default 0):
// a confirmed track missed for at most that long stays in the result with its predicted box, score 0.
std::unique_ptr<Stage> make_track_stage(const nlohmann::json& options);

}  // namespace sf
