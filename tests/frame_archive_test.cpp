// FrameArchive keeps frames by policy under ROOT/<stream>/<date>/<time>-<seq>.jpg (names sanitised, never
// outside the root), writes the annotated copy, keeps a frame once across algorithms, selects frames over
// the age and size limits exactly, and reconciles files with records after a crash.
#include "store/frame_archive.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "media/jpeg_codec.hpp"
#include "test_support.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

constexpr double kTs = 1700000000.5;  // 2023-11-14 22:13:20.5 UTC

cv::Mat test_image(int w = 160, int h = 120) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / w, y * 255 / h, 128);
  return m;
}

Result make_result(const std::string& stream, int64_t frame, bool detections,
                   const std::string& algo = "det") {
  static const cv::Mat image = test_image();
  Result r;
  r.stream = stream;
  r.algo = algo;
  r.frame = frame;
  r.pts = frame / 25.0;
  r.capture_ts = kTs;
  r.ts = kTs + 0.1;
  r.image = image;
  if (detections) r.detections.push_back({"person", 0, 0.9f, cv::Rect2f(40, 20, 60, 80), {}});
  return r;
}

// Regular files under `root`, relative, '/'-separated, sorted.
std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.push_back(e.path().lexically_relative(root).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int64_t> seqs(const std::vector<FrameRecord>& records) {
  std::vector<int64_t> out;
  for (const auto& r : records) out.push_back(r.seq);
  return out;
}

ArchivePolicy only_every(int n) {
  ArchivePolicy p;
  p.keep_detections = false;
  p.keep_every = n;
  return p;
}

TEST(FrameArchive, KeepsFramesWithDetections) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), ArchivePolicy{});
  EXPECT_FALSE(archive.maybe_keep(make_result("cam1", 0, false)));
  auto rec = archive.maybe_keep(make_result("cam1", 1, true));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->seq, 1);
  EXPECT_EQ(files_under(dir.path()).size(), 1u);
}

TEST(FrameArchive, KeepsEveryNthAnalysedFrame) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), only_every(3));
  std::vector<int64_t> kept;
  // Analysed frames are every 5th of the source: every 3rd of those is kept, starting with the first.
  for (int64_t seq = 0; seq <= 50; seq += 5)
    if (auto rec = archive.maybe_keep(make_result("cam1", seq, true))) kept.push_back(rec->seq);
  EXPECT_EQ(kept, (std::vector<int64_t>{0, 15, 30, 45}));

  // Streams count separately.
  auto rec = archive.maybe_keep(make_result("cam2", 7, false));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->seq, 7);
}

TEST(FrameArchive, EveryNthCountsFramesNotResults) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), only_every(2));
  std::vector<int64_t> kept;
  for (int64_t seq = 0; seq < 6; ++seq)
    for (const char* algo : {"faces", "people"})
      if (auto rec = archive.maybe_keep(make_result("cam1", seq, false, algo))) kept.push_back(rec->seq);
  EXPECT_EQ(kept, (std::vector<int64_t>{0, 2, 4}));
}

TEST(FrameArchive, KeepsNothingWhenThePolicySaysNone) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), only_every(0));
  for (int64_t seq = 0; seq < 5; ++seq) EXPECT_FALSE(archive.maybe_keep(make_result("cam1", seq, seq % 2)));
  EXPECT_TRUE(files_under(dir.path()).empty());
}

TEST(FrameArchive, ResultWithoutImageIsNotKept) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), ArchivePolicy{});
  Result r = make_result("cam1", 3, true);
  r.image = cv::Mat();
  EXPECT_FALSE(archive.maybe_keep(r));
}

TEST(FrameArchive, SameFrameFromTwoAlgorithmsIsKeptOnce) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), ArchivePolicy{});
  EXPECT_TRUE(archive.maybe_keep(make_result("cam1", 10, true, "faces")));
  EXPECT_FALSE(archive.maybe_keep(make_result("cam1", 10, true, "people")));
  EXPECT_TRUE(archive.maybe_keep(make_result("cam2", 10, true, "people")));  // another stream's frame 10
  EXPECT_TRUE(archive.maybe_keep(make_result("cam1", 11, true, "people")));
  EXPECT_FALSE(archive.maybe_keep(make_result("cam1", 10, true, "slow")));  // late, but kept already
  EXPECT_EQ(files_under(dir.path()).size(), 3u);
}

TEST(FrameArchive, ConcurrentResultsForTheSameFramesKeepEachOnce) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), ArchivePolicy{});
  std::atomic<int> kept{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int64_t seq = 0; seq < 30; ++seq)
        if (archive.maybe_keep(make_result("cam1", seq, true, "algo" + std::to_string(t)))) ++kept;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(kept.load(), 30);
  EXPECT_EQ(files_under(dir.path()).size(), 30u);
}

