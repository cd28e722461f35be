#include <string.h>

#include "errors.h"
#include "render.h"
#include "routes.h"

/* The path parameter of GET .../conversations[/messages|/chats]/{id} is the last segment. */
static json_t *lookup(sim_ctx *c) {
  const char *id = c->segs[c->nsegs - 1];
  json_t *conv = sim_find_conversation(c->st, id);
  if (conv == NULL) {
    sim_error(c, 404, "not.found", "The conversation %s was not found.", id);
    sim_error_param(c, "conversationId", id, "The conversation {conversationId} was not found.");
  }
  return conv;
}

static int answer(sim_ctx *c, json_t *body) {
  if (body == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  c->resp = body;
  return 0;
}

int sim_get_conversation(sim_ctx *c) {
  json_t *conv = lookup(c);
  if (conv == NULL) return -1;
  return answer(c, sim_render_conversation(c->st, conv));
}

int sim_get_message_conversation(sim_ctx *c) {
  json_t *conv = lookup(c);
  if (conv == NULL) return -1;
  if (!sim_conv_is_message(conv))
    return sim_error(c, 404, "not.found", "The conversation %s is not a messaging conversation.", sim_jstr(conv, "id"));
  return answer(c, sim_render_message_conversation(c->st, conv));
}

int sim_get_chat_conversation(sim_ctx *c) {
  json_t *conv = lookup(c);
  if (conv == NULL) return -1;
  if (sim_conv_is_message(conv))
    return sim_error(c, 404, "not.found", "The conversation %s is not a chat conversation.", sim_jstr(conv, "id"));
  return answer(c, sim_render_chat_conversation(c->st, conv));
}
