/*
 * route.c - the route table of docs/internals/design.md. The decision itself
 * (gcmsg__route_decide) is pure: (conversation, identity) -> route, so that
 * every rule is unit-tested on JSON fixtures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct gcmsg_route {
	gcmsg_route_type kind;
	char *rule, *explanation, *fix;
	int refusal_code;
	char *conv_id, *comm_id, *method, *path, *from, *to, *mtype;
	const char *perm_mode;
	char **missing;
	size_t nmissing;
	char **warn_ids, **warn_texts;
	size_t nwarn;
	gcmsg_conversation *conv;
	const gcmsg_identity *identity;
	int oom;
};

#define CHAT_RETIRED_TEXT                                                                          \
	"ACD web chat v2 is retired: support ended 2025-11-06 and its paths left the API definition " \
	"on 2026-08-15; move to web messaging"

static const char *const perm_messaging[] = { "conversation:message:create",
	                                      "conversation:webmessaging:create" };
static const char *const perm_agentless[] = { "conversation:message:create" };

static const char *nz(const char *s)
{
	return s ? s : "?";
}

int gcmsg__permission_matches(const char *granted, const char *wanted)
{
	/* compare segment by segment; a granted segment "*" matches anything */
	while (*granted || *wanted) {
		const char *ge = strchr(granted, ':'), *we = strchr(wanted, ':');
		size_t gl = ge ? (size_t)(ge - granted) : strlen(granted);
		size_t wl = we ? (size_t)(we - wanted) : strlen(wanted);
		if (!(gl == 1 && granted[0] == '*') && (gl != wl || strncmp(granted, wanted, gl) != 0))
			return 0;
		if (!ge || !we)
			return !ge && !we;
		granted = ge + 1;
		wanted = we + 1;
	}
	return 1;
}

static int has_permission(const gcmsg_identity *id, const char *wanted)
{
	size_t i;

	for (i = 0; i < id->nperms; i++)
		if (gcmsg__permission_matches(id->perms[i], wanted))
			return 1;
	return 0;
}

static void set_str(gcmsg_route *r, char **dst, char *val)
{
	free(*dst);
	*dst = val;
	if (!val)
		r->oom = 1;
}

static void refuse(gcmsg_route *r, const char *rule, int code, char *explanation, char *fix)
{
	r->kind = GCMSG_ROUTE_NONE;
	r->refusal_code = code;
	set_str(r, &r->rule, gcmsg__strdup(rule));
	set_str(r, &r->explanation, explanation);
	set_str(r, &r->fix, fix);
}

static void add_warning(gcmsg_route *r, const char *id, const char *text)
{
	char **ids = realloc(r->warn_ids, (r->nwarn + 1) * sizeof(char *));
	char **texts;

	if (!ids) {
		r->oom = 1;
		return;
	}
	r->warn_ids = ids;
	texts = realloc(r->warn_texts, (r->nwarn + 1) * sizeof(char *));
	if (!texts) {
		r->oom = 1;
		return;
	}
	r->warn_texts = texts;
	ids[r->nwarn] = gcmsg__strdup(id);
	texts[r->nwarn] = gcmsg__strdup(text);
	r->nwarn++;
	if (!ids[r->nwarn - 1] || !texts[r->nwarn - 1])
		r->oom = 1;
}

static int is_customer(const gcmsg_participant *p)
{
	return p->purpose && (strcmp(p->purpose, "customer") == 0 || strcmp(p->purpose, "external") == 0);
}

