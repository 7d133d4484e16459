#include "common/tls.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain this process presents (with --tls_key and "
          "--tls_ca: TLS on every listener and channel; see docs/security.md)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM certificate of the CA that signs the cluster's certificates; "
          "alone (a client): verify servers, present none");

namespace podium {
namespace {

struct Pems {
  std::string cert, key, ca;
};

absl::Mutex tls_mu(absl::kConstInit);
Pems* tls ABSL_GUARDED_BY(tls_mu) = nullptr;  // null: plaintext

absl::Status ReadPem(const std::string& path, const char* flag, std::string* out) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", flag, " file '", path,
                                            "': ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  if (out->find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " file '", path, "' holds no PEM block"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ConfigureTls(const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (!files.cert.empty() && files.ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert needs --tls_ca: peers and clients are verified against it");
  }
  auto pems = std::make_unique<Pems>();
  if (absl::Status s = ReadPem(files.cert, "--tls_cert", &pems->cert); !s.ok()) return s;
  if (absl::Status s = ReadPem(files.key, "--tls_key", &pems->key); !s.ok()) return s;
  if (absl::Status s = ReadPem(files.ca, "--tls_ca", &pems->ca); !s.ok()) return s;
  absl::MutexLock lock(&tls_mu);
  delete tls;
  tls = files.ca.empty() ? nullptr : pems.release();
  return absl::OkStatus();
}

absl::Status ConfigureTlsFromFlags() {
  return ConfigureTls(TlsFiles{absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                               absl::GetFlag(FLAGS_tls_ca)});
}

bool TlsEnabled() {
  absl::MutexLock lock(&tls_mu);
  return tls != nullptr;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() {
  absl::MutexLock lock(&tls_mu);
  if (tls == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca;
  options.pem_private_key = tls->key;
  options.pem_cert_chain = tls->cert;
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    bool require_client_certificate) {
  absl::MutexLock lock(&tls_mu);
  if (tls == nullptr) return grpc::InsecureServerCredentials();
  if (tls->cert.empty()) {
    return absl::FailedPreconditionError(
        "a server under TLS presents a certificate: give --tls_cert and --tls_key "
        "besides --tls_ca");
  }
  grpc::SslServerCredentialsOptions options(
      require_client_certificate ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = tls->ca;
  options.pem_key_cert_pairs.push_back({tls->key, tls->cert});
  return grpc::SslServerCredentials(options);
}

absl::Status ExplainTlsMismatch(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  const bool tls = TlsEnabled();
  if (!tls && absl::StrContains(status.message(), "Socket closed")) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(),
                                     " (the server closed the connection at once: if the "
                                     "cluster runs TLS, give --tls_ca; see docs/security.md)"));
  }
  if (tls && (absl::StrContains(status.message(), "andshake") ||
              absl::StrContains(status.message(), "SSL"))) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(),
                                     " (the TLS handshake failed: the server may be plaintext, "
                                     "or its certificate not signed by --tls_ca; see "
                                     "docs/security.md)"));
  }
  return status;
}

}  // namespace podium
