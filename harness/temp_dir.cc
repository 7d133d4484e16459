#include "harness/temp_dir.h"

#include <stdlib.h>

#include <filesystem>

#include "glog/logging.h"

namespace podium::harness {

ScopedTempDir::ScopedTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "podium-test-XXXXXX").string();
  CHECK(mkdtemp(pattern.data()) != nullptr) << "mkdtemp " << pattern;
  path_ = pattern;
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace podium::harness
