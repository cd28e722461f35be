/* route_fixture.c - see route_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route_fixture.h"

gcmsg_route *route_for(const char *fixture, const gcmsg_identity *id)
{
	char *text = strdup(fixture), *p, err[128];
	json_t *root;
	gcmsg_conversation *c;
	gcmsg_route *r;

	assert_non_null(text);
	for (p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(gcmsg__conversation_parse(&c, root, err, sizeof(err)), GCMSG_OK);
	assert_int_equal(gcmsg__route_decide(&r, c, id), GCMSG_OK);
	json_decref(root);
	free(text);
	return r;
}
