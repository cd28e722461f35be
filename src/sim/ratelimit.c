#include "ratelimit.h"

#include <stdio.h>

#include "errors.h"

/* limits.rateLimitWindowSeconds of the live org, in milliseconds. */
static int64_t window_ms(const sim_state *st) {
  json_int_t s = json_integer_value(json_object_get(json_object_get(st->org, "limits"), "rateLimitWindowSeconds"));
  return (int64_t)(s > 0 ? s : SIM_RATE_DEFAULT_WINDOW_S) * 1000;
}

void sim_rate_unauthenticated(sim_ctx *c) {
  c->rl_set = 1;
  c->rl_count = 0;
  c->rl_allowed = sim_rate_limit(c->st);
  c->rl_reset = (long)(window_ms(c->st) / 1000);
}

int sim_rate_check(sim_ctx *c) {
  sim_token *t = c->tok;
  int64_t now = sim_now_ms(c->st);
  long limit = sim_rate_limit(c->st);
  const int64_t win = window_ms(c->st);
  if (t->window_count == 0 || now - t->window_start_ms >= win || now < t->window_start_ms) {
    t->window_start_ms = now;
    t->window_count = 0;
  }
  t->window_count++;
  long reset = (long)((t->window_start_ms + win - now + 999) / 1000);
  if (reset < 1) reset = 1;
  c->rl_set = 1;
  c->rl_count = t->window_count;
  c->rl_allowed = limit;
  c->rl_reset = reset;
  if (t->window_count <= limit) return 0;
  char secs[32];
  snprintf(secs, sizeof secs, "%ld", reset);
  sim_error(c, 429, "too.many.requests.retry.after",
            "Rate limit exceeded the maximum of %ld requests per %ld seconds for this token. Retry the request in [%ld] "
            "seconds",
            limit, (long)(win / 1000), reset);
  sim_error_param(c, "retryAfter", secs, "Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds");
  json_t *lim = json_pack("{s:s, s:s, s:I}", "key", "token.rate.per.minute", "namespace", "platform.api", "value",
                          (json_int_t)limit);
  if (lim && c->resp) json_object_set_new(c->resp, "limit", lim);
  else json_decref(lim);
  c->retry_after = reset;
  return -1;
}
