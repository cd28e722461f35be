/*
 * send.c - send a text along a resolved route.
 *   agent messaging: POST .../messages/{cid}/communications/{comm}/messages {"textBody": T}
 *                    typing: POST .../typing {"typing":{"type":"On"}}
 *   agentless:       POST /api/v2/conversations/messages/agentless
 *                    {"fromAddress","toAddress","toAddressMessengerType","textBody",
 *                     "useExistingActiveConversation":true}
 *   legacy chat:     POST .../chats/{cid}/communications/{comm}/messages
 *                    {"body": T, "bodyType": "standard"}; typing: POST .../typing, no body
 * An attachment replaces textBody with "mediaIds": [M] (agent messaging only).
 * Every text is checked against the content policy before anything is built.
 * A MessagingTemplate response replaces textBody with
 *   "messagingTemplate": {"responseId": R, "bodyParameters": [{"id","value"},...]}
 * on the two messaging routes (WhatsApp only).
 * Without a store, POSTs are not retried (a message sent twice reaches the
 * customer twice). With a store (options v4), the message goes through the
 * outbox (deliver.c): an idempotency key, a row written before any request,
 * retries that are safe (429; ambiguous failures only after a read-back proves
 * the message absent), a duplicate answered from the outbox, and the audit log.
 * The typing indicator and media uploads are not part of the outbox: only the
 * message is.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "deliver.h"
#include "retry.h"

#define MAX_REQ 2
#define MAX_HDR 4

typedef struct send_req {
	char *method, *url, *body;
	char *headers[MAX_HDR];
	size_t nheaders;
} send_req;

struct gcmsg_send_result {
	int dry_run;
	char *message_id, *correlation_id;
	long http_status;
	/* with a store (deliver.c) */
	char *idempotency_key;
	int attempts, duplicate, read_back;
	send_req reqs[MAX_REQ];
	size_t nreqs;
	char **warn_ids, **warn_texts;
	size_t nwarn;
};

void gcmsg_send_result_free(gcmsg_send_result *r)
{
	size_t i, j;

	if (!r)
		return;
	for (i = 0; i < r->nreqs; i++) {
		free(r->reqs[i].method);
		free(r->reqs[i].url);
		free(r->reqs[i].body);
		for (j = 0; j < r->reqs[i].nheaders; j++)
			free(r->reqs[i].headers[j]);
	}
	free(r->message_id);
	free(r->correlation_id);
	free(r->idempotency_key);
	gcmsg__free_strv(r->warn_ids, r->nwarn);
	gcmsg__free_strv(r->warn_texts, r->nwarn);
	free(r);
}

static int add_warning(gcmsg_send_result *r, const char *id, const char *text)
{
	char **ids = realloc(r->warn_ids, (r->nwarn + 1) * sizeof(char *)), **texts;

	if (!ids)
		return -1;
	r->warn_ids = ids;
	texts = realloc(r->warn_texts, (r->nwarn + 1) * sizeof(char *));
	if (!texts)
		return -1;
	r->warn_texts = texts;
	ids[r->nwarn] = gcmsg__strdup(id);
	texts[r->nwarn] = gcmsg__strdup(text);
	r->nwarn++;
	return ids[r->nwarn - 1] && texts[r->nwarn - 1] ? 0 : -1;
}

/* A request as shown (dry run, --json): body_text is copied, body serialised; either may be NULL. */
static int record_req(gcmsg_send_result *res, gcmsg_client *c, const char *path, const json_t *body,
                      const char *body_text)
{
	send_req *q = &res->reqs[res->nreqs++];
	int has_body = body || body_text;

	q->method = gcmsg__strdup("POST");
	q->url = gcmsg__asprintf("%s%s", c->api_url, path);
	q->body = body ? gcmsg__json_body(body) : gcmsg__strdup(body_text);
	q->headers[q->nheaders++] = gcmsg__strdup("Authorization: Bearer <redacted>");
	q->headers[q->nheaders++] = gcmsg__strdup("Accept: application/json");
	q->headers[q->nheaders++] = gcmsg__strdup("User-Agent: gcmsg/" GCMSG_VERSION);
	if (has_body)
		q->headers[q->nheaders++] = gcmsg__strdup("Content-Type: application/json");
	if (!q->method || !q->url || (has_body && !q->body))
		return -1;
	for (size_t j = 0; j < q->nheaders; j++)
		if (!q->headers[j])
			return -1;
	return 0;
}

