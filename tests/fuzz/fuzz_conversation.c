/*
 * libFuzzer target: an API answer for GET /api/v2/conversations/{id} (and the chat view that
 * is merged into it), parsed and run through the route decision for a user and a client caller.
 * A hostile or broken answer must give an error or a refusal, never a crash.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decide(const json_t *root, const gcmsg_identity *who)
{
	gcmsg_conversation *conv = NULL;
	gcmsg_route *route = NULL;
	char err[256];

	if (gcmsg__conversation_parse(&conv, root, err, sizeof err) != GCMSG_OK)
		return;
	gcmsg__conversation_merge_chat(conv, root);
	if (gcmsg__route_decide(&route, conv, who) == GCMSG_OK)
		gcmsg_route_free(route);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const perms[] = { "conversation:message:create", "conversation:*:view" };
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	gcmsg_identity *user, *client;

	if (!root)
		return 0;
	user = gcmsg__identity_new(GCMSG_CALLER_USER, "u-1", "Alice", NULL, perms, 2, 1);
	client = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	if (user && client) {
		decide(root, user);
		decide(root, client);
	}
	gcmsg__identity_free(user);
	gcmsg__identity_free(client);
	json_decref(root);
	return 0;
}
