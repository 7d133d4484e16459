"""The peer plane is closed to strangers (DESIGN.md, "Three planes"; guarantee
9, "forged peer messages"): podium.v1.FrontendPeer is served only on each
frontend's --peer_listen, every call there needs the cluster token, and
nothing a stranger sends is processed or changes what fans see.

Needs the frontend's peer listener (--peer_listen, --cluster_token_file);
against a frontend without it the class is skipped.

The attack happens once, in setUpClass, against three frontends in push
mode: from every frontend's peer port, each FrontendPeer method with each
kind of missing or wrong credential, the forgeries crafted with what an
insider knows (the master's address and epoch, a real event's key). The
tests then check what it must have caused: refusals, and no change.
"""

import queue
import time
import unittest
import uuid

import grpc

import harness
from harness import pb, EVENT, TEAM, CLUSTER_TOKEN, WRITE_TOKEN

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
HUGE_SEQ = 1 << 62

# label -> the authorization metadata a stranger sends (None: none at all).
STRANGER_CREDENTIALS = {
    "no metadata": None,
    "wrong token": "Bearer wrong-cluster-token",
    "empty value": "",
    "empty token": "Bearer ",
    "lower-case scheme, wrong token": "bearer wrong-cluster-token",
    "the write token": "Bearer " + WRITE_TOKEN,
}


def forgeries(master, epoch, claimed_address):
    """method name -> [request] a stranger would send to take the cluster
    over or poison its caches, built from what a Ping reveals."""
    stranger = pb.peer.Member(address=harness.loopback(), pid=2**40)
    fake_score = pb.types.EventScore(
        event=EVENT, status=pb.types.FINAL, version=HUGE_SEQ,
        points=[pb.types.TeamPoints(team=TEAM, points=999999)])
    return {
        "Ping": [pb.peer.PingRequest(**{"from": stranger}, master=stranger.address,
                                     epoch=epoch + 1000)],
        "Coordinator": [pb.peer.CoordinatorRequest(
            master=pb.peer.Member(address=claimed_address, pid=2**40), epoch=epoch + 1000)],
        "Interest": [pb.peer.InterestRequest(
            **{"from": stranger}, epoch=epoch,
            keys=["event:" + EVENT, "junk", "team:" + "x" * 500, "\u00e9\u0000"])],
        "Invalidate": [
            pb.peer.InvalidateRequest(master=master, epoch=epoch, watched_seq=HUGE_SEQ,
                                      changes=[pb.types.Change(seq=HUGE_SEQ, event=fake_score)]),
            pb.peer.InvalidateRequest(master=master, epoch=epoch, reset=True, resets=1 << 30),
        ],
    }


