/*
 * The Response Management client against a scripted HTTP server in a thread:
 * every page followed, the guards, library resolution, deduplication, the
 * query bodies, lookup by id and by name, malformed answers, server errors,
 * and sync end to end (files, report, dry run, deletion).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "response_api.h"
#include "response_file.h"
#include "scripted_server.h"

static gcmsg_client *client;
static char store[256];

static int setup(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	char url[64];

	(void)state;
	gcmsg_global_init();
	if (ss_start() < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ss_port());
	o.access_token = "test-token";
	o.api_url = url;
	if (gcmsg_client_new(&client, &o) != GCMSG_OK)
		return -1;
	snprintf(store, sizeof(store), "/tmp/gcmsg-test-store-XXXXXX");
	return mkdtemp(store) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	ss_stop();
	gcmsg_client_free(client);
	gcmsg_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store);
	return system(cmd) == 0 ? 0 : -1;
}

static int before(void **state)
{
	(void)state;
	ss_clear_log();
	ss_set_handler(NULL);
	return 0;
}

/* a query parameter of a request target, or -1 */
static long param(const char *target, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "%s=", name);
	for (p = strchr(target, '?'); p; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, key, strlen(key)) == 0)
			return strtol(p + 1 + strlen(key), NULL, 10);
	return -1;
}

static const char *explanation(void)
{
	const char *e = gcmsg_client_last_error(client)->explanation;
	return e ? e : "(null)";
}

static void expect_explanation(const char *want)
{
	if (!strstr(explanation(), want))
		fail_msg("explanation '%s' lacks '%s'", explanation(), want);
}

/* ---- a scripted Response Management ---- */

/* libraries L0..L(nlibs-1); library Lk has resp_per_lib[k] responses "r<k>-<i>", named "Name <i>" */
static int nlibs = 3;
static int resp_per_lib[8] = { 3, 250, 0 };

static char *entities_json(int lib, int first, int count)
{
	size_t cap = 256 + (size_t)count * 400, n = 0;
	char *s = malloc(cap);
	int i;

	n += (size_t)snprintf(s + n, cap - n, "[");
	for (i = first; i < first + count; i++)
		n += (size_t)snprintf(s + n, cap - n,
		                      "%s{\"id\":\"r%d-%d\",\"name\":\"Name %d\",\"version\":%d,\"libraries\":[{\"id\":\"L%d\"}],"
		                      "\"texts\":[{\"content\":\"Hello %d {{X}}\",\"contentType\":\"text/plain\",\"type\":\"body\"}],"
		                      "\"substitutions\":[{\"id\":\"X\",\"defaultValue\":\"x\"}]}",
		                      i > first ? "," : "", lib, i, i, 1, lib, i);
	snprintf(s + n, cap - n, "]");
	return s;
}

static void page_of(ss_answer *an, const char *entities, long page, long size, long total)
{
	long count = (total + size - 1) / size;

	ss_reply(an, 200, "{\"entities\":%s,\"pageSize\":%ld,\"pageNumber\":%ld,\"total\":%ld,\"pageCount\":%ld}", entities,
	         size, page, total, count);
}

static void rm_handler(const ss_req *rq, ss_answer *an)
{
	long page = param(rq->target, "pageNumber"), size = param(rq->target, "pageSize");

	if (strncmp(rq->target, "/api/v2/responsemanagement/libraries?", 37) == 0) {
		size_t cap = 64 + (size_t)size * 128, n = 0;
		char *ents = malloc(cap);
		long i, first = (page - 1) * size;
		n += (size_t)snprintf(ents + n, cap - n, "[");
		for (i = first; i < nlibs && i < first + size; i++)
			n += (size_t)snprintf(ents + n, cap - n, "%s{\"id\":\"L%ld\",\"name\":\"Library %ld\",\"version\":%ld}",
			                      i > first ? "," : "", i, i, i + 10);
		snprintf(ents + n, cap - n, "]");
		page_of(an, ents, page, size, nlibs);
		free(ents);
		return;
	}
	if (strncmp(rq->target, "/api/v2/responsemanagement/responses?", 37) == 0) {
		const char *lid = strstr(rq->target, "libraryId=L");
		int lib = lid ? atoi(lid + 11) : -1, total, first, count;
		char *ents;
		if (lib < 0 || lib >= nlibs) {
			ss_reply(an, 404, "{\"code\":\"not.found\",\"message\":\"no such library\",\"status\":404}");
			return;
		}
		total = resp_per_lib[lib];
		first = (int)((page - 1) * size);
		count = first >= total ? 0 : (total - first < size ? total - first : (int)size);
		ents = entities_json(lib, first, count);
		page_of(an, ents, page, size, total);
		free(ents);
		return;
	}
	ss_reply(an, 404, "{\"code\":\"not.found\",\"message\":\"not here\",\"status\":404}");
}

