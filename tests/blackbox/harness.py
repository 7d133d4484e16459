"""Real Podium processes on loopback for the black-box suite, and what the
tests need to talk to them: stubs generated from the protos, raw calls with
hand-made bytes, status assertions.

The suite knows Podium only through its protos and its command lines. On
import this module compiles protos/ (and the reflection proto beside it)
into a temporary directory with grpc_tools and imports the result; nothing
generated is kept. Every child is SIGKILLed and reaped when its test class
ends, when this process exits, and (through setpriv's parent-death signal)
even when this process is killed.

Settings come from the environment, which run.py fills in:
PODIUM_SOURCE (the checkout; default: two levels up from here) and
PODIUM_BUILD (the build tree; default: PODIUM_SOURCE/build).
"""

import atexit
import fcntl
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.environ.get("PODIUM_SOURCE", os.path.join(HERE, "..", "..")))
BUILD = os.path.abspath(os.environ.get("PODIUM_BUILD", os.path.join(SOURCE, "build")))

WRITE_TOKEN = "blackbox-write-token"
CLUSTER_TOKEN = "blackbox-cluster-token"
# Every call has a deadline: no test waits on a server forever.
CALL_TIMEOUT = 10.0
# Names of the built-in games (backend/games.cc), the only ones the suite uses.
EVENT = "javelin"
TEAM = "Gauls"
OTHER_TEAM = "Romans"
TEAMS = ("Gauls", "Romans", "Britons", "Egyptians")


# --- generated stubs ------------------------------------------------------