static int record(gcmsg_send_result *res, gcmsg_client *c, const char *path, const json_t *body)
{
	return record_req(res, c, path, body, NULL);
}

static char *typing_path(const gcmsg_route *route)
{
	const char *p = gcmsg_route_path(route);
	size_t n = strlen(p), suffix = strlen("/messages");

	/* .../communications/{comm}/messages -> .../communications/{comm}/typing */
	if (n < suffix)
		return NULL;
	return gcmsg__asprintf("%.*s/typing", (int)(n - suffix), p);
}

/* A refusal of the body for this route (rule, sentence, fix) on the client. */
static int refuse_body(gcmsg_client *c, const char *rule, const char *fix, const char *fmt, const char *arg)
{
	int rc = gcmsg__err_set(&c->err, GCMSG_EROUTE, fmt, arg);

	gcmsg__err_set_rule(&c->err, rule);
	gcmsg__err_set_fix(&c->err, "%s", fix);
	return rc;
}

/* Does this body kind fit the route? 0, or a refusal on the client. */
static int check_body_kind(gcmsg_client *c, const gcmsg_route *route, int is_template)
{
	const char *platform = gcmsg_conversation_platform(gcmsg_route_conversation(route));
	gcmsg_route_type kind = gcmsg_route_kind(route);

	if (is_template && kind == GCMSG_ROUTE_LEGACY_CHAT)
		return refuse_body(c, "template.not-messaging",
		                   "send a plain-text response, or use a WhatsApp messaging conversation",
		                   "a messaging template can only be sent into a messaging conversation; %s is a "
		                   "legacy web chat",
		                   gcmsg_route_conversation_id(route));
	if (is_template && (!platform || strcmp(platform, "whatsapp") != 0))
		return refuse_body(c, "template.not-whatsapp", "send a plain-text response to this conversation",
		                   "messaging templates are WhatsApp templates; this conversation's platform is %s",
		                   platform ? platform : "unknown");
	if (!is_template && kind == GCMSG_ROUTE_AGENTLESS && platform && strcmp(platform, "whatsapp") == 0)
		return refuse_body(c, "messaging.whatsapp-agentless-text",
		                   "send a MessagingTemplate response (--response), or use the user token of the "
		                   "connected agent",
		                   "Genesys accepts only messaging templates on the agentless route into WhatsApp "
		                   "(conversation %s); a free text needs the agent route",
		                   gcmsg_route_conversation_id(route));
	return 0;
}

