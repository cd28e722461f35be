/* The admin API under /sim/v1/ (not Genesys): see docs/gcsim-scenarios.md. */
#ifndef GCSIM_ADMIN_H
#define GCSIM_ADMIN_H

#include "context.h"

int sim_admin(sim_ctx *c);

#endif