def _generate_stubs():
    """Compiles the protos into a fresh directory and imports the modules."""
    out = tempfile.mkdtemp(prefix="podium-blackbox-stubs-")
    atexit.register(shutil.rmtree, out, True)
    protoc = [sys.executable, "-m", "grpc_tools.protoc",
              "--python_out=" + out, "--grpc_python_out=" + out]
    protos = os.path.join(SOURCE, "protos")
    podium = sorted(os.path.join("podium", "v1", f)
                    for f in os.listdir(os.path.join(protos, "podium", "v1"))
                    if f.endswith(".proto"))
    # grpc.health.v1 and grpc.reflection.v1alpha are compiled from their own
    # directories: as grpc/health/v1/... their modules would hide the grpc
    # package itself.
    runs = [["-I", protos] + podium,
            ["-I", os.path.join(protos, "grpc", "health", "v1"), "health.proto"],
            ["-I", os.path.join(HERE, "protos"), "reflection.proto"]]
    for args in runs:
        done = subprocess.run(protoc + args, cwd=protos, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError("grpc_tools.protoc %s failed:\n%s%s"
                               % (" ".join(args), done.stdout, done.stderr))
    sys.path.insert(0, out)
    import health_pb2, health_pb2_grpc  # noqa: E401
    import reflection_pb2, reflection_pb2_grpc  # noqa: E401
    from podium.v1 import backend_pb2, backend_pb2_grpc
    from podium.v1 import peer_pb2, peer_pb2_grpc
    from podium.v1 import scoreboard_pb2, scoreboard_pb2_grpc
    from podium.v1 import types_pb2
    return types.SimpleNamespace(
        types=types_pb2, backend=backend_pb2, backend_grpc=backend_pb2_grpc,
        scoreboard=scoreboard_pb2, scoreboard_grpc=scoreboard_pb2_grpc,
        peer=peer_pb2, peer_grpc=peer_pb2_grpc,
        health=health_pb2, health_grpc=health_pb2_grpc,
        reflection=reflection_pb2, reflection_grpc=reflection_pb2_grpc)


pb = _generate_stubs()
SERVING = pb.health.HealthCheckResponse.SERVING


def unary_methods(service_descriptor):
    """Full method paths ("/pkg.Service/Method") of a service's unary RPCs."""
    return ["/%s/%s" % (service_descriptor.full_name, m.name)
            for m in service_descriptor.methods
            if not m.client_streaming and not m.server_streaming]


BACKEND_SERVICE = pb.backend.DESCRIPTOR.services_by_name["Backend"]
SCOREBOARD_SERVICE = pb.scoreboard.DESCRIPTOR.services_by_name["Scoreboard"]
PEER_SERVICE = pb.peer.DESCRIPTOR.services_by_name["FrontendPeer"]
WRITE_METHODS = ("/podium.v1.Backend/RecordScore", "/podium.v1.Backend/AwardMedal")


# --- the protobuf wire format, for bytes the stubs refuse to build --------

class wire:
    """Hand-encoded protobuf fields: strings that are not UTF-8, say."""

    @staticmethod
    def varint(n):
        n &= (1 << 64) - 1  # negative int64s take ten bytes, as in protobuf
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    @staticmethod
    def int_field(number, value):
        return wire.varint(number << 3) + wire.varint(value)

    @staticmethod
    def bytes_field(number, data):
        return wire.varint((number << 3) | 2) + wire.varint(len(data)) + data


NOT_UTF8 = b"Gau\xffls\xc3"  # a stray 0xFF and a truncated two-byte sequence
# Bytes no protobuf message parses: a length-delimited field 1 claiming 127
# bytes and carrying 3, and a field of the undefined wire type 7.
GARBAGE = (b"\x0a\x7fabc", b"\x0f\xff\xff\xff")


# --- ports and processes --------------------------------------------------

_reserved_ports = []  # open lock files, held until this process exits


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A port on 127.0.0.1 nobody listens on and no other test takes.

    Below the kernel's ephemeral range, so that no outgoing connection on the
    machine can take it before the server binds it, and reserved against the
    other test processes by an flock on $TMPDIR/podium-test-ports/PORT.lock,
    as harness/subprocess.h's PickFreePort does.
    """
    folder = os.path.join(os.environ.get("TMPDIR") or "/tmp", "podium-test-ports")
    os.makedirs(folder, mode=0o1777, exist_ok=True)
    high = _ephemeral_low()
    rng = random.Random(os.getpid() ^ time.time_ns())
    for _ in range(1000 if high - 10000 >= 1000 else 0):
        port = rng.randrange(10000, high)
        lock = open(os.path.join(folder, "%d.lock" % port), "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                lock.close()
                continue
        _reserved_ports.append(lock)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback():
    return "127.0.0.1:%d" % free_port()


_children = set()


def _kill_all_children():
    for child in list(_children):
        child.kill()


atexit.register(_kill_all_children)


# A proxy from the environment must never see the suite's traffic.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def channel(address):
    return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)


def health_status(address, service="", timeout=1.0):
    """The health check's answer, or the gRPC error that came instead."""
    with channel(address) as ch:
        stub = pb.health_grpc.HealthStub(ch)
        try:
            return stub.Check(pb.health.HealthCheckRequest(service=service),
                              timeout=timeout).status
        except grpc.RpcError as e:
            return e


def reflect(address, requests, timeout=CALL_TIMEOUT):
    """Asks server reflection each of `requests` (ServerReflectionRequest)
    on one stream; returns the responses, one per request."""
    with channel(address) as ch:
        stub = pb.reflection_grpc.ServerReflectionStub(ch)
        return list(stub.ServerReflectionInfo(iter(requests), timeout=timeout))


class StartError(Exception):
    pass


class Process:
    """One server child: started, waited for until its health check says
    SERVING, and SIGKILLed and reaped by kill()."""

    def __init__(self, name, argv, address, log_path):
        self.name, self.argv, self.address, self.log_path = name, argv, address, log_path
        self.popen = None

    def start(self, timeout=30.0):
        # A binary being relinked by a concurrent build is missing, not yet
        # executable or busy for a moment: try again for a while rather
        # than fail. (Through setpriv, a failed exec is exit status 126/127.)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not os.access(self.argv[0], os.X_OK):
                last = "%s is missing or not executable" % self.argv[0]
                time.sleep(0.5)
                continue
            try:
                self._spawn()
            except OSError as e:
                last = "cannot run %s: %s" % (self.argv[0], e)
                time.sleep(0.5)
                continue
            while time.monotonic() < deadline and self.popen.poll() is None:
                last = health_status(self.address, timeout=0.5)
                if last == SERVING:
                    return
                time.sleep(0.02)
            if self.popen.poll() in (126, 127):
                last = "exec failed (exit %d)" % self.popen.returncode
                time.sleep(0.5)
                continue
            if self.popen.poll() is not None:
                raise StartError("%s exited with status %s before serving; log:\n%s"
                                 % (self.name, self.popen.returncode, self.log_tail()))
        self.kill()
        raise StartError("%s not SERVING within %.0fs (last: %s); log:\n%s"
                         % (self.name, timeout, last, self.log_tail()))

    def _spawn(self):
        prefix = []
        setpriv = shutil.which("setpriv")
        if setpriv:  # the child dies with this process, however it dies
            prefix = [setpriv, "--pdeathsig", "KILL", "--"]
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(prefix + self.argv, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT)
        _children.add(self)

    def kill(self):
        if self.popen is None:
            return
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _children.discard(self)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"


def binary(relative):
    return os.path.join(BUILD, relative)


def frontend_has_peer_plane():
    """True when podium-frontend has the separate, token-guarded peer
    listener (--peer_listen, --cluster_token_file)."""
    try:
        done = subprocess.run([binary("frontend/podium-frontend"), "--help"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        time.sleep(1)  # being rebuilt: ask once more
        done = subprocess.run([binary("frontend/podium-frontend"), "--help"],
                              capture_output=True, text=True, timeout=20)
    return "peer_listen" in done.stdout + done.stderr


class Backend:
    """One podium-backend with its own database and write token."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.token_file = os.path.join(workdir, "write.token")
        with open(self.token_file, "w") as f:
            f.write(WRITE_TOKEN + "\n")
        self.address = None
        self.process = None

    def start(self):
        for attempt in range(3):  # a port taken in between: another port
            self.address = loopback()
            self.process = Process("backend", [
                binary("backend/podium-backend"), "--listen=" + self.address,
                "--db=" + os.path.join(self.workdir, "podium.db"),
                "--write_token_file=" + self.token_file],
                self.address, os.path.join(self.workdir, "backend.log"))
            try:
                self.process.start()
                return
            except StartError:
                self.process.kill()
                if attempt == 2:
                    raise

    def stop(self):
        if self.process:
            self.process.kill()


class FrontendCluster:
    """`count` podium-frontends in push mode over one backend.

    With the new interface (peer_plane true) each has a public --listen
    port and a --peer_listen port, and the peers share a cluster token;
    otherwise the peers talk on the public ports, unauthenticated."""

    def __init__(self, workdir, backend_address, count):
        self.workdir, self.backend_address, self.count = workdir, backend_address, count
        self.peer_plane = frontend_has_peer_plane()
        self.token_file = os.path.join(workdir, "cluster.token")
        with open(self.token_file, "w") as f:
            f.write(CLUSTER_TOKEN + "\n")
        self.addresses, self.peer_addresses, self.processes = [], [], []

    def start(self):
        for attempt in range(3):
            self.addresses = [loopback() for _ in range(self.count)]
            self.peer_addresses = ([loopback() for _ in range(self.count)]
                                   if self.peer_plane else list(self.addresses))
            self.processes = []
            try:
                for i in range(self.count):
                    self._start_one(i)
                return
            except StartError:
                self.stop()
                if attempt == 2:
                    raise

    def _start_one(self, i):
        argv = [binary("frontend/podium-frontend"), "--listen=" + self.addresses[i],
                "--backend=" + self.backend_address,
                "--peers=" + ",".join(self.peer_addresses), "--cache=push",
                # Tolerant of a loaded machine: a re-election mid-test would
                # replay subscriptions and move the master.
                "--failure_timeout=2s"]
        if self.peer_plane:
            argv += ["--peer_listen=" + self.peer_addresses[i],
                     "--cluster_token_file=" + self.token_file]
        process = Process("frontend-%d" % i, argv, self.addresses[i],
                          os.path.join(self.workdir, "frontend-%d.log" % i))
        self.processes.append(process)
        process.start()

    def stop(self):
        for p in self.processes:
            p.kill()

    def list_frontends(self, i):
        with channel(self.addresses[i]) as ch:
            return pb.scoreboard_grpc.ScoreboardStub(ch).ListFrontends(
                pb.scoreboard.ListFrontendsRequest(), timeout=CALL_TIMEOUT)

    def wait_for_master(self, timeout=15.0):
        """Waits until every frontend names the same single master; returns
        the master's address as ListFrontends spells it."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = []
            for i in range(self.count):
                try:
                    reply = self.list_frontends(i)
                except grpc.RpcError as e:
                    seen.append(str(e.code()))
                    continue
                masters = [f.address for f in reply.frontends if f.master]
                alive = all(f.alive for f in reply.frontends)
                seen.append(masters[0] if len(masters) == 1 and alive else repr(masters))
            if len(set(seen)) == 1 and seen[0].startswith("127.0.0.1:"):
                return seen[0]
            time.sleep(0.05)
        raise StartError("no agreement on a master within %.0fs: %s" % (timeout, seen))

    def index_of(self, address):
        """The frontend ListFrontends calls `address` (public or peer)."""
        for i in range(self.count):
            if address in (self.addresses[i], self.peer_addresses[i]):
                return i
        raise KeyError(address)


class Cluster:
    """A backend and `frontends` frontends, in a temp dir removed at the end
    unless PODIUM_BLACKBOX_KEEP is set. Use start_cluster()."""

    def __init__(self, name, frontends):
        self.workdir = tempfile.mkdtemp(prefix="podium-blackbox-%s-" % name)
        self.backend = Backend(self.workdir)
        self.frontends = None
        self.frontend_count = frontends
        self.channels = {}
        self.master = None

    def start(self):
        self.backend.start()
        if self.frontend_count:
            self.frontends = FrontendCluster(self.workdir, self.backend.address,
                                             self.frontend_count)
            self.frontends.start()
            self.master = self.frontends.wait_for_master()

    def stop(self):
        for ch in self.channels.values():
            ch.close()
        self.channels.clear()
        if self.frontends:
            self.frontends.stop()
        self.backend.stop()
        if not os.environ.get("PODIUM_BLACKBOX_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    # Channels and stubs, one channel per address for the cluster's life.
    def channel(self, address):
        if address not in self.channels:
            self.channels[address] = channel(address)
        return self.channels[address]

    def backend_stub(self):
        return pb.backend_grpc.BackendStub(self.channel(self.backend.address))

    def scoreboard_stub(self, i):
        return pb.scoreboard_grpc.ScoreboardStub(self.channel(self.frontends.addresses[i]))

    def peer_stub(self, address):
        return pb.peer_grpc.FrontendPeerStub(self.channel(address))

    def raw(self, address, method):
        """A unary call that sends and returns bytes, unparsed."""
        return self.channel(address).unary_unary(method)

    def raw_stream(self, address, method):
        return self.channel(address).unary_stream(method)

    # What every server answers, for before/after comparisons.
    def servers(self):
        """(name, address, service) of every server of the cluster."""
        out = [("backend", self.backend.address, "podium.v1.Backend")]
        if self.frontends:
            out += [("frontend-%d" % i, a, "podium.v1.Scoreboard")
                    for i, a in enumerate(self.frontends.addresses)]
        return out

    def boards(self):
        """name -> the serialized Board each server answers GetBoard with."""
        return {name: self.raw(address, "/%s/GetBoard" % service)(b"", timeout=CALL_TIMEOUT)
                for name, address, service in self.servers()}

    def health(self):
        """name -> overall health of each server."""
        return {name: health_status(address, timeout=5.0)
                for name, address, _ in self.servers()}

    # Writes with the write token.
    def record_score(self, key, event=EVENT, team=TEAM, points=1, metadata=None):
        request = pb.backend.RecordScoreRequest(
            idempotency_key=key, event=event,
            points=[pb.types.TeamPoints(team=team, points=points)])
        return self.backend_stub().RecordScore(
            request, metadata=metadata or write_auth(), timeout=CALL_TIMEOUT)

    def award_medal(self, key, team=TEAM, medal=None, metadata=None):
        request = pb.backend.AwardMedalRequest(
            idempotency_key=key, team=team,
            medal=pb.types.GOLD if medal is None else medal)
        return self.backend_stub().AwardMedal(
            request, metadata=metadata or write_auth(), timeout=CALL_TIMEOUT)


def write_auth(value="Bearer " + WRITE_TOKEN):
    return (("authorization", value),)


def peer_auth(value="Bearer " + CLUSTER_TOKEN):
    return (("authorization", value),)


def start_cluster(test_class, name, frontends):
    """Starts a cluster for a TestCase class and has it torn down (children
    SIGKILLed and reaped) when the class ends, however it ends."""
    cluster = Cluster(name, frontends)
    test_class.addClassCleanup(cluster.stop)
    cluster.start()
    return cluster


# --- streams --------------------------------------------------------------

class StreamReader:
    """Reads a server stream on a thread, so that tests can wait for the
    next message with a timeout. cancel() ends the call."""

    def __init__(self, call):
        self.call = call
        self.messages = queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for message in self.call:
                self.messages.put(message)
        except grpc.RpcError as e:
            self.error = e
        self.messages.put(None)  # the end

    def next(self, timeout=5.0):
        """The next message; None when the stream ended (see .error); raises
        queue.Empty when nothing came within `timeout`."""
        return self.messages.get(timeout=timeout)

    def cancel(self):
        self.call.cancel()
        self.thread.join(timeout=5)


def subscribe(cluster, i, request, timeout=60.0):
    """A Subscribe stream on frontend i, read on a thread and cancelled when
    the test ends."""
    call = cluster.scoreboard_stub(i).Subscribe(request, timeout=timeout)
    return StreamReader(call)


# --- assertions -----------------------------------------------------------

def _codes(codes):
    return tuple(codes) if isinstance(codes, (tuple, list, set)) else (codes,)


def _names(codes):
    return "/".join(c.name for c in _codes(codes))


class StatusAssertions(unittest.TestCase):
    """Status checks every test shares. Every error a test provokes passes
    through check_error(), which also holds it to the conventions that
    apply to every message: there is one, and it does not end in
    whitespace."""

    def check_error(self, error, codes, require_message=True, where=""):
        """`error` is a gRPC error with one of `codes` and a proper message;
        returns the message."""
        codes = _codes(codes)
        self.assertIsInstance(error, grpc.RpcError, "%s: expected %s, got success"
                              % (where, _names(codes)))
        code, details = error.code(), error.details() or ""
        self.assertIn(code, codes, "%s: expected %s, got %s: %r"
                      % (where, _names(codes), code.name, details[:300]))
        if require_message:
            self.assertTrue(details.strip(), "%s: %s without a message" % (where, code.name))
        self.assertEqual(details, details.rstrip(),
                         "%s: status message ends in whitespace: %r" % (where, details[-80:]))
        return details

    def assertFails(self, call, request, codes, metadata=None, require_message=True,
                    where=""):
        """Makes a unary call that must fail with one of `codes`; returns the
        status message."""
        try:
            call(request, metadata=metadata, timeout=CALL_TIMEOUT)
        except grpc.RpcError as e:
            error = e
        else:
            self.fail("%s: expected %s, got success" % (where, _names(codes)))
        return self.check_error(error, codes, require_message, where)

    def assertStreamFails(self, call, request, codes, metadata=None, where=""):
        """Opens a server stream that must end at once with one of `codes`;
        returns the status message."""
        stream = call(request, metadata=metadata, timeout=CALL_TIMEOUT)
        error = None
        try:
            for _ in range(1000):  # bounded: a stream that serves would go on
                next(stream)
        except grpc.RpcError as e:
            error = e
        except StopIteration:
            self.fail("%s: stream ended OK; expected %s" % (where, _names(codes)))
        finally:
            stream.cancel()
        if error is None:
            self.fail("%s: stream served 1000 messages; expected %s" % (where, _names(codes)))
        return self.check_error(error, codes, where=where)
