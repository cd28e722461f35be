/*
 * store_open.c - the durable store of the CLI (<store dir>/gcmsg.db: outbox,
 * audit log, webhook queue) and the webhook flush after a send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_store_path(char **out, cli_ctx *ctx)
{
	char *dir = NULL;
	int rc = cli_store_dir(&dir, ctx);
	size_t n;

	*out = NULL;
	if (rc)
		return rc;
	n = strlen(dir) + sizeof("/gcmsg.db");
	*out = malloc(n);
	if (!*out) {
		gcmsg_free(dir);
		fputs("gcmsg: out of memory\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	snprintf(*out, n, "%s/gcmsg.db", dir);
	gcmsg_free(dir);
	return CLI_EXIT_OK;
}

int cli_store_open(gcmsg_store **out, cli_ctx *ctx, unsigned flags)
{
	gcmsg_store_options so = GCMSG_STORE_OPTIONS_INIT;
	char *path = NULL;
	int rc;

	*out = NULL;
	rc = cli_store_path(&path, ctx);
	if (rc)
		return rc;
	so.audit_text = (flags & CLI_STORE_AUDIT_TEXT) != 0;
	if (flags & CLI_STORE_EXISTING) {
		/* reading must not leave a store behind (a mistyped --store would look empty, not wrong) */
		struct stat st;
		if (stat(path, &st) != 0 && errno == ENOENT) {
			if (!ctx->quiet)
				fprintf(stderr, "gcmsg: no store at %s yet: nothing was sent through the outbox there\n", path);
			free(path);
			return CLI_EXIT_OK;
		}
	}
	rc = gcmsg_store_open(out, path, &so);
	if (rc < 0) {
		cli_print_error("store", gcmsg_store_last_error(*out));
		gcmsg_store_free(*out);
		*out = NULL;
		free(path);
		return cli_exit_code(rc);
	}
	free(path);
	if (flags & CLI_STORE_WEBHOOKS) {
		rc = cli_store_set_webhooks(*out, ctx);
		if (rc) {
			gcmsg_store_free(*out);
			*out = NULL;
			return rc;
		}
	}
	return CLI_EXIT_OK;
}

/*
 * After a send, post what is due for a short while. The send's answer is
 * already printed; whatever is not delivered stays queued for the next run or
 * 'gcmsg webhooks deliver'. A webhook that failed recently is in backoff and
 * is not even tried, so a dead one costs nothing here.
 */
#define FLUSH_DEADLINE_MS 2000

void cli_webhooks_flush(gcmsg_store *store, const cli_ctx *ctx)
{
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;
	gcmsg_webhook_report rep = { 0, 0, 0 };

	if (!store)
		return;
	o.deadline_ms = FLUSH_DEADLINE_MS;
	o.timeout_ms = FLUSH_DEADLINE_MS;
	o.cacert = ctx->cacert;
	if (gcmsg_webhooks_deliver(store, &o, &rep) < 0) {
		/* a webhook that is down must not clutter every send: 'gcmsg webhooks list' shows it */
		if (ctx->verbose)
			cli_print_error("webhooks", gcmsg_store_last_error(store));
		return;
	}
	if (ctx->verbose && (rep.delivered || rep.failed || rep.pending))
		fprintf(stderr, "gcmsg: webhooks: %lu delivered, %lu failed attempts, %lu still queued\n", rep.delivered,
		        rep.failed, rep.pending);
}

int cli_store_set_webhooks(gcmsg_store *store, cli_ctx *ctx)
{
	gcmsg_webhook hooks[64];
	gcmsg_config *cfg = NULL;
	size_t i, n;
	int rc = cli_config_open(&cfg, ctx);

	if (rc)
		return rc;
	n = gcmsg_config_webhook_count(cfg);
	if (n > sizeof(hooks) / sizeof(hooks[0])) {
		gcmsg_config_free(cfg);
		return cli_usage_error("at most %zu webhooks can be configured", sizeof(hooks) / sizeof(hooks[0]));
	}
	for (i = 0; i < n; i++)
		gcmsg_config_webhook(cfg, i, &hooks[i]);
	rc = n ? gcmsg_store_set_webhooks(store, hooks, n) : GCMSG_OK;
	if (rc < 0)
		cli_print_error("webhooks", gcmsg_store_last_error(store));
	gcmsg_config_free(cfg); /* the store copied what it keeps */
	return rc < 0 ? cli_exit_code(rc) : CLI_EXIT_OK;
}