static int is_state(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

static int ended(const gcmsg_conversation *c)
{
	size_t i, customers = 0, gone = 0;

	if (c->end_time && *c->end_time)
		return 1;
	for (i = 0; i < c->nparts; i++) {
		if (!is_customer(&c->parts[i]))
			continue;
		customers++;
		if (is_state(c->parts[i].state, "disconnected") || is_state(c->parts[i].state, "terminated"))
			gone++;
	}
	return customers > 0 && gone == customers;
}

/* The last agent participant of this user whose communication (of `media`) is connected. */
static const gcmsg_participant *caller_agent(const gcmsg_conversation *c, const gcmsg_identity *id,
                                             gcmsg_media media)
{
	const gcmsg_participant *found = NULL;
	size_t i;

	if (!id->user_id)
		return NULL;
	for (i = 0; i < c->nparts; i++) {
		const gcmsg_participant *p = &c->parts[i];
		if (p->media == media && is_state(p->purpose, "agent") && p->user_id &&
		    strcmp(p->user_id, id->user_id) == 0 && is_state(p->state, "connected") && p->comm_id)
			found = p;
	}
	return found;
}

/* "U1 (Alice Agent), U2" - the connected agents, for explanations */
static char *connected_agents(const gcmsg_conversation *c)
{
	gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
	size_t i;

	for (i = 0; i < c->nparts; i++) {
		const gcmsg_participant *p = &c->parts[i];
		if (!is_state(p->purpose, "agent") || !is_state(p->state, "connected"))
			continue;
		if (b.len)
			gcmsg__buf_puts(&b, ", ");
		if (p->name)
			gcmsg__buf_printf(&b, "user %s (%s)", nz(p->user_id), p->name);
		else
			gcmsg__buf_printf(&b, "user %s", nz(p->user_id));
	}
	if (!b.len)
		gcmsg__buf_puts(&b, "none");
	return gcmsg__buf_detach(&b);
}

static char *caller_text(const gcmsg_identity *id)
{
	if (id->kind == GCMSG_CALLER_USER)
		return id->user_name ? gcmsg__asprintf("user %s (%s)", nz(id->user_id), id->user_name)
		                     : gcmsg__asprintf("user %s", nz(id->user_id));
	return gcmsg__asprintf("OAuth client %s (client credentials)", nz(id->client_id));
}

static char *escaped_path(const char *fmt_kind, const char *conv, const char *comm)
{
	char *a = gcmsg__path_escape(conv), *b = comm ? gcmsg__path_escape(comm) : NULL, *p = NULL;

	if (a && (b || !comm)) {
		if (strcmp(fmt_kind, "messages") == 0)
			p = gcmsg__asprintf("/api/v2/conversations/messages/%s/communications/%s/messages", a, b);
		else
			p = gcmsg__asprintf("/api/v2/conversations/chats/%s/communications/%s/messages", a, b);
	}
	free(a);
	free(b);
	return p;
}

/* Permission check for user tokens; returns 1 when the route must be refused. */
static int check_permissions(gcmsg_route *r, const gcmsg_identity *id, const char *const *perms,
                             size_t n, int any)
{
	size_t i, have = 0;
	gcmsg_buf list = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
	char *who;

	if (id->kind != GCMSG_CALLER_USER || !id->perms_known)
		return 0;
	for (i = 0; i < n; i++)
		have += (size_t)has_permission(id, perms[i]);
	if (any ? have > 0 : have == n)
		return 0;
	r->perm_mode = any ? "ANY" : "ALL";
	r->missing = calloc(n, sizeof(char *));
	if (!r->missing) {
		r->oom = 1;
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!any && has_permission(id, perms[i]))
			continue;
		r->missing[r->nmissing++] = gcmsg__strdup(perms[i]);
		if (list.len)
			gcmsg__buf_puts(&list, ", ");
		gcmsg__buf_puts(&list, perms[i]);
	}
	who = caller_text(id);
	refuse(r, "permission.missing", GCMSG_EPERM,
	       gcmsg__asprintf("%s lacks the permission to send on route %s of conversation %s: it needs "
	                       "%s of %s",
	                       nz(who), gcmsg_route_type_name(r->kind), nz(r->conv_id), r->perm_mode,
	                       gcmsg__buf_cstr(&list)),
	       gcmsg__asprintf("grant %s a role with %s of: %s", nz(who), r->perm_mode,
	                       gcmsg__buf_cstr(&list)));
	free(who);
	gcmsg__buf_dispose(&list);
	/* a refusal has no request */
	free(r->method);
	free(r->path);
	free(r->comm_id);
	r->method = r->path = r->comm_id = NULL;
	return 1;
}

