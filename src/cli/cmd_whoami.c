/*
 * cmd_whoami.c - gcmsg whoami [--json]: who the configured credentials are
 * (GET /api/v2/tokens/me, then /api/v2/users/me?expand=authorization), and
 * what they may do. Never prints the token.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void whoami_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] whoami [--json]\n"
	      "\n"
	      "Show who the configured credentials are: a user (with the permissions that decide\n"
	      "which routes are open) or an OAuth client with no user context. Never prints a token.\n"
	      "\n"
	      "  --json       print one JSON document\n"
	      "  -h, --help   show this help\n",
	      f);
}

static int print_json(const gcmsg_identity *id)
{
	json_t *doc = json_object(), *perms = NULL;
	size_t i;

	if (!doc)
		return cli_print_json(NULL);
	json_object_set_new(doc, "kind", json_string(gcmsg_identity_kind_name(id)));
	json_object_set_new(doc, "userId", cli_jstr(gcmsg_identity_user_id(id)));
	json_object_set_new(doc, "userName", cli_jstr(gcmsg_identity_user_name(id)));
	json_object_set_new(doc, "preferredName", cli_jstr(gcmsg_identity_user_preferred_name(id)));
	json_object_set_new(doc, "clientId", cli_jstr(gcmsg_identity_client_id(id)));
	json_object_set_new(doc, "clientName", cli_jstr(gcmsg_identity_client_name(id)));
	json_object_set_new(doc, "orgId", cli_jstr(gcmsg_identity_org_id(id)));
	json_object_set_new(doc, "orgName", cli_jstr(gcmsg_identity_org_name(id)));
	if (gcmsg_identity_permissions_known(id)) {
		perms = json_array();
		for (i = 0; perms && i < gcmsg_identity_permission_count(id); i++)
			json_array_append_new(perms, json_string(gcmsg_identity_permission(id, i)));
	}
	/* null: not readable for this kind of token (a client's 403s name what is missing) */
	json_object_set_new(doc, "permissions", perms ? perms : json_null());
	return cli_print_json(doc);
}

static void line(const char *label, const char *a, const char *b)
{
	if (!a && !b)
		return;
	printf("%-13s %s", label, a ? a : "-");
	if (b)
		printf(" (%s)", b);
	putchar('\n');
}

static int print_text(const gcmsg_identity *id)
{
	size_t i, n = gcmsg_identity_permission_count(id);

	line("caller", gcmsg_identity_kind_name(id), NULL);
	line("user", gcmsg_identity_user_id(id), gcmsg_identity_user_name(id));
	line("preferred", gcmsg_identity_user_preferred_name(id), NULL);
	line("client", gcmsg_identity_client_id(id), gcmsg_identity_client_name(id));
	line("organization", gcmsg_identity_org_id(id), gcmsg_identity_org_name(id));
	if (!gcmsg_identity_permissions_known(id)) {
		printf("%-13s %s\n", "permissions",
		       "not readable for a client-credentials token (a refused send names what is missing)");
		return CLI_EXIT_OK;
	}
	printf("%-13s %zu\n", "permissions", n);
	for (i = 0; i < n; i++)
		printf("  %s\n", gcmsg_identity_permission(id, i));
	return CLI_EXIT_OK;
}

int cmd_whoami(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_JSON = 256 };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const gcmsg_identity *id = NULL;
	gcmsg_client *client = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: ctx->json = 1; break;
		case 'h': whoami_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("whoami", argv, 1);
		default: return cli_bad_getopt("whoami", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("whoami: unexpected argument '%s'", argv[optind]);
	rc = cli_client_open(&client, ctx);
	if (rc)
		return rc;
	rc = gcmsg_client_whoami(&id, client);
	if (rc < 0) {
		cli_print_error("whoami", gcmsg_client_last_error(client));
		rc = cli_exit_code(rc);
	} else {
		rc = ctx->json ? print_json(id) : print_text(id);
	}
	gcmsg_client_free(client);
	return rc;
}
