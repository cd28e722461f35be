/*
 * cmd_send.c - gcmsg send CONV (--text T | --response ID|NAME [--library L] | --file F)
 *              [--var K=V]... [--lang L] [--allow-missing] [--typing] [--delay MS]
 *              [--idempotency-key K] [--no-outbox] [--audit-text] [--dry-run] [--json]
 * The route is resolved first: the conversation and the caller it reads give
 * the built-in values and the customer's attributes to the renderer. Every
 * message goes through the durable outbox (exactly once, audited) unless
 * --no-outbox.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define MAX_DELAY_MS 600000UL /* 10 minutes */

static void send_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] send CONVERSATION_ID\n"
	      "         (--text TEXT | --response ID|NAME [--library L] [--offline] | --file F [--response ID|NAME])\n"
	      "         [--attach FILE]... [--var ID=VALUE]... [--lang L] [--allow-missing] [--typing] [--delay MS]\n"
	      "         [--idempotency-key K] [--no-outbox] [--audit-text] [--dry-run] [--json]\n"
	      "\n"
	      "Send a text or a canned response into the conversation along the route 'gcmsg inspect'\n"
	      "shows. {{ID}} placeholders are filled from --var, the built-ins AGENT_NAME, AGENT_ALIAS and\n"
	      "CUSTOMER_NAME, the customer's attributes, then the response's defaults; any left unfilled\n"
	      "refuses the send (exit 5) unless --allow-missing. Everything is checked against the content\n"
	      "policy first ('gcmsg validate'); a violation sends nothing (exit 5). Each message is recorded\n"
	      "in the durable outbox before it is sent, so it reaches the customer exactly once: a 429 is\n"
	      "waited out, an ambiguous failure is read back from the conversation before any resend, and\n"
	      "a message already delivered under the same idempotency key is not sent again.\n"
	      "\n"
	      "  --text TEXT          the message text (UTF-8)\n"
	      "  --response ID|NAME   a Response Management response, by id or by name\n"
	      "  --library L          the library (id or name) to look the name up in\n"
	      "  --offline            take the response from the store ('gcmsg responses sync')\n"
	      "  --file F             take the response from a library file (gcmsg-library(5))\n"
	      "  --var ID=VALUE       a placeholder value (repeatable; wins over every other source)\n"
	      "  --lang L             the language variant of a library-file response\n"
	      "  --allow-missing      leave unresolved placeholders in place, as Genesys does\n"
	      "  --attach FILE        send FILE as an attachment, after the text if any (repeatable, at most 10)\n"
	      "  --typing             show a typing indicator first (agent messaging and legacy chat)\n"
	      "  --delay MS           wait MS milliseconds before sending the text (0-600000)\n"
	      "  --idempotency-key K  the send's key (1-160 printable ASCII; attachment N gets K/N/<its MD5>);\n"
	      "                       default: derived from conversation, communication, text and the day\n"
	      "  --no-outbox          send without the outbox and audit log (at most once, no retries)\n"
	      "  --audit-text         keep the message text in the audit log (it is PII; off by default)\n"
	      "  --dry-run            print the rendered text and the exact request(s); send nothing\n"
	      "  --json               print one JSON document\n"
	      "  -h, --help           show this help\n",
	      f);
}

static int print_dry_run_text(const gcmsg_send_result *res)
{
	size_t i, j;

	for (i = 0; i < gcmsg_send_result_request_count(res); i++) {
		if (i)
			putchar('\n');
		printf("%s %s\n", gcmsg_send_result_request_method(res, i), gcmsg_send_result_request_url(res, i));
		for (j = 0; j < gcmsg_send_result_request_header_count(res, i); j++)
			printf("%s\n", gcmsg_send_result_request_header(res, i, j));
		if (gcmsg_send_result_request_body(res, i))
			printf("\n%s\n", gcmsg_send_result_request_body(res, i));
	}
	return CLI_EXIT_OK;
}

static json_t *warnings_json(const gcmsg_send_result *res)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < gcmsg_send_result_warning_count(res); i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "id", gcmsg_send_result_warning_id(res, i),
		                                   "text", gcmsg_send_result_warning_text(res, i)));
	return a;
}

