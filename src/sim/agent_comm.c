/* The calling agent's own communication in .../{conversationId}/communications/{communicationId}/...,
 * shared by the messaging and legacy-chat send and typing endpoints. The checks are the same for
 * both media; only the conversations served and the ErrorBody codes differ (sim_agent_media). */
#include <string.h>

#include "errors.h"
#include "render.h"
#include "routes.h"

const sim_agent_media SIM_AGENT_MESSAGING = {1, "messaging", "messages", "bad.request", "bad.request"};
const sim_agent_media SIM_AGENT_CHAT = {0, "chat", "chat messages", "chat.error.conversation.state",
                                        "chat.error.member.state"};

static int resolve(sim_ctx *c, const sim_agent_media *m, int reading, json_t **conv_out, json_t **part_out) {
  const char *cid = c->segs[4], *comm_id = c->segs[6];
  json_t *conv = sim_find_conversation(c->st, cid);
  if (conv == NULL) {
    sim_error(c, 404, "not.found", "The conversation %s was not found.", cid);
    sim_error_param(c, "conversationId", cid, "The conversation {conversationId} was not found.");
    return -1;
  }
  /* A third-party chat answers the same on every send endpoint: what users see in the wild. */
  if (sim_jstr(conv, "provider"))
    return sim_error(c, 404, "chat.error.not.found",
                     "The conversation %s is a third-party chat (provider %s); Genesys Cloud does not carry its messages.",
                     cid, sim_jstr(conv, "provider"));
  if (sim_conv_is_message(conv) != m->messaging)
    return sim_error(c, 404, "not.found", "The conversation %s is not a %s conversation.", cid, m->label);
  json_t *part = sim_find_participant_by_comm(conv, comm_id);
  if (part == NULL) {
    sim_error(c, 404, "not.found", "The communication %s was not found in conversation %s.", comm_id, cid);
    sim_error_param(c, "communicationId", comm_id, "The communication {communicationId} was not found.");
    return -1;
  }
  if (!reading && !sim_conv_is_connected(conv)) {
    sim_error(c, 400, m->state_code, "The conversation %s is disconnected: %s can no longer be sent into it.", cid,
              m->noun);
    sim_error_param(c, "conversationId", cid, "The conversation {conversationId} is disconnected.");
    return -1;
  }
  const char *uid = sim_jstr(part, "userId");
  if (strcmp(sim_jstr(part, "purpose"), "agent") != 0 || uid == NULL || strcmp(uid, c->tok->principal) != 0)
    return sim_error(c, 400, m->member_code,
                     "The communication %s does not belong to the calling user %s: send with the communication of "
                     "your own agent participant in conversation %s.",
                     comm_id, c->tok->principal, cid);
  if (!reading && !sim_part_is_connected(part))
    return sim_error(c, 400, m->member_code, "The agent communication %s is %s, not connected.", comm_id,
                     sim_jstr(part, "state"));
  *conv_out = conv;
  *part_out = part;
  return 0;
}

int sim_resolve_agent_comm(sim_ctx *c, const sim_agent_media *m, json_t **conv_out, json_t **part_out) {
  return resolve(c, m, 0, conv_out, part_out);
}

int sim_resolve_agent_comm_read(sim_ctx *c, const sim_agent_media *m, json_t **conv_out, json_t **part_out) {
  return resolve(c, m, 1, conv_out, part_out);
}
