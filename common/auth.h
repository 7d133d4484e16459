// Bearer-token authentication of writes. The token lives in a file readable
// only by the operator; clients send `authorization: Bearer <token>`.
#ifndef PODIUM_COMMON_AUTH_H_
#define PODIUM_COMMON_AUTH_H_

#include <map>
#include <string>

#include <grpcpp/client_context.h>
#include <grpcpp/support/string_ref.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace podium {

// Reads a token file: its first line, surrounding whitespace removed. An
// empty or unreadable file is an error naming the path and `flag`, the
// option that names it.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          absl::string_view flag = "--write_token_file");

// Writes a fresh random token to `path` (mode 0600) if the file does not
// exist yet; scripts use it to set up a local cluster.
absl::Status CreateTokenFileIfMissing(const std::string& path);

// UNAUTHENTICATED when the metadata carries no bearer token,
// PERMISSION_DENIED when it carries a different one. The comparison takes
// the same time wherever the tokens differ.
absl::Status CheckBearerToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    const std::string& expected_token);

void AddBearerToken(grpc::ClientContext* context, const std::string& token);

// The token of `authorization: Bearer <token>` metadata. The scheme may be
// in any case (RFC 7235) and whitespace around the value and after the
// scheme is tolerated; UNAUTHENTICATED without such metadata.
absl::StatusOr<absl::string_view> BearerToken(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

// Whether `given` is the non-empty `expected`, in the same time wherever
// they differ.
bool TokenMatches(absl::string_view given, absl::string_view expected);

}  // namespace podium

#endif  // PODIUM_COMMON_AUTH_H_
