/*
 * audit_refusal.c - gcmsg_audit_refused: a send refused before any request
 * still leaves its trace in the audit log (outcome "refused"), so the log
 * answers "what did our automation try to send, and why did it not go".
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sha256.h"
#include "store.h"

int gcmsg_audit_refused(gcmsg_store *s, const gcmsg_route *route, const char *text, const gcmsg_rendered *rendered,
                        const char *rule, const char *source, const char *detail)
{
	gcmsg__audit_rec rec;
	char hash[2 * GCMSG__SHA256_LEN + 1];
	int rc;

	if (!s)
		return GCMSG_EUSAGE;
	if (!text && rendered)
		text = gcmsg_rendered_text(rendered);
	gcmsg__audit_rec_init(&rec);
	rec.time_ms = gcmsg__wall_ms();
	rec.event = "outcome";
	rec.outcome = "refused";
	if (route) {
		rec.conversation_id = (char *)gcmsg_route_conversation_id(route);
		rec.communication_id = (char *)gcmsg_route_communication_id(route);
		rec.channel = (char *)gcmsg_route_channel(route);
		if (gcmsg_route_kind(route) != GCMSG_ROUTE_NONE)
			rec.route = (char *)gcmsg_route_type_name(gcmsg_route_kind(route));
		rec.who = gcmsg__identity_who(gcmsg_route_identity(route));
	}
	if (rendered) {
		rec.response_id = (char *)gcmsg_rendered_response_id(rendered);
		rec.response_version = gcmsg_rendered_response_version(rendered);
		rec.library_id = (char *)gcmsg_rendered_library_id(rendered);
	}
	rec.source = (char *)(source ? source : "library");
	rec.error_code = (char *)rule;
	rec.detail = (char *)detail;
	if (text) {
		gcmsg__sha256_hex(text, strlen(text), hash);
		rec.text_sha256 = hash;
		if (s->audit_text)
			rec.text = (char *)text;
	}
	rc = gcmsg__audit_record(s, &rec, 0);
	/* only `who` was allocated here; every other field is borrowed */
	free(rec.who);
	return rc;
}
