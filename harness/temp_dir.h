// A fresh directory for one test, removed with everything in it afterwards.
#ifndef PODIUM_HARNESS_TEMP_DIR_H_
#define PODIUM_HARNESS_TEMP_DIR_H_

#include <string>

namespace podium::harness {

class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace podium::harness

#endif  // PODIUM_HARNESS_TEMP_DIR_H_