static void decide(gcmsg_route *r, const gcmsg_conversation *c, const gcmsg_identity *id)
{
	const char *platform = c->platform;
	const gcmsg_participant *agent;
	char *who = caller_text(id), *agents = NULL;
	size_t i;

	/* conversation.ended */
	if (ended(c)) {
		refuse(r, "conversation.ended", GCMSG_EROUTE,
		       gcmsg__asprintf("conversation %s has ended: %s", nz(c->id),
		                       c->end_time ? "it has an endTime" :
		                                     "every customer communication is disconnected"),
		       gcmsg__strdup("nothing can be sent into an ended conversation; start a new one "
		                     "(for SMS, WhatsApp, Open or Apple, an agentless send without "
		                     "useExistingActiveConversation)"));
		goto out;
	}
	/* chat.third-party */
	for (i = 0; i < c->nparts; i++) {
		const gcmsg_participant *p = &c->parts[i];
		if (p->media == GCMSG_MEDIA_CHAT && p->provider && *p->provider) {
			refuse(r, "chat.third-party", GCMSG_EROUTE,
			       gcmsg__asprintf("conversation %s is a third-party chat (provider \"%s\", created "
			                       "with POST /api/v2/conversations/chats): Genesys does not carry "
			                       "its messages, so no API can send text into it",
			                       nz(c->id), p->provider),
			       gcmsg__asprintf("send through the provider \"%s\" itself, or move the channel "
			                       "to web messaging",
			                       p->provider));
			goto out;
		}
	}
	if (c->media == GCMSG_MEDIA_CHAT) {
		agent = id->kind == GCMSG_CALLER_USER ? caller_agent(c, id, GCMSG_MEDIA_CHAT) : NULL;
		if (agent) {
			r->kind = GCMSG_ROUTE_LEGACY_CHAT;
			set_str(r, &r->rule, gcmsg__strdup("chat.legacy"));
			set_str(r, &r->comm_id, gcmsg__strdup(agent->comm_id));
			set_str(r, &r->method, gcmsg__strdup("POST"));
			set_str(r, &r->path, escaped_path("chats", c->id, agent->comm_id));
			set_str(r, &r->explanation,
			        gcmsg__asprintf("conversation %s is a legacy ACD web chat and %s is its connected "
			                        "agent (participant %s): the text goes on the agent's chat "
			                        "communication %s",
			                        nz(c->id), nz(who), nz(agent->id), nz(agent->comm_id)));
			add_warning(r, "chat.retired", CHAT_RETIRED_TEXT);
			/* the chat send lists no permission in the API definition: nothing to check */
			goto out;
		}
		agents = connected_agents(c);
		refuse(r, "chat.not-agent", GCMSG_EROUTE,
		       gcmsg__asprintf("conversation %s is a legacy ACD web chat and %s is not one of its "
		                       "connected agents (connected agents: %s)",
		                       nz(c->id), nz(who), nz(agents)),
		       gcmsg__asprintf("use the user token of a connected agent of the chat (%s)", nz(agents)));
		goto out;
	}
	if (c->media != GCMSG_MEDIA_MESSAGE) {
		refuse(r, "media.unsupported", GCMSG_EROUTE,
		       gcmsg__asprintf("conversation %s has no messaging or chat communication (media %s): "
		                       "text cannot be sent into it",
		                       nz(c->id), gcmsg_conversation_media_name(c)),
		       gcmsg__strdup("text can only be sent into messaging (and legacy chat) conversations"));
		goto out;
	}
	if (id->kind == GCMSG_CALLER_USER) {
		agent = caller_agent(c, id, GCMSG_MEDIA_MESSAGE);
		if (agent) {
			r->kind = GCMSG_ROUTE_AGENT_MESSAGING;
			set_str(r, &r->rule, gcmsg__strdup("messaging.agent"));
			set_str(r, &r->comm_id, gcmsg__strdup(agent->comm_id));
			set_str(r, &r->method, gcmsg__strdup("POST"));
			set_str(r, &r->path, escaped_path("messages", c->id, agent->comm_id));
			set_str(r, &r->explanation,
			        gcmsg__asprintf("%s is the connected agent (participant %s) of %s conversation %s: "
			                        "the text goes on the agent's messaging communication %s",
			                        nz(who), nz(agent->id), platform ? platform : "messaging",
			                        nz(c->id), nz(agent->comm_id)));
			check_permissions(r, id, perm_messaging, 2, 1);
			goto out;
		}
		agents = connected_agents(c);
		refuse(r, "messaging.not-agent", GCMSG_EROUTE,
		       gcmsg__asprintf("%s is not a connected agent participant of conversation %s "
		                       "(connected agents: %s); only a connected agent can send on its own "
		                       "communication",
		                       nz(who), nz(c->id), nz(agents)),
		       gcmsg__asprintf("use the user token of the connected agent (%s)", nz(agents)));
		goto out;
	}
	/* client credentials (or unknown caller kind, treated the same: no user context) */
	if (platform && strcmp(platform, "webmessaging") == 0) {
		refuse(r, "messaging.webmessaging-agentless", GCMSG_EROUTE,
		       gcmsg__asprintf("conversation %s is web messaging and %s has no user context: the "
		                       "agent endpoint needs a user token and the agentless endpoint cannot "
		                       "reach a web messaging guest",
		                       nz(c->id), nz(who)),
		       gcmsg__strdup("use a user token of a connected agent of the conversation "
		                     "(--access-token)"));
		goto out;
	}
	if (platform && (strcmp(platform, "sms") == 0 || strcmp(platform, "whatsapp") == 0 ||
	                 strcmp(platform, "open") == 0 || strcmp(platform, "apple") == 0)) {
		const gcmsg_participant *cust = NULL;
		const char *to = NULL;
		for (i = 0; i < c->nparts; i++)
			if (is_customer(&c->parts[i]) && c->parts[i].media == GCMSG_MEDIA_MESSAGE)
				cust = &c->parts[i];
		if (cust)
			to = cust->from_address ? cust->from_address : cust->address;
		if (!cust || !cust->to_address || !to) {
			refuse(r, "messaging.agentless-no-address", GCMSG_EROUTE,
			       gcmsg__asprintf("conversation %s is %s but its customer communication does not "
			                       "show both addresses an agentless send needs (fromAddress = "
			                       "the customer's toAddress, toAddress = the customer's address)",
			                       nz(c->id), platform),
			       gcmsg__strdup("use the user token of a connected agent, or check the "
			                     "conversation's customer participant"));
			goto out;
		}
		r->kind = GCMSG_ROUTE_AGENTLESS;
		set_str(r, &r->rule, gcmsg__strdup("messaging.agentless"));
		set_str(r, &r->method, gcmsg__strdup("POST"));
		set_str(r, &r->path, gcmsg__strdup("/api/v2/conversations/messages/agentless"));
		set_str(r, &r->from, gcmsg__strdup(cust->to_address));
		set_str(r, &r->to, gcmsg__strdup(to));
		set_str(r, &r->mtype, gcmsg__strdup(platform));
		set_str(r, &r->explanation,
		        gcmsg__asprintf("%s has no user context and conversation %s is %s: the text goes "
		                        "through the agentless endpoint into the active conversation "
		                        "(from %s to %s)",
		                        nz(who), nz(c->id), platform, cust->to_address, to));
		if (strcmp(platform, "whatsapp") == 0)
			add_warning(r, "whatsapp.template-only",
			            "Genesys takes only messaging templates on the agentless route into WhatsApp: "
			            "send a MessagingTemplate response, or use the connected agent's user token "
			            "for free text");
		/* a client's permissions are not readable here: a 403 from the send names them */
		check_permissions(r, id, perm_agentless, 1, 0);
		goto out;
	}
	refuse(r, "messaging.unsupported-platform", GCMSG_EROUTE,
	       gcmsg__asprintf("conversation %s is on platform %s, which the agentless endpoint does not "
	                       "serve, and %s has no user context",
	                       nz(c->id), platform ? platform : "(unknown)", nz(who)),
	       gcmsg__strdup("use the user token of a connected agent of the conversation"));
out:
	free(who);
	free(agents);
}

