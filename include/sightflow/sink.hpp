#pragma once
// Where results go. The pipeline calls every sink from one sink thread, in result order per algorithm.
#include <memory>
#include <string>

#include "sightflow/result.hpp"

namespace sf {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const Result& result) = 0;
  // Called once after the last result; flush and finish files here.
  virtual void close() {}
};

// One JSON object per line; path "-" writes to standard output. Throws naming the path if it cannot be
// created. Flushed after each line in real time so that followers (tail -f) see results at once.
std::shared_ptr<Sink> make_jsonl_sink(const std::string& path, bool flush_each_line);

// One JSON object per event (Result::events with their result's stream, algo, frame, pts, ts) per line.
std::shared_ptr<Sink> make_events_sink(const std::string& path, bool flush_each_line);

// Tracked detections in MOTChallenge text (`frame,id,x,y,w,h,score,-1,-1,-1`, frame = seq + 1), as
// TrackEval and py-motmetrics read it. Detections without a track_id are left out.
std::shared_ptr<Sink> make_mot_sink(const std::string& path);

// An annotated video (boxes, labels, count and fps drawn) per stream, encoded with FFmpeg. With several
// streams the stream name is added before the extension.
std::shared_ptr<Sink> make_video_sink(const std::string& path, double fps, bool several_streams);

}  // namespace sf