/* messagingTemplate {responseId, bodyParameters} of a rendered MessagingTemplate response. */
static json_t *template_json(gcmsg_client *c, const gcmsg_rendered *rd, int *rc)
{
	json_t *params = json_array(), *tmpl;
	size_t i;

	*rc = GCMSG_ERROR;
	if (!params)
		return NULL;
	if (gcmsg_rendered_malformed_count(rd) > 0) {
		/* a malformed piece cannot become a body parameter, and Genesys would show it as written */
		json_decref(params);
		*rc = gcmsg__err_set(&c->err, GCMSG_EPOLICY,
		                     "the template's text has %zu malformed placeholder(s): %s",
		                     gcmsg_rendered_malformed_count(rd), gcmsg_rendered_malformed_reason(rd, 0));
		gcmsg__err_set_fix(&c->err, "correct the template in Response Management (templates cannot leave "
		                            "anything in place, even with --allow-missing)");
		return NULL;
	}
	for (i = 0; i < gcmsg_rendered_placeholder_count(rd); i++) {
		const char *id = gcmsg_rendered_placeholder_id(rd, i), *v = gcmsg_rendered_placeholder_value(rd, i);

		if (!v || !*v) {
			/* Genesys fills templates itself: an absent or empty parameter cannot be left as text */
			json_decref(params);
			*rc = gcmsg__err_set(&c->err, GCMSG_EPOLICY, "template parameter {{%s}} has %s", id,
			                     v ? "an empty value" : "no value");
			gcmsg__err_set_fix(&c->err, "give it with --var %s=VALUE (templates cannot leave it in place)", id);
			return NULL;
		}
		if (json_array_append_new(params, json_pack("{s:s, s:s}", "id", id, "value", v)) < 0) {
			json_decref(params);
			return NULL;
		}
	}
	tmpl = json_pack("{s:s, s:o}", "responseId", gcmsg_rendered_template_response_id(rd), "bodyParameters",
	                 params);
	if (tmpl)
		*rc = GCMSG_OK;
	return tmpl;
}

/*
 * The content policy, before anything is built: the same checks `gcmsg validate`
 * runs, against the route's channel and queue. GCMSG_EPOLICY names every rule.
 */
static int check_content(gcmsg_client *c, const gcmsg_route *route, const gcmsg_policy *policy,
                         const char *message, int allow_placeholders)
{
	gcmsg_check_options co = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *pr = NULL;
	int rc;

	co.channel = gcmsg_route_channel(route);
	co.queue_id = gcmsg_route_queue_id(route);
	co.allow_placeholders = allow_placeholders;
	rc = gcmsg_policy_check_text(&pr, policy, message, strlen(message), &co);
	if (rc == GCMSG_EPOLICY) {
		gcmsg__err_set(&c->err, GCMSG_EPOLICY, "refused by the content policy: %s",
		               gcmsg_policy_result_summary(pr));
		gcmsg__err_set_rule(&c->err, gcmsg_policy_result_rule(pr, 0));
		gcmsg__err_set_fix(&c->err, "run 'gcmsg validate' on the text to see each violation; nothing was sent");
	} else if (rc < 0) {
		gcmsg__err_set(&c->err, rc, "the content policy could not check the text");
	}
	gcmsg_policy_result_free(pr);
	return rc;
}

/* The request body for this route: exactly one body kind (text, template or media). */
static json_t *build_body(const gcmsg_route *route, json_t *text, json_t *tmpl, const char *media_id)
{
	json_t *kind_value = tmpl ? tmpl : text;
	const char *kind_name = tmpl ? "messagingTemplate" : "textBody";

	switch (gcmsg_route_kind(route)) {
	case GCMSG_ROUTE_AGENT_MESSAGING:
		if (media_id)
			return json_pack("{s:[s]}", "mediaIds", media_id);
		return json_pack("{s:O}", kind_name, kind_value);
	case GCMSG_ROUTE_AGENTLESS:
		return json_pack("{s:s, s:s, s:s, s:O, s:b}", "fromAddress", gcmsg_route_from_address(route),
		                 "toAddress", gcmsg_route_to_address(route), "toAddressMessengerType",
		                 gcmsg_route_messenger_type(route), kind_name, kind_value,
		                 "useExistingActiveConversation", 1);
	case GCMSG_ROUTE_LEGACY_CHAT:
		return json_pack("{s:O, s:s}", "body", text, "bodyType", "standard");
	default:
		return NULL;
	}
}

/*
 * A send refused before any request (route, body kind, content policy,
 * template parameters) still goes to the audit log when there is a store:
 * outcome "refused" with the rule. Returns rc. The explanation names rules
 * and spans, never the text.
 */