TEST(FrameArchive, WritesTheDocumentedLayoutAndRecord) {
  test::TempDir dir;
  FrameArchive archive(dir.path(), ArchivePolicy{});
  Result r = make_result("cam1", 42, true);
  auto rec = archive.maybe_keep(r);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->archive_path, "cam1/2023-11-14/221320-42.jpg");
  EXPECT_EQ(rec->stream, "cam1");
  EXPECT_EQ(rec->seq, 42);
  EXPECT_DOUBLE_EQ(rec->pts, r.pts);
  EXPECT_DOUBLE_EQ(rec->ts, kTs);
  EXPECT_EQ(rec->width, 160);
  EXPECT_EQ(rec->height, 120);
  const fs::path file = archive.root() / rec->archive_path;
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(file)), rec->archive_bytes);
  EXPECT_EQ(files_under(dir.path()), std::vector<std::string>{rec->archive_path});  // no temp file left

  std::ifstream in(file, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  cv::Mat back = decode_jpeg(bytes);
  EXPECT_EQ(back.size(), r.image.size());
}

TEST(FrameArchive, SanitisedStreamNamesStayInsideTheRoot) {
  test::TempDir dir;
  const fs::path root = dir / "archive";
  FrameArchive archive(root, ArchivePolicy{});
  std::set<std::string> folders;
  for (const char* stream :
       {"../evil", "..", ".", "/etc/passwd", "cam/1", "cam:1", "rtsp://u:p@host/x", ""}) {
    auto rec = archive.maybe_keep(make_result(stream, 1, true));
    ASSERT_TRUE(rec) << stream;
    EXPECT_EQ(rec->stream, stream);
    const fs::path rel(rec->archive_path);
    const std::string folder = rel.begin()->string();
    EXPECT_EQ(folder.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
              std::string::npos)
        << folder;
    EXPECT_NE(folder, "..");
    EXPECT_NE(folder, ".");
    EXPECT_EQ(std::distance(rel.begin(), rel.end()), 3) << rec->archive_path;
    const fs::path real = fs::canonical(root / rel);
    EXPECT_EQ(real.string().rfind(fs::canonical(root).string() + "/", 0), 0u) << real;
    folders.insert(folder);
  }
  EXPECT_EQ(folders.size(), 8u);  // "cam/1" and "cam:1" do not share a folder
  EXPECT_FALSE(fs::exists(dir / "evil"));
  for (const auto& f : files_under(dir.path())) EXPECT_EQ(f.rfind("archive/", 0), 0u) << f;
}

TEST(FrameArchive, WritesAnAnnotatedCopyBesideTheRawOne) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.annotated = true;
  FrameArchive archive(dir.path(), policy);
  Result r = make_result("cam1", 5, true);
  const cv::Mat before = r.image.clone();
  auto rec = archive.maybe_keep(r);
  ASSERT_TRUE(rec);
  const std::string annotated = "cam1/2023-11-14/221320-5.annotated.jpg";
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{annotated, rec->archive_path}));
  EXPECT_EQ(rec->archive_bytes,
            static_cast<int64_t>(fs::file_size(dir / rec->archive_path) + fs::file_size(dir / annotated)));
  EXPECT_EQ(cv::norm(before, r.image, cv::NORM_INF), 0) << "the shared frame was drawn on";

  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return decode_jpeg(
        std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  };
  cv::Mat raw = read(dir / rec->archive_path), drawn = read(dir / annotated);
  ASSERT_EQ(drawn.size(), raw.size());
  // The box's left edge (x = 40) is drawn in the annotated copy only.
  cv::Rect edge(39, 60, 3, 30);
  EXPECT_GT(cv::norm(raw(edge), drawn(edge), cv::NORM_L1) / edge.area(), 20.0);
}

TEST(FrameArchive, RemoveDeletesBothFilesAndEmptyFolders) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.annotated = true;
  FrameArchive archive(dir.path(), policy);
  auto a = archive.maybe_keep(make_result("cam1", 1, true));
  auto b = archive.maybe_keep(make_result("cam1", 2, true));
  ASSERT_TRUE(a && b);
  archive.remove(a->archive_path);
  EXPECT_EQ(files_under(dir.path()).size(), 2u);
  archive.remove(b->archive_path);
  EXPECT_TRUE(fs::is_empty(dir.path()));  // date and stream folders went too
  EXPECT_TRUE(fs::exists(archive.root()));
  EXPECT_NO_THROW(archive.remove(b->archive_path));  // already gone
  EXPECT_THROW(archive.remove("../outside.jpg"), std::invalid_argument);
  EXPECT_THROW(archive.remove("/etc/passwd"), std::invalid_argument);
}

std::vector<FrameRecord> ten_frames() {
  std::vector<FrameRecord> frames;
  for (int i = 0; i < 10; ++i) {
    FrameRecord f;
    f.stream = i % 2 ? "a" : "b";
    f.seq = i;
    f.ts = 100 + i;
    f.archive_path = f.stream + "/x/" + std::to_string(i) + ".jpg";
    f.archive_bytes = 10;
    frames.push_back(f);
  }
  return frames;
}