static void libraries_every_page(void **state)
{
	gcmsg_response_set *set;
	int i;

	(void)state;
	nlibs = 250;
	ss_set_handler(rm_handler);
	assert_int_equal(gcmsg_libraries_list(&set, client, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_library_count(set), 250);
	assert_int_equal(gcmsg_response_set_count(set), 0);
	assert_string_equal(gcmsg_response_set_library_id(set, 249), "L249");
	assert_string_equal(gcmsg_response_set_library_name(set, 249), "Library 249");
	assert_int_equal(gcmsg_response_set_library_version(set, 249), 259);
	assert_int_equal(ss_log_count(), 3);
	for (i = 0; i < 3; i++) {
		char want[128];
		snprintf(want, sizeof(want), "/api/v2/responsemanagement/libraries?pageNumber=%d&pageSize=100", i + 1);
		assert_string_equal(ss_log_at(i)->method, "GET");
		assert_string_equal(ss_log_at(i)->target, want);
	}
	gcmsg_response_set_free(set);

	/* a prefix: sent (percent-encoded) and applied (ignoring ASCII case) */
	ss_clear_log();
	assert_int_equal(gcmsg_libraries_list(&set, client, "library 2&"), GCMSG_OK);
	assert_string_equal(ss_log_at(0)->target,
	                    "/api/v2/responsemanagement/libraries?libraryPrefix=library%202%26&pageNumber=1&pageSize=100");
	assert_int_equal(gcmsg_response_set_library_count(set), 0);
	gcmsg_response_set_free(set);
	assert_int_equal(gcmsg_libraries_list(&set, client, "LIBRARY 24"), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_library_count(set), 11); /* 24, 240..249 */
	gcmsg_response_set_free(set);
	nlibs = 3;
}

static void responses_of_one_library_every_page(void **state)
{
	gcmsg_response_set *set;
	const gcmsg_response *r;
	int i;

	(void)state;
	ss_set_handler(rm_handler);
	assert_int_equal(gcmsg_responses_list(&set, client, "Library 1"), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 250);
	assert_int_equal(gcmsg_response_set_library_count(set), 1);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "L1");
	assert_string_equal(gcmsg_response_set_library_name(set, 0), "Library 1");
	assert_int_equal(gcmsg_response_set_library_version(set, 0), 11);
	r = gcmsg_response_set_get(set, 249);
	assert_string_equal(gcmsg_response_id(r), "r1-249");
	/* the answer's library reference had no name: filled from the listing */
	assert_string_equal(gcmsg_response_library_name(r), "Library 1");
	assert_int_equal(gcmsg_response_origin_of(r), GCMSG_RESPONSE_REMOTE);
	/* 1 libraries page + 3 responses pages */
	assert_int_equal(ss_log_count(), 4);
	for (i = 1; i < 4; i++) {
		char want[128];
		snprintf(want, sizeof(want), "/api/v2/responsemanagement/responses?libraryId=L1&pageNumber=%d&pageSize=100", i);
		assert_string_equal(ss_log_at(i)->target, want);
	}
	gcmsg_response_set_free(set);

	/* by id as well */
	assert_int_equal(gcmsg_responses_list(&set, client, "L0"), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 3);
	gcmsg_response_set_free(set);
}

