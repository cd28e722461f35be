/*
 * conversation.c - read and parse GET /api/v2/conversations/{id}; for chat
 * media also GET /api/v2/conversations/chats/{id} to learn a third-party
 * chat's provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Message.toAddress/fromAddress are Address objects; accept plain strings too. */
static const char *address_of(const json_t *v)
{
	static const char *const keys[] = { "addressNormalized", "addressRaw", "addressDisplayable", "name" };
	size_t i;

	if (json_is_string(v))
		return json_string_value(v);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = gcmsg__json_str(v, keys[i]);
		if (s && *s)
			return s;
	}
	return NULL;
}

static void participant_free(gcmsg_participant *p)
{
	free(p->id);
	free(p->purpose);
	free(p->name);
	free(p->user_id);
	free(p->queue_id);
	free(p->address);
	free(p->comm_id);
	free(p->state);
	free(p->platform);
	free(p->from_address);
	free(p->to_address);
	free(p->provider);
	gcmsg__free_strv(p->attr_keys, p->nattrs);
	gcmsg__free_strv(p->attr_values, p->nattrs);
}

void gcmsg_conversation_free(gcmsg_conversation *conv)
{
	size_t i;

	if (!conv)
		return;
	for (i = 0; i < conv->nparts; i++)
		participant_free(&conv->parts[i]);
	free(conv->parts);
	free(conv->id);
	free(conv->platform);
	free(conv->start_time);
	free(conv->end_time);
	free(conv->state);
	free(conv);
}

static int parse_participant(gcmsg_participant *p, const json_t *j)
{
	static const char *const other_media[] = { "calls", "callbacks", "emails", "socialExpressions",
		                                   "videos", "cobrowsesessions", "screenshares",
		                                   "internalMessages" };
	const json_t *msgs = json_object_get(j, "messages");
	const json_t *chats = json_object_get(j, "chats");
	const json_t *attrs = json_object_get(j, "attributes");
	const json_t *comm = NULL;
	size_t i;

	p->id = gcmsg__strdup(gcmsg__json_str(j, "id"));
	p->purpose = gcmsg__strdup(gcmsg__json_str(j, "purpose"));
	p->name = gcmsg__strdup(gcmsg__json_str(j, "name"));
	p->user_id = gcmsg__strdup(gcmsg__json_str(j, "userId"));
	p->queue_id = gcmsg__strdup(gcmsg__json_str(j, "queueId"));
	p->address = gcmsg__strdup(gcmsg__json_str(j, "address"));
	if (json_is_array(msgs) && json_array_size(msgs) > 0) {
		p->media = GCMSG_MEDIA_MESSAGE;
		comm = json_array_get(msgs, 0);
	} else if (json_is_array(chats) && json_array_size(chats) > 0) {
		p->media = GCMSG_MEDIA_CHAT;
		comm = json_array_get(chats, 0);
	} else {
		for (i = 0; i < sizeof(other_media) / sizeof(other_media[0]); i++) {
			const json_t *a = json_object_get(j, other_media[i]);
			if (json_is_array(a) && json_array_size(a) > 0) {
				p->media = GCMSG_MEDIA_OTHER;
				comm = json_array_get(a, 0);
				break;
			}
		}
	}
	if (json_is_object(comm)) {
		p->comm_id = gcmsg__strdup(gcmsg__json_str(comm, "id"));
		p->state = gcmsg__strdup(gcmsg__json_str(comm, "state"));
		p->provider = gcmsg__strdup(gcmsg__json_str(comm, "provider"));
		if (p->media == GCMSG_MEDIA_MESSAGE) {
			p->platform = gcmsg__strdup(gcmsg__json_str(comm, "type"));
			p->from_address = gcmsg__strdup(address_of(json_object_get(comm, "fromAddress")));
			p->to_address = gcmsg__strdup(address_of(json_object_get(comm, "toAddress")));
		}
	}
	if (json_is_object(attrs) && json_object_size(attrs) > 0) {
		size_t n = json_object_size(attrs), k = 0;
		const char *key;
		const json_t *v;
		p->attr_keys = calloc(n, sizeof(char *));
		p->attr_values = calloc(n, sizeof(char *));
		if (!p->attr_keys || !p->attr_values)
			return -1;
		json_object_foreach((json_t *)attrs, key, v) {
			if (!json_is_string(v))
				continue;
			p->attr_keys[k] = gcmsg__strdup(key);
			p->attr_values[k] = gcmsg__strdup(json_string_value(v));
			k++;
		}
		p->nattrs = k;
	}
	return 0;
}

static int is_customer(const gcmsg_participant *p)
{
	return p->purpose && (strcmp(p->purpose, "customer") == 0 || strcmp(p->purpose, "external") == 0);
}

static int is_gone(const char *state)
{
	return state && (strcmp(state, "disconnected") == 0 || strcmp(state, "terminated") == 0);
}