static json_t *build_json(const gcmsg_route *route, const gcmsg_send_result *res, const gcmsg_response *resp,
                          const gcmsg_rendered *rd)
{
	json_t *doc = json_object();
	size_t i, j;

	if (!doc)
		return NULL;
	json_object_set_new(doc, "dryRun", json_boolean(gcmsg_send_result_dry_run(res)));
	json_object_set_new(doc, "messageId", cli_jstr(gcmsg_send_result_message_id(res)));
	json_object_set_new(doc, "route", json_string(gcmsg_route_type_name(gcmsg_route_kind(route))));
	json_object_set_new(doc, "rule", cli_jstr(gcmsg_route_rule(route)));
	json_object_set_new(doc, "conversationId", cli_jstr(gcmsg_route_conversation_id(route)));
	json_object_set_new(doc, "communicationId", cli_jstr(gcmsg_route_communication_id(route)));
	if (gcmsg_send_result_dry_run(res)) {
		json_t *reqs = json_array();
		for (i = 0; reqs && i < gcmsg_send_result_request_count(res); i++) {
			json_t *hdrs = json_array(), *body = NULL;
			const char *b = gcmsg_send_result_request_body(res, i);
			for (j = 0; hdrs && j < gcmsg_send_result_request_header_count(res, i); j++)
				json_array_append_new(hdrs, json_string(gcmsg_send_result_request_header(res, i, j)));
			if (b)
				body = json_loads(b, 0, NULL);
			json_array_append_new(reqs, json_pack("{s:s, s:s, s:o, s:o}", "method",
			                                      gcmsg_send_result_request_method(res, i), "url",
			                                      gcmsg_send_result_request_url(res, i), "headers",
			                                      hdrs ? hdrs : json_array(), "body",
			                                      body ? body : json_null()));
		}
		json_object_set_new(doc, "requests", reqs ? reqs : json_array());
	} else {
		json_object_set_new(doc, "httpStatus", json_integer(gcmsg_send_result_http_status(res)));
		json_object_set_new(doc, "correlationId", cli_jstr(gcmsg_send_result_correlation_id(res)));
		json_object_set_new(doc, "idempotencyKey", cli_jstr(gcmsg_send_result_idempotency_key(res)));
		json_object_set_new(doc, "attempts", json_integer(gcmsg_send_result_attempts(res)));
		json_object_set_new(doc, "duplicate", json_boolean(gcmsg_send_result_duplicate(res)));
		json_object_set_new(doc, "readBack", json_boolean(gcmsg_send_result_read_back(res)));
	}
	if (resp)
		json_object_set_new(doc, "response", cli_response_json(resp, 0));
	if (rd)
		json_object_set_new(doc, "rendering", cli_rendered_json(rd, gcmsg_send_result_dry_run(res)));
	json_object_set_new(doc, "warnings", warnings_json(res));
	return doc;
}

static void print_rendered(const gcmsg_response *resp, const gcmsg_rendered *rd)
{
	if (resp) {
		printf("response: %s", gcmsg_response_name(resp) ? gcmsg_response_name(resp) : gcmsg_response_id(resp));
		if (gcmsg_response_version(resp) >= 0)
			printf(" (version %ld", gcmsg_response_version(resp));
		else
			printf(" (");
		printf("%s%s, %s)\n", gcmsg_response_version(resp) >= 0 ? ", " : "", gcmsg_response_id(resp),
		       gcmsg_response_origin_name(resp));
	}
	cli_print_placeholders(stdout, rd);
	printf("text:\n%s\n\n", gcmsg_rendered_text(rd));
}

#define MAX_ATTACH 10

/* One --attach FILE: its upload, and the message that carries it. */
typedef struct attachment {
	const char *path;
	gcmsg_media_file *media; /* the upload; only read and checked when `recorded` */
	gcmsg_send_result *sent;
	int recorded;            /* the outbox already has this attachment's message: resume it */
} attachment;

