#include "backend/fan_board.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace podium {
v1::FanBoard ApplyPost(const v1::FanBoard& current, const v1::PostToFanBoardRequest& request,
                       int64_t seq, int64_t now_unix_micros) {
  v1::FanBoard next = current;
  next.set_event(request.event());
  v1::FanPost* post = next.add_posts();
  post->set_id(seq);
  post->set_author(request.author());
  post->set_text(request.text());
  post->set_posted_unix_micros(now_unix_micros);
  if (next.posts_size() > kMaxFanPosts) {
    next.mutable_posts()->DeleteSubrange(0, next.posts_size() - kMaxFanPosts);
  }
  next.set_version(seq);
  next.set_updated_unix_micros(now_unix_micros);
  return next;
}

absl::StatusOr<v1::FanBoard> ApplyRemoval(const v1::FanBoard& current,
                                          const v1::RemovePostRequest& request, int64_t seq,
                                          int64_t now_unix_micros) {
  v1::FanBoard next = current;
  auto* posts = next.mutable_posts();
  auto it = std::find_if(posts->begin(), posts->end(),
                         [&](const v1::FanPost& post) { return post.id() == request.post_id(); });
  if (it == posts->end()) {
    return absl::NotFoundError(absl::StrCat("the fan board of '", request.event(),
                                            "' shows no post ", request.post_id(),
                                            " (removed already, or never posted there)"));
  }
  posts->erase(it);
  next.set_event(request.event());
  next.set_version(seq);
  next.set_updated_unix_micros(now_unix_micros);
  return next;
}

}  // namespace podium