int gcmsg__route_decide(gcmsg_route **out, gcmsg_conversation *conv, const gcmsg_identity *identity)
{
	gcmsg_route *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		gcmsg_conversation_free(conv);
		return GCMSG_ERROR;
	}
	r->conv = conv;
	r->identity = identity;
	r->conv_id = gcmsg__strdup(conv->id);
	if (!r->conv_id)
		r->oom = 1;
	decide(r, conv, identity);
	if (r->oom || !r->rule || !r->explanation) {
		gcmsg_route_free(r);
		return GCMSG_ERROR;
	}
	*out = r;
	return GCMSG_OK;
}

int gcmsg_route_resolve(gcmsg_route **out, gcmsg_client *c, const char *conversation_id)
{
	const gcmsg_identity *id;
	gcmsg_conversation *conv;
	int rc;

	if (!out || !c)
		return GCMSG_EUSAGE;
	*out = NULL;
	rc = gcmsg_client_whoami(&id, c);
	if (rc < 0)
		return rc;
	rc = gcmsg_conversation_get(&conv, c, conversation_id);
	if (rc < 0)
		return rc;
	rc = gcmsg__route_decide(out, conv, id);
	if (rc < 0)
		return gcmsg__err_set(&c->err, rc, "out of memory deciding the route");
	return GCMSG_OK;
}