typedef struct send_plan {
	const char *conv_id, *text;
	cli_canned cn;
	cli_canned_loaded loaded;
	attachment att[MAX_ATTACH];
	size_t natt;
	gcmsg_send_options so;
	const char *key;     /* --idempotency-key */
	int no_outbox, audit_text;
	gcmsg_store *store;  /* NULL with --no-outbox and for a dry run */
	char att_keys[MAX_ATTACH][256];
	gcmsg_policy *policy;
	gcmsg_client *client;
	gcmsg_route *route;
	gcmsg_rendered *rd;
	gcmsg_send_result *res; /* the text message */
} send_plan;

static void plan_free(send_plan *p)
{
	size_t i;

	for (i = 0; i < p->natt; i++) {
		gcmsg_media_free(p->att[i].media);
		gcmsg_send_result_free(p->att[i].sent);
	}
	gcmsg_send_result_free(p->res);
	gcmsg_rendered_free(p->rd);
	gcmsg_route_free(p->route);
	cli_canned_loaded_free(&p->loaded);
	gcmsg_client_free(p->client);
	gcmsg_store_free(p->store);
	gcmsg_policy_free(p->policy);
}

/* Printable ASCII, no space; room left for an attachment's "/N/<MD5>" under the library's 200. */
static int key_ok(const char *k)
{
	size_t n = strlen(k), i;

	if (n == 0 || n > 160)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] <= ' ' || k[i] > '~')
			return 0;
	return 1;
}

static int parse(send_plan *p, int argc, char **argv, cli_ctx *ctx)
{
	enum { O_TEXT = 256, O_TYPING, O_DELAY, O_DRY_RUN, O_JSON, O_ATTACH, O_KEY, O_NO_OUTBOX, O_AUDIT_TEXT };
	static const struct option opts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "response", required_argument, NULL, CLI_OPT_RESPONSE },
		CLI_SOURCE_OPTIONS,
		CLI_RENDER_OPTIONS,
		{ "attach", required_argument, NULL, O_ATTACH },
		{ "typing", no_argument, NULL, O_TYPING },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "json", no_argument, NULL, O_JSON },
		{ "idempotency-key", required_argument, NULL, O_KEY },
		{ "no-outbox", no_argument, NULL, O_NO_OUTBOX },
		{ "audit-text", no_argument, NULL, O_AUDIT_TEXT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long delay = 0;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_TEXT: p->text = optarg; break;
		case O_TYPING: p->so.typing = 1; break;
		case O_DELAY:
			if (cli_parse_uint(optarg, MAX_DELAY_MS, &delay) < 0)
				return cli_usage_error("send: --delay wants milliseconds from 0 to %lu, not '%s'",
				                       MAX_DELAY_MS, optarg);
			break;
		case O_DRY_RUN: p->so.dry_run = 1; break;
		case O_JSON: ctx->json = 1; break;
		case O_ATTACH:
			if (p->natt >= MAX_ATTACH)
				return cli_usage_error("send: at most %d --attach options", MAX_ATTACH);
			if (!*optarg)
				return cli_usage_error("send: --attach wants a file name");
			p->att[p->natt++].path = optarg;
			break;
		case O_KEY: p->key = optarg; break;
		case O_NO_OUTBOX: p->no_outbox = 1; break;
		case O_AUDIT_TEXT: p->audit_text = 1; break;
		case 'h': send_usage(stdout); return -1;
		case ':': return cli_bad_getopt("send", argv, 1);
		case '?': return cli_bad_getopt("send", argv, 0);
		default:
			rc = cli_canned_option(&p->cn, "send", c, optarg);
			if (rc)
				return rc < 0 ? cli_bad_getopt("send", argv, 0) : rc;
		}
	}
	if (optind >= argc)
		return cli_usage_error("send: missing CONVERSATION_ID");
	p->conv_id = argv[optind++];
	if (optind < argc)
		return cli_usage_error("send: unexpected argument '%s'", argv[optind]);
	if (!*p->conv_id)
		return cli_usage_error("send: the conversation id is empty");
	if (!p->text && !p->cn.response && !p->cn.file && !p->natt)
		return cli_usage_error("send: give the message: --text TEXT, --response ID|NAME, --file F or --attach F");
	if (p->text && (p->cn.response || p->cn.file || p->cn.offline || p->cn.library || p->cn.lang))
		return cli_usage_error("send: --text cannot be combined with --response, --file, --offline, "
		                       "--library or --lang");
	if (p->text && !*p->text)
		return cli_usage_error("send: --text is empty");
	if (p->key && !key_ok(p->key))
		return cli_usage_error("send: --idempotency-key wants 1 to 160 printable ASCII characters without spaces");
	if (p->no_outbox && (p->key || p->audit_text))
		return cli_usage_error("send: --no-outbox sends without the outbox: --idempotency-key and --audit-text "
		                       "need it");
	p->so.delay_ms = (unsigned int)delay;
	return cli_canned_check(&p->cn, "send");
}

