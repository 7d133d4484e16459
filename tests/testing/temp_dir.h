// A fresh directory for one test, removed with everything in it afterwards.
#ifndef PODIUM_TESTS_TESTING_TEMP_DIR_H_
#define PODIUM_TESTS_TESTING_TEMP_DIR_H_

#include <string>

namespace podium::test {

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

}  // namespace podium::test

#endif  // PODIUM_TESTS_TESTING_TEMP_DIR_H_
