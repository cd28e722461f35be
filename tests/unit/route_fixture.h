/* route_fixture.h - a route from a conversation written in tests with single quotes (shared test code). */
#ifndef GCMSG_TEST_ROUTE_FIXTURE_H
#define GCMSG_TEST_ROUTE_FIXTURE_H

#include "internal.h"

/* Parse `fixture` (JSON with ' for ") and decide its route for `id`; fails the test when either fails. */
gcmsg_route *route_for(const char *fixture, const gcmsg_identity *id);

#endif