static int has_message(const send_plan *p)
{
	return p->text || p->cn.response || p->cn.file;
}

/* Render and check the text (or template text): violations are printed, nothing is sent. */
static int prepare_text(send_plan *p, cli_ctx *ctx)
{
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_policy_result *pr = NULL;
	int rc;

	cli_canned_render_options(&ro, &p->cn, gcmsg_route_conversation(p->route), gcmsg_route_identity(p->route));
	rc = p->text ? gcmsg_render_text(&p->rd, p->text, NULL, &ro) : gcmsg_render(&p->rd, p->loaded.response, &ro);
	if (rc < 0) {
		if (p->store && p->rd)
			gcmsg_audit_refused(p->store, p->route, NULL, p->rd,
			                    gcmsg_rendered_missing_count(p->rd) ? "placeholder.missing" : "placeholder.malformed",
			                    "cli", "the response could not be rendered: nothing was sent");
		return cli_render_failed("send", p->rd, rc);
	}
	cli_render_warnings(ctx, p->rd);
	rc = cli_check_text(&pr, "send", p->policy, gcmsg_rendered_text(p->rd), gcmsg_route_channel(p->route),
	                    gcmsg_route_queue_id(p->route), p->cn.allow_missing);
	if (pr)
		cli_policy_notes(ctx, pr);
	if (rc == GCMSG_EPOLICY) {
		if (p->store)
			gcmsg_audit_refused(p->store, p->route, NULL, p->rd, gcmsg_policy_result_rule(pr, 0), "cli",
			                    gcmsg_policy_result_summary(pr));
		cli_print_violations(stderr, "send", pr);
		fputs("gcmsg: send: refused by the content policy: nothing was sent\n", stderr);
	}
	gcmsg_policy_result_free(pr);
	return rc == GCMSG_OK ? CLI_EXIT_OK : cli_exit_code(rc);
}

static const char *attachment_key(send_plan *p, size_t i);

/*
 * Does the outbox already hold this attachment's message (sent, or unfinished
 * with the media it uploaded then)? Then it is resumed, not uploaded again: a
 * new upload would be a new media id, so a new message, and a rerun must not
 * send the file twice. Failed and dropped entries are sent afresh.
 */
static int attachment_recorded(send_plan *p, const char *key)
{
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *list = NULL;
	int yes = 0;

	f.key = key;
	f.states = (1u << GCMSG_OUTBOX_PENDING) | (1u << GCMSG_OUTBOX_SENDING) | (1u << GCMSG_OUTBOX_UNKNOWN) |
	           (1u << GCMSG_OUTBOX_SENT);
	if (gcmsg_outbox_list_get(&list, p->store, &f) == GCMSG_OK)
		yes = gcmsg_outbox_list_count(list) > 0;
	gcmsg_outbox_list_free(list);
	return yes;
}

/*
 * Under a key of the caller's, attachment N recorded with other content is a
 * key reused for another message: refused (exit 2) like a text, nothing sent.
 */
static int attachment_conflict(send_plan *p, size_t i)
{
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *list = NULL;
	char prefix[200];
	size_t j, n;
	int clash = 0;

	if (!p->key)
		return 0;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s/%zu/", p->key, i + 1);
	f.conversation_id = p->conv_id;
	if (gcmsg_outbox_list_get(&list, p->store, &f) == GCMSG_OK)
		for (j = 0; j < gcmsg_outbox_list_count(list) && !clash; j++) {
			const gcmsg_outbox_entry *e = gcmsg_outbox_list_entry(list, j);
			gcmsg_outbox_state st = gcmsg_outbox_entry_state(e);
			clash = strncmp(gcmsg_outbox_entry_key(e), prefix, n) == 0 &&
			        strcmp(gcmsg_outbox_entry_key(e), p->att_keys[i]) != 0 && st != GCMSG_OUTBOX_FAILED &&
			        st != GCMSG_OUTBOX_DROPPED;
		}
	gcmsg_outbox_list_free(list);
	if (clash)
		fprintf(stderr, "gcmsg: send: idempotency key %s was already used for another attachment %zu (%s): "
		                "nothing was sent\ngcmsg: fix: give this send its own --idempotency-key\n",
		        p->key, i + 1, p->att[i].path);
	return clash;
}

