"""Guarantee 9, bad input, on every method of podium.v1.Backend and
podium.v1.Scoreboard: each kind of bad request gets its documented code and
a message, and changes nothing anyone reads.

The codes come from backend/board_state.cc, common/names.h and
common/auth.h; where those say nothing, a malformed request is
INVALID_ARGUMENT and an unknown name NOT_FOUND. Names are malformed when
empty, longer than the 128 bytes every server allows (common/names.h), or
made of other characters than letters, digits, '_', '-', '.' and '\''.

One backend and two frontends (a master and a member) serve the class.
After every test the board each of them answers is byte-identical to the
one taken before the first, and each still answers health SERVING; so the
same holds after the whole battery.
"""

import time
import unittest
import uuid

import grpc

import harness
from harness import pb, wire, EVENT, TEAM, OTHER_TEAM, TEAMS, CLUSTER_TOKEN

INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
# A 3 MB name fits gRPC's default 4 MB limit on what a server receives; a
# server may refuse it as too big or as a bad name, but with a message.
TOO_BIG = (INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)

HUGE = "G" * (3 << 20)
# label -> (name, acceptable codes)
MALFORMED_NAMES = {
    "empty": ("", INVALID_ARGUMENT),
    "129 characters": ("G" * 129, INVALID_ARGUMENT),
    "a space and '!'": ("bad name!", INVALID_ARGUMENT),
    "3 MB": (HUGE, TOO_BIG),
}
UNKNOWN_EVENT = "curling"
UNKNOWN_TEAM = "Goths"
REUSED_KEY = "blackbox-reused-key"


def key():
    return "bad-input-" + uuid.uuid4().hex


def points(team=TEAM, value=1):
    return [pb.types.TeamPoints(team=team, points=value)]


def record_score(**fields):
    fields.setdefault("idempotency_key", key())
    fields.setdefault("event", EVENT)
    if "points" not in fields and "status" not in fields:
        fields["points"] = points()
    return pb.backend.RecordScoreRequest(**fields)


def award_medal(**fields):
    fields.setdefault("idempotency_key", key())
    fields.setdefault("team", TEAM)
    fields.setdefault("medal", pb.types.GOLD)
    return pb.backend.AwardMedalRequest(**fields)


