// TLS for every listener and channel of a Podium process, opt-in with
// --tls_cert, --tls_key and --tls_ca (PEM files). Without them everything
// is plaintext, as on one machine's loopback. With them:
//
//  - every server presents the certificate; the peer plane (and any server
//    started with require_client_certificate) also demands one from each
//    caller, signed by the CA: mutual TLS, beside the cluster token;
//  - every channel verifies the server against the CA and, when the
//    process has a certificate, presents it.
//
// Tokens still guard writes and the peer plane: TLS says who is talking,
// tokens what they may do.
#ifndef PODIUM_COMMON_TLS_H_
#define PODIUM_COMMON_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace podium {

struct TlsFiles {
  std::string cert;  // this process's certificate chain
  std::string key;   // its private key
  std::string ca;    // the CA that signs every certificate of the cluster
};

// Reads the files and makes them the process's TLS settings (before any
// server or channel is made). All empty: plaintext. INVALID_ARGUMENT for a
// certificate without its key or a server setting without a CA; NOT_FOUND
// for a file that cannot be read.
absl::Status ConfigureTls(const TlsFiles& files);
// ConfigureTls with the --tls_* flags (InitProcess calls it).
absl::Status ConfigureTlsFromFlags();

bool TlsEnabled();
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials();
// FAILED_PRECONDITION under TLS without a certificate of this process's
// own (a server must present one).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    bool require_client_certificate);

// `status` with a hint when it looks like a TLS mismatch: a plaintext
// channel to a TLS server sees only "Socket closed", a TLS one to a
// plaintext server a failed handshake. Other statuses unchanged.
absl::Status ExplainTlsMismatch(const absl::Status& status);

}  // namespace podium

#endif  // PODIUM_COMMON_TLS_H_