static void derive(gcmsg_conversation *c)
{
	size_t i, customers = 0, gone = 0, connected = 0;
	const char *first = NULL, *state;

	c->media = GCMSG_MEDIA_UNKNOWN;
	for (i = 0; i < c->nparts; i++) {
		const gcmsg_participant *p = &c->parts[i];
		if (p->media == GCMSG_MEDIA_MESSAGE)
			c->media = GCMSG_MEDIA_MESSAGE;
		else if (p->media == GCMSG_MEDIA_CHAT && c->media != GCMSG_MEDIA_MESSAGE)
			c->media = GCMSG_MEDIA_CHAT;
		else if (p->media == GCMSG_MEDIA_OTHER && c->media == GCMSG_MEDIA_UNKNOWN)
			c->media = GCMSG_MEDIA_OTHER;
		if (p->state && !first)
			first = p->state;
		if (p->state && strcmp(p->state, "connected") == 0)
			connected++;
		if (is_customer(p)) {
			customers++;
			if (is_gone(p->state))
				gone++;
		}
	}
	/* the platform: the customer's messaging communication, else any */
	for (i = 0; i < c->nparts && !c->platform; i++)
		if (is_customer(&c->parts[i]) && c->parts[i].platform)
			c->platform = gcmsg__strdup(c->parts[i].platform);
	for (i = 0; i < c->nparts && !c->platform; i++)
		if (c->parts[i].platform)
			c->platform = gcmsg__strdup(c->parts[i].platform);
	if (c->end_time || (customers > 0 && gone == customers))
		state = "disconnected";
	else if (connected)
		state = "connected";
	else
		state = first ? first : "unknown";
	c->state = gcmsg__strdup(state);
}

int gcmsg__conversation_parse(gcmsg_conversation **out, const json_t *root, char *err, size_t errlen)
{
	gcmsg_conversation *c;
	const json_t *parts, *p;
	size_t i;

	*out = NULL;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the conversation is not a JSON object");
		return GCMSG_EREMOTE;
	}
	parts = json_object_get(root, "participants");
	if (!gcmsg__json_str(root, "id") || !json_is_array(parts)) {
		snprintf(err, errlen, "the conversation lacks %s",
		         gcmsg__json_str(root, "id") ? "a participants array" : "an id");
		return GCMSG_EREMOTE;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return GCMSG_ERROR;
	}
	c->id = gcmsg__strdup(gcmsg__json_str(root, "id"));
	c->start_time = gcmsg__strdup(gcmsg__json_str(root, "startTime"));
	c->end_time = gcmsg__strdup(gcmsg__json_str(root, "endTime"));
	if (json_array_size(parts) > 0) {
		c->parts = calloc(json_array_size(parts), sizeof(gcmsg_participant));
		if (!c->parts) {
			gcmsg_conversation_free(c);
			snprintf(err, errlen, "out of memory");
			return GCMSG_ERROR;
		}
	}
	json_array_foreach(parts, i, p) {
		if (!json_is_object(p)) {
			snprintf(err, errlen, "participants[%zu] is not an object", i);
			gcmsg_conversation_free(c);
			return GCMSG_EREMOTE;
		}
		c->nparts++;
		if (parse_participant(&c->parts[i], p) < 0) {
			snprintf(err, errlen, "out of memory");
			gcmsg_conversation_free(c);
			return GCMSG_ERROR;
		}
	}
	derive(c);
	*out = c;
	return GCMSG_OK;
}

void gcmsg__conversation_merge_chat(gcmsg_conversation *conv, const json_t *chat)
{
	const json_t *parts = json_object_get(chat, "participants"), *p;
	size_t i, k;

	if (!json_is_array(parts))
		return;
	json_array_foreach(parts, i, p) {
		const char *id = gcmsg__json_str(p, "id");
		const char *provider = gcmsg__json_str(p, "provider");
		if (!provider || !*provider)
			continue;
		for (k = 0; k < conv->nparts; k++) {
			gcmsg_participant *q = &conv->parts[k];
			if (!q->provider && (!id || (q->id && strcmp(q->id, id) == 0))) {
				q->provider = gcmsg__strdup(provider);
				if (id)
					break;
			}
		}
	}
}

