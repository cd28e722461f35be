/* The one ulfius endpoint: every request goes through sim_dispatch, which routes it, runs the
 * common pipeline (faults, auth, rate limit, permissions) and writes the answer and the log. */
#ifndef GCSIM_SERVER_H
#define GCSIM_SERVER_H

#include <ulfius.h>

int sim_dispatch(const struct _u_request *req, struct _u_response *res, void *user_data);

#endif