static int refused(gcmsg_client *c, const gcmsg_send_options *opts, const gcmsg_route *route, const char *message,
                   const gcmsg_rendered *rendered, int rc)
{
	if (opts->version >= 4 && opts->store && !opts->dry_run &&
	    (rc == GCMSG_EPOLICY || rc == GCMSG_EROUTE || rc == GCMSG_EPERM))
		gcmsg_audit_refused(opts->store, route, message, rendered, c->err.rule ? c->err.rule : "refused",
		                    opts->source ? opts->source : "library", c->err.explanation);
	return rc;
}

/* The window of a derived key (gcmsg_send_options.idempotency_window_s, 0: a day). */
static unsigned key_window(const gcmsg_send_options *opts)
{
	return opts->idempotency_window_s ? opts->idempotency_window_s : 86400;
}

/* The derived key of this send (see gcmsg__key_derive for the encoding). GCMSG_OK or GCMSG_ERROR (OOM). */
static int derive_key(char out[GCMSG__KEY_DERIVED_LEN], const gcmsg_route *route, const gcmsg_send_options *opts,
                      const char *message, const gcmsg_rendered *rd, const char *media_id)
{
	gcmsg__key_input in;
	const char **content;
	size_t n = 0, i, np = rd && gcmsg_rendered_is_template(rd) ? gcmsg_rendered_placeholder_count(rd) : 0;
	unsigned window = key_window(opts);

	content = calloc(1 + 2 * np, sizeof(*content));
	if (!content)
		return GCMSG_ERROR;
	memset(&in, 0, sizeof(in));
	in.conversation_id = gcmsg_route_conversation_id(route);
	in.route = gcmsg_route_type_name(gcmsg_route_kind(route));
	if (media_id) {
		in.body_kind = "media";
		content[n++] = media_id;
	} else if (rd && gcmsg_rendered_is_template(rd)) {
		in.body_kind = "template";
		content[n++] = gcmsg_rendered_template_response_id(rd);
		for (i = 0; i < np; i++) {
			content[n++] = gcmsg_rendered_placeholder_id(rd, i);
			content[n++] = gcmsg_rendered_placeholder_value(rd, i);
		}
	} else {
		in.body_kind = "text";
		content[n++] = message;
	}
	in.content = content;
	in.ncontent = n;
	in.bucket = gcmsg__wall_ms() / 1000 / (long long)window;
	gcmsg__key_derive(out, &in);
	free(content);
	return GCMSG_OK;
}

/* The typing indicator, then the delay; an error names the indicator. */
static int send_typing(gcmsg_client *c, const char *tpath, const json_t *typing, unsigned int delay_ms)
{
	gcmsg__http_resp r;
	int rc = GCMSG_OK;

	if (tpath) {
		gcmsg__http_resp_init(&r);
		rc = gcmsg__api(c, "POST", tpath, typing, 0, NULL, &r);
		if (rc < 0 && r.status != 0) {
			free(c->err.explanation);
			c->err.explanation = gcmsg__asprintf("the typing indicator was refused (POST %s answered "
			                                     "%ld); the text was not sent",
			                                     tpath, r.status);
			c->err.pub.explanation = c->err.explanation;
		}
		gcmsg__http_resp_dispose(&r);
		if (rc < 0)
			return rc;
	}
	if (delay_ms)
		gcmsg__sleep_ms(delay_ms);
	return GCMSG_OK;
}

/* Fill the result from a delivery (stealing its strings). */
static void take_delivery(gcmsg_send_result *res, gcmsg__delivery_result *dr)
{
	res->message_id = dr->message_id;
	dr->message_id = NULL;
	res->correlation_id = dr->correlation_id;
	dr->correlation_id = NULL;
	res->http_status = dr->http_status;
	res->attempts = dr->attempts;
	res->duplicate = dr->duplicate;
	res->read_back = dr->read_back;
}