class PeerPlaneTest(harness.StatusAssertions):

    @classmethod
    def setUpClass(cls):
        if not harness.frontend_has_peer_plane():
            raise unittest.SkipTest("this podium-frontend has no --peer_listen: FrontendPeer "
                                    "is still served on the public port, unauthenticated")
        cls.cluster = c = harness.start_cluster(cls, "peer-plane", frontends=3)
        f = c.frontends
        cls.master = c.master
        cls.master_index = f.index_of(c.master)
        cls.member = next(i for i in range(f.count) if i != cls.master_index)

        # Real state: a score every frontend caches, and a subscriber to it
        # on a member, which has had its snapshot.
        c.record_score(uuid.uuid4().hex, points=3)
        for i in range(f.count):
            c.scoreboard_stub(i).GetScore(pb.scoreboard.GetScoreRequest(event=EVENT),
                                          timeout=harness.CALL_TIMEOUT)
        cls.subscriber = harness.subscribe(c, cls.member, pb.scoreboard.SubscribeRequest(
            events=[EVENT], format=pb.scoreboard.SUBSCRIBE_FORMAT_BATCHES))
        cls.addClassCleanup(cls.subscriber.cancel)
        cls.snapshot = cls.subscriber.next(timeout=5)
        cls.boards_before = c.boards()

        # What an insider knows: the master and its epoch, from a Ping with
        # the cluster token (also proof that the token opens the plane).
        cls.ping_replies = [
            c.peer_stub(f.peer_addresses[i]).Ping(
                pb.peer.PingRequest(**{"from": pb.peer.Member(address="127.0.0.1:1", pid=1)}),
                metadata=harness.peer_auth(), timeout=harness.CALL_TIMEOUT)
            for i in range(f.count)]
        known = cls.ping_replies[cls.member]
        requests = forgeries(known.master, known.epoch,
                             claimed_address=f.peer_addresses[cls.member])

        # The attack. (label, frontend, method) -> the error, or the reply.
        cls.outcomes = {}
        for i, address in enumerate(f.peer_addresses):
            stub = c.peer_stub(address)
            for label, value in STRANGER_CREDENTIALS.items():
                metadata = None if value is None else (("authorization", value),)
                for method, bodies in requests.items():
                    for n, body in enumerate(bodies):
                        try:
                            outcome = getattr(stub, method)(body, metadata=metadata,
                                                            timeout=harness.CALL_TIMEOUT)
                        except grpc.RpcError as e:
                            outcome = e
                        cls.outcomes[(label, i, "%s#%d" % (method, n))] = outcome

    def test_every_stranger_call_is_unauthenticated(self):
        """Every FrontendPeer call without the cluster token (none, wrong,
        empty, lower-case scheme with a wrong one, the write token) was
        refused UNAUTHENTICATED, and its message names no member of the
        cluster: nothing was revealed."""
        f = self.cluster.frontends
        secrets = set(f.addresses) | set(f.peer_addresses) | {CLUSTER_TOKEN}
        for (label, i, method), outcome in sorted(self.outcomes.items()):
            with self.subTest(credential=label, frontend=i, method=method):
                where = "%s to frontend %d with %s" % (method, i, label)
                details = self.check_error(outcome, UNAUTHENTICATED, where=where)
                for secret in secrets:
                    self.assertNotIn(secret, details, where)

    def test_the_attack_changed_nothing(self):
        """After the attack every frontend answers a byte-identical board and
        names the same master; then a real write (with the write token,
        through the backend) reaches the subscriber on a member as the next
        update, and every frontend's cache: the forged huge seq poisoned no
        version and the forged reset replayed nothing."""
        c = self.cluster
        self.assertIsNotNone(self.snapshot, "no snapshot before the attack")
        self.assertTrue(all(u.snapshot for u in self.snapshot.updates))
        self.assertEqual(c.boards(), self.boards_before)
        for i in range(c.frontends.count):
            with self.subTest(frontend=i):
                reply = c.frontends.list_frontends(i)
                self.assertEqual([f.address for f in reply.frontends if f.master], [self.master])
        written = c.record_score(uuid.uuid4().hex, points=4)
        try:
            message = self.subscriber.next(timeout=5)
        except queue.Empty:
            self.fail("the subscriber got nothing within 5s of a real write")
        self.assertIsNotNone(message, "the subscription ended: %s" % self.subscriber.error)
        self.assertEqual([u.change for u in message.updates], [written.change])
        with self.assertRaises(queue.Empty, msg="more updates than the one write"):
            self.subscriber.next(timeout=0.3)
        for i in range(c.frontends.count):
            with self.subTest(frontend=i):
                self.assertEqual(self.eventually_read(i, written.change.seq),
                                 written.change.event)

    def eventually_read(self, i, version, timeout=5.0):
        """GetScore of EVENT on frontend i once it has reached `version`
        (push takes milliseconds), or the last value read."""
        deadline = time.monotonic() + timeout
        while True:
            score = self.cluster.scoreboard_stub(i).GetScore(
                pb.scoreboard.GetScoreRequest(event=EVENT), timeout=harness.CALL_TIMEOUT)
            if score.version >= version or time.monotonic() > deadline:
                return score
            time.sleep(0.02)

    def test_the_cluster_token_opens_the_peer_plane(self):
        """The control: with the cluster token, Ping answers on every peer
        port, and every frontend names the master ListFrontends names."""
        f = self.cluster.frontends
        for i, reply in enumerate(self.ping_replies):
            with self.subTest(frontend=i):
                self.assertEqual(f.index_of(reply.master), self.master_index)
                self.assertGreater(reply.epoch, 0)

    def test_the_public_port_does_not_serve_the_peer_plane(self):
        """On each public --listen port every FrontendPeer method is
        UNIMPLEMENTED, with the cluster token too."""
        f = self.cluster.frontends
        for i, address in enumerate(f.addresses):
            for method in harness.unary_methods(harness.PEER_SERVICE):
                for metadata in (None, harness.peer_auth()):
                    with self.subTest(frontend=i, method=method, token=bool(metadata)):
                        self.assertFails(self.cluster.raw(address, method), b"",
                                         grpc.StatusCode.UNIMPLEMENTED, metadata=metadata,
                                         require_message=False, where=method)


if __name__ == "__main__":
    unittest.main()