/* Upload every attachment (checked first by the library); nothing is delivered by an upload. */
static int upload_all(send_plan *p)
{
	gcmsg_media_options mo = GCMSG_MEDIA_OPTIONS_INIT;
	size_t i;
	int rc;

	mo.policy = p->policy;
	for (i = 0; i < p->natt; i++) {
		if (p->store) {
			/* read and check it first: its content (MD5) makes its key */
			mo.dry_run = 1;
			rc = gcmsg_media_upload(&p->att[i].media, p->client, p->route, p->att[i].path, &mo);
			if (rc == GCMSG_OK && attachment_key(p, i) && attachment_conflict(p, i))
				return CLI_EXIT_USAGE;
			if (rc == GCMSG_OK && p->att_keys[i][0] && attachment_recorded(p, p->att_keys[i])) {
				p->att[i].recorded = 1;
				continue;
			}
			gcmsg_media_free(p->att[i].media);
			p->att[i].media = NULL;
		}
		mo.dry_run = p->so.dry_run;
		rc = gcmsg_media_upload(&p->att[i].media, p->client, p->route, p->att[i].path, &mo);
		if (rc < 0) {
			fprintf(stderr, "gcmsg: send: attachment %s:\n", p->att[i].path);
			cli_print_error("send", gcmsg_client_last_error(p->client));
			if (i)
				fputs("gcmsg: send: the earlier attachments were uploaded but nothing was sent\n", stderr);
			return cli_exit_code(rc);
		}
	}
	return CLI_EXIT_OK;
}

static int send_one(send_plan *p, gcmsg_send_result **out, const gcmsg_send_options *so)
{
	int rc = gcmsg_send(out, p->client, p->route, so);

	if (rc < 0 && p->store && !so->dry_run && (rc == GCMSG_ERATELIMIT || rc == GCMSG_EREMOTE))
		fputs("gcmsg: send: the message is kept in the outbox ('gcmsg outbox list'); 'gcmsg outbox retry' "
		      "resends it only if it was not delivered\n",
		      stderr);
	if (rc < 0) {
		cli_print_error("send", gcmsg_client_last_error(p->client));
		return cli_exit_code(rc);
	}
	return CLI_EXIT_OK;
}

/*
 * An attachment's key: K/N/<MD5> under --idempotency-key K; else one derived
 * from the conversation, the file's content (MD5), its place and the day. Never
 * from the media id, which is new on every upload (a rerun must find the same
 * key); the content is in the key so that another file under the same K is
 * told apart (and refused, see attachment_conflict).
 */
static const char *attachment_key(send_plan *p, size_t i)
{
	const char *md5 = gcmsg_media_md5(p->att[i].media);

	if (!p->store)
		return NULL;
	if (p->key && md5)
		snprintf(p->att_keys[i], sizeof(p->att_keys[i]), "%s/%zu/%s", p->key, i + 1, md5);
	else if (md5)
		snprintf(p->att_keys[i], sizeof(p->att_keys[i]), "att1:%.64s:%zu:%s:%lld", p->conv_id, i + 1, md5,
		         (long long)(time(NULL) / 86400));
	else
		return NULL;
	return p->att_keys[i];
}

