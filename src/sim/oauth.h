/* POST /oauth/token: the client-credentials grant, with OAuth-style error bodies. */
#ifndef GCSIM_OAUTH_H
#define GCSIM_OAUTH_H

#include "context.h"

int sim_oauth_token(sim_ctx *c);

#endif