TEST(FrameArchive, OverLimitsByAge) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.max_age_s = 5;
  FrameArchive archive(dir.path(), policy);
  // now 110: the cutoff is 105, and "older than" is strict.
  EXPECT_EQ(seqs(archive.over_limits(ten_frames(), 110)), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(archive.over_limits(ten_frames(), 104).empty());
  EXPECT_EQ(seqs(archive.over_limits(ten_frames(), 1e9)).size(), 10u);
}

TEST(FrameArchive, OverLimitsBySize) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.max_bytes = 35;
  FrameArchive archive(dir.path(), policy);
  // 100 bytes in all: the 7 oldest go, leaving 30.
  EXPECT_EQ(seqs(archive.over_limits(ten_frames(), 110)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  policy.max_bytes = 100;
  EXPECT_TRUE(FrameArchive(dir.path(), policy).over_limits(ten_frames(), 110).empty());

  // Out-of-order input is still selected oldest first; unarchived rows do not count.
  auto frames = ten_frames();
  std::reverse(frames.begin(), frames.end());
  FrameRecord unarchived;
  unarchived.seq = 99;
  unarchived.ts = 0;
  frames.push_back(unarchived);
  EXPECT_EQ(seqs(archive.over_limits(frames, 110)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(FrameArchive, OverLimitsByAgeThenSize) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.max_age_s = 5;
  policy.max_bytes = 35;
  FrameArchive archive(dir.path(), policy);
  EXPECT_EQ(seqs(archive.over_limits(ten_frames(), 110)), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  policy.max_bytes = 45;
  EXPECT_EQ(seqs(FrameArchive(dir.path(), policy).over_limits(ten_frames(), 110)),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(FrameArchive(dir.path(), ArchivePolicy{}).over_limits(ten_frames(), 1e9).empty());  // no limits
}

TEST(FrameArchive, ReconcileDeletesOrphansAndReportsMissingFiles) {
  test::TempDir dir;
  ArchivePolicy policy;
  policy.annotated = true;
  FrameArchive archive(dir.path(), policy);
  auto kept = archive.maybe_keep(make_result("cam1", 1, true));
  auto orphan = archive.maybe_keep(make_result("cam1", 2, true));  // written, but its row never was
  auto other = archive.maybe_keep(make_result("cam2", 3, true));
  ASSERT_TRUE(kept && orphan && other);
  // A crash mid-write leaves a temp file; someone's notes are not ours to delete.
  std::ofstream(dir / "cam1/2023-11-14/221320-4.jpg.1234-0.tmp") << "half";
  std::ofstream(dir / "notes.txt") << "keep me";
  fs::create_directories(dir / "old/2020-01-01");
  std::ofstream(dir / "old/2020-01-01/000000-1.jpg") << "orphan";

  FrameRecord lost = *kept;
  lost.seq = 9;
  lost.archive_path = "cam1/2023-11-14/221320-9.jpg";  // its file is gone
  FrameRecord unarchived;
  unarchived.seq = 10;

  auto missing = archive.reconcile({*kept, *other, lost, unarchived});
  EXPECT_EQ(seqs(missing), (std::vector<int64_t>{9}));
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{
                                         "cam1/2023-11-14/221320-1.annotated.jpg",
                                         "cam1/2023-11-14/221320-1.jpg",
                                         "cam2/2023-11-14/221320-3.annotated.jpg",
                                         "cam2/2023-11-14/221320-3.jpg",
                                         "notes.txt",
                                     }));
  EXPECT_FALSE(fs::exists(dir / "old"));  // emptied folders are pruned

  // Nothing archived at all: every file goes, every archived record is missing.
  missing = archive.reconcile({});
  EXPECT_TRUE(missing.empty());
  EXPECT_EQ(files_under(dir.path()), std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(archive.reconcile({*kept}).size(), 1u);
}

TEST(FrameArchive, ErrorsNameThePath) {
  test::TempDir dir;
  std::ofstream(dir / "file") << "x";
  try {
    FrameArchive archive(dir / "file" / "archive", ArchivePolicy{});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "file").string()), std::string::npos) << e.what();
  }

  // A file where the stream's folder should be.
  FrameArchive archive(dir / "archive", ArchivePolicy{});
  std::ofstream(dir / "archive" / "cam1") << "x";
  try {
    archive.maybe_keep(make_result("cam1", 1, true));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("archive/cam1"), std::string::npos) << e.what();
  }
  // Not recorded as kept: once the folder can be made, the same frame is written.
  fs::remove(dir / "archive" / "cam1");
  EXPECT_TRUE(archive.maybe_keep(make_result("cam1", 1, true)));

  ArchivePolicy bad;
  bad.quality = 0;
  EXPECT_THROW(FrameArchive(dir / "a2", bad), std::invalid_argument);
  bad = ArchivePolicy{};
  bad.keep_every = -1;
  EXPECT_THROW(FrameArchive(dir / "a2", bad), std::invalid_argument);
}

}  // namespace
}  // namespace sf
