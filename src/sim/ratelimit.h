/* Per-token request windows (limits.rateLimitWindowSeconds, default a minute) on gcsim's clock, with the inin-ratelimit-* headers. */
#ifndef GCSIM_RATELIMIT_H
#define GCSIM_RATELIMIT_H

#include "context.h"

/* limits.rateLimitWindowSeconds: default 60, 1 to 3600. */
#define SIM_RATE_DEFAULT_WINDOW_S 60
#define SIM_RATE_MAX_WINDOW_S 3600

/* Counts this request against c->tok's window and fills c->rl_*. Answers 429
 * too.many.requests.retry.after (Retry-After, ErrorBody limit) above the limit. 0 when allowed. */
int sim_rate_check(sim_ctx *c);
/* Header values for a request without a valid token (count 0, a full window). */
void sim_rate_unauthenticated(sim_ctx *c);

#endif
