/*
 * outbox.c - the outbox's public side (listing, entries, states, drop) and
 * the claims of rows with a request in flight (store.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "store_rows.h"

/* ---- states ---- */

static const char *const state_names[] = { "pending", "sending", "unknown", "sent", "failed", "dropped" };
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *gcmsg_outbox_state_name(gcmsg_outbox_state state)
{
	if ((int)state < 0 || (size_t)state >= NSTATES)
		return "invalid";
	return state_names[state];
}

int gcmsg_outbox_state_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- claims ---- */

/*
 * A pid found alive may have been reused by a process started after the
 * claim (or be a zombie that can send nothing). Linux tells through /proc;
 * elsewhere, or when /proc cannot be read, the pid is taken as the claimer.
 * The slack keeps a forward step of the wall clock from killing a live claim.
 */
#define REUSE_SLACK_MS (60LL * 1000)

static long long boot_time_ms(void)
{
	char line[256];
	long long btime = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	return btime > 0 ? btime * 1000 : -1;
}

/* 1: the process is not the claimer (zombie, or started after the claim); 0: it may be. */
static int not_the_claimer(long pid, long long claim_ms)
{
	char path[64], buf[1024], *p, state;
	unsigned long long start_ticks = 0;
	long long boot, ticks, start_ms;
	size_t n;
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "re")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
	if (!(p = strrchr(buf, ')')) || p[1] != ' ')
		return 0;
	p += 2;
	state = *p;
	if (state == 'Z' || state == 'X')
		return 1;
	for (i = 0; i < 19 && p; i++) { /* starttime is the 19th field after the state */
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu", &start_ticks) != 1)
		return 0;
	boot = boot_time_ms();
	ticks = sysconf(_SC_CLK_TCK);
	if (boot < 0 || ticks <= 0)
		return 0;
	start_ms = boot + (long long)(start_ticks * 1000ULL / (unsigned long long)ticks);
	return start_ms > claim_ms + REUSE_SLACK_MS;
}

int gcmsg__outbox_claim_alive(const gcmsg__outbox_row *row, long long now_ms)
{
	const char *host = gcmsg__host_name();

	if (!row || row->claim_pid <= 0)
		return 0;
	if (row->claim_host && *row->claim_host && *host && strcmp(row->claim_host, host) == 0) {
		if ((pid_t)row->claim_pid == getpid())
			/* ours: alive while a delivery call of this process holds it (deliver.c) */
			return row->key && gcmsg__outbox_claim_held(row->key, row->claim_ms);
		if (kill((pid_t)row->claim_pid, 0) != 0 && errno != EPERM)
			return 0;
		return !not_the_claimer(row->claim_pid, row->claim_ms);
	}
	/* another host (or an unknown one): alive for the lease */
	return now_ms - row->claim_ms < GCMSG__CLAIM_LEASE_MS;
}

int gcmsg__outbox_claim(gcmsg__outbox_row *row, long long now_ms)
{
	char *host = gcmsg__strdup(gcmsg__host_name());

	if (!host)
		return GCMSG_ERROR;
	free(row->claim_host);
	row->claim_host = host;
	row->claim_pid = (long)getpid();
	row->claim_ms = now_ms;
	return GCMSG_OK;
}

/* ---- listing ---- */

/* An entry is a row of the list, seen through its only member. */
struct gcmsg_outbox_entry {
	gcmsg__outbox_row row;
};

struct gcmsg_outbox_list {
	gcmsg__row_list rows; /* of gcmsg__outbox_kind */
};

void gcmsg_outbox_list_free(gcmsg_outbox_list *list)
{
	if (!list)
		return;
	gcmsg__row_list_dispose(&list->rows);
	free(list);
}

static int collect(const gcmsg__outbox_row *row, void *rows)
{
	return gcmsg__row_list_add(rows, row);
}

int gcmsg_outbox_list_get(gcmsg_outbox_list **out, gcmsg_store *store, const gcmsg_outbox_filter *filter)
{
	gcmsg_outbox_filter defaults = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg__outbox_query q;
	gcmsg_outbox_list *list;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if ((rc = gcmsg__store_ready(store)) < 0)
		return rc;
	if (!filter)
		filter = &defaults;
	if (filter->version != GCMSG_OUTBOX_FILTER_VERSION)
		return gcmsg__err_set(&store->err, GCMSG_EUSAGE, "unknown gcmsg_outbox_filter version %u",
		                      filter->version);
	memset(&q, 0, sizeof(q));
	q.states = filter->states;
	q.key = filter->key;
	q.conversation_id = filter->conversation_id;
	q.since_ms = filter->since_ms;
	q.limit = filter->limit;
	if (!(list = calloc(1, sizeof(*list))))
		return gcmsg__err_set(&store->err, GCMSG_ERROR, "out of memory");
	list->rows.kind = &gcmsg__outbox_kind;
	list->rows.err = &store->err;
	if ((rc = store->ops->outbox_query(store->backend, &q, collect, &list->rows, &store->err)) != 0)
		gcmsg_outbox_list_free(list);
	else
		*out = list;
	return rc;
}

size_t gcmsg_outbox_list_count(const gcmsg_outbox_list *list)
{
	return list ? list->rows.count : 0;
}

const gcmsg_outbox_entry *gcmsg_outbox_list_entry(const gcmsg_outbox_list *list, size_t i)
{
	return list ? gcmsg__row_list_at(&list->rows, i) : NULL;
}

#define ENTRY_GETTER(type, name, field, none) \
	type gcmsg_outbox_entry_##name(const gcmsg_outbox_entry *e) \
	{ \
		return e ? e->row.field : none; \
	}

