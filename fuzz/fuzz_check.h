// What the fuzz targets assert beyond "no crash": properties a parser
// promises (a parsed value re-parses the same, what passes one check passes
// the next). A violated property aborts, which libFuzzer reports as a crash
// and saves the input, like a sanitizer finding.
#ifndef PODIUM_FUZZ_FUZZ_CHECK_H_
#define PODIUM_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"

namespace podium::fuzz {

// Quiets what the parsers' libraries log on bad input (protobuf's UTF-8
// complaints, glog's torn-journal warnings): millions of lines would slow
// the run and bury libFuzzer's own report.
void QuietLogging();

[[noreturn]] inline void Fail(const char* file, int line, const char* what,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n  %s\n", file,
               line, what, detail.c_str());
  std::abort();
}

}  // namespace podium::fuzz

#define FUZZ_CHECK(cond, detail)                                     \
  do {                                                               \
    if (!(cond)) ::podium::fuzz::Fail(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

// A status the property needs to be OK.
#define FUZZ_CHECK_OK(status)                                            \
  do {                                                                   \
    const ::absl::Status fuzz_status_ = (status);                        \
    if (!fuzz_status_.ok()) {                                            \
      ::podium::fuzz::Fail(__FILE__, __LINE__, #status " is OK",         \
                           fuzz_status_.ToString());                     \
    }                                                                    \
  } while (0)

#endif  // PODIUM_FUZZ_FUZZ_CHECK_H_
