/* The one ulfius endpoint: every request goes through sim_dispatch, which routes it, runs the
 * common pipeline (faults, auth, rate limit, permissions) and writes the answer and the log. */
#ifndef GCSIM_SERVER_H
#define GCSIM_SERVER_H

#include <ulfius.h>

/* MHD's URI log callback (wraps ulfius_uri_logger): remembers the connection for its thread,
 * so a reset fault can drop it. Register it in place of ulfius_uri_logger. */
void *sim_uri_logger(void *cls, const char *uri, struct MHD_Connection *con);
int sim_dispatch(const struct _u_request *req, struct _u_response *res, void *user_data);

#endif
