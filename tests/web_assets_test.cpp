// The dashboard's files as compiled into the binary: found by URL path, typed, byte-exact, complete.
#include "web/web_assets.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "test_support.hpp"

using sf::find_web_asset;
using sf::web_asset_paths;

namespace {

const std::filesystem::path kAssetDir = std::filesystem::path(SIGHTFLOW_SOURCE_DIR) / "src/web/assets";

std::string body_of(std::string_view path) {
  const auto* asset = find_web_asset(path);
  return asset ? std::string(asset->body) : std::string();
}

}  // namespace

TEST(WebAssets, TheDashboardPageScriptAndStyleAreFoundWithTheirContentTypes) {
  const std::pair<std::string_view, std::string_view> expected[] = {
      {"/", "text/html; charset=utf-8"},
      {"/assets/index.html", "text/html; charset=utf-8"},
      {"/assets/dashboard.js", "text/javascript; charset=utf-8"},
      {"/assets/dashboard.css", "text/css; charset=utf-8"},
  };
  for (const auto& [path, content_type] : expected) {
    const auto* asset = find_web_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    EXPECT_EQ(asset->content_type, content_type) << path;
    EXPECT_FALSE(asset->body.empty()) << path;
  }
}

TEST(WebAssets, EveryFileOfTheAssetFolderIsEmbeddedByteForByte) {
  std::set<std::string> listed(web_asset_paths().begin(), web_asset_paths().end());
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kAssetDir)) {
    if (entry.path().filename().string().starts_with(".")) continue;  // not embedded: editors' files
    std::string path = "/assets/" + entry.path().filename().string();
    ASSERT_TRUE(listed.count(path)) << path << " is in src/web/assets but not embedded";
    EXPECT_EQ(body_of(path), sf::test::read_file(entry.path())) << path;
    ++files;
  }
  EXPECT_EQ(listed.size(), files + 1);  // each file, and "/"
  EXPECT_EQ(body_of("/"), body_of("/assets/index.html"));
}

TEST(WebAssets, UnknownPathsAreNotFound) {
  for (std::string_view path :
       {"", "/index.html", "/assets/", "/assets/missing.js", "/assets/../CMakeLists.txt",
        "/assets/dashboard.js/", "assets/dashboard.js", "/ASSETS/dashboard.js"})
    EXPECT_EQ(find_web_asset(path), nullptr) << path;
}

// Every script and style the page asks for exists, and the page asks for the dashboard's own.
TEST(WebAssets, ThePageReferencesOnlyScriptsAndStylesThatExist) {
  std::string html = body_of("/");
  std::regex reference(R"re((?:src|href)="([^"]+)")re");
  std::set<std::string> referenced;
  for (std::sregex_iterator it(html.begin(), html.end(), reference), end; it != end; ++it) {
    std::string url = (*it)[1];
    referenced.insert(url);
    EXPECT_NE(find_web_asset(url), nullptr) << url << " is referenced by index.html but not served";
  }
  EXPECT_TRUE(referenced.count("/assets/dashboard.js"));
  EXPECT_TRUE(referenced.count("/assets/dashboard.css"));
}

// Nothing is fetched from elsewhere at run time, and server data never becomes markup.
TEST(WebAssets, TheAssetsLoadNothingFromOtherHostsAndBuildNoMarkupFromStrings) {
  // src=/href= attributes, CSS url(), import and fetch of an absolute or protocol-relative URL.
  std::regex remote(R"re(((src|href)\s*=\s*["']?|url\(\s*["']?|(import|fetch)\s*\(?\s*["'`])(https?:)?//)re",
                    std::regex::icase);
  for (auto path : web_asset_paths()) {
    std::string body = body_of(path);
    std::smatch match;
    EXPECT_FALSE(std::regex_search(body, match, remote)) << path << ": " << match.str();
  }
  std::string script = body_of("/assets/dashboard.js");
  for (std::string_view sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"})
    EXPECT_EQ(script.find(sink), std::string::npos) << sink;
}
