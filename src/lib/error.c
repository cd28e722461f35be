/* error.c - per-handle error detail, ErrorBody parsing, status mapping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *gcmsg_strerror(int code)
{
	switch (code) {
	case GCMSG_OK: return "success";
	case GCMSG_ERROR: return "internal error";
	case GCMSG_EUSAGE: return "usage error";
	case GCMSG_ECONFIG: return "configuration error";
	case GCMSG_EAUTH: return "authentication failed";
	case GCMSG_EPERM: return "permission missing";
	case GCMSG_ENOTFOUND: return "not found";
	case GCMSG_EPOLICY: return "refused by content policy";
	case GCMSG_EROUTE: return "conversation cannot receive it";
	case GCMSG_ERATELIMIT: return "rate limited";
	case GCMSG_EREMOTE: return "remote or network failure";
	default: return "unknown error";
	}
}

static void err_publish(gcmsg__err *e)
{
	e->pub.genesys_code = e->genesys_code;
	e->pub.message = e->message;
	e->pub.correlation_id = e->correlation_id;
	e->pub.details = e->details;
	e->pub.explanation = e->explanation;
	e->pub.fix = e->fix;
	e->pub.rule = e->rule;
	e->pub.param_count = e->nparams;
	e->pub.param_keys = (const char *const *)e->keys;
	e->pub.param_values = (const char *const *)e->values;
}

void gcmsg__err_init(gcmsg__err *e)
{
	memset(e, 0, sizeof(*e));
	e->pub.retry_after = -1;
	err_publish(e);
}

void gcmsg__err_clear(gcmsg__err *e)
{
	free(e->genesys_code);
	free(e->message);
	free(e->correlation_id);
	free(e->details);
	free(e->explanation);
	free(e->fix);
	free(e->rule);
	gcmsg__free_strv(e->keys, e->nparams);
	gcmsg__free_strv(e->values, e->nparams);
	gcmsg__err_init(e);
}

int gcmsg__err_copy(gcmsg__err *dst, const gcmsg__err *src)
{
	size_t i;

	gcmsg__err_clear(dst);
	dst->pub.code = src->pub.code;
	dst->pub.http_status = src->pub.http_status;
	dst->pub.retry_after = src->pub.retry_after;
	dst->genesys_code = gcmsg__strdup(src->genesys_code);
	dst->message = gcmsg__strdup(src->message);
	dst->correlation_id = gcmsg__strdup(src->correlation_id);
	dst->details = gcmsg__strdup(src->details);
	dst->explanation = gcmsg__strdup(src->explanation);
	dst->fix = gcmsg__strdup(src->fix);
	dst->rule = gcmsg__strdup(src->rule);
	if (src->nparams && (dst->keys = calloc(src->nparams, sizeof(char *))) &&
	    (dst->values = calloc(src->nparams, sizeof(char *)))) {
		dst->nparams = src->nparams;
		for (i = 0; i < src->nparams; i++) {
			dst->keys[i] = gcmsg__strdup(src->keys[i]);
			dst->values[i] = gcmsg__strdup(src->values[i]);
		}
	} else if (src->nparams) {
		free(dst->keys);
		dst->keys = NULL;
	}
	err_publish(dst);
	return dst->pub.code;
}

int gcmsg__err_set(gcmsg__err *e, int code, const char *fmt, ...)
{
	va_list ap;

	gcmsg__err_clear(e);
	e->pub.code = code;
	va_start(ap, fmt);
	e->explanation = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	err_publish(e);
	return code;
}

int gcmsg__err_vset_at(gcmsg__err *e, int code, const char *file, int line, const char *fmt, va_list ap)
{
	char *what = gcmsg__vasprintf(fmt, ap);

	if (line > 0)
		gcmsg__err_set(e, code, "%s: line %d: %s", file, line, what ? what : "?");
	else
		gcmsg__err_set(e, code, "%s: %s", file, what ? what : "?");
	free(what);
	return code;
}

void gcmsg__err_set_fix(gcmsg__err *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(e->fix);
	e->fix = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		e->fix = malloc((size_t)n + 1);
		if (e->fix) {
			va_start(ap, fmt);
			vsnprintf(e->fix, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	err_publish(e);
}

void gcmsg__err_set_rule(gcmsg__err *e, const char *rule)
{
	free(e->rule);
	e->rule = gcmsg__strdup(rule);
	err_publish(e);
}

int gcmsg__status_to_code(long status)
{
	if (status >= 200 && status < 300)
		return GCMSG_OK;
	switch (status) {
	case 401: return GCMSG_EAUTH;
	case 403: return GCMSG_EPERM;
	case 404: return GCMSG_ENOTFOUND;
	case 429: return GCMSG_ERATELIMIT;
	default: return GCMSG_EREMOTE;
	}
}

static char *flatten_details(const json_t *details)
{
	gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
	size_t i;
	const json_t *d;

	if (!json_is_array(details))
		return NULL;
	json_array_foreach(details, i, d) {
		const char *field = gcmsg__json_str(d, "fieldName");
		const char *code = gcmsg__json_str(d, "errorCode");
		if (!field && !code)
			continue;
		if (b.len)
			gcmsg__buf_puts(&b, "; ");
		if (field && code)
			gcmsg__buf_printf(&b, "%s: %s", field, code);
		else
			gcmsg__buf_puts(&b, field ? field : code);
	}
	return gcmsg__buf_detach(&b);
}

int gcmsg__err_from_http(gcmsg__err *e, long status, const char *body, size_t len,
                         const char *corr, long retry_after)
{
	json_t *root = NULL;
	int code = gcmsg__status_to_code(status);

	gcmsg__err_clear(e);
	e->pub.code = code;
	e->pub.http_status = status;
	e->pub.retry_after = retry_after;
	if (body && len)
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root)) {
		const json_t *params = json_object_get(root, "messageParams");
		e->genesys_code = gcmsg__strdup(gcmsg__json_str(root, "code"));
		e->message = gcmsg__strdup(gcmsg__json_str(root, "message"));
		if (!e->message)
			e->message = gcmsg__strdup(gcmsg__json_str(root, "messageWithParams"));
		e->correlation_id = gcmsg__strdup(gcmsg__json_str(root, "contextId"));
		e->details = flatten_details(json_object_get(root, "details"));
		if (json_is_object(params) && json_object_size(params) > 0) {
			size_t n = json_object_size(params), i = 0;
			const char *k;
			const json_t *v;
			e->keys = calloc(n, sizeof(char *));
			e->values = calloc(n, sizeof(char *));
			if (e->keys && e->values) {
				json_object_foreach((json_t *)params, k, v) {
					if (!json_is_string(v))
						continue;
					e->keys[i] = gcmsg__strdup(k);
					e->values[i] = gcmsg__strdup(json_string_value(v));
					i++;
				}
				e->nparams = i;
			} else {
				free(e->keys);
				free(e->values);
				e->keys = e->values = NULL;
			}
		}
	}
	json_decref(root);
	if (corr && *corr) {
		free(e->correlation_id);
		e->correlation_id = gcmsg__strdup(corr);
	}
	err_publish(e);
	return code;
}
