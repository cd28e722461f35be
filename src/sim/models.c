#include "models.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

#define MAX_ARRAY_ITEMS 1000

/* Table shorthands: a property, a readOnly property, the terminator. */
#define P(name, type, required, enums, model) {name, type, required, enums, model, 0}
#define RO(name, type, model) {name, type, 0, NULL, model, 1}
#define END {NULL, SIM_T_STRING, 0, NULL, NULL, 0}

static const char *const ENUM_TYPING[] = {"On", NULL};
static const char *const ENUM_AGENTLESS_MESSENGER[] = {"sms", "whatsapp", "open", "webmessaging", "apple", NULL};
static const char *const ENUM_WEBCHAT_BODY_TYPE[] = {"standard", "notice", "member-join", "member-leave",
                                                     "media-request", NULL};
static const char *const ENUM_RESPONSE_TYPE[] = {"MessagingTemplate", "CampaignSmsTemplate", "CampaignEmailTemplate",
                                                 "Footer", "Form", "AppleInvitation", NULL};
static const char *const ENUM_INTERACTION_TYPE[] = {"chat", "email", "twitter", NULL};
static const char *const ENUM_CONTENT_TYPE[] = {"text/plain", "text/html", NULL};
static const char *const ENUM_TEXT_TYPE[] = {"body", "subject", NULL};
static const char *const ENUM_FILTER_OPERATOR[] = {"IN", "EQUALS", "NOTEQUALS", "BEGINS_WITH", "ENDS_WITH", "CONTAINS",
                                                   NULL};
static const char *const ENUM_WA_CATEGORY[] = {"marketing", NULL};
static const char *const ENUM_BUTTON_TYPE[] = {"QuickReply", "PhoneNumber", "Url", NULL};
static const char *const ENUM_FOOTER_TYPE[] = {"Text", NULL};
static const char *const ENUM_HEADER_TYPE[] = {"Text", "Image", "Video", "Document", NULL};
static const char *const ENUM_CARD_CONTENT_TYPE[] = {"text/plain", NULL};
static const char *const ENUM_FOOTER_TEMPLATE_TYPE[] = {"Signature", NULL};
static const char *const ENUM_APPLICABLE_RESOURCES[] = {"Campaign", NULL};
static const char *const ENUM_APPLE_TEMPLATE_TYPE[] = {"WithImage", NULL};
static const char *const ENUM_ASSET_USAGE[] = {"FileAttachments", NULL};

/* ---- messaging sends ---- */

static const sim_prop TEMPLATE_PARAMETER_PROPS[] = {
    P("id", SIM_T_STRING, 0, NULL, NULL),
    P("value", SIM_T_STRING, 0, NULL, NULL),
    END,
};
static const sim_model TEMPLATE_PARAMETER = {"TemplateParameter", TEMPLATE_PARAMETER_PROPS};

