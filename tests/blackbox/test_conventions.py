"""The conventions every Podium server keeps (DESIGN.md, "Public interface"),
checked from outside: zero values mean the default, malformed requests are
INVALID_ARGUMENT with a message, health and reflection are registered,
seqs are never negative, one bad name gets one answer wherever it is asked,
and the bearer scheme is read as HTTP reads it.

One backend and one frontend (its own master) serve the whole class.
"""

import queue
import unittest
import uuid

import grpc

import harness
from harness import pb, EVENT, WRITE_TOKEN

INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT


def key():
    return "conventions-" + uuid.uuid4().hex


class ConventionsTest(harness.StatusAssertions):

    @classmethod
    def setUpClass(cls):
        cls.cluster = harness.start_cluster(cls, "conventions", frontends=1)

    def frontend(self):
        return self.cluster.frontends.addresses[0]

    def next_update(self, reader, what):
        """The next SubscribeUpdate of `reader`, failing the test with the
        stream's error if it ended instead."""
        try:
            message = reader.next(timeout=5)
        except queue.Empty:
            self.fail("no %s within 5s" % what)
        self.assertIsNotNone(message, "stream ended before the %s: %s"
                             % (what, reader.error and reader.error.details()))
        self.assertTrue(message.updates, "a SubscribeUpdates message without updates")
        return message.updates[0]

    # --- zero values ----------------------------------------------------

    def test_a_subscribe_request_with_only_events_set_streams(self):
        """DESIGN: "Enum zero values mean the current default: a request with
        only its required fields set works". A SubscribeRequest naming one
        event and nothing else gets the snapshot, then the next write."""
        reader = harness.subscribe(self.cluster, 0, pb.scoreboard.SubscribeRequest(events=[EVENT]))
        self.addCleanup(reader.cancel)
        first = self.next_update(reader, "snapshot")
        self.assertTrue(first.snapshot)
        self.assertEqual(first.change.event.event, EVENT)
        written = self.cluster.record_score(key(), points=7)
        update = self.next_update(reader, "change of the write")
        self.assertFalse(update.snapshot)
        self.assertEqual(update.change.seq, written.change.seq)
        self.assertEqual(update.change.event, written.change.event)

    # --- malformed bodies -----------------------------------------------

    def check_garbage(self, address, service):
        for method in harness.unary_methods(service):
            metadata = harness.write_auth() if method in harness.WRITE_METHODS else None
            for garbage in harness.GARBAGE:
                with self.subTest(method=method, body=garbage):
                    self.assertFails(self.cluster.raw(address, method), garbage,
                                     INVALID_ARGUMENT, metadata=metadata,
                                     where="%s %r" % (method, garbage))

    def test_garbage_bodies_to_the_backend_are_invalid_argument(self):
        """Bytes that are no protobuf message, sent to each unary method of
        podium.v1.Backend (writes with the write token), are refused as
        INVALID_ARGUMENT with a message saying so."""
        self.check_garbage(self.cluster.backend.address, harness.BACKEND_SERVICE)

    def test_garbage_bodies_to_the_scoreboard_are_invalid_argument(self):
        """The same for each unary method of podium.v1.Scoreboard."""
        self.check_garbage(self.frontend(), harness.SCOREBOARD_SERVICE)

    # --- health ---------------------------------------------------------

    def test_health_overall_is_serving(self):
        """grpc.health.v1 Check with service "" answers SERVING everywhere."""
        for name, address, _ in self.cluster.servers():
            with self.subTest(server=name):
                self.assertEqual(harness.health_status(address, ""), harness.SERVING)

    def test_health_per_service_is_serving(self):
        """DESIGN: health "overall and per service": Check answers SERVING for
        podium.v1.Backend on the backend and podium.v1.Scoreboard on the
        frontend."""
        for name, address, service in self.cluster.servers():
            with self.subTest(server=name, service=service):
                self.assertEqual(harness.health_status(address, service), harness.SERVING)

    # --- reflection -----------------------------------------------------

    def listed_services(self, address):
        [reply] = harness.reflect(address, [pb.reflection.ServerReflectionRequest(list_services="*")])
        self.assertEqual(reply.WhichOneof("message_response"), "list_services_response")
        return [s.name for s in reply.list_services_response.service]

    def test_reflection_lists_the_services(self):
        """Server reflection lists the server's own service, health and
        reflection itself."""
        common = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
        for name, address, service in self.cluster.servers():
            with self.subTest(server=name):
                self.assertLessEqual(common | {service}, set(self.listed_services(address)))

    def test_reflection_describes_every_listed_service(self):
        """Every service reflection lists can be described: asking for the
        file containing it returns file descriptors that define it, so a
        tool like grpcurl can call any of them."""
        from google.protobuf import descriptor_pb2
        for name, address, _ in self.cluster.servers():
            services = self.listed_services(address)
            replies = harness.reflect(address, [
                pb.reflection.ServerReflectionRequest(file_containing_symbol=s) for s in services])
            for service, reply in zip(services, replies):
                with self.subTest(server=name, service=service):
                    self.assertEqual(reply.WhichOneof("message_response"),
                                     "file_descriptor_response",
                                     reply.error_response.error_message)
                    defined = set()
                    for data in reply.file_descriptor_response.file_descriptor_proto:
                        f = descriptor_pb2.FileDescriptorProto.FromString(data)
                        defined |= {"%s.%s" % (f.package, s.name) for s in f.service}
                    self.assertIn(service, defined)

    # --- seqs -----------------------------------------------------------

    def test_negative_seqs_on_the_backend_are_invalid_argument(self):
        """ChangesSince(after_seq=-1) and Watch(from_seq=-1) are
        INVALID_ARGUMENT: no seq is negative."""
        stub = self.cluster.backend_stub()
        self.assertFails(stub.ChangesSince, pb.backend.ChangesSinceRequest(after_seq=-1),
                         INVALID_ARGUMENT, where="ChangesSince(-1)")
        self.assertStreamFails(stub.Watch, pb.backend.WatchRequest(from_seq=-1),
                               INVALID_ARGUMENT, where="Watch(-1)")

    def test_a_negative_after_seq_in_subscribe_is_invalid_argument(self):
        """SubscribeRequest.after_seq = -1 is INVALID_ARGUMENT."""
        self.assertStreamFails(
            self.cluster.scoreboard_stub(0).Subscribe,
            pb.scoreboard.SubscribeRequest(events=[EVENT], after_seq=-1,
                                           format=pb.scoreboard.SUBSCRIBE_FORMAT_BATCHES),
            INVALID_ARGUMENT, where="Subscribe(after_seq=-1)")

    # --- one answer for one bad name ------------------------------------

    def test_a_bad_name_gets_the_same_answer_from_backend_and_frontend(self):
        """A syntactically invalid name gets the same code (INVALID_ARGUMENT)
        and the same message from the backend's GetEvent/GetMedals and the
        frontend's GetScore/GetMedals."""
        backend, frontend = self.cluster.backend_stub(), self.cluster.scoreboard_stub(0)
        bad = "bad name!"
        pairs = [("event", backend.GetEvent, pb.backend.GetEventRequest(event=bad),
                  frontend.GetScore, pb.scoreboard.GetScoreRequest(event=bad)),
                 ("team", backend.GetMedals, pb.backend.GetMedalsRequest(team=bad),
                  frontend.GetMedals, pb.scoreboard.GetTeamMedalsRequest(team=bad))]
        for what, b_call, b_request, f_call, f_request in pairs:
            with self.subTest(what=what):
                from_backend = self.assertFails(b_call, b_request, INVALID_ARGUMENT,
                                                where="backend " + what)
                from_frontend = self.assertFails(f_call, f_request, INVALID_ARGUMENT,
                                                 where="frontend " + what)
                self.assertEqual(from_backend, from_frontend)

    # --- the bearer scheme ----------------------------------------------

    def check_accepted(self, value):
        reply = self.cluster.award_medal(key(), metadata=harness.write_auth(value))
        self.assertGreater(reply.change.seq, 0)

    def test_the_bearer_scheme_is_case_insensitive(self):
        """Writes with "bearer TOKEN" and "BEARER TOKEN" are accepted."""
        for value in ("bearer " + WRITE_TOKEN, "BEARER " + WRITE_TOKEN):
            with self.subTest(authorization=value):
                self.check_accepted(value)

    def test_whitespace_around_scheme_and_token_is_ignored(self):
        """A write with "  Bearer   TOKEN  " is accepted."""
        self.check_accepted("  Bearer   %s  " % WRITE_TOKEN)

    def test_the_write_token_itself_is_accepted(self):
        """The control for the two above: "Bearer TOKEN" writes."""
        self.check_accepted("Bearer " + WRITE_TOKEN)
        self.assertEqual(harness.health_status(self.frontend()), harness.SERVING)


if __name__ == "__main__":
    unittest.main()