class BadInputTest(harness.StatusAssertions):

    @classmethod
    def setUpClass(cls):
        cls.cluster = c = harness.start_cluster(cls, "bad-input", frontends=2)
        # Real state to compare against: a score (under the key one test
        # reuses), a medal, and every key cached on both frontends.
        c.record_score(REUSED_KEY, points=5)
        c.award_medal(key(), team=OTHER_TEAM, medal=pb.types.SILVER)
        for i in range(c.frontends.count):
            c.scoreboard_stub(i).GetScore(pb.scoreboard.GetScoreRequest(event=EVENT),
                                          timeout=harness.CALL_TIMEOUT)
        # Pushes reach the member within milliseconds; wait until every
        # server answers the same board, bounded.
        deadline = time.monotonic() + 10
        while len(set(c.boards().values())) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        cls.boards_before = c.boards()

    def tearDown(self):
        # No bad request may change what anyone reads, or stop a server.
        after = self.cluster.boards()
        for name, board in self.boards_before.items():
            self.assertEqual(after[name], board, "%s's board changed" % name)
        for name, status in self.cluster.health().items():
            self.assertEqual(status, harness.SERVING, "%s is not SERVING" % name)

    # Calls, with the write token where they write.
    def backend(self):
        return self.cluster.backend_stub()

    def write(self, request, codes, where, metadata=None):
        stub = self.backend()
        call = stub.RecordScore if isinstance(request, pb.backend.RecordScoreRequest) \
            else stub.AwardMedal
        if metadata is None:
            metadata = harness.write_auth()
        return self.assertFails(call, request, codes, metadata=metadata, where=where)

    def frontends(self):
        return [(i, self.cluster.scoreboard_stub(i)) for i in range(self.cluster.frontends.count)]

    def subscribe_fails(self, i, codes, where, **fields):
        request = pb.scoreboard.SubscribeRequest(
            format=pb.scoreboard.SUBSCRIBE_FORMAT_BATCHES, **fields)
        return self.assertStreamFails(self.cluster.scoreboard_stub(i).Subscribe, request,
                                      codes, where=where)

    def check_brief(self, message, where):
        self.assertLess(len(message), 1000, "%s: the message echoes the name" % where)

    # --- writes: names --------------------------------------------------

    def test_writes_naming_unknown_events_or_teams_are_not_found(self):
        """RecordScore of an unknown event or team and AwardMedal to an
        unknown team or for an unknown event are NOT_FOUND."""
        self.write(record_score(event=UNKNOWN_EVENT), NOT_FOUND, "RecordScore event")
        self.write(record_score(points=points(UNKNOWN_TEAM)), NOT_FOUND, "RecordScore team")
        self.write(award_medal(team=UNKNOWN_TEAM), NOT_FOUND, "AwardMedal team")
        self.write(award_medal(event=UNKNOWN_EVENT), NOT_FOUND, "AwardMedal event")

    def test_writes_with_malformed_names_are_invalid_argument(self):
        """An empty, over-long, oddly spelled or 3 MB event or team in
        RecordScore or AwardMedal is INVALID_ARGUMENT (a 3 MB one may be
        RESOURCE_EXHAUSTED), with a brief message."""
        for label, (name, codes) in MALFORMED_NAMES.items():
            requests = {"RecordScore event": record_score(event=name),
                        "RecordScore team": record_score(points=points(name)),
                        "AwardMedal team": award_medal(team=name)}
            if name:  # AwardMedal.event is optional: empty means none
                requests["AwardMedal event"] = award_medal(event=name)
            for where, request in requests.items():
                with self.subTest(field=where, name=label):
                    self.check_brief(self.write(request, codes, where), where)

    def test_writes_with_malformed_idempotency_keys_are_invalid_argument(self):
        """An empty, 129-byte or 3 MB idempotency key is INVALID_ARGUMENT (3
        MB: or RESOURCE_EXHAUSTED), briefly, for both writes."""
        for label, value, codes in (("empty", "", INVALID_ARGUMENT),
                                    ("129 characters", "k" * 129, INVALID_ARGUMENT),
                                    ("3 MB", HUGE, TOO_BIG)):
            for where, request in (("RecordScore", record_score(idempotency_key=value)),
                                   ("AwardMedal", award_medal(idempotency_key=value))):
                with self.subTest(write=where, key=label):
                    self.check_brief(self.write(request, codes, where), where)

    def test_writes_missing_a_field_are_invalid_argument(self):
        """A write without its event, a team, its idempotency key, its medal,
        or anything to record is INVALID_ARGUMENT."""
        cases = {
            "RecordScore without event": record_score(event=""),
            "TeamPoints without team": record_score(points=[pb.types.TeamPoints(points=3)]),
            "RecordScore without key": record_score(idempotency_key=""),
            "RecordScore without points or status": pb.backend.RecordScoreRequest(
                idempotency_key=key(), event=EVENT),
            "AwardMedal without team": award_medal(team=""),
            "AwardMedal without medal": award_medal(medal=pb.types.MEDAL_UNSPECIFIED),
            "AwardMedal without key": award_medal(idempotency_key=""),
        }
        for where, request in cases.items():
            with self.subTest(case=where):
                self.write(request, INVALID_ARGUMENT, where)

    # --- writes: values -------------------------------------------------

    def test_points_out_of_range_are_invalid_argument(self):
        """Points of -1, 1e9+1 (above the documented maximum) and 2^63-1 are
        INVALID_ARGUMENT."""
        for value in (-1, 10**9 + 1, 2**63 - 1):
            with self.subTest(points=value):
                self.write(record_score(points=points(TEAM, value)), INVALID_ARGUMENT,
                           "points %d" % value)

    def test_unknown_enum_values_are_invalid_argument(self):
        """status = 99 in RecordScore and medal = 99 in AwardMedal are
        INVALID_ARGUMENT."""
        self.write(record_score(status=99), INVALID_ARGUMENT, "status 99")
        self.write(record_score(points=points(), status=99), INVALID_ARGUMENT,
                   "points and status 99")
        self.write(award_medal(medal=99), INVALID_ARGUMENT, "medal 99")

    def test_a_team_named_twice_is_invalid_argument(self):
        """One RecordScore giving the same team points twice is
        INVALID_ARGUMENT, even when the points agree."""
        self.write(record_score(points=points(TEAM, 1) + points(OTHER_TEAM, 2) + points(TEAM, 1)),
                   INVALID_ARGUMENT, "duplicate team")

    def test_a_hundred_thousand_entries_are_refused_quickly(self):
        """A RecordScore with 100,000 TeamPoints entries (about 1.5 MB) is
        refused as INVALID_ARGUMENT (or RESOURCE_EXHAUSTED) within 5 s."""
        entries = [pb.types.TeamPoints(team=TEAMS[i % len(TEAMS)], points=1)
                   for i in range(100000)]
        started = time.monotonic()
        self.check_brief(self.write(record_score(points=entries), TOO_BIG, "100,000 entries"),
                         "100,000 entries")
        self.assertLess(time.monotonic() - started, 5.0)

    def test_a_reused_idempotency_key_with_another_payload_is_already_exists(self):
        """Under a key already applied, a different RecordScore and an
        AwardMedal are ALREADY_EXISTS; the same RecordScore again is answered
        as a duplicate with the original change, applying nothing."""
        self.write(record_score(idempotency_key=REUSED_KEY, points=points(TEAM, 6)),
                   grpc.StatusCode.ALREADY_EXISTS, "other points")
        self.write(award_medal(idempotency_key=REUSED_KEY), grpc.StatusCode.ALREADY_EXISTS,
                   "AwardMedal")
        again = self.backend().RecordScore(
            record_score(idempotency_key=REUSED_KEY, points=points(TEAM, 5)),
            metadata=harness.write_auth(), timeout=harness.CALL_TIMEOUT)
        self.assertTrue(again.duplicate)

    # --- writes: credentials --------------------------------------------

    def check_refused(self, authorization, codes):
        """Both writes, otherwise valid (so a write let through would change
        the board), carrying `authorization` (None: no metadata at all)."""
        metadata = () if authorization is None else harness.write_auth(authorization)
        for where, request in (("RecordScore", record_score()), ("AwardMedal", award_medal())):
            with self.subTest(write=where, authorization=authorization):
                self.write(request, codes, where, metadata=metadata)

    def test_a_wrong_token_is_permission_denied(self):
        """auth.h: a different token is PERMISSION_DENIED; the frontends'
        cluster token is a different token."""
        for value in ("Bearer wrong-token", "Bearer " + CLUSTER_TOKEN):
            self.check_refused(value, grpc.StatusCode.PERMISSION_DENIED)

    def test_a_missing_token_is_unauthenticated(self):
        """auth.h: no bearer token (no authorization metadata, an empty one,
        another scheme) is UNAUTHENTICATED."""
        for value in (None, "", "Basic d3JvbmctdG9rZW4=", harness.WRITE_TOKEN):
            self.check_refused(value, grpc.StatusCode.UNAUTHENTICATED)

    def test_an_empty_bearer_token_is_unauthenticated(self):
        """"Bearer " and "Bearer" carry no token: UNAUTHENTICATED."""
        for value in ("Bearer ", "Bearer"):
            self.check_refused(value, grpc.StatusCode.UNAUTHENTICATED)

    def test_a_lower_case_scheme_with_a_wrong_token_is_permission_denied(self):
        """"bearer wrong-token" carries a token, a wrong one."""
        self.check_refused("bearer wrong-token", grpc.StatusCode.PERMISSION_DENIED)

    def test_a_padded_wrong_token_is_permission_denied(self):
        """"  Bearer   wrong-token  " carries a token, a wrong one."""
        self.check_refused("  Bearer   wrong-token  ", grpc.StatusCode.PERMISSION_DENIED)

    # --- backend reads --------------------------------------------------

    def test_backend_reads_of_unknown_names_are_not_found(self):
        """GetEvent of an unknown event and GetMedals of an unknown team are
        NOT_FOUND."""
        stub = self.backend()
        self.assertFails(stub.GetEvent, pb.backend.GetEventRequest(event=UNKNOWN_EVENT),
                         NOT_FOUND, where="GetEvent")
        self.assertFails(stub.GetMedals, pb.backend.GetMedalsRequest(team=UNKNOWN_TEAM),
                         NOT_FOUND, where="GetMedals")

    def test_backend_reads_of_missing_or_malformed_names_are_invalid_argument(self):
        """GetEvent and GetMedals with an empty, over-long, oddly spelled or
        3 MB name are INVALID_ARGUMENT (3 MB: or RESOURCE_EXHAUSTED)."""
        stub = self.backend()
        for label, (name, codes) in MALFORMED_NAMES.items():
            for where, call, request in (
                    ("GetEvent", stub.GetEvent, pb.backend.GetEventRequest(event=name)),
                    ("GetMedals", stub.GetMedals, pb.backend.GetMedalsRequest(team=name))):
                with self.subTest(rpc=where, name=label):
                    self.check_brief(self.assertFails(call, request, codes, where=where), where)

    def test_change_log_reads_with_bad_arguments(self):
        """ChangesSince with a negative max_changes is INVALID_ARGUMENT; one
        after the largest seq is an empty page, not an error. (Negative seqs
        are test_conventions' business.)"""
        stub = self.backend()
        self.assertFails(stub.ChangesSince, pb.backend.ChangesSinceRequest(max_changes=-1),
                         INVALID_ARGUMENT, where="max_changes -1")
        reply = stub.ChangesSince(pb.backend.ChangesSinceRequest(after_seq=2**63 - 1),
                                  timeout=harness.CALL_TIMEOUT)
        self.assertEqual(len(reply.changes), 0)

    # --- frontend reads -------------------------------------------------

    def test_frontend_reads_of_unknown_names_are_not_found(self):
        """GetScore of an unknown event and GetMedals of an unknown team are
        NOT_FOUND on the master and on a member."""
        for i, stub in self.frontends():
            self.assertFails(stub.GetScore, pb.scoreboard.GetScoreRequest(event=UNKNOWN_EVENT),
                             NOT_FOUND, where="frontend %d GetScore" % i)
            self.assertFails(stub.GetMedals, pb.scoreboard.GetTeamMedalsRequest(team=UNKNOWN_TEAM),
                             NOT_FOUND, where="frontend %d GetMedals" % i)

    def test_frontend_reads_of_missing_or_malformed_names_are_invalid_argument(self):
        """GetScore and GetMedals with an empty, over-long, oddly spelled or
        3 MB name are INVALID_ARGUMENT (3 MB: or RESOURCE_EXHAUSTED), on the
        master and on a member."""
        for i, stub in self.frontends():
            for label, (name, codes) in MALFORMED_NAMES.items():
                for where, call, request in (
                        ("GetScore", stub.GetScore, pb.scoreboard.GetScoreRequest(event=name)),
                        ("GetMedals", stub.GetMedals,
                         pb.scoreboard.GetTeamMedalsRequest(team=name))):
                    with self.subTest(frontend=i, rpc=where, name=label):
                        where = "frontend %d %s" % (i, where)
                        self.check_brief(self.assertFails(call, request, codes, where=where),
                                         where)

    # --- Subscribe ------------------------------------------------------

    def test_subscribing_to_unknown_names_is_not_found(self):
        """Subscribe naming an unknown event or team (beside a known one) is
        NOT_FOUND."""
        for i, _ in self.frontends():
            self.subscribe_fails(i, NOT_FOUND, "unknown event", events=[EVENT, UNKNOWN_EVENT])
            self.subscribe_fails(i, NOT_FOUND, "unknown team", teams=[UNKNOWN_TEAM])

    def test_subscribing_to_missing_or_malformed_names_is_invalid_argument(self):
        """Subscribe naming an empty, over-long, oddly spelled or 3 MB event
        or team is INVALID_ARGUMENT (3 MB: or RESOURCE_EXHAUSTED)."""
        for label, (name, codes) in MALFORMED_NAMES.items():
            for field in ("events", "teams"):
                with self.subTest(field=field, name=label):
                    self.check_brief(self.subscribe_fails(1, codes, field, **{field: [name]}),
                                     field)

    def test_subscribing_to_nothing_is_invalid_argument(self):
        """A Subscribe naming no key at all is INVALID_ARGUMENT."""
        self.subscribe_fails(1, INVALID_ARGUMENT, "no keys")

    # --- bytes that do not parse ----------------------------------------

    def test_strings_that_are_not_utf8_are_invalid_argument(self):
        """A string field holding bytes that are not UTF-8 (proto3 strings
        must be), in each unary method that takes a string, is
        INVALID_ARGUMENT with a message: not a crash, not UNIMPLEMENTED."""
        bad = wire.bytes_field
        key_field = bad(1, b"k-" + uuid.uuid4().hex.encode())
        team_points = bad(3, bad(1, harness.NOT_UTF8) + wire.int_field(2, 1))
        backend = self.cluster.backend.address
        cases = [
            (backend, "Backend/RecordScore", bad(1, harness.NOT_UTF8) + bad(2, b"javelin")
             + bad(3, bad(1, b"Gauls") + wire.int_field(2, 1))),
            (backend, "Backend/RecordScore", key_field + bad(2, harness.NOT_UTF8)),
            (backend, "Backend/RecordScore", key_field + bad(2, b"javelin") + team_points),
            (backend, "Backend/AwardMedal", bad(1, harness.NOT_UTF8) + bad(2, b"Gauls")
             + wire.int_field(3, 1)),
            (backend, "Backend/AwardMedal", key_field + bad(2, harness.NOT_UTF8)
             + wire.int_field(3, 1)),
            (backend, "Backend/AwardMedal", key_field + bad(2, b"Gauls") + wire.int_field(3, 1)
             + bad(4, harness.NOT_UTF8)),
            (backend, "Backend/GetEvent", bad(1, harness.NOT_UTF8)),
            (backend, "Backend/GetMedals", bad(1, harness.NOT_UTF8)),
        ]
        for address in self.cluster.frontends.addresses:
            cases += [(address, "Scoreboard/GetScore", bad(1, harness.NOT_UTF8)),
                      (address, "Scoreboard/GetMedals", bad(1, harness.NOT_UTF8))]
        for address, method, body in cases:
            method = "/podium.v1." + method
            metadata = harness.write_auth() if method in harness.WRITE_METHODS else None
            with self.subTest(method=method, address=address, body=body):
                self.assertFails(self.cluster.raw(address, method), body, INVALID_ARGUMENT,
                                 metadata=metadata, where=method)

    def test_a_watch_request_that_does_not_parse_is_invalid_argument(self):
        """Garbage bytes as a WatchRequest end the stream at once with
        INVALID_ARGUMENT and a message."""
        for garbage in harness.GARBAGE:
            with self.subTest(body=garbage):
                self.assertStreamFails(
                    self.cluster.raw_stream(self.cluster.backend.address,
                                            "/podium.v1.Backend/Watch"),
                    garbage, INVALID_ARGUMENT, where="Watch")

    def test_a_subscribe_request_that_does_not_parse_is_invalid_argument(self):
        """Garbage bytes, or an event name that is not UTF-8, as a
        SubscribeRequest end the stream with INVALID_ARGUMENT and a message
        that does not end in whitespace."""
        bodies = list(harness.GARBAGE) + [
            wire.bytes_field(1, harness.NOT_UTF8) + wire.int_field(6, 1),
            wire.bytes_field(2, harness.NOT_UTF8) + wire.int_field(6, 1)]
        for address in self.cluster.frontends.addresses:
            for body in bodies:
                with self.subTest(address=address, body=body):
                    self.assertStreamFails(
                        self.cluster.raw_stream(address, "/podium.v1.Scoreboard/Subscribe"),
                        body, INVALID_ARGUMENT, where="Subscribe")


if __name__ == "__main__":
    unittest.main()