/* gcmsg_send with a store: the message goes through the outbox (deliver.c). */
static int send_with_store(gcmsg_send_result *res, gcmsg_client *c, const gcmsg_route *route,
                           const gcmsg_send_options *opts, const json_t *body, const json_t *typing,
                           const char *tpath, const char *message, const gcmsg_rendered *rd, const char *media_id)
{
	char derived[GCMSG__KEY_DERIVED_LEN], *btext = NULL, *who = NULL;
	const char *key = opts->idempotency_key;
	gcmsg__delivery d;
	gcmsg__delivery_result dr;
	gcmsg__deliver_opts o;
	int rc, go = 0;

	memset(&dr, 0, sizeof(dr));
	if (!key) {
		if (derive_key(derived, route, opts, message, rd, media_id) < 0)
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		key = derived;
	}
	if (!(res->idempotency_key = gcmsg__strdup(key)))
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	if (res->dry_run)
		return GCMSG_OK;
	btext = gcmsg__json_body(body);
	who = gcmsg__identity_who(gcmsg_route_identity(route));
	if (!btext) {
		free(who);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	memset(&d, 0, sizeof(d));
	d.key = key;
	d.path = gcmsg_route_path(route);
	d.body = btext;
	d.conversation_id = gcmsg_route_conversation_id(route);
	d.communication_id = gcmsg_route_communication_id(route);
	d.route = gcmsg_route_type_name(gcmsg_route_kind(route));
	d.channel = gcmsg_route_channel(route);
	d.match_text = media_id ? NULL : message; /* a template's rendered text is what the customer sees */
	d.media_id = media_id;
	d.response_id = rd ? gcmsg_rendered_response_id(rd) : NULL;
	d.library_id = rd ? gcmsg_rendered_library_id(rd) : NULL;
	d.response_version = rd ? gcmsg_rendered_response_version(rd) : -1;
	d.source = opts->source ? opts->source : "library";
	d.who = who;
	d.derived = !opts->idempotency_key;
	d.window_s = key_window(opts);
	rc = gcmsg__deliver_prepare(c, opts->store, &d, &dr, &go);
	if (dr.key) {
		/* the same message, unfinished (or just sent) under another key: that key it is */
		free(res->idempotency_key);
		res->idempotency_key = dr.key;
		dr.key = NULL;
		key = res->idempotency_key;
	}
	if (rc == GCMSG_OK && go) {
		/* not a duplicate: the typing indicator (not part of the outbox), then the message */
		rc = send_typing(c, tpath, typing, opts->delay_ms);
		if (rc < 0) {
			gcmsg__err_set_fix(&c->err, "the message was not sent; it is kept in the outbox: send again with "
			                            "the same key, or gcmsg outbox retry %s (without the typing indicator)",
			                   key);
		} else {
			memset(&o, 0, sizeof(o));
			o.source = d.source;
			o.who = who;
			o.on_attempt = opts->on_attempt;
			o.attempt_payload = opts->attempt_payload;
			rc = gcmsg__deliver_run(c, opts->store, key, &o, &dr);
		}
	}
	if (rc == GCMSG_OK)
		take_delivery(res, &dr);
	gcmsg__delivery_result_dispose(&dr);
	gcmsg__free_secret(btext);
	free(who);
	return rc;
}

int gcmsg_send(gcmsg_send_result **out, gcmsg_client *c, const gcmsg_route *route,
               const gcmsg_send_options *opts)
{
	gcmsg_send_result *res = NULL;
	json_t *body = NULL, *typing = NULL, *answer = NULL;
	json_t *text = NULL, *tmpl = NULL;
	const gcmsg_rendered *rendered = NULL;
	const gcmsg_policy *policy = NULL;
	const char *message, *media_id = NULL;
	char *tpath = NULL;
	gcmsg__http_resp r;
	gcmsg_route_type kind;
	int rc = GCMSG_OK, allow_placeholders = 0;
	size_t i;

	if (!out || !c)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!route || !opts)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "gcmsg_send needs a route and options");
	if (opts->version < 1 || opts->version > GCMSG_SEND_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_send_options version %u",
		                      opts->version);
	if (opts->version >= 2)
		rendered = opts->rendered;
	if (opts->version >= 3) {
		policy = opts->policy;
		media_id = opts->media_id;
		allow_placeholders = opts->allow_placeholders;
	}
	if (opts->version >= 4 && opts->store && opts->idempotency_key && !gcmsg__key_valid(opts->idempotency_key)) {
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE,
		                    "the idempotency key must be 1 to %d printable ASCII characters", GCMSG__KEY_MAX);
		gcmsg__err_set_fix(&c->err, "give another key, or none (gcmsg derives one from the message)");
		return rc;
	}
	if (!!rendered + !!opts->text + !!media_id != 1)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE,
		                      "give exactly one of a text, a rendered response or a media id");
	if (rendered && gcmsg_rendered_error(rendered))
		return gcmsg__err_set(&c->err, GCMSG_EPOLICY, "%s", gcmsg_rendered_error(rendered));
	if (rendered && !gcmsg_rendered_flattened(rendered) && gcmsg_rendered_content_type(rendered) &&
	    strncasecmp(gcmsg_rendered_content_type(rendered), "text/html", 9) == 0)
		/* rendered with keep_html, for display: markup must not reach a customer */
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE,
		                      "the rendering kept its HTML (keep_html): render it flattened to send it");
	if (media_id && !*media_id)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the media id is empty");
	message = media_id ? NULL : rendered ? gcmsg_rendered_text(rendered) : opts->text;
	if (!media_id && (!message || !*message))
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the text is empty");
	kind = gcmsg_route_kind(route);
	if (kind == GCMSG_ROUTE_NONE) {
		rc = gcmsg__err_set(&c->err, gcmsg_route_refusal_code(route), "%s",
		                    gcmsg_route_explanation(route));
		gcmsg__err_set_rule(&c->err, gcmsg_route_rule(route));
		if (gcmsg_route_fix(route))
			gcmsg__err_set_fix(&c->err, "%s", gcmsg_route_fix(route));
		return refused(c, opts, route, message, rendered, rc);
	}
	if (media_id && kind != GCMSG_ROUTE_AGENT_MESSAGING)
		return refused(c, opts, route, message, rendered,
		               refuse_body(c, "media.agent-only",
		                           "send attachments with the user token of the conversation's connected agent",
		                           "attachments (mediaIds) go only through the agent messaging route; %s has "
		                           "no field for them",
		                           kind == GCMSG_ROUTE_AGENTLESS ? "the agentless endpoint"
		                                                         : "a legacy web chat"));
	rc = check_body_kind(c, route, rendered && gcmsg_rendered_is_template(rendered));
	if (rc < 0)
		return refused(c, opts, route, message, rendered, rc);
	if (message) {
		if (rendered && !allow_placeholders)
			allow_placeholders = gcmsg_rendered_missing_count(rendered) > 0 ||
			                     gcmsg_rendered_malformed_count(rendered) > 0;
		rc = check_content(c, route, policy, message, allow_placeholders);
		if (rc < 0)
			return refused(c, opts, route, message, rendered, rc);
	}
	if (rendered && gcmsg_rendered_is_template(rendered)) {
		tmpl = template_json(c, rendered, &rc);
		if (!tmpl)
			return rc == GCMSG_ERROR ? gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory")
			                         : refused(c, opts, route, message, rendered, rc);
	}
	if (message && !(text = json_string(message))) {
		json_decref(tmpl);
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the text is not valid UTF-8");
	}

	res = calloc(1, sizeof(*res));
	if (!res) {
		json_decref(text);
		json_decref(tmpl);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	res->dry_run = opts->dry_run != 0;
	for (i = 0; i < gcmsg_route_warning_count(route); i++) {
		/* the route's "templates only" warning is moot when a template is what goes out */
		if (tmpl && strcmp(gcmsg_route_warning_id(route, i), "whatsapp.template-only") == 0)
			continue;
		if (add_warning(res, gcmsg_route_warning_id(route, i), gcmsg_route_warning_text(route, i)) < 0)
			goto oom;
	}
	body = build_body(route, text, tmpl, media_id);
	if (!body)
		goto oom;
	if (opts->typing && kind == GCMSG_ROUTE_AGENT_MESSAGING &&
	    !(typing = json_pack("{s:{s:s}}", "typing", "type", "On")))
		goto oom;
	if (opts->typing && kind == GCMSG_ROUTE_AGENTLESS &&
	    add_warning(res, "typing.unsupported",
	                "the agentless route has no typing indicator; the text was sent without one") < 0)
		goto oom;
	if (opts->typing && kind != GCMSG_ROUTE_AGENTLESS) {
		tpath = typing_path(route);
		if (!tpath || record(res, c, tpath, typing) < 0)
			goto oom;
	}
	if (record(res, c, gcmsg_route_path(route), body) < 0)
		goto oom;

	if (opts->version >= 4 && opts->store) {
		rc = send_with_store(res, c, route, opts, body, typing, tpath, message, rendered, media_id);
		if (rc < 0)
			goto fail;
		goto done;
	}
	if (res->dry_run)
		goto done;

	if ((rc = send_typing(c, tpath, typing, opts->delay_ms)) < 0)
		goto fail;
	gcmsg__http_resp_init(&r);
	rc = gcmsg__api(c, "POST", gcmsg_route_path(route), body, 0, &answer, &r); /* a 2xx must be JSON */
	if (rc < 0) {
		if (r.status == 403) {
			gcmsg__permissions_fix(&c->err);
		} else if (r.status == 0 || r.status >= 500) {
			/* the request may have reached Genesys: a blind resend could duplicate it */
			gcmsg__err_set_fix(&c->err, "the outcome is unknown: the message may have been delivered; "
			                            "look at the conversation before sending again (gcmsg does not "
			                            "retry sends)");
		} else if (r.status == 400 && !c->err.fix) {
			gcmsg__err_set_fix(&c->err, "nothing was delivered; check the text against the channel's "
			                            "limits (SMS 765, other messaging 2000 characters)");
		}
		gcmsg__http_resp_dispose(&r);
		goto fail;
	}
	res->http_status = r.status;
	res->attempts = 1;
	res->correlation_id = r.correlation_id[0] ? gcmsg__strdup(r.correlation_id) : NULL;
	res->message_id = gcmsg__message_id_of(gcmsg_route_type_name(kind), r.body.ptr, r.body.len);
	gcmsg__http_resp_dispose(&r);
	goto done;

oom:
	rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
fail:
	gcmsg_send_result_free(res);
	res = NULL;
done:
	json_decref(text);
	json_decref(tmpl);
	json_decref(body);
	json_decref(typing);
	json_decref(answer);
	free(tpath);
	if (res) {
		*out = res;
		rc = GCMSG_OK;
	}
	return rc;
}

