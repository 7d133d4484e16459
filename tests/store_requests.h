// Write requests for store tests: a score or a medal under an idempotency key.
#ifndef PODIUM_TESTS_STORE_REQUESTS_H_
#define PODIUM_TESTS_STORE_REQUESTS_H_

#include <cstdint>
#include <string>

#include "podium/v1/backend.pb.h"

namespace podium::test {

inline v1::RecordScoreRequest Score(const std::string& key, const std::string& event,
                                    const std::string& team, int64_t points) {
  v1::RecordScoreRequest request;
  request.set_idempotency_key(key);
  request.set_event(event);
  v1::TeamPoints* p = request.add_points();
  p->set_team(team);
  p->set_points(points);
  return request;
}

inline v1::AwardMedalRequest Award(const std::string& key, const std::string& team,
                                   v1::Medal medal) {
  v1::AwardMedalRequest request;
  request.set_idempotency_key(key);
  request.set_team(team);
  request.set_medal(medal);
  return request;
}

}  // namespace podium::test

#endif  // PODIUM_TESTS_STORE_REQUESTS_H_
