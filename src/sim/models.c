#include "models.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"

#define MAX_ARRAY_ITEMS 1000

static const char *const ENUM_TYPING[] = {"On", NULL};
static const char *const ENUM_AGENTLESS_MESSENGER[] = {"sms", "whatsapp", "open", "webmessaging", "apple", NULL};
static const char *const ENUM_WEBCHAT_BODY_TYPE[] = {"standard", "notice", "member-join", "member-leave",
                                                     "media-request", NULL};

static const sim_prop TEMPLATE_PARAMETER_PROPS[] = {
    {"id", SIM_T_STRING, 0, NULL, NULL},
    {"value", SIM_T_STRING, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
static const sim_model TEMPLATE_PARAMETER = {"TemplateParameter", TEMPLATE_PARAMETER_PROPS};

static const sim_prop SEND_TEMPLATE_PROPS[] = {
    {"responseId", SIM_T_STRING, 0, NULL, NULL},
    {"parameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER},
    {"headerParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER},
    {"bodyParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER},
    {"buttonUrlParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER},
    {"carouselParameters", SIM_T_ANY_OBJECT, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
static const sim_model SEND_TEMPLATE = {"SendMessagingTemplateRequest", SEND_TEMPLATE_PROPS};

static const sim_prop ADDITIONAL_MESSAGE_PROPS[] = {
    {"textBody", SIM_T_STRING, 1, NULL, NULL},
    {"mediaIds", SIM_T_STRING_ARRAY, 0, NULL, NULL},
    {"messagingTemplate", SIM_T_OBJECT, 0, NULL, &SEND_TEMPLATE},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
const sim_model SIM_MODEL_ADDITIONAL_MESSAGE = {"AdditionalMessage", ADDITIONAL_MESSAGE_PROPS};

static const sim_prop EVENT_TYPING_PROPS[] = {
    {"type", SIM_T_STRING, 1, ENUM_TYPING, NULL},
    {"duration", SIM_T_INT, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
static const sim_model EVENT_TYPING = {"ConversationEventTyping", EVENT_TYPING_PROPS};

static const sim_prop TYPING_REQUEST_PROPS[] = {
    {"typing", SIM_T_OBJECT, 1, NULL, &EVENT_TYPING},
    {"dateSent", SIM_T_DATETIME, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
const sim_model SIM_MODEL_MESSAGE_TYPING_EVENT_REQUEST = {"MessageTypingEventRequest", TYPING_REQUEST_PROPS};

/* toAddress is optional in the definition; gcsim requires it (it is stricter where unsure). */
static const sim_prop AGENTLESS_PROPS[] = {
    {"toAddressMessengerType", SIM_T_STRING, 1, ENUM_AGENTLESS_MESSENGER, NULL},
    {"fromAddress", SIM_T_STRING, 1, NULL, NULL},
    {"toAddress", SIM_T_STRING, 1, NULL, NULL},
    {"textBody", SIM_T_STRING, 0, NULL, NULL},
    {"messagingTemplate", SIM_T_OBJECT, 0, NULL, &SEND_TEMPLATE},
    {"useExistingActiveConversation", SIM_T_BOOL, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
const sim_model SIM_MODEL_SEND_AGENTLESS_REQUEST = {"SendAgentlessOutboundMessageRequest", AGENTLESS_PROPS};

static const sim_prop CREATE_WEB_CHAT_PROPS[] = {
    {"queueId", SIM_T_STRING, 1, NULL, NULL},
    {"provider", SIM_T_STRING, 1, NULL, NULL},
    {"skillIds", SIM_T_STRING_ARRAY, 0, NULL, NULL},
    {"languageId", SIM_T_STRING, 0, NULL, NULL},
    {"priority", SIM_T_INT, 0, NULL, NULL},
    {"attributes", SIM_T_STRING_MAP, 0, NULL, NULL},
    {"customerName", SIM_T_STRING, 0, NULL, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
const sim_model SIM_MODEL_CREATE_WEB_CHAT_REQUEST = {"CreateWebChatRequest", CREATE_WEB_CHAT_PROPS};

static const sim_prop CREATE_WEB_CHAT_MESSAGE_PROPS[] = {
    {"body", SIM_T_STRING, 1, NULL, NULL},
    {"bodyType", SIM_T_STRING, 0, ENUM_WEBCHAT_BODY_TYPE, NULL},
    {NULL, SIM_T_STRING, 0, NULL, NULL},
};
const sim_model SIM_MODEL_CREATE_WEB_CHAT_MESSAGE_REQUEST = {"CreateWebChatMessageRequest",
                                                            CREATE_WEB_CHAT_MESSAGE_PROPS};

static const char *type_name(sim_type t) {
  switch (t) {
  case SIM_T_STRING: return "a string";
  case SIM_T_DATETIME: return "an ISO-8601 date-time string";
  case SIM_T_BOOL: return "a boolean";
  case SIM_T_INT: return "an integer";
  case SIM_T_OBJECT:
  case SIM_T_ANY_OBJECT: return "an object";
  case SIM_T_STRING_ARRAY: return "an array of strings";
  case SIM_T_OBJECT_ARRAY: return "an array of objects";
  case SIM_T_STRING_MAP: return "an object of strings";
  }
  return "a value";
}

static int invalid_value(sim_ctx *c, const char *field, const char *fmt_what) {
  sim_error(c, 400, "invalid.value", "Invalid value for %s: expected %s.", field, fmt_what);
  sim_error_detail(c, field, "invalid.value");
  return -1;
}

static int check_object(sim_ctx *c, const sim_model *m, const json_t *obj, const char *prefix);

static int check_value(sim_ctx *c, const sim_prop *p, const json_t *v, const char *field) {
  char sub[256];
  switch (p->type) {
  case SIM_T_STRING:
  case SIM_T_DATETIME:
    if (!json_is_string(v)) return invalid_value(c, field, type_name(p->type));
    if (sim_utf8_count(json_string_value(v)) < 0 || strlen(json_string_value(v)) != json_string_length(v))
      return invalid_value(c, field, "valid UTF-8 text without NUL characters");
    if (p->type == SIM_T_DATETIME) {
      int64_t ms;
      if (sim_parse_time(json_string_value(v), &ms) != 0) return invalid_value(c, field, type_name(p->type));
    }
    if (p->enums) {
      char list[256] = "";
      for (size_t i = 0; p->enums[i]; i++) {
        if (strcmp(json_string_value(v), p->enums[i]) == 0) return 0;
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, p->enums[i], sizeof list - strlen(list) - 1);
      }
      sim_error(c, 400, "invalid.value", "Invalid value '%.100s' for %s: must be one of [%s].", json_string_value(v),
                field, list);
      sim_error_detail(c, field, "invalid.value");
      return -1;
    }
    return 0;
  case SIM_T_BOOL:
    return json_is_boolean(v) ? 0 : invalid_value(c, field, type_name(p->type));
  case SIM_T_INT:
    return json_is_integer(v) ? 0 : invalid_value(c, field, type_name(p->type));
  case SIM_T_OBJECT:
    if (!json_is_object(v)) return invalid_value(c, field, type_name(p->type));
    return check_object(c, p->model, v, field);
  case SIM_T_ANY_OBJECT:
    return json_is_object(v) ? 0 : invalid_value(c, field, type_name(p->type));
  case SIM_T_STRING_ARRAY:
  case SIM_T_OBJECT_ARRAY: {
    if (!json_is_array(v)) return invalid_value(c, field, type_name(p->type));
    if (json_array_size(v) > MAX_ARRAY_ITEMS) return invalid_value(c, field, "at most 1000 items");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      if (snprintf(sub, sizeof sub, "%s[%zu]", field, i) >= (int)sizeof sub)
        return invalid_value(c, field, "a shallower value (field path too long)");
      if (p->type == SIM_T_STRING_ARRAY) {
        if (!json_is_string(item)) return invalid_value(c, sub, "a string");
      } else {
        if (!json_is_object(item)) return invalid_value(c, sub, "an object");
        if (check_object(c, p->model, item, sub)) return -1;
      }
    }
    return 0;
  }
  case SIM_T_STRING_MAP: {
    if (!json_is_object(v)) return invalid_value(c, field, type_name(p->type));
    const char *k;
    json_t *item;
    json_object_foreach((json_t *)v, k, item) {
      if (snprintf(sub, sizeof sub, "%s.%s", field, k) >= (int)sizeof sub)
        return invalid_value(c, field, "a map with shorter keys (field path too long)");
      if (!json_is_string(item)) return invalid_value(c, sub, "a string");
    }
    return 0;
  }
  }
  return 0;
}

static int check_object(sim_ctx *c, const sim_model *m, const json_t *obj, const char *prefix) {
  char field[256];
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const sim_prop *p = m->props;
    while (p->name && strcmp(p->name, key) != 0) p++;
    snprintf(field, sizeof field, "%s%s%s", prefix, *prefix ? "." : "", key);
    if (p->name == NULL) {
      sim_error(c, 400, "invalid.property", "Unrecognized property '%s' in %s.", field, m->name);
      sim_error_detail(c, field, "invalid.property");
      return -1;
    }
    if (json_is_null(v)) continue; /* null stands for absent, as Genesys' deserializer treats it */
    if (check_value(c, p, v, field)) return -1;
  }
  for (const sim_prop *p = m->props; p->name; p++) {
    v = json_object_get(obj, p->name);
    if (p->required && (v == NULL || json_is_null(v))) {
      snprintf(field, sizeof field, "%s%s%s", prefix, *prefix ? "." : "", p->name);
      sim_error(c, 400, "bad.request", "The property '%s' of %s is required.", field, m->name);
      sim_error_detail(c, field, "required");
      return -1;
    }
  }
  return 0;
}

int sim_validate_body(sim_ctx *c, const sim_model *model) {
  if (c->body_malformed)
    return sim_error(c, 400, "bad.request", "The request could not be understood by the server due to malformed syntax: the body is not valid JSON.");
  if (c->body == NULL) return sim_error(c, 400, "bad.request", "A request body (%s) is required.", model->name);
  if (!json_is_object(c->body)) {
    sim_error(c, 400, "bad.request", "The request body must be a JSON object (%s).", model->name);
    return -1;
  }
  return check_object(c, model, c->body, "");
}