int gcmsg_send_result_dry_run(const gcmsg_send_result *r) { return r ? r->dry_run : 0; }
const char *gcmsg_send_result_message_id(const gcmsg_send_result *r) { return r ? r->message_id : NULL; }
long gcmsg_send_result_http_status(const gcmsg_send_result *r) { return r ? r->http_status : 0; }
const char *gcmsg_send_result_correlation_id(const gcmsg_send_result *r) { return r ? r->correlation_id : NULL; }
const char *gcmsg_send_result_idempotency_key(const gcmsg_send_result *r) { return r ? r->idempotency_key : NULL; }
int gcmsg_send_result_attempts(const gcmsg_send_result *r) { return r ? r->attempts : 0; }
int gcmsg_send_result_duplicate(const gcmsg_send_result *r) { return r ? r->duplicate : 0; }
int gcmsg_send_result_read_back(const gcmsg_send_result *r) { return r ? r->read_back : 0; }
size_t gcmsg_send_result_warning_count(const gcmsg_send_result *r) { return r ? r->nwarn : 0; }
const char *gcmsg_send_result_warning_id(const gcmsg_send_result *r, size_t i) { return r && i < r->nwarn ? r->warn_ids[i] : NULL; }
const char *gcmsg_send_result_warning_text(const gcmsg_send_result *r, size_t i) { return r && i < r->nwarn ? r->warn_texts[i] : NULL; }
size_t gcmsg_send_result_request_count(const gcmsg_send_result *r) { return r ? r->nreqs : 0; }
const char *gcmsg_send_result_request_method(const gcmsg_send_result *r, size_t i) { return r && i < r->nreqs ? r->reqs[i].method : NULL; }
const char *gcmsg_send_result_request_url(const gcmsg_send_result *r, size_t i) { return r && i < r->nreqs ? r->reqs[i].url : NULL; }
size_t gcmsg_send_result_request_header_count(const gcmsg_send_result *r, size_t i) { return r && i < r->nreqs ? r->reqs[i].nheaders : 0; }

