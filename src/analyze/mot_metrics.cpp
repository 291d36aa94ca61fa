#include "sightflow/mot_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "sightflow/assignment.hpp"
#include "sightflow/evaluation.hpp"

namespace sf {
namespace {

TrackFrames load_mot_rows(const std::string& path, const char* what, bool ground_truth) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot open ") + what + " file " + path);
  return parse_mot_tracks(in, path, ground_truth);
}

}  // namespace

// MOT text rows: frame, id, left, top, width, height, then a seventh value (gt: flag, tracker: score).
TrackFrames parse_mot_tracks(std::istream& in, const std::string& path, bool ground_truth) {
  TrackFrames frames;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    double frame, id, left, top, width, height, seventh = 1;
    if (!(fields >> frame >> id >> left >> top >> width >> height)) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) +
                               ": expected 'frame, id, left, top, width, height, " +
                               (ground_truth ? "flag" : "score") + ", ...'");
    }
    fields >> seventh;
    auto fail = [&](const std::string& problem) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + problem);
    };
    // Frames and ids become integers, the box and score floats: each must fit (NaN fails every test).
    constexpr double kLargestIndex = 1e15;  // well inside int64_t, and doubles still step by 1 there
    if (!(frame >= 1 && frame <= kLargestIndex)) fail("frame must be >= 1 (and at most 1e15)");
    if (!(std::abs(id) <= kLargestIndex)) fail("id must be a number of at most 1e15");
    for (double value : {left, top, width, height, seventh})
      if (!(std::abs(value) <= std::numeric_limits<float>::max()))
        fail("box and " + std::string(ground_truth ? "flag" : "score") + " must be finite numbers");
    TrackBox b;
    b.id = static_cast<int64_t>(id);
    b.box = cv::Rect2f(float(left), float(top), float(width), float(height));
    if (ground_truth)
      b.ignore = seventh == 0;
    else
      b.score = float(seventh);
    frames[static_cast<int64_t>(frame) - 1].push_back(b);
  }
  return frames;
}

TrackFrames load_mot_tracks_ground_truth(const std::string& path) {
  return load_mot_rows(path, "ground truth", true);
}

TrackFrames load_mot_tracks(const std::string& path) { return load_mot_rows(path, "tracks", false); }

void write_mot_tracks(std::ostream& out, const TrackFrames& tracks) {
  for (const auto& [frame, boxes] : tracks) {
    for (const auto& b : boxes) {
      out << frame + 1 << ',' << b.id << ',' << b.box.x << ',' << b.box.y << ',' << b.box.width << ','
          << b.box.height << ',' << b.score << ",-1,-1,-1\n";
    }
  }
}

void save_mot_tracks(const std::string& path, const TrackFrames& tracks) {
  std::ostringstream out;
  write_mot_tracks(out, tracks);
  try {
    write_file_atomically(path, out.str());  // whole or absent, also when eval is killed
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("tracks file: ") + e.what());
  }
}

void MotEvaluator::add_frame(const std::vector<TrackBox>& truth_in, const std::vector<TrackBox>& tracks_in) {
  ++frames_;
  const double t = iou_threshold_ - 1e-9;  // IoU exactly at the threshold matches despite float rounding

  // Distractors (TrackEval's preprocessing): one assignment of all truth to all tracks by IoU; tracks that
  // land on an ignored truth box leave the frame, then the ignored boxes do.
  std::vector<char> keep(tracks_in.size(), 1);
  if (std::any_of(truth_in.begin(), truth_in.end(), [](const TrackBox& b) { return b.ignore; })) {
    std::vector<std::vector<double>> cost(truth_in.size(), std::vector<double>(tracks_in.size(), kForbidden));
    for (size_t i = 0; i < truth_in.size(); ++i)
      for (size_t j = 0; j < tracks_in.size(); ++j)
        if (double v = iou(truth_in[i].box, tracks_in[j].box); v >= t) cost[i][j] = -v;
    auto match = solve_assignment(cost);
    for (size_t i = 0; i < truth_in.size(); ++i)
      if (truth_in[i].ignore && match[i] >= 0) keep[size_t(match[i])] = 0;
  }
  std::vector<const TrackBox*> truth, tracks;
  for (const auto& b : truth_in)
    if (!b.ignore) truth.push_back(&b);
  for (size_t j = 0; j < tracks_in.size(); ++j)
    if (keep[j]) tracks.push_back(&tracks_in[j]);

  std::vector<std::vector<double>> overlap(truth.size(), std::vector<double>(tracks.size(), 0));
  for (size_t i = 0; i < truth.size(); ++i)
    for (size_t j = 0; j < tracks.size(); ++j) {
      overlap[i][j] = iou(truth[i]->box, tracks[j]->box);
      if (overlap[i][j] >= t) ++overlaps_[{truth[i]->id, tracks[j]->id}];
    }
  for (const auto* b : tracks) ++track_ids_[b->id];
  track_boxes_ += int64_t(tracks.size());

  // CLEAR MOT: a correspondence of the previous frame that still overlaps enough is kept; the rest are
  // assigned minimising 1 - IoU.
  std::vector<int> truth_match(truth.size(), -1), track_match(tracks.size(), -1);
  for (size_t i = 0; i < truth.size(); ++i) {
    auto prev = previous_frame_.find(truth[i]->id);
    if (prev == previous_frame_.end()) continue;
    for (size_t j = 0; j < tracks.size(); ++j) {
      if (track_match[j] < 0 && tracks[j]->id == prev->second && overlap[i][j] >= t) {
        truth_match[i] = int(j), track_match[j] = int(i);
        break;
      }
    }
  }
  std::vector<size_t> rows, cols;
  for (size_t i = 0; i < truth.size(); ++i)
    if (truth_match[i] < 0) rows.push_back(i);
  for (size_t j = 0; j < tracks.size(); ++j)
    if (track_match[j] < 0) cols.push_back(j);
  std::vector<std::vector<double>> cost(rows.size(), std::vector<double>(cols.size(), kForbidden));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < cols.size(); ++c)
      if (overlap[rows[r]][cols[c]] >= t) cost[r][c] = 1.0 - overlap[rows[r]][cols[c]];
  auto assigned = solve_assignment(cost);
  for (size_t r = 0; r < rows.size(); ++r)
    if (assigned[r] >= 0) {
      size_t i = rows[r], j = cols[size_t(assigned[r])];
      truth_match[i] = int(j), track_match[j] = int(i);
    }

  std::map<int64_t, int64_t> current;
  for (size_t i = 0; i < truth.size(); ++i) {
    auto& id = truth_ids_[truth[i]->id];
    ++id.frames;
    bool matched = truth_match[i] >= 0;
    if (matched) {
      size_t j = size_t(truth_match[i]);
      int64_t track = tracks[j]->id;
      ++tp_, ++id.matched;
      iou_sum_ += overlap[i][j];
      auto last = last_match_.find(truth[i]->id);
      if (last != last_match_.end() && last->second != track) ++switches_;
      last_match_[truth[i]->id] = track;
      current[truth[i]->id] = track;
      if (!id.matched_last) ++id.segments;
    } else {
      ++fn_;
    }
    id.matched_last = matched;
  }
  for (int m : track_match) fp_ += m < 0 ? 1 : 0;
  previous_frame_ = std::move(current);
}

