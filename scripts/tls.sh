# TLS for the local cluster (./scripts/run --tls): a CA and one certificate
# for every process, for 127.0.0.1 and localhost, good for serving and for
# calling (the frontends' peer plane is mutual TLS). Source it after
# scripts/lib.sh; it defines functions only.

# podium_tls_dir VAR: where the certificates live.
podium_tls_dir() { echo "$1/tls"; }

# podium_make_tls VAR: creates the CA and the certificate once (kept across
# restarts, so that a revived process trusts the others).
podium_make_tls() {
  local dir
  dir=$(podium_tls_dir "$1")
  podium_install_deps openssl
  # Kept while good for another day; made anew before they expire.
  if [ -s "$dir/node.pem" ] && [ -s "$dir/ca.pem" ] &&
    openssl x509 -checkend 86400 -noout -in "$dir/node.pem" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$dir/ca.pem" >/dev/null 2>&1; then
    return 0
  fi
  rm -f "$dir"/*.pem "$dir"/*.key "$dir"/*.csr "$dir"/*.srl
  mkdir -p "$dir"
  (
    umask 077
    cd "$dir" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 \
      -subj "/CN=Podium local CA" 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr \
        -subj "/CN=podium" 2>/dev/null &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        > node.ext &&
      openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out node.pem -days 365 -extfile node.ext 2>/dev/null
  ) || { podium_log "openssl could not create the certificates in $dir"; return 1; }
  podium_log "created a local CA and certificate in $dir"
}

# podium_tls_flags VAR: the TLS flags of every process while the cluster
# runs with --tls (var/run/tls is there), nothing otherwise.
podium_tls_flags() {
  local dir
  dir=$(podium_tls_dir "$1")
  [ -f "$1/run/tls" ] || return 0
  echo "--tls_cert=$dir/node.pem --tls_key=$dir/node.key --tls_ca=$dir/ca.pem"
}