static void responses_of_every_library(void **state)
{
	gcmsg_response_set *set;

	(void)state;
	ss_set_handler(rm_handler);
	assert_int_equal(gcmsg_responses_list(&set, client, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 253);
	assert_int_equal(gcmsg_response_set_library_count(set), 3);
	assert_string_equal(gcmsg_response_set_library_name(set, 2), "Library 2");
	gcmsg_response_set_free(set);
}

static void unknown_and_ambiguous_libraries(void **state)
{
	gcmsg_response_set *set = (gcmsg_response_set *)1;
	gcmsg_response *r;

	(void)state;
	ss_set_handler(rm_handler);
	assert_int_equal(gcmsg_responses_list(&set, client, "Nope"), GCMSG_ENOTFOUND);
	assert_null(set);
	assert_string_equal(explanation(), "no library 'Nope'");
	assert_int_equal(gcmsg_responses_search(&set, client, "x", "library 1"), GCMSG_ENOTFOUND); /* case matters */
	assert_int_equal(gcmsg_response_lookup(&r, client, "Name 1", "Nope"), GCMSG_ENOTFOUND);
	assert_string_equal(explanation(), "no library 'Nope'");
	assert_int_equal(gcmsg_responses_list(&set, client, ""), GCMSG_EUSAGE);
}

static void dup_lib_handler(const ss_req *rq, ss_answer *an)
{
	if (strstr(rq->target, "/libraries?"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"a1\",\"name\":\"Care\"},{\"id\":\"b2\",\"name\":\"Care\"},"
		                  "{\"id\":\"c3\",\"name\":\"Other\"}],\"pageNumber\":1,\"pageCount\":1}");
	else if (strstr(rq->target, "libraryId=a1"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"s1\",\"name\":\"Shared\",\"libraries\":[{\"id\":\"a1\",\"name\":\"Care\"}]}],"
		                  "\"pageNumber\":1,\"pageCount\":1}");
	else if (strstr(rq->target, "libraryId=b2"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"s1\",\"name\":\"Shared\",\"libraries\":[{\"id\":\"b2\",\"name\":\"Care\"}]}],"
		                  "\"pageNumber\":1,\"pageCount\":1}");
	else
		ss_reply(an, 200, "{\"entities\":[],\"pageNumber\":1,\"pageCount\":0}");
}

static void same_name_libraries_and_shared_responses(void **state)
{
	gcmsg_response_set *set;
	const gcmsg_response *r;

	(void)state;
	ss_set_handler(dup_lib_handler);
	assert_int_equal(gcmsg_responses_list(&set, client, "Care"), GCMSG_EUSAGE);
	assert_string_equal(explanation(), "2 libraries are named 'Care': a1, b2");
	assert_string_equal(gcmsg_client_last_error(client)->fix, "give the library by id");
	assert_int_equal(gcmsg_responses_list(&set, client, "b2"), GCMSG_OK);
	gcmsg_response_set_free(set);
	/* a response listed under two libraries is in the set once, with both */
	assert_int_equal(gcmsg_responses_list(&set, client, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 1);
	r = gcmsg_response_set_get(set, 0);
	assert_int_equal(gcmsg_response_library_count(r), 2);
	assert_string_equal(gcmsg_response_library_id_at(r, 1), "b2");
	assert_int_equal(gcmsg_response_set_library_count(set), 3);
	gcmsg_response_set_free(set);
}

/* ---- paging guards and malformed answers ---- */

static const char *script_body;
static int script_status = 200;

static void script_handler(const ss_req *rq, ss_answer *an)
{
	(void)rq;
	ss_reply(an, script_status, "%s", script_body);
}

static void expect_listing_error(const char *body, int code, const char *want)
{
	gcmsg_response_set *set = (gcmsg_response_set *)1;

	ss_clear_log();
	ss_set_handler(script_handler);
	script_body = body;
	script_status = 200;
	assert_int_equal(gcmsg_libraries_list(&set, client, NULL), code);
	assert_null(set);
	expect_explanation(want);
}

static void guards_and_malformed_answers(void **state)
{
	(void)state;
	expect_listing_error("[]", GCMSG_EREMOTE,
	                     "the answer to GET /api/v2/responsemanagement/libraries (page 1) is not a JSON object");
	expect_listing_error("", GCMSG_EREMOTE, "is not a JSON object");
	expect_listing_error("{\"pageCount\":1}", GCMSG_EREMOTE, "(page 1) has no 'entities' array");
	expect_listing_error("{\"entities\":{}}", GCMSG_EREMOTE, "has no 'entities' array (it is not an array)");
	expect_listing_error("{\"entities\":[{\"name\":\"x\"}]}", GCMSG_EREMOTE, "(page 1): entities[0] has no id");
	expect_listing_error("{\"entities\":[{\"id\":\"\"}]}", GCMSG_EREMOTE, "entities[0] has no id");
	expect_listing_error("{\"entities\":[1]}", GCMSG_EREMOTE, "entities[0] is not an object");
	expect_listing_error("{\"entities\":[{\"id\":\"a\"}],\"pageCount\":20000}", GCMSG_EREMOTE,
	                     "announces 20000 pages, more than the limit of 10000");
	/* a server that answers page 1 whatever is asked */
	expect_listing_error("{\"entities\":[{\"id\":\"a\"}],\"pageCount\":3}", GCMSG_EREMOTE,
	                     "(page 2) repeats entities of earlier pages only (the server repeated a page)");
	expect_listing_error("{\"entities\":[{\"id\":\"a\"}],\"nextUri\":\"/next\"}", GCMSG_EREMOTE,
	                     "(page 2) repeats entities of earlier pages only");
	expect_listing_error("{\"entities\":[{\"id\":\"a\"}],\"pageNumber\":1,\"pageCount\":3}", GCMSG_EREMOTE,
	                     "(page 2) says it is page 1");
	assert_int_equal(ss_log_count(), 2);
}

static long paged_calls;

/* no pageCount: the next page exists while nextUri does; then an empty page ends it too */
static void next_uri_handler(const ss_req *rq, ss_answer *an)
{
	long page = param(rq->target, "pageNumber");

	paged_calls++;
	if (page < 3)
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"x%ld\"}],\"nextUri\":\"/api/v2/x?pageNumber=%ld\"}", page, page + 1);
	else if (page == 3)
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"x3\"}],\"nextUri\":null}");
	else
		ss_reply(an, 500, "{}");
}

static void empty_page_handler(const ss_req *rq, ss_answer *an)
{
	long page = param(rq->target, "pageNumber");

	paged_calls++;
	/* announces 5 pages, but the 2nd is empty: the listing ends there */
	if (page == 1)
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"a\"}],\"pageNumber\":1,\"pageCount\":5}");
	else
		ss_reply(an, 200, "{\"entities\":[],\"pageNumber\":%ld,\"pageCount\":5}", page);
}

static void paging_stops_where_it_should(void **state)
{
	gcmsg_response_set *set;

	(void)state;
	ss_set_handler(next_uri_handler);
	paged_calls = 0;
	assert_int_equal(gcmsg_libraries_list(&set, client, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_library_count(set), 3);
	assert_int_equal(paged_calls, 3);
	gcmsg_response_set_free(set);
	ss_set_handler(empty_page_handler);
	paged_calls = 0;
	assert_int_equal(gcmsg_libraries_list(&set, client, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_library_count(set), 1);
	assert_int_equal(paged_calls, 2);
	gcmsg_response_set_free(set);
}

static void too_large_handler(const ss_req *rq, ss_answer *an)
{
	if (strstr(rq->target, "/libraries?")) {
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"L1\",\"name\":\"One\"}],\"pageCount\":1}");
		return;
	}
	if (strstr(rq->body, "\"pageSize\":500")) {
		ss_reply(an, 400, "{\"code\":\"response.entity.too.large\",\"message\":\"Reduce pageSize\",\"status\":400}");
		return;
	}
	ss_reply(an, 200, "{\"results\":{\"entities\":[{\"id\":\"q1\",\"name\":\"Q\",\"libraries\":[{\"id\":\"L1\"}]}],"
	                  "\"pageNumber\":1,\"pageCount\":1}}");
}

static void too_large_pages_start_again_smaller(void **state)
{
	gcmsg_response_set *set;

	(void)state;
	ss_set_handler(too_large_handler);
	assert_int_equal(gcmsg_responses_search(&set, client, NULL, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 1);
	assert_int_equal(ss_log_count(), 3);
	assert_string_equal(ss_log_at(1)->body, "{\"pageSize\":500,\"pageNumber\":1}");
	assert_string_equal(ss_log_at(2)->body, "{\"pageSize\":100,\"pageNumber\":1}");
	/* the set knows the hit's library, name and version from the listing */
	assert_int_equal(gcmsg_response_set_library_count(set), 1);
	assert_string_equal(gcmsg_response_library_name(gcmsg_response_set_get(set, 0)), "One");
	gcmsg_response_set_free(set);
}

static void server_errors_keep_their_detail(void **state)
{
	gcmsg_response_set *set;
	const gcmsg_error *e;

	(void)state;
	ss_set_handler(script_handler);
	script_status = 403;
	script_body = "{\"code\":\"missing.any.permissions\",\"message\":\"You must have at least one of the following "
	              "permissions assigned: responses:library:view\",\"status\":403,"
	              "\"messageParams\":{\"perms\":\"responses:library:view\"},\"contextId\":\"corr-1\"}";
	assert_int_equal(gcmsg_libraries_list(&set, client, NULL), GCMSG_EPERM);
	e = gcmsg_client_last_error(client);
	assert_int_equal(e->http_status, 403);
	assert_string_equal(e->genesys_code, "missing.any.permissions");
	assert_int_equal(e->param_count, 1);
	assert_string_equal(e->param_values[0], "responses:library:view");
	assert_string_equal(e->correlation_id, "corr-1");
	script_status = 200;
}

/* ---- search and lookup ---- */

static void query_handler(const ss_req *rq, ss_answer *an)
{
	long page;
	const char *pn;

	if (strstr(rq->target, "/libraries?")) {
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"L1\",\"name\":\"Care\",\"version\":3},{\"id\":\"L2\",\"name\":\"Sales\"}],"
		                  "\"pageNumber\":1,\"pageCount\":1}");
		return;
	}
	if (strcmp(rq->method, "POST") == 0) {
		pn = strstr(rq->body, "\"pageNumber\":");
		page = pn ? strtol(pn + 13, NULL, 10) : 0;
		if (strstr(rq->body, "\"values\":[\"Greeting\"]")) {
			/* the server's match is looser (case); two exact hits in two libraries unless filtered */
			int l1_only = strstr(rq->body, "\"L1\"") != NULL;
			ss_reply(an, 200, "{\"results\":{\"entities\":["
			                  "{\"id\":\"g-lower\",\"name\":\"greeting\",\"libraries\":[{\"id\":\"L1\",\"name\":\"Care\"}]},"
			                  "{\"id\":\"g1\",\"name\":\"Greeting\",\"libraries\":[{\"id\":\"L1\",\"name\":\"Care\"}]}%s],"
			                  "\"pageNumber\":1,\"pageCount\":1}}",
			                  l1_only ? "" : ",{\"id\":\"g2\",\"name\":\"Greeting\",\"libraries\":[{\"id\":\"L2\",\"name\":\"Sales\"}]}");
			return;
		}
		if (strstr(rq->body, "\"values\":[\"Twice\"]")) {
			ss_reply(an, 200, "{\"results\":{\"entities\":["
			                  "{\"id\":\"t1\",\"name\":\"Twice\",\"libraries\":[{\"id\":\"L1\"}]},"
			                  "{\"id\":\"t2\",\"name\":\"Twice\",\"libraries\":[{\"id\":\"L1\"}]}],\"pageCount\":1}}");
			return;
		}
		if (strstr(rq->body, "\"values\":[\"Solo\"]") ||
		    strstr(rq->body, "\"values\":[\"00000000-0000-0000-0000-000000000404\"]")) {
			ss_reply(an, 200, "{\"results\":{\"entities\":[{\"id\":\"solo\",\"name\":\"%s\",\"libraries\":[{\"id\":\"L2\"}]}],"
			                  "\"pageCount\":1}}",
			                  strstr(rq->body, "Solo") ? "Solo" : "00000000-0000-0000-0000-000000000404");
			return;
		}
		if (strstr(rq->body, "{\"name\":\"name\"")) {
			ss_reply(an, 200, "{\"results\":{\"entities\":[],\"pageNumber\":1,\"pageCount\":0}}");
			return;
		}
		/* a phrase search: 2 pages of 1 */
		ss_reply(an, 200, "{\"results\":{\"entities\":[{\"id\":\"p%ld\",\"name\":\"P\",\"libraries\":[{\"id\":\"L%ld\"}]}],"
		                  "\"pageNumber\":%ld,\"pageCount\":2}}",
		         page, page, page);
		return;
	}
	if (strncmp(rq->target, "/api/v2/responsemanagement/responses/", 37) == 0) {
		char id[128] = "";
		sscanf(rq->target + 37, "%127[^?]", id);
		if (strcmp(id, "00000000-0000-0000-0000-000000000404") == 0 || strcmp(id, "missing") == 0) {
			ss_reply(an, 404, "{\"code\":\"not.found\",\"message\":\"The requested response was not found\",\"status\":404}");
			return;
		}
		if (strcmp(id, "bad") == 0) {
			ss_reply(an, 200, "{\"id\":\"bad\",\"texts\":[{\"contentType\":\"text/plain\"}]}");
			return;
		}
		if (strcmp(id, "array") == 0) {
			ss_reply(an, 200, "[1]");
			return;
		}
		ss_reply(an, 200, "{\"id\":\"%s\",\"name\":\"Full %s\",\"version\":7,\"libraries\":[{\"id\":\"L2\"},{\"id\":\"L1\",\"name\":\"Care\"}],"
		                  "\"texts\":[{\"content\":\"Hi {{A}}\",\"contentType\":\"text/html\",\"type\":\"body\"}],"
		                  "\"substitutions\":[{\"id\":\"A\",\"description\":\"a\",\"defaultValue\":\"\"}],"
		                  "\"responseType\":\"MessagingTemplate\",\"messagingTemplate\":{\"whatsApp\":{\"name\":\"t\",\"language\":\"en_US\"}},"
		                  "\"substitutionsSchema\":{\"type\":\"object\"}}",
		         id, id);
		return;
	}
	ss_reply(an, 404, "{}");
}

static void search_bodies_and_pages(void **state)
{
	gcmsg_response_set *set;

	(void)state;
	ss_set_handler(query_handler);
	assert_int_equal(gcmsg_responses_search(&set, client, "refund \"quoted\"", "Care"), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_string_equal(ss_log_at(1)->method, "POST");
	assert_string_equal(ss_log_at(1)->target, "/api/v2/responsemanagement/responses/query");
	assert_string_equal(ss_log_at(1)->body, "{\"queryPhrase\":\"refund \\\"quoted\\\"\",\"pageSize\":500,\"pageNumber\":1,"
	                                    "\"filters\":[{\"name\":\"libraryId\",\"operator\":\"EQUALS\",\"values\":[\"L1\"]}]}");
	assert_string_equal(ss_log_at(2)->body, "{\"queryPhrase\":\"refund \\\"quoted\\\"\",\"pageSize\":500,\"pageNumber\":2,"
	                                    "\"filters\":[{\"name\":\"libraryId\",\"operator\":\"EQUALS\",\"values\":[\"L1\"]}]}");
	assert_int_equal(gcmsg_response_set_count(set), 2);
	assert_int_equal(gcmsg_response_set_library_count(set), 1);
	assert_int_equal(gcmsg_response_set_library_version(set, 0), 3);
	gcmsg_response_set_free(set);

	ss_clear_log();
	assert_int_equal(gcmsg_responses_search(&set, client, "", NULL), GCMSG_OK);
	assert_string_equal(ss_log_at(1)->body, "{\"pageSize\":500,\"pageNumber\":1}");
	/* every library of the hits, with names */
	assert_int_equal(gcmsg_response_set_library_count(set), 2);
	assert_string_equal(gcmsg_response_library_name(gcmsg_response_set_get(set, 1)), "Sales");
	gcmsg_response_set_free(set);
}

static void lookup_by_id_and_by_name(void **state)
{
	gcmsg_response *r = NULL;
	const gcmsg_error *e;

	(void)state;
	ss_set_handler(query_handler);
	/* an id: one GET, complete */
	assert_int_equal(gcmsg_response_lookup(&r, client, "0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 1);
	assert_string_equal(ss_log_at(0)->target,
	                    "/api/v2/responsemanagement/responses/0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b?expand=substitutionsSchema");
	assert_string_equal(gcmsg_response_name(r), "Full 0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
	assert_int_equal(gcmsg_response_version(r), 7);
	assert_true(gcmsg_response_is_template(r));
	assert_string_equal(gcmsg_response_template_language(r), "en_US");
	assert_string_equal(gcmsg_response_substitution_default(r, 0), "");
	gcmsg_response_free(r);
	/* an id in another library than asked */
	assert_int_equal(gcmsg_response_lookup(&r, client, "0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "Nope"),
	                 GCMSG_ENOTFOUND);
	assert_null(r);
	expect_explanation("is not in library 'Nope'");
	assert_int_equal(gcmsg_response_lookup(&r, client, "0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "Care"), GCMSG_OK);
	gcmsg_response_free(r);

	/* by name: the query with a name filter, exact matches only, then the GET */
	ss_clear_log();
	assert_int_equal(gcmsg_response_lookup(&r, client, "Greeting", "Care"), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_string_equal(ss_log_at(1)->body, "{\"pageSize\":500,\"pageNumber\":1,\"filters\":["
	                                    "{\"name\":\"name\",\"operator\":\"EQUALS\",\"values\":[\"Greeting\"]},"
	                                    "{\"name\":\"libraryId\",\"operator\":\"EQUALS\",\"values\":[\"L1\"]}]}");
	assert_string_equal(ss_log_at(2)->target, "/api/v2/responsemanagement/responses/g1?expand=substitutionsSchema");
	assert_string_equal(gcmsg_response_id(r), "g1");
	/* library names kept: the GET's L2 reference had none, filled from the listing */
	assert_string_equal(gcmsg_response_library_name_at(r, 0), "Sales");
	assert_string_equal(gcmsg_response_library_name_at(r, 1), "Care");
	gcmsg_response_free(r);

	/* the name in two libraries */
	ss_clear_log();
	assert_int_equal(gcmsg_response_lookup(&r, client, "Greeting", NULL), GCMSG_EUSAGE);
	e = gcmsg_client_last_error(client);
	assert_string_equal(e->explanation, "response name 'Greeting' matches 2 responses: g1 in library 'Care' (L1), "
	                                    "g2 in library 'Sales' (L2)");
	assert_string_equal(e->fix, "choose the library with --library (its name or id), or give the response id");
	assert_int_equal(ss_log_count(), 1); /* no listing needed without a library */
	assert_string_equal(ss_log_at(0)->body, "{\"pageSize\":500,\"pageNumber\":1,\"filters\":["
	                                    "{\"name\":\"name\",\"operator\":\"EQUALS\",\"values\":[\"Greeting\"]}]}");
	/* twice in one library */
	assert_int_equal(gcmsg_response_lookup(&r, client, "Twice", NULL), GCMSG_EUSAGE);
	assert_string_equal(gcmsg_client_last_error(client)->fix, "the name repeats within one library: give the response id");
	/* not there */
	assert_int_equal(gcmsg_response_lookup(&r, client, "greeting!", NULL), GCMSG_ENOTFOUND);
	assert_string_equal(explanation(), "no response named 'greeting!'");
	assert_int_equal(gcmsg_response_lookup(&r, client, "Nothing", "Sales"), GCMSG_ENOTFOUND);
	assert_string_equal(explanation(), "no response named 'Nothing' in library 'Sales'");
	/* an id that is not one falls back to the name */
	ss_clear_log();
	assert_int_equal(gcmsg_response_lookup(&r, client, "00000000-0000-0000-0000-000000000404", NULL), GCMSG_OK);
	assert_string_equal(gcmsg_response_id(r), "solo");
	assert_int_equal(ss_log_count(), 3);
	gcmsg_response_free(r);
	assert_int_equal(gcmsg_response_lookup(&r, client, "00000000-0000-0000-0000-0000000004aa", NULL), GCMSG_OK);
	gcmsg_response_free(r);
	assert_int_equal(gcmsg_response_lookup(&r, client, "", NULL), GCMSG_EUSAGE);
}

static void get_refuses_malformed_responses(void **state)
{
	gcmsg_response *r = (gcmsg_response *)1;

	(void)state;
	ss_set_handler(query_handler);
	assert_int_equal(gcmsg_response_get(&r, client, "bad"), GCMSG_EREMOTE);
	assert_null(r);
	assert_string_equal(explanation(), "the answer to GET /api/v2/responsemanagement/responses/bad?expand=substitutionsSchema: "
	                                   "response bad: texts[0] has no content");
	assert_int_equal(gcmsg_response_get(&r, client, "array"), GCMSG_EREMOTE);
	expect_explanation("is not a JSON object");
	assert_int_equal(gcmsg_response_get(&r, client, "missing"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_client_last_error(client)->http_status, 404);
	/* path segments escaped */
	ss_clear_log();
	assert_int_equal(gcmsg_response_get(&r, client, "a b/c?d"), GCMSG_OK);
	assert_string_equal(ss_log_at(0)->target, "/api/v2/responsemanagement/responses/a%20b%2Fc%3Fd?expand=substitutionsSchema");
	gcmsg_response_free(r);
	assert_true(gcmsg__looks_like_id("0B9E1F3A-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
	assert_false(gcmsg__looks_like_id("0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5"));
	assert_false(gcmsg__looks_like_id("0b9e1f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5bb"));
	assert_false(gcmsg__looks_like_id("0b9e1f3a_1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
	assert_false(gcmsg__looks_like_id("Greeting"));
}

static void bad_entity_handler(const ss_req *rq, ss_answer *an)
{
	if (strstr(rq->target, "/libraries?"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"L1\",\"name\":\"One\"}],\"pageCount\":1}");
	else
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"ok\"},{\"id\":\"x\",\"texts\":[{}]}],\"pageCount\":1}");
}

static void malformed_entities_and_bad_input(void **state)
{
	gcmsg_response_set *set = (gcmsg_response_set *)1;
	gcmsg_response *r;

	(void)state;
	ss_set_handler(bad_entity_handler);
	assert_int_equal(gcmsg_responses_list(&set, client, "One"), GCMSG_EREMOTE);
	assert_null(set);
	assert_string_equal(explanation(), "the answer to GET /api/v2/responsemanagement/responses?libraryId=L1 (page 1): "
	                                   "entities[1]: response x: texts[0] has no content");
	ss_clear_log();
	assert_int_equal(gcmsg_response_lookup(&r, client, "bad \xff name", NULL), GCMSG_EUSAGE);
	assert_string_equal(explanation(), "the response name is not valid UTF-8");
	assert_int_equal(gcmsg_responses_search(&set, client, "\xc3", NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_libraries_list(&set, client, "\xc3"), GCMSG_EUSAGE);
	assert_int_equal(ss_log_count(), 0);
	assert_int_equal(gcmsg_libraries_list(NULL, client, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_response_get(&r, client, ""), GCMSG_EUSAGE);
}

/* ---- sync end to end ---- */

static char *slurp(const char *path)
{
	gcmsg_buf b = GCMSG_BUF_INIT(1 << 24);

	if (gcmsg__read_file(path, &b) < 0)
		return NULL;
	return b.ptr ? gcmsg__buf_detach(&b) : strdup("");
}

static void sync_writes_compares_and_deletes(void **state)
{
	gcmsg_sync_options o = GCMSG_SYNC_OPTIONS_INIT;
	gcmsg_sync_report *rep;
	gcmsg_response_set *set;
	char path[512], *before_text, *after_text;
	struct stat st;

	(void)state;
	ss_set_handler(rm_handler);
	nlibs = 3;
	resp_per_lib[0] = 3;
	resp_per_lib[1] = 250;
	resp_per_lib[2] = 0;
	o.store_dir = store;

	/* a dry run writes nothing */
	o.dry_run = 1;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	assert_int_equal(gcmsg_sync_report_library_count(rep), 3);
	assert_int_equal(gcmsg_sync_report_added(rep, 1), 250);
	assert_true(gcmsg_sync_report_written(rep, 1));
	gcmsg_sync_report_free(rep);
	snprintf(path, sizeof(path), "%s/responses", store);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_ENOTFOUND);
	assert_string_equal(gcmsg_response_set_last_error(set)->fix, "run gcmsg responses sync");
	gcmsg_response_set_free(set);

	/* the first sync: everything added, 0700 directories, one file per library */
	o.dry_run = 0;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	assert_int_equal(gcmsg_sync_report_library_count(rep), 3);
	assert_string_equal(gcmsg_sync_report_library_id(rep, 0), "L0");
	assert_string_equal(gcmsg_sync_report_library_name(rep, 0), "Library 0");
	snprintf(path, sizeof(path), "%s/responses/L0.toml", store);
	assert_string_equal(gcmsg_sync_report_path(rep, 0), path);
	assert_int_equal(gcmsg_sync_report_added(rep, 0), 3);
	assert_int_equal(gcmsg_sync_report_added(rep, 2), 0);
	assert_true(gcmsg_sync_report_written(rep, 2));
	assert_false(gcmsg_sync_report_deleted(rep, 2));
	gcmsg_sync_report_free(rep);
	snprintf(path, sizeof(path), "%s/responses", store);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/responses/L0.toml", store);
	before_text = slurp(path);
	assert_non_null(before_text);
	{
		char want[256];
		snprintf(want, sizeof(want), "# Synced by gcmsg responses sync from http://127.0.0.1:%d \xe2\x80\x94 do not edit: "
		                             "the next sync replaces it.\nformat = 1\n\n[library]\nname = \"Library 0\"\nid = \"L0\"\n"
		                             "version = 10\n\n[responses.r0-0]\nname = \"Name 0\"\n", ss_port());
		assert_memory_equal(before_text, want, strlen(want));
	}

	/* the store reads back: 253 responses, sorted files, origin store */
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 253);
	assert_int_equal(gcmsg_response_set_library_count(set), 3);
	assert_string_equal(gcmsg_response_set_library_id(set, 1), "L1");
	assert_int_equal(gcmsg_response_origin_of(gcmsg_response_set_get(set, 0)), GCMSG_RESPONSE_STORE);
	assert_string_equal(gcmsg_response_path(gcmsg_response_set_get(set, 0)), path);
	gcmsg_response_set_free(set);

	/* again: nothing changed, nothing written (the file keeps its inode) */
	stat(path, &st);
	{
		ino_t ino = st.st_ino;
		assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
		assert_int_equal(gcmsg_sync_report_unchanged(rep, 1), 250);
		assert_int_equal(gcmsg_sync_report_added(rep, 1), 0);
		assert_false(gcmsg_sync_report_written(rep, 0));
		assert_false(gcmsg_sync_report_written(rep, 1));
		gcmsg_sync_report_free(rep);
		stat(path, &st);
		assert_int_equal(st.st_ino, ino);
	}

	/* library 0 loses a response and library 2 disappears: one library synced by name */
	resp_per_lib[0] = 2;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	gcmsg_sync_report_free(rep);
	resp_per_lib[0] = 3;
	nlibs = 2;
	o.library = "Library 0";
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	assert_int_equal(gcmsg_sync_report_library_count(rep), 1); /* one library: nothing deleted */
	assert_int_equal(gcmsg_sync_report_added(rep, 0), 1);
	assert_int_equal(gcmsg_sync_report_unchanged(rep, 0), 2);
	assert_true(gcmsg_sync_report_written(rep, 0));
	gcmsg_sync_report_free(rep);
	after_text = slurp(path);
	assert_string_equal(before_text, after_text);
	free(after_text);
	free(before_text);

	/* every library: L2's file is deleted and reported */
	o.library = NULL;
	o.dry_run = 1;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	assert_int_equal(gcmsg_sync_report_library_count(rep), 3);
	assert_string_equal(gcmsg_sync_report_library_id(rep, 2), "L2");
	assert_string_equal(gcmsg_sync_report_library_name(rep, 2), "Library 2");
	assert_true(gcmsg_sync_report_deleted(rep, 2));
	assert_true(gcmsg_sync_report_written(rep, 2));
	assert_int_equal(gcmsg_sync_report_removed(rep, 2), 0);
	gcmsg_sync_report_free(rep);
	snprintf(path, sizeof(path), "%s/responses/L2.toml", store);
	assert_int_equal(stat(path, &st), 0); /* dry run */
	o.dry_run = 0;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_OK);
	assert_true(gcmsg_sync_report_deleted(rep, 2));
	gcmsg_sync_report_free(rep);
	assert_int_equal(stat(path, &st), -1);
	nlibs = 3;

	/* bad options */
	o.version = 99;
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_EUSAGE);
	assert_null(rep);
	o.version = GCMSG_SYNC_OPTIONS_VERSION;
	o.store_dir = "";
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_EUSAGE);
	o.store_dir = store;
	o.library = "Nope";
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_ENOTFOUND);
	assert_string_equal(explanation(), "no library 'Nope'");
}

static void bad_id_handler(const ss_req *rq, ss_answer *an)
{
	if (strstr(rq->target, "/libraries?"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"../../etc\",\"name\":\"Evil\"}],\"pageCount\":1}");
	else
		ss_reply(an, 200, "{\"entities\":[],\"pageCount\":0}");
}

static void failed_fetch_handler(const ss_req *rq, ss_answer *an)
{
	if (strstr(rq->target, "/libraries?"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"A\",\"name\":\"A\"},{\"id\":\"B\",\"name\":\"B\"}],\"pageCount\":1}");
	else if (strstr(rq->target, "libraryId=A"))
		ss_reply(an, 200, "{\"entities\":[{\"id\":\"a1\",\"name\":\"a\"}],\"pageCount\":1}");
	else
		ss_reply(an, 503, "{\"code\":\"service.unavailable\",\"message\":\"try later\",\"status\":503}");
}

static void sync_refuses_and_fails_safely(void **state)
{
	gcmsg_sync_options o = GCMSG_SYNC_OPTIONS_INIT;
	gcmsg_sync_report *rep = NULL;
	char dir[512], path[600];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/other", store);
	o.store_dir = dir;
	ss_set_handler(bad_id_handler);
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_EREMOTE);
	assert_string_equal(explanation(), "library 'Evil' has the id '../../etc', which cannot be a file name in the store");
	/* a failure while fetching writes nothing, not even library A */
	ss_set_handler(failed_fetch_handler);
	assert_int_equal(gcmsg_responses_sync(&rep, client, &o), GCMSG_EREMOTE);
	assert_int_equal(gcmsg_client_last_error(client)->http_status, 503);
	snprintf(path, sizeof(path), "%s/responses/A.toml", dir);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(dir, &st), -1);
}

/* credentials in the API URL never reach the store's files */
static void store_comment_drops_userinfo(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_sync_options so = GCMSG_SYNC_OPTIONS_INIT;
	gcmsg_client *c;
	gcmsg_sync_report *rep;
	char url[128], dir[400], path[500], want[200], *text;

	(void)state;
	ss_set_handler(rm_handler);
	nlibs = 1;
	resp_per_lib[0] = 1;
	snprintf(url, sizeof(url), "http://user:s3cret@127.0.0.1:%d/", ss_port());
	o.access_token = "test-token";
	o.api_url = url;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	snprintf(dir, sizeof(dir), "%s/userinfo", store);
	so.store_dir = dir;
	assert_int_equal(gcmsg_responses_sync(&rep, c, &so), GCMSG_OK);
	gcmsg_sync_report_free(rep);
	snprintf(path, sizeof(path), "%s/responses/L0.toml", dir);
	text = slurp(path);
	assert_non_null(text);
	assert_null(strstr(text, "s3cret"));
	snprintf(want, sizeof(want), "# Synced by gcmsg responses sync from http://127.0.0.1:%d \xe2\x80\x94", ss_port());
	assert_memory_equal(text, want, strlen(want));
	free(text);
	gcmsg_client_free(c);
	nlibs = 3;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(libraries_every_page, before),
		cmocka_unit_test_setup(responses_of_one_library_every_page, before),
		cmocka_unit_test_setup(responses_of_every_library, before),
		cmocka_unit_test_setup(unknown_and_ambiguous_libraries, before),
		cmocka_unit_test_setup(same_name_libraries_and_shared_responses, before),
		cmocka_unit_test_setup(guards_and_malformed_answers, before),
		cmocka_unit_test_setup(paging_stops_where_it_should, before),
		cmocka_unit_test_setup(too_large_pages_start_again_smaller, before),
		cmocka_unit_test_setup(server_errors_keep_their_detail, before),
		cmocka_unit_test_setup(search_bodies_and_pages, before),
		cmocka_unit_test_setup(lookup_by_id_and_by_name, before),
		cmocka_unit_test_setup(get_refuses_malformed_responses, before),
		cmocka_unit_test_setup(malformed_entities_and_bad_input, before),
		cmocka_unit_test_setup(sync_writes_compares_and_deletes, before),
		cmocka_unit_test_setup(sync_refuses_and_fails_safely, before),
		cmocka_unit_test_setup(store_comment_drops_userinfo, before),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