const char *gcmsg_send_result_request_header(const gcmsg_send_result *r, size_t i, size_t j)
{
	return r && i < r->nreqs && j < r->reqs[i].nheaders ? r->reqs[i].headers[j] : NULL;
}

const char *gcmsg_send_result_request_body(const gcmsg_send_result *r, size_t i)
{
	return r && i < r->nreqs ? r->reqs[i].body : NULL;
}

int gcmsg_outbox_resume(gcmsg_send_result **out, gcmsg_client *c, gcmsg_store *store, const char *key,
                        const gcmsg_send_options *opts)
{
	gcmsg_send_options defaults = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;
	gcmsg__outbox_row row;
	gcmsg__delivery_result dr;
	gcmsg__deliver_opts o;
	char *who = NULL;
	int rc;

	if (!out || !c)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!store || !store->ops || !key || !*key)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "gcmsg_outbox_resume needs an open store and a key");
	if (!opts)
		opts = &defaults;
	if (opts->version < 1 || opts->version > GCMSG_SEND_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_send_options version %u", opts->version);
	if (!(res = calloc(1, sizeof(*res))) || !(res->idempotency_key = gcmsg__strdup(key))) {
		gcmsg_send_result_free(res);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	res->dry_run = opts->dry_run != 0;
	gcmsg__outbox_row_init(&row);
	rc = store->ops->outbox_get(store->backend, key, &row, &store->err);
	if (rc == GCMSG_ENOTFOUND) {
		rc = gcmsg__err_set(&c->err, GCMSG_ENOTFOUND, "no outbox entry has the key %s", key);
		gcmsg__err_set_fix(&c->err, "gcmsg outbox list shows the entries");
		goto fail;
	}
	if (rc < 0) {
		rc = gcmsg__err_set(&c->err, rc, "the outbox failed: %s",
		                    store->err.pub.explanation ? store->err.pub.explanation : gcmsg_strerror(rc));
		goto fail;
	}
	/* the recorded request, as a dry run shows it (a terminal entry keeps none) */
	if (row.path && record_req(res, c, row.path, NULL, row.body) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto fail;
	}
	gcmsg__outbox_row_dispose(&row);
	if (res->dry_run) {
		*out = res;
		return GCMSG_OK;
	}
	memset(&dr, 0, sizeof(dr));
	memset(&o, 0, sizeof(o));
	who = gcmsg__identity_who(c->identity); /* who resends it, when known; else the entry's sender */
	o.source = opts->version >= 4 ? opts->source : NULL;
	o.who = who;
	if (opts->version >= 4) {
		o.on_attempt = opts->on_attempt;
		o.attempt_payload = opts->attempt_payload;
	}
	rc = gcmsg__deliver_run(c, store, key, &o, &dr);
	free(who);
	if (rc == GCMSG_OK)
		take_delivery(res, &dr);
	gcmsg__delivery_result_dispose(&dr);
	if (rc < 0) {
		gcmsg_send_result_free(res);
		return rc;
	}
	*out = res;
	return GCMSG_OK;
fail:
	gcmsg__outbox_row_dispose(&row);
	gcmsg_send_result_free(res);
	return rc;
}
