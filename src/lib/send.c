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
 * POSTs are not retried (a message sent twice reaches the customer twice).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

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

static int record(gcmsg_send_result *res, gcmsg_client *c, const char *path, const json_t *body)
{
	send_req *q = &res->reqs[res->nreqs++];

	q->method = gcmsg__strdup("POST");
	q->url = gcmsg__asprintf("%s%s", c->api_url, path);
	q->body = body ? gcmsg__json_body(body) : NULL;
	q->headers[q->nheaders++] = gcmsg__strdup("Authorization: Bearer <redacted>");
	q->headers[q->nheaders++] = gcmsg__strdup("Accept: application/json");
	q->headers[q->nheaders++] = gcmsg__strdup("User-Agent: gcmsg/" GCMSG_VERSION);
	if (body)
		q->headers[q->nheaders++] = gcmsg__strdup("Content-Type: application/json");
	if (!q->method || !q->url || (body && !q->body))
		return -1;
	for (size_t j = 0; j < q->nheaders; j++)
		if (!q->headers[j])
			return -1;
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

/* Read the message id of a send answer. */
static char *message_id_of(gcmsg_route_type kind, const json_t *answer)
{
	const char *id = NULL;

	if (kind == GCMSG_ROUTE_AGENTLESS) {
		/* SendAgentlessOutboundMessageResponse: the message is message.id, else the top id */
		id = gcmsg__json_str(json_object_get(answer, "message"), "id");
	}
	if (!id)
		id = gcmsg__json_str(answer, "id");
	return gcmsg__strdup(id);
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
		return rc;
	}
	if (media_id && kind != GCMSG_ROUTE_AGENT_MESSAGING)
		return refuse_body(c, "media.agent-only",
		                   "send attachments with the user token of the conversation's connected agent",
		                   "attachments (mediaIds) go only through the agent messaging route; %s has no "
		                   "field for them",
		                   kind == GCMSG_ROUTE_AGENTLESS ? "the agentless endpoint" : "a legacy web chat");
	rc = check_body_kind(c, route, rendered && gcmsg_rendered_is_template(rendered));
	if (rc < 0)
		return rc;
	if (message) {
		if (rendered && !allow_placeholders)
			allow_placeholders = gcmsg_rendered_missing_count(rendered) > 0 ||
			                     gcmsg_rendered_malformed_count(rendered) > 0;
		rc = check_content(c, route, policy, message, allow_placeholders);
		if (rc < 0)
			return rc;
	}
	if (rendered && gcmsg_rendered_is_template(rendered)) {
		tmpl = template_json(c, rendered, &rc);
		if (!tmpl)
			return rc == GCMSG_ERROR ? gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory") : rc;
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

	if (res->dry_run)
		goto done;

	gcmsg__http_resp_init(&r);
	if (tpath) {
		rc = gcmsg__api(c, "POST", tpath, typing, 0, NULL, &r);
		if (rc < 0 && r.status != 0) {
			free(c->err.explanation);
			c->err.explanation = gcmsg__asprintf("the typing indicator was refused (POST %s answered "
			                                     "%ld); the text was not sent",
			                                     tpath, r.status);
			c->err.pub.explanation = c->err.explanation;
		}
		if (rc < 0) {
			gcmsg__http_resp_dispose(&r);
			goto fail;
		}
		if (opts->delay_ms)
			sleep_ms(opts->delay_ms);
	} else if (opts->delay_ms) {
		sleep_ms(opts->delay_ms);
	}
	rc = gcmsg__api(c, "POST", gcmsg_route_path(route), body, 0, &answer, &r);
	if (rc < 0) {
		if (r.status == 403 && c->err.nparams > 0 && !c->err.fix) {
			gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
			for (i = 0; i < c->err.nparams; i++)
				gcmsg__buf_printf(&b, "%s%s", i ? ", " : "", c->err.values[i]);
			gcmsg__err_set_fix(&c->err, "grant the caller's role the permissions the server named: %s",
			                   gcmsg__buf_cstr(&b));
			gcmsg__buf_dispose(&b);
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
	res->message_id = message_id_of(kind, answer);
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
	(void)store;
	(void)key;
	(void)opts;
	if (out)
		*out = NULL;
	if (!c)
		return GCMSG_EUSAGE;
	/* being written (deliver.c) */
	return gcmsg__err_set(&c->err, GCMSG_ERROR, "resuming outbox entries is not available yet");
}