int gcmsg_conversation_get(gcmsg_conversation **out, gcmsg_client *c, const char *conversation_id)
{
	json_t *root = NULL, *chat = NULL;
	char *seg, *path;
	char why[256];
	int rc;
	size_t i;

	if (!out || !c || !conversation_id)
		return c ? gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no conversation id given") : GCMSG_EUSAGE;
	*out = NULL;
	if (!*conversation_id)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the conversation id is empty");
	seg = gcmsg__path_escape(conversation_id);
	path = seg ? gcmsg__asprintf("/api/v2/conversations/%s", seg) : NULL;
	if (!path) {
		free(seg);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	rc = gcmsg__api(c, "GET", path, NULL, 0, &root, NULL);
	free(path);
	if (rc == GCMSG_ENOTFOUND) {
		gcmsg__err_set_fix(&c->err, "check the conversation id '%s' and the region / organization",
		                   conversation_id);
	}
	if (rc < 0) {
		free(seg);
		return rc;
	}
	rc = gcmsg__conversation_parse(out, root, why, sizeof(why));
	json_decref(root);
	if (rc < 0) {
		free(seg);
		return gcmsg__err_set(&c->err, rc, "GET /api/v2/conversations/%s: %s", conversation_id, why);
	}
	if ((*out)->media == GCMSG_MEDIA_CHAT) {
		int have_provider = 0;
		for (i = 0; i < (*out)->nparts; i++)
			have_provider |= (*out)->parts[i].provider != NULL;
		if (!have_provider) {
			gcmsg__http_resp r;
			path = gcmsg__asprintf("/api/v2/conversations/chats/%s", seg);
			gcmsg__http_resp_init(&r);
			/* the chat paths are retired: any failure here only means "no provider known" */
			if (path && gcmsg__api(c, "GET", path, NULL, GCMSG__API_NO_ERROR, &chat, &r) == GCMSG_OK &&
			    r.status == 200)
				gcmsg__conversation_merge_chat(*out, chat);
			gcmsg__http_resp_dispose(&r);
			json_decref(chat);
			free(path);
			gcmsg__err_clear(&c->err);
		}
	}
	free(seg);
	return GCMSG_OK;
}

const char *gcmsg_conversation_id(const gcmsg_conversation *c) { return c ? c->id : NULL; }
gcmsg_media gcmsg_conversation_media(const gcmsg_conversation *c) { return c ? c->media : GCMSG_MEDIA_UNKNOWN; }

const char *gcmsg_conversation_media_name(const gcmsg_conversation *c)
{
	switch (gcmsg_conversation_media(c)) {
	case GCMSG_MEDIA_MESSAGE: return "message";
	case GCMSG_MEDIA_CHAT: return "chat";
	case GCMSG_MEDIA_OTHER: return "other";
	default: return "unknown";
	}
}

const char *gcmsg_conversation_platform(const gcmsg_conversation *c) { return c ? c->platform : NULL; }
const char *gcmsg_conversation_state(const gcmsg_conversation *c) { return c ? c->state : NULL; }
const char *gcmsg_conversation_start_time(const gcmsg_conversation *c) { return c ? c->start_time : NULL; }
const char *gcmsg_conversation_end_time(const gcmsg_conversation *c) { return c ? c->end_time : NULL; }
size_t gcmsg_conversation_participant_count(const gcmsg_conversation *c) { return c ? c->nparts : 0; }

const gcmsg_participant *gcmsg_conversation_participant(const gcmsg_conversation *c, size_t i)
{
	return c && i < c->nparts ? &c->parts[i] : NULL;
}

const char *gcmsg_participant_id(const gcmsg_participant *p) { return p ? p->id : NULL; }
const char *gcmsg_participant_purpose(const gcmsg_participant *p) { return p ? p->purpose : NULL; }
const char *gcmsg_participant_name(const gcmsg_participant *p) { return p ? p->name : NULL; }
const char *gcmsg_participant_user_id(const gcmsg_participant *p) { return p ? p->user_id : NULL; }
const char *gcmsg_participant_queue_id(const gcmsg_participant *p) { return p ? p->queue_id : NULL; }
const char *gcmsg_participant_address(const gcmsg_participant *p) { return p ? p->address : NULL; }
gcmsg_media gcmsg_participant_media(const gcmsg_participant *p) { return p ? p->media : GCMSG_MEDIA_UNKNOWN; }
const char *gcmsg_participant_communication_id(const gcmsg_participant *p) { return p ? p->comm_id : NULL; }
const char *gcmsg_participant_state(const gcmsg_participant *p) { return p ? p->state : NULL; }
const char *gcmsg_participant_platform(const gcmsg_participant *p) { return p ? p->platform : NULL; }
const char *gcmsg_participant_from_address(const gcmsg_participant *p) { return p ? p->from_address : NULL; }
const char *gcmsg_participant_to_address(const gcmsg_participant *p) { return p ? p->to_address : NULL; }
const char *gcmsg_participant_provider(const gcmsg_participant *p) { return p ? p->provider : NULL; }
size_t gcmsg_participant_attribute_count(const gcmsg_participant *p) { return p ? p->nattrs : 0; }

const char *gcmsg_participant_attribute_key(const gcmsg_participant *p, size_t i)
{
	return p && i < p->nattrs ? p->attr_keys[i] : NULL;
}

const char *gcmsg_participant_attribute_value(const gcmsg_participant *p, size_t i)
{
	return p && i < p->nattrs ? p->attr_values[i] : NULL;
}

const char *gcmsg_participant_attribute(const gcmsg_participant *p, const char *key)
{
	size_t i;

	for (i = 0; p && key && i < p->nattrs; i++)
		if (strcmp(p->attr_keys[i], key) == 0)
			return p->attr_values[i];
	return NULL;
}