static const sim_prop CARD_PARAMETERS_PROPS[] = {
    P("index", SIM_T_INT, 0, NULL, NULL),
    P("bodyParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    P("buttonUrlParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    END,
};
static const sim_model CARD_PARAMETERS = {"CardParameters", CARD_PARAMETERS_PROPS};

static const sim_prop CAROUSEL_PARAMETERS_PROPS[] = {
    P("cardParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &CARD_PARAMETERS),
    END,
};
static const sim_model CAROUSEL_PARAMETERS = {"CarouselParameters", CAROUSEL_PARAMETERS_PROPS};

static const sim_prop SEND_TEMPLATE_PROPS[] = {
    P("responseId", SIM_T_STRING, 0, NULL, NULL),
    P("parameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    P("headerParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    P("bodyParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    P("buttonUrlParameters", SIM_T_OBJECT_ARRAY, 0, NULL, &TEMPLATE_PARAMETER),
    P("carouselParameters", SIM_T_OBJECT, 0, NULL, &CAROUSEL_PARAMETERS),
    END,
};
const sim_model SIM_MODEL_SEND_MESSAGING_TEMPLATE = {"SendMessagingTemplateRequest", SEND_TEMPLATE_PROPS};
#define SEND_TEMPLATE SIM_MODEL_SEND_MESSAGING_TEMPLATE

/* The definition marks textBody required, but the operation's description says one body kind per
 * request (a text, OR a media id, OR a template): media and templates go without it, and an empty
 * textBody beside them is tolerated (what clients built on the generated models send). */
static const sim_prop ADDITIONAL_MESSAGE_PROPS[] = {
    P("textBody", SIM_T_STRING, 0, NULL, NULL),
    P("mediaIds", SIM_T_STRING_ARRAY, 0, NULL, NULL),
    P("messagingTemplate", SIM_T_OBJECT, 0, NULL, &SEND_TEMPLATE),
    END,
};
const sim_model SIM_MODEL_ADDITIONAL_MESSAGE = {"AdditionalMessage", ADDITIONAL_MESSAGE_PROPS};

static const sim_prop UPLOAD_MEDIA_REQUEST_PROPS[] = {
    P("fileName", SIM_T_STRING, 1, NULL, NULL),
    P("contentLengthBytes", SIM_T_INT, 1, NULL, NULL),
    P("contentMd5", SIM_T_STRING, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_UPLOAD_MEDIA_REQUEST = {"UploadMediaRequest", UPLOAD_MEDIA_REQUEST_PROPS};

static const sim_prop EVENT_TYPING_PROPS[] = {
    P("type", SIM_T_STRING, 1, ENUM_TYPING, NULL),
    P("duration", SIM_T_INT, 0, NULL, NULL),
    END,
};
static const sim_model EVENT_TYPING = {"ConversationEventTyping", EVENT_TYPING_PROPS};

static const sim_prop TYPING_REQUEST_PROPS[] = {
    P("typing", SIM_T_OBJECT, 1, NULL, &EVENT_TYPING),
    P("dateSent", SIM_T_DATETIME, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_MESSAGE_TYPING_EVENT_REQUEST = {"MessageTypingEventRequest", TYPING_REQUEST_PROPS};

/* toAddress is optional in the definition; gcsim requires it (it is stricter where unsure). */
static const sim_prop AGENTLESS_PROPS[] = {
    P("toAddressMessengerType", SIM_T_STRING, 1, ENUM_AGENTLESS_MESSENGER, NULL),
    P("fromAddress", SIM_T_STRING, 1, NULL, NULL),
    P("toAddress", SIM_T_STRING, 1, NULL, NULL),
    P("textBody", SIM_T_STRING, 0, NULL, NULL),
    P("messagingTemplate", SIM_T_OBJECT, 0, NULL, &SEND_TEMPLATE),
    P("useExistingActiveConversation", SIM_T_BOOL, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_SEND_AGENTLESS_REQUEST = {"SendAgentlessOutboundMessageRequest", AGENTLESS_PROPS};

static const sim_prop CREATE_WEB_CHAT_PROPS[] = {
    P("queueId", SIM_T_STRING, 1, NULL, NULL),
    P("provider", SIM_T_STRING, 1, NULL, NULL),
    P("skillIds", SIM_T_STRING_ARRAY, 0, NULL, NULL),
    P("languageId", SIM_T_STRING, 0, NULL, NULL),
    P("priority", SIM_T_INT, 0, NULL, NULL),
    P("attributes", SIM_T_STRING_MAP, 0, NULL, NULL),
    P("customerName", SIM_T_STRING, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_CREATE_WEB_CHAT_REQUEST = {"CreateWebChatRequest", CREATE_WEB_CHAT_PROPS};

static const sim_prop CREATE_WEB_CHAT_MESSAGE_PROPS[] = {
    P("body", SIM_T_STRING, 1, NULL, NULL),
    P("bodyType", SIM_T_STRING, 0, ENUM_WEBCHAT_BODY_TYPE, NULL),
    END,
};
const sim_model SIM_MODEL_CREATE_WEB_CHAT_MESSAGE_REQUEST = {"CreateWebChatMessageRequest",
                                                            CREATE_WEB_CHAT_MESSAGE_PROPS};

/* ---- Response Management ---- */

static const sim_prop WRITABLE_DIVISION_PROPS[] = {
    P("id", SIM_T_STRING, 0, NULL, NULL),
    P("name", SIM_T_STRING, 0, NULL, NULL),
    RO("selfUri", SIM_T_STRING, NULL),
    END,
};
static const sim_model WRITABLE_DIVISION = {"WritableDivision", WRITABLE_DIVISION_PROPS};

/* createdBy is a User (read-only): accepted as any object and ignored. */
static const sim_prop LIBRARY_PROPS[] = {
    P("responseType", SIM_T_STRING, 0, ENUM_RESPONSE_TYPE, NULL),
    RO("id", SIM_T_STRING, NULL),
    P("name", SIM_T_STRING, 1, NULL, NULL),
    P("version", SIM_T_INT, 0, NULL, NULL),
    RO("createdBy", SIM_T_ANY_OBJECT, NULL),
    RO("dateCreated", SIM_T_DATETIME, NULL),
    P("division", SIM_T_OBJECT, 0, NULL, &WRITABLE_DIVISION),
    RO("selfUri", SIM_T_STRING, NULL),
    END,
};
const sim_model SIM_MODEL_LIBRARY = {"Library", LIBRARY_PROPS};

static const sim_prop DOMAIN_ENTITY_REF_PROPS[] = {
    P("id", SIM_T_STRING, 0, NULL, NULL),
    P("name", SIM_T_STRING, 0, NULL, NULL),
    P("selfUri", SIM_T_STRING, 0, NULL, NULL),
    END,
};
static const sim_model DOMAIN_ENTITY_REF = {"DomainEntityRef", DOMAIN_ENTITY_REF_PROPS};

static const sim_prop RESPONSE_TEXT_PROPS[] = {
    P("contentType", SIM_T_STRING, 0, ENUM_CONTENT_TYPE, NULL),
    P("type", SIM_T_STRING, 0, ENUM_TEXT_TYPE, NULL),
    P("content", SIM_T_STRING, 1, NULL, NULL),
    END,
};
static const sim_model RESPONSE_TEXT = {"ResponseText", RESPONSE_TEXT_PROPS};

static const sim_prop RESPONSE_SUBSTITUTION_PROPS[] = {
    P("id", SIM_T_STRING, 1, NULL, NULL),
    P("description", SIM_T_STRING, 0, NULL, NULL),
    P("defaultValue", SIM_T_STRING, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_RESPONSE_SUBSTITUTION = {"ResponseSubstitution", RESPONSE_SUBSTITUTION_PROPS};

static const sim_prop BUTTON_PROPS[] = {
    P("type", SIM_T_STRING, 0, ENUM_BUTTON_TYPE, NULL),
    P("content", SIM_T_STRING, 0, NULL, NULL),
    P("contentText", SIM_T_STRING, 0, NULL, NULL),
    P("payload", SIM_T_STRING, 0, NULL, NULL),
    END,
};
static const sim_model BUTTON = {"Button", BUTTON_PROPS};

static const sim_prop MESSAGE_FOOTER_PROPS[] = {
    P("type", SIM_T_STRING, 0, ENUM_FOOTER_TYPE, NULL),
    P("content", SIM_T_STRING, 0, NULL, NULL),
    END,
};
static const sim_model MESSAGE_FOOTER = {"MessageFooter", MESSAGE_FOOTER_PROPS};

static const sim_prop MESSAGE_HEADER_PROPS[] = {
    P("type", SIM_T_STRING, 0, ENUM_HEADER_TYPE, NULL),
    P("content", SIM_T_STRING, 0, NULL, NULL),
    END,
};
static const sim_model MESSAGE_HEADER = {"MessageHeader", MESSAGE_HEADER_PROPS};

static const sim_prop STATUS_INFO_PROPS[] = {
    RO("code", SIM_T_STRING, NULL),
    RO("message", SIM_T_STRING, NULL),
    END,
};
static const sim_model STATUS_INFO = {"StatusInfo", STATUS_INFO_PROPS};

static const sim_prop CARD_BODY_TEXT_PROPS[] = {
    P("contentType", SIM_T_STRING, 1, ENUM_CARD_CONTENT_TYPE, NULL),
    P("content", SIM_T_STRING, 1, NULL, NULL),
    END,
};
static const sim_model CARD_BODY_TEXT = {"CardBodyText", CARD_BODY_TEXT_PROPS};

static const sim_prop CAROUSEL_CARD_PROPS[] = {
    P("header", SIM_T_OBJECT, 1, NULL, &MESSAGE_HEADER),
    P("buttons", SIM_T_OBJECT_ARRAY, 1, NULL, &BUTTON),
    P("cardBodyText", SIM_T_OBJECT, 0, NULL, &CARD_BODY_TEXT),
    END,
};
static const sim_model CAROUSEL_CARD = {"CarouselCard", CAROUSEL_CARD_PROPS};

static const sim_prop CAROUSEL_PROPS[] = {
    P("cards", SIM_T_OBJECT_ARRAY, 1, NULL, &CAROUSEL_CARD),
    END,
};
static const sim_model CAROUSEL = {"Carousel", CAROUSEL_PROPS};

static const sim_prop WHATSAPP_DEFINITION_PROPS[] = {
    P("category", SIM_T_STRING, 0, ENUM_WA_CATEGORY, NULL),
    P("name", SIM_T_STRING, 1, NULL, NULL),
    P("namespace", SIM_T_STRING, 0, NULL, NULL),
    P("language", SIM_T_STRING, 1, NULL, NULL),
    P("buttons", SIM_T_OBJECT_ARRAY, 0, NULL, &BUTTON),
    P("messageFooter", SIM_T_OBJECT, 0, NULL, &MESSAGE_FOOTER),
    P("header", SIM_T_OBJECT, 0, NULL, &MESSAGE_HEADER),
    P("integrationId", SIM_T_STRING, 0, NULL, NULL),
    RO("templateStatus", SIM_T_STRING, NULL),
    RO("statusInfo", SIM_T_OBJECT, &STATUS_INFO),
    P("carousel", SIM_T_OBJECT, 0, NULL, &CAROUSEL),
    END,
};
static const sim_model WHATSAPP_DEFINITION = {"WhatsAppDefinition", WHATSAPP_DEFINITION_PROPS};

static const sim_prop MESSAGING_TEMPLATE_PROPS[] = {
    P("whatsApp", SIM_T_OBJECT, 0, NULL, &WHATSAPP_DEFINITION),
    END,
};
const sim_model SIM_MODEL_MESSAGING_TEMPLATE = {"MessagingTemplate", MESSAGING_TEMPLATE_PROPS};

static const sim_prop FOOTER_TEMPLATE_PROPS[] = {
    P("type", SIM_T_STRING, 0, ENUM_FOOTER_TEMPLATE_TYPE, NULL),
    P("applicableResources", SIM_T_STRING_ARRAY, 0, ENUM_APPLICABLE_RESOURCES, NULL),
    END,
};
const sim_model SIM_MODEL_FOOTER_TEMPLATE = {"FooterTemplate", FOOTER_TEMPLATE_PROPS};

static const sim_prop APPLE_INVITATION_PROPS[] = {
    P("templateType", SIM_T_STRING, 1, ENUM_APPLE_TEMPLATE_TYPE, NULL),
    P("businessName", SIM_T_STRING, 1, NULL, NULL),
    P("transcriptMessage", SIM_T_STRING, 1, NULL, NULL),
    P("locale", SIM_T_STRING, 1, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_APPLE_INVITATION = {"AppleInvitation", APPLE_INVITATION_PROPS};

static const sim_prop RMS_ASSET_REF_PROPS[] = {
    P("assetUsage", SIM_T_STRING, 0, ENUM_ASSET_USAGE, NULL),
    P("id", SIM_T_STRING, 0, NULL, NULL),
    P("selfUri", SIM_T_STRING, 0, NULL, NULL),
    P("contentLocation", SIM_T_STRING, 0, NULL, NULL),
    END,
};
const sim_model SIM_MODEL_RMS_ASSET_REF = {"RmsAssetAddressableRef", RMS_ASSET_REF_PROPS};

/* substitutionsSchema is generated by the server (expand=substitutionsSchema): a request's is
 * accepted as any object and ignored, like the readOnly properties. */
static const sim_prop RESPONSE_PROPS[] = {
    P("interactionType", SIM_T_STRING, 0, ENUM_INTERACTION_TYPE, NULL),
    P("responseType", SIM_T_STRING, 0, ENUM_RESPONSE_TYPE, NULL),
    RO("id", SIM_T_STRING, NULL),
    P("name", SIM_T_STRING, 0, NULL, NULL),
    P("version", SIM_T_INT, 0, NULL, NULL),
    P("libraries", SIM_T_OBJECT_ARRAY, 1, NULL, &DOMAIN_ENTITY_REF),
    P("texts", SIM_T_OBJECT_ARRAY, 0, NULL, &RESPONSE_TEXT),
    RO("createdBy", SIM_T_ANY_OBJECT, NULL),
    RO("dateCreated", SIM_T_DATETIME, NULL),
    P("substitutions", SIM_T_OBJECT_ARRAY, 0, NULL, &SIM_MODEL_RESPONSE_SUBSTITUTION),
    RO("substitutionsSchema", SIM_T_ANY_OBJECT, NULL),
    P("messagingTemplate", SIM_T_OBJECT, 0, NULL, &SIM_MODEL_MESSAGING_TEMPLATE),
    P("assets", SIM_T_OBJECT_ARRAY, 0, NULL, &SIM_MODEL_RMS_ASSET_REF),
    P("footer", SIM_T_OBJECT, 0, NULL, &SIM_MODEL_FOOTER_TEMPLATE),
    P("appleInvitation", SIM_T_OBJECT, 0, NULL, &SIM_MODEL_APPLE_INVITATION),
    RO("selfUri", SIM_T_STRING, NULL),
    END,
};
const sim_model SIM_MODEL_RESPONSE = {"Response", RESPONSE_PROPS};

static const sim_prop RESPONSE_FILTER_PROPS[] = {
    P("operator", SIM_T_STRING, 1, ENUM_FILTER_OPERATOR, NULL),
    P("name", SIM_T_STRING, 1, NULL, NULL),
    P("values", SIM_T_STRING_ARRAY, 1, NULL, NULL),
    END,
};
static const sim_model RESPONSE_FILTER = {"ResponseFilter", RESPONSE_FILTER_PROPS};

static const sim_prop RESPONSE_QUERY_REQUEST_PROPS[] = {
    P("queryPhrase", SIM_T_STRING, 0, NULL, NULL),
    P("pageSize", SIM_T_INT, 0, NULL, NULL),
    P("pageNumber", SIM_T_INT, 0, NULL, NULL),
    P("filters", SIM_T_OBJECT_ARRAY, 0, NULL, &RESPONSE_FILTER),
    END,
};
const sim_model SIM_MODEL_RESPONSE_QUERY_REQUEST = {"ResponseQueryRequest", RESPONSE_QUERY_REQUEST_PROPS};

/* ---- the checker ---- */

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

static int fail(sim_model_error *err, const char *code, const char *field, const char *detail_code, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
static int fail(sim_model_error *err, const char *code, const char *field, const char *detail_code, const char *fmt,
                ...) {
  va_list ap;
  snprintf(err->code, sizeof err->code, "%s", code);
  snprintf(err->field, sizeof err->field, "%s", field);
  snprintf(err->detail_code, sizeof err->detail_code, "%s", detail_code);
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int invalid_value(sim_model_error *err, const char *field, const char *what) {
  return fail(err, "invalid.value", field, "invalid.value", "Invalid value for %s: expected %s.", field, what);
}

static int check_enum(sim_model_error *err, const char *const *enums, const char *s, const char *field) {
  char list[256] = "";
  for (size_t i = 0; enums[i]; i++) {
    if (strcmp(s, enums[i]) == 0) return 0;
    if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, enums[i], sizeof list - strlen(list) - 1);
  }
  return fail(err, "invalid.value", field, "invalid.value", "Invalid value '%.100s' for %s: must be one of [%s].", s,
              field, list);
}

static int check_text(sim_model_error *err, const json_t *v, const char *field) {
  if (sim_utf8_count(json_string_value(v)) < 0 || strlen(json_string_value(v)) != json_string_length(v))
    return invalid_value(err, field, "valid UTF-8 text without NUL characters");
  return 0;
}

static int check_object(const sim_model *m, const json_t *obj, const char *prefix, sim_model_error *err);

static int check_value(const sim_prop *p, const json_t *v, const char *field, sim_model_error *err) {
  char sub[256];
  switch (p->type) {
  case SIM_T_STRING:
  case SIM_T_DATETIME:
    if (!json_is_string(v)) return invalid_value(err, field, type_name(p->type));
    if (check_text(err, v, field)) return -1;
    if (p->type == SIM_T_DATETIME) {
      int64_t ms;
      if (sim_parse_time(json_string_value(v), &ms) != 0) return invalid_value(err, field, type_name(p->type));
    }
    return p->enums ? check_enum(err, p->enums, json_string_value(v), field) : 0;
  case SIM_T_BOOL:
    return json_is_boolean(v) ? 0 : invalid_value(err, field, type_name(p->type));
  case SIM_T_INT:
    return json_is_integer(v) ? 0 : invalid_value(err, field, type_name(p->type));
  case SIM_T_OBJECT:
    if (!json_is_object(v)) return invalid_value(err, field, type_name(p->type));
    return check_object(p->model, v, field, err);
  case SIM_T_ANY_OBJECT:
    return json_is_object(v) ? 0 : invalid_value(err, field, type_name(p->type));
  case SIM_T_STRING_ARRAY:
  case SIM_T_OBJECT_ARRAY: {
    if (!json_is_array(v)) return invalid_value(err, field, type_name(p->type));
    if (json_array_size(v) > MAX_ARRAY_ITEMS) return invalid_value(err, field, "at most 1000 items");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      if (snprintf(sub, sizeof sub, "%s[%zu]", field, i) >= (int)sizeof sub)
        return invalid_value(err, field, "a shallower value (field path too long)");
      if (p->type == SIM_T_STRING_ARRAY) {
        if (!json_is_string(item)) return invalid_value(err, sub, "a string");
        if (check_text(err, item, sub)) return -1;
        if (p->enums && check_enum(err, p->enums, json_string_value(item), sub)) return -1;
      } else {
        if (!json_is_object(item)) return invalid_value(err, sub, "an object");
        if (check_object(p->model, item, sub, err)) return -1;
      }
    }
    return 0;
  }
  case SIM_T_STRING_MAP: {
    if (!json_is_object(v)) return invalid_value(err, field, type_name(p->type));
    const char *k;
    json_t *item;
    json_object_foreach((json_t *)v, k, item) {
      if (snprintf(sub, sizeof sub, "%s.%s", field, k) >= (int)sizeof sub)
        return invalid_value(err, field, "a map with shorter keys (field path too long)");
      if (!json_is_string(item)) return invalid_value(err, sub, "a string");
    }
    return 0;
  }
  }
  return 0;
}

static const sim_prop *find_prop(const sim_model *m, const char *key) {
  const sim_prop *p = m->props;
  while (p->name && strcmp(p->name, key) != 0) p++;
  return p->name ? p : NULL;
}

static int check_object(const sim_model *m, const json_t *obj, const char *prefix, sim_model_error *err) {
  char field[256];
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const sim_prop *p = find_prop(m, key);
    snprintf(field, sizeof field, "%s%s%s", prefix, *prefix ? "." : "", key);
    if (p == NULL)
      return fail(err, "invalid.property", field, "invalid.property", "Unrecognized property '%s' in %s.", field,
                  m->name);
    if (json_is_null(v)) continue; /* null stands for absent, as Genesys' deserializer treats it */
    if (check_value(p, v, field, err)) return -1;
  }
  for (const sim_prop *p = m->props; p->name; p++) {
    v = json_object_get(obj, p->name);
    if (p->required && (v == NULL || json_is_null(v))) {
      snprintf(field, sizeof field, "%s%s%s", prefix, *prefix ? "." : "", p->name);
      return fail(err, "bad.request", field, "required", "The property '%s' of %s is required.", field, m->name);
    }
  }
  return 0;
}

int sim_model_check(const sim_model *model, const json_t *obj, const char *prefix, sim_model_error *err) {
  memset(err, 0, sizeof *err);
  if (!json_is_object(obj))
    return fail(err, "bad.request", prefix, "invalid.value", "%s%sexpected an object (%s).", prefix,
                *prefix ? ": " : "", model->name);
  return check_object(model, obj, prefix, err);
}

static json_t *copy_value(const sim_prop *p, const json_t *v, int keep_read_only) {
  if (p->type == SIM_T_OBJECT) return sim_model_copy(p->model, v, keep_read_only);
  if (p->type == SIM_T_OBJECT_ARRAY) {
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
      if (out == NULL || json_array_append_new(out, sim_model_copy(p->model, item, keep_read_only))) {
        json_decref(out);
        return NULL;
      }
    }
    return out;
  }
  return json_deep_copy(v);
}

json_t *sim_model_copy(const sim_model *model, const json_t *obj, int keep_read_only) {
  json_t *out = json_object();
  const char *key;
  json_t *v;
  if (out == NULL) return NULL;
  json_object_foreach((json_t *)obj, key, v) {
    const sim_prop *p = find_prop(model, key);
    if (p == NULL || json_is_null(v) || (p->read_only && !keep_read_only)) continue;
    json_t *c = copy_value(p, v, keep_read_only);
    if (c == NULL || json_object_set_new(out, key, c)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

int sim_validate_body(sim_ctx *c, const sim_model *model) {
  if (c->body_malformed)
    return sim_error(c, 400, "bad.request", "The request could not be understood by the server due to malformed syntax: the body is not valid JSON.");
  if (c->body == NULL) return sim_error(c, 400, "bad.request", "A request body (%s) is required.", model->name);
  if (!json_is_object(c->body)) {
    sim_error(c, 400, "bad.request", "The request body must be a JSON object (%s).", model->name);
    return -1;
  }
  sim_model_error err;
  if (sim_model_check(model, c->body, "", &err) == 0) return 0;
  sim_error(c, 400, err.code, "%s", err.message);
  sim_error_detail(c, err.field, err.detail_code);
  return -1;
}