/* The text first (it usually introduces the attachments), then one message per attachment. */
static int send_all(send_plan *p, cli_ctx *ctx)
{
	gcmsg_send_options mso = p->so;
	size_t i, j;
	int rc;

	p->so.policy = p->policy;
	p->so.allow_placeholders = p->cn.allow_missing;
	p->so.store = p->store;
	p->so.idempotency_key = p->key;
	p->so.source = "cli";
	if (has_message(p)) {
		p->so.rendered = p->rd;
		rc = send_one(p, &p->res, &p->so);
		if (rc)
			return rc;
		for (i = 0; i < gcmsg_send_result_warning_count(p->res); i++)
			cli_warn(ctx, gcmsg_send_result_warning_id(p->res, i), gcmsg_send_result_warning_text(p->res, i));
	}
	mso = p->so;
	mso.rendered = NULL;
	mso.typing = has_message(p) ? 0 : p->so.typing; /* one typing indicator at most */
	for (i = 0; i < p->natt; i++) {
		const char *id = gcmsg_media_id(p->att[i].media);

		mso.media_id = id ? id : "MEDIA_ID_FROM_THE_UPLOAD"; /* a dry run has none yet */
		mso.idempotency_key = !p->store ? NULL : p->att_keys[i][0] ? p->att_keys[i] : attachment_key(p, i);
		mso.delay_ms = has_message(p) || i ? 0 : p->so.delay_ms;
		if (p->att[i].recorded) {
			rc = gcmsg_outbox_resume(&p->att[i].sent, p->client, p->store, mso.idempotency_key, &mso);
			if (rc < 0) {
				cli_print_error("send", gcmsg_client_last_error(p->client));
				rc = cli_exit_code(rc);
			}
		} else {
			rc = send_one(p, &p->att[i].sent, &mso);
		}
		if (rc) {
			if (has_message(p) || i)
				fputs("gcmsg: send: the messages before this one were sent\n", stderr);
			return rc;
		}
		for (j = 0; !has_message(p) && i == 0 && j < gcmsg_send_result_warning_count(p->att[i].sent); j++)
			cli_warn(ctx, gcmsg_send_result_warning_id(p->att[i].sent, j),
			         gcmsg_send_result_warning_text(p->att[i].sent, j));
	}
	return CLI_EXIT_OK;
}

static json_t *attachments_json(const send_plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < p->natt; i++) {
		const gcmsg_media_file *m = p->att[i].media;
		json_array_append_new(
			a, json_pack("{s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "file", p->att[i].path, "fileName",
		                     cli_jstr(gcmsg_media_file_name(m)), "mimeType",
		                     cli_jstr(gcmsg_media_mime_type(m)), "size", (json_int_t)gcmsg_media_size(m),
		                     "contentMd5", cli_jstr(gcmsg_media_md5(m)), "mediaId",
		                     cli_jstr(gcmsg_media_id(m)), "status", cli_jstr(gcmsg_media_status(m)),
		                     "messageId", cli_jstr(gcmsg_send_result_message_id(p->att[i].sent))));
	}
	return a;
}

static void print_attachment_dry_run(const attachment *a)
{
	size_t i;

	printf("attachment: %s (%s, %llu bytes, contentMd5 %s)\n", a->path,
	       gcmsg_media_mime_type(a->media) ? gcmsg_media_mime_type(a->media) : "?",
	       gcmsg_media_size(a->media),
	       gcmsg_media_md5(a->media) ? gcmsg_media_md5(a->media) : "?");
	for (i = 0; i < gcmsg_media_request_count(a->media); i++) {
		const char *body = gcmsg_media_request_body(a->media, i);
		printf("  %s %s%s%s\n", gcmsg_media_request_method(a->media, i),
		       gcmsg_media_request_url(a->media, i), body ? "  " : "", body ? body : "");
	}
	putchar('\n');
	print_dry_run_text(a->sent);
}

static const char *sent_word(const gcmsg_send_result *res)
{
	return gcmsg_send_result_duplicate(res) ? "already sent" : "sent";
}

/* What the outbox did, after the "sent ..." words; ends the line. */
static void delivery_note(const gcmsg_send_result *res)
{
	const char *key = gcmsg_send_result_idempotency_key(res);
	int n = gcmsg_send_result_attempts(res);

	if (gcmsg_send_result_duplicate(res))
		printf("; nothing sent now (idempotency key %s)", key ? key : "-");
	else if (gcmsg_send_result_read_back(res))
		printf("; found in the conversation after an unclear answer, not resent");
	if (n > 1)
		printf(" [%d attempts]", n);
	putchar('\n');
}