ENTRY_GETTER(const char *, key, key, NULL)
ENTRY_GETTER(gcmsg_outbox_state, state, state, GCMSG_OUTBOX_PENDING)
ENTRY_GETTER(const char *, conversation_id, conversation_id, NULL)
ENTRY_GETTER(const char *, communication_id, communication_id, NULL)
ENTRY_GETTER(const char *, route, route, NULL)
ENTRY_GETTER(const char *, channel, channel, NULL)
ENTRY_GETTER(const char *, response_id, response_id, NULL)
ENTRY_GETTER(const char *, source, source, NULL)
ENTRY_GETTER(const char *, who, who, NULL)
ENTRY_GETTER(const char *, text_sha256, text_sha256, NULL)
ENTRY_GETTER(int, attempts, attempts, 0)
ENTRY_GETTER(long long, created_ms, created_ms, 0)
ENTRY_GETTER(long long, updated_ms, updated_ms, 0)
ENTRY_GETTER(long long, next_attempt_ms, next_attempt_ms, 0)
ENTRY_GETTER(const char *, message_id, message_id, NULL)
ENTRY_GETTER(long, http_status, http_status, 0)
ENTRY_GETTER(const char *, error_code, error_code, NULL)
ENTRY_GETTER(const char *, correlation_id, correlation_id, NULL)
ENTRY_GETTER(const char *, last_error, last_error, NULL)

int gcmsg_outbox_entry_in_flight(const gcmsg_outbox_entry *e)
{
	/* an unknown entry with a live claim is being read back: as busy as one being sent */
	return e && (e->row.state == GCMSG_OUTBOX_SENDING || e->row.state == GCMSG_OUTBOX_UNKNOWN) &&
	       e->row.claim_pid > 0 && gcmsg__outbox_claim_alive(&e->row, gcmsg__wall_ms());
}

/* ---- drop ---- */

static int drop_locked(gcmsg_store *s, const char *key)
{
	gcmsg__outbox_row row;
	gcmsg__audit_rec rec;
	long long now = gcmsg__wall_ms();
	const char *was;
	char detail[64];
	int rc;

	gcmsg__outbox_row_init(&row);
	if ((rc = s->ops->outbox_get(s->backend, key, &row, &s->err)) < 0)
		return rc;
	switch (row.state) {
	case GCMSG_OUTBOX_DROPPED:
		gcmsg__outbox_row_dispose(&row);
		return 1; /* nothing to do */
	case GCMSG_OUTBOX_SENT:
		gcmsg__outbox_row_dispose(&row);
		rc = gcmsg__err_set(&s->err, GCMSG_EUSAGE, "outbox entry %s was sent: it cannot be dropped", key);
		return rc;
	case GCMSG_OUTBOX_SENDING:
	case GCMSG_OUTBOX_UNKNOWN:
		/* a live claim: a process is sending it, or reading it back (its result would be lost) */
		if (row.claim_pid > 0 && gcmsg__outbox_claim_alive(&row, now)) {
			rc = gcmsg__err_set(&s->err, GCMSG_EUSAGE,
			                    "outbox entry %s is being %s by a live process (pid %ld on %s)", key,
			                    row.state == GCMSG_OUTBOX_SENDING ? "sent" : "read back", row.claim_pid,
			                    row.claim_host ? row.claim_host : "another host");
			gcmsg__err_set_fix(&s->err, "wait for that process to finish, then look at the entry again");
			gcmsg__outbox_row_dispose(&row);
			return rc;
		}
		break;
	default:
		break;
	}
	was = gcmsg_outbox_state_name(row.state);
	snprintf(detail, sizeof(detail), "dropped from state %s", was);

	row.state = GCMSG_OUTBOX_DROPPED;
	row.updated_ms = now;
	row.next_attempt_ms = 0;
	gcmsg__free_secret(row.body); /* terminal: the request (PII) goes */
	row.body = NULL;
	gcmsg__free_secret(row.match_text);
	row.match_text = NULL;
	/* the claim goes; its time stays: when the last request started, which a resend must respect */
	row.claim_pid = 0;
	free(row.claim_host);
	row.claim_host = NULL;
	if ((rc = s->ops->outbox_update(s->backend, &row, &s->err)) < 0) {
		gcmsg__outbox_row_dispose(&row);
		return rc;
	}

	gcmsg__audit_rec_init(&rec); /* borrowed strings: not disposed */
	rec.time_ms = now;
	rec.event = (char *)"outcome";
	rec.outcome = (char *)"dropped";
	rec.key = row.key;
	rec.who = row.who;
	rec.route = row.route;
	rec.conversation_id = row.conversation_id;
	rec.communication_id = row.communication_id;
	rec.response_id = row.response_id;
	rec.library_id = row.library_id;
	rec.response_version = row.response_version;
	rec.channel = row.channel;
	rec.source = row.source;
	rec.attempt = row.attempts;
	rec.latency_ms = row.first_attempt_ms > 0 && now > row.first_attempt_ms ? now - row.first_attempt_ms : 0;
	rec.text_sha256 = row.text_sha256;
	rec.detail = detail;
	rc = gcmsg__audit_record(s, &rec, 1);
	gcmsg__outbox_row_dispose(&row);
	return rc;
}

int gcmsg_outbox_drop(gcmsg_store *s, const char *key)
{
	int rc;

	if ((rc = gcmsg__store_ready(s)) < 0)
		return rc;
	if (!key || !*key)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "no outbox key given");
	if ((rc = s->ops->begin(s->backend, &s->err)) < 0)
		return rc;
	rc = drop_locked(s, key);
	if (rc < 0) {
		s->ops->rollback(s->backend);
		return rc;
	}
	if (rc == 1) { /* already dropped: nothing written */
		s->ops->rollback(s->backend);
		return GCMSG_OK;
	}
	return s->ops->commit(s->backend, &s->err);
}