MotSummary MotEvaluator::summary() const {
  MotSummary s;
  s.frames = frames_;
  s.tp = tp_, s.fp = fp_, s.fn = fn_, s.id_switches = switches_;
  s.num_gt = tp_ + fn_;
  s.num_gt_ids = int64_t(truth_ids_.size());
  s.num_tracks = int64_t(track_ids_.size());
  s.mota = s.num_gt > 0 ? 1.0 - double(fn_ + fp_ + switches_) / double(s.num_gt) : 0;
  s.motp = tp_ > 0 ? iou_sum_ / double(tp_) : 0;
  s.precision = tp_ + fp_ > 0 ? double(tp_) / double(tp_ + fp_) : 0;
  s.recall = s.num_gt > 0 ? double(tp_) / double(s.num_gt) : 0;
  for (const auto& [id, t] : truth_ids_) {
    double ratio = t.frames > 0 ? double(t.matched) / double(t.frames) : 0;
    s.mostly_tracked += ratio >= 0.8 ? 1 : 0;  // py-motmetrics' bounds
    s.mostly_lost += ratio < 0.2 ? 1 : 0;
    s.fragmentations += std::max<int64_t>(t.segments - 1, 0);
  }

  // Identity: one truth id to at most one track id for the whole sequence, maximising the frames they
  // overlap (IDTP). Zero-overlap pairs stay allowed so the solver never trades overlap for more pairs.
  std::vector<int64_t> truth_ids, track_ids;
  for (const auto& [id, t] : truth_ids_) truth_ids.push_back(id);
  for (const auto& [id, n] : track_ids_) track_ids.push_back(id);
  std::vector<std::vector<double>> cost(truth_ids.size(), std::vector<double>(track_ids.size(), 0));
  for (size_t i = 0; i < truth_ids.size(); ++i)
    for (size_t j = 0; j < track_ids.size(); ++j)
      if (auto it = overlaps_.find({truth_ids[i], track_ids[j]}); it != overlaps_.end())
        cost[i][j] = -double(it->second);
  auto assigned = solve_assignment(cost);
  for (size_t i = 0; i < truth_ids.size(); ++i)
    if (assigned[i] >= 0) s.idtp += int64_t(-cost[i][size_t(assigned[i])]);
  s.idfn = s.num_gt - s.idtp;
  s.idfp = track_boxes_ - s.idtp;
  s.idp = s.idtp + s.idfp > 0 ? double(s.idtp) / double(s.idtp + s.idfp) : 0;
  s.idr = s.idtp + s.idfn > 0 ? double(s.idtp) / double(s.idtp + s.idfn) : 0;
  s.idf1 = 2 * s.idtp + s.idfp + s.idfn > 0 ? 2.0 * double(s.idtp) / double(2 * s.idtp + s.idfp + s.idfn) : 0;
  return s;
}

MotSummary evaluate_tracks(const TrackFrames& truth, const TrackFrames& tracks, double iou_threshold) {
  MotEvaluator evaluator(iou_threshold);
  static const std::vector<TrackBox> none;
  std::map<int64_t, std::pair<const std::vector<TrackBox>*, const std::vector<TrackBox>*>> frames;
  for (const auto& [f, boxes] : truth) frames[f] = {&boxes, &none};
  for (const auto& [f, boxes] : tracks) {
    auto& entry = frames.try_emplace(f, &none, &none).first->second;
    entry.second = &boxes;
  }
  for (const auto& [f, pair] : frames) evaluator.add_frame(*pair.first, *pair.second);
  return evaluator.summary();
}

}  // namespace sf