static void print_done(const send_plan *p, const cli_ctx *ctx)
{
	const gcmsg_route *route = p->route;
	size_t i;

	if (ctx->quiet)
		return;
	if (p->res) {
		printf("%s %s via %s to conversation %s", sent_word(p->res),
		       gcmsg_send_result_message_id(p->res) ? gcmsg_send_result_message_id(p->res) : "(no id)",
		       gcmsg_route_type_name(gcmsg_route_kind(route)), gcmsg_route_conversation_id(route));
		if (p->loaded.response)
			printf(" (response '%s'%s)",
			       gcmsg_response_name(p->loaded.response) ? gcmsg_response_name(p->loaded.response)
			                                               : gcmsg_response_id(p->loaded.response),
			       gcmsg_rendered_is_template(p->rd) ? " as a messaging template" : "");
		delivery_note(p->res);
	}
	for (i = 0; i < p->natt; i++) {
		printf("%s %s via %s to conversation %s (attachment %s, %s, media %s)", sent_word(p->att[i].sent),
		       gcmsg_send_result_message_id(p->att[i].sent) ? gcmsg_send_result_message_id(p->att[i].sent)
		                                                    : "(no id)",
		       gcmsg_route_type_name(gcmsg_route_kind(route)), gcmsg_route_conversation_id(route),
		       gcmsg_media_file_name(p->att[i].media), gcmsg_media_mime_type(p->att[i].media),
		       gcmsg_media_id(p->att[i].media) ? gcmsg_media_id(p->att[i].media) : "as first uploaded");
		delivery_note(p->att[i].sent);
	}
}

int cmd_send(int argc, char **argv, cli_ctx *ctx)
{
	send_plan p;
	const gcmsg_send_result *first;
	int rc;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.so = (gcmsg_send_options)GCMSG_SEND_OPTIONS_INIT;
	rc = parse(&p, argc, argv, ctx);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_policy_open(&p.policy, ctx);
	if (!rc)
		rc = cli_client_open(&p.client, ctx);
	if (!rc && !p.no_outbox && !p.so.dry_run)
		rc = cli_store_open(&p.store, ctx, CLI_STORE_WEBHOOKS | (p.audit_text ? CLI_STORE_AUDIT_TEXT : 0));
	/* find the response before touching the conversation: a typo fails fast */
	if (!rc && has_message(&p) && !p.text)
		rc = cli_canned_load(&p.loaded, &p.cn, p.client, ctx, "send");
	if (!rc && gcmsg_route_resolve(&p.route, p.client, p.conv_id) < 0) {
		cli_print_error("send", gcmsg_client_last_error(p.client));
		rc = cli_exit_code(gcmsg_client_last_error(p.client)->code);
	}
	if (!rc && has_message(&p))
		rc = prepare_text(&p, ctx);
	if (!rc)
		rc = upload_all(&p);
	if (!rc)
		rc = send_all(&p, ctx);
	if (rc)
		goto out;
	first = p.res ? p.res : p.att[0].sent;
	if (ctx->json) {
		/* the first message's document, with every attachment added */
		json_t *doc = build_json(p.route, first, p.loaded.response, p.rd);
		if (doc && p.natt)
			json_object_set_new(doc, "attachments", attachments_json(&p));
		rc = cli_print_json(doc);
	} else if (p.so.dry_run) {
		if (p.res) {
			print_rendered(p.loaded.response, p.rd);
			print_dry_run_text(p.res);
		}
		for (i = 0; i < p.natt; i++) {
			if (i || p.res)
				putchar('\n');
			print_attachment_dry_run(&p.att[i]);
		}
	} else {
		print_done(&p, ctx);
	}
	if (p.so.dry_run && !ctx->quiet) {
		fflush(stdout); /* keep the note after the output it refers to on a terminal */
		fputs("gcmsg: dry run: nothing was sent\n", stderr);
	}
out:
	if (p.store) {
		/* the answer is out first: a slow or dead webhook never holds up the result */
		fflush(stdout);
		cli_webhooks_flush(p.store, ctx);
	}
	plan_free(&p);
	return rc;
}