void gcmsg_route_free(gcmsg_route *r)
{
	if (!r)
		return;
	free(r->rule);
	free(r->explanation);
	free(r->fix);
	free(r->conv_id);
	free(r->comm_id);
	free(r->method);
	free(r->path);
	free(r->from);
	free(r->to);
	free(r->mtype);
	gcmsg__free_strv(r->missing, r->nmissing);
	gcmsg__free_strv(r->warn_ids, r->nwarn);
	gcmsg__free_strv(r->warn_texts, r->nwarn);
	gcmsg_conversation_free(r->conv);
	free(r);
}

gcmsg_route_type gcmsg_route_kind(const gcmsg_route *r) { return r ? r->kind : GCMSG_ROUTE_NONE; }

const char *gcmsg_route_type_name(gcmsg_route_type kind)
{
	switch (kind) {
	case GCMSG_ROUTE_AGENT_MESSAGING: return "agent-messaging";
	case GCMSG_ROUTE_AGENTLESS: return "agentless";
	case GCMSG_ROUTE_LEGACY_CHAT: return "legacy-chat";
	default: return "none";
	}
}

const char *gcmsg_route_rule(const gcmsg_route *r) { return r ? r->rule : NULL; }
const char *gcmsg_route_explanation(const gcmsg_route *r) { return r ? r->explanation : NULL; }
const char *gcmsg_route_fix(const gcmsg_route *r) { return r ? r->fix : NULL; }
int gcmsg_route_refusal_code(const gcmsg_route *r)
{
	return !r ? GCMSG_EUSAGE : r->kind == GCMSG_ROUTE_NONE ? r->refusal_code : GCMSG_OK;
}
size_t gcmsg_route_warning_count(const gcmsg_route *r) { return r ? r->nwarn : 0; }
const char *gcmsg_route_warning_id(const gcmsg_route *r, size_t i) { return r && i < r->nwarn ? r->warn_ids[i] : NULL; }
const char *gcmsg_route_warning_text(const gcmsg_route *r, size_t i) { return r && i < r->nwarn ? r->warn_texts[i] : NULL; }
const char *gcmsg_route_conversation_id(const gcmsg_route *r) { return r ? r->conv_id : NULL; }
const char *gcmsg_route_communication_id(const gcmsg_route *r) { return r ? r->comm_id : NULL; }
const char *gcmsg_route_method(const gcmsg_route *r) { return r ? r->method : NULL; }
const char *gcmsg_route_path(const gcmsg_route *r) { return r ? r->path : NULL; }
const char *gcmsg_route_from_address(const gcmsg_route *r) { return r ? r->from : NULL; }
const char *gcmsg_route_to_address(const gcmsg_route *r) { return r ? r->to : NULL; }
const char *gcmsg_route_messenger_type(const gcmsg_route *r) { return r ? r->mtype : NULL; }

const char *gcmsg_route_channel(const gcmsg_route *r)
{
	const gcmsg_conversation *c = r ? r->conv : NULL;

	if (!c)
		return NULL;
	if (c->media == GCMSG_MEDIA_CHAT)
		return "chat";
	return c->media == GCMSG_MEDIA_MESSAGE ? c->platform : NULL;
}

const char *gcmsg_route_queue_id(const gcmsg_route *r)
{
	const gcmsg_conversation *c = r ? r->conv : NULL;
	const char *q = NULL;
	size_t i;

	/* the last ACD participant is the queue the conversation came through */
	for (i = 0; c && i < c->nparts; i++)
		if (c->parts[i].purpose && strcmp(c->parts[i].purpose, "acd") == 0 && c->parts[i].queue_id)
			q = c->parts[i].queue_id;
	return q;
}
const char *gcmsg_route_permission_mode(const gcmsg_route *r) { return r ? r->perm_mode : NULL; }
size_t gcmsg_route_missing_permission_count(const gcmsg_route *r) { return r ? r->nmissing : 0; }
const char *gcmsg_route_missing_permission(const gcmsg_route *r, size_t i) { return r && i < r->nmissing ? r->missing[i] : NULL; }
const gcmsg_conversation *gcmsg_route_conversation(const gcmsg_route *r) { return r ? r->conv : NULL; }
const gcmsg_identity *gcmsg_route_identity(const gcmsg_route *r) { return r ? r->identity : NULL; }
