/*
 * transport.c - many senders' requests on one libcurl multi handle.
 *
 * libcurl handles must not be used from two threads at once, and a pool of
 * easy handles spread over threads would give each its own connections. So a
 * bulk run has one thread that owns a multi handle (the engineering notes'
 * design): a sender thread prepares its easy handle as for a blocking request
 * (http.c), hands it over here and sleeps until the transfer has ended. The
 * multi handle keeps one connection pool for all of them: keep-alive over
 * HTTP/1.1, and HTTP/2 multiplexing (CURLPIPE_MULTIPLEX, with PIPEWAIT set by
 * http.c) where the server offers it.
 *
 * An easy handle belongs to the multi thread from gcmsg__transport_perform's
 * hand-over until the job is marked done (under the mutex, so everything the
 * callbacks wrote is visible to the sender afterwards).
 */
#include <stdlib.h>

#include "transport.h"

typedef struct job {
	CURL *h;
	CURLcode rc;
	int done;
	pthread_cond_t cv;
	struct job *next;
} job;

struct gcmsg__transport {
	pthread_mutex_t mu;
	pthread_t thread;
	CURLM *multi;
	job *head, *tail; /* handed over, not yet added to the multi handle */
	int stop;
	int started;
};

static void finish(gcmsg__transport *t, job *j, CURLcode rc)
{
	pthread_mutex_lock(&t->mu);
	j->rc = rc;
	j->done = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&t->mu);
}

static void *run(void *arg)
{
	gcmsg__transport *t = arg;
	size_t active = 0;

	for (;;) {
		job *list, *j, *next;
		CURLMsg *msg;
		int running = 0, left, stop;

		pthread_mutex_lock(&t->mu);
		list = t->head;
		t->head = t->tail = NULL;
		stop = t->stop;
		pthread_mutex_unlock(&t->mu);
		for (j = list; j; j = next) {
			next = j->next;
			curl_easy_setopt(j->h, CURLOPT_PRIVATE, (void *)j);
			if (curl_multi_add_handle(t->multi, j->h) != CURLM_OK)
				finish(t, j, CURLE_FAILED_INIT); /* never started: provably unsent */
			else
				active++;
		}
		if (stop && active == 0)
			break;
		curl_multi_perform(t->multi, &running);
		while ((msg = curl_multi_info_read(t->multi, &left))) {
			CURL *h = msg->easy_handle;
			CURLcode rc = msg->data.result;
			char *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
			curl_multi_remove_handle(t->multi, h);
			active--;
			finish(t, (job *)(void *)priv, rc);
		}
		curl_multi_poll(t->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

int gcmsg__transport_new(gcmsg__transport **out, unsigned max_connections)
{
	gcmsg__transport *t;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return GCMSG_ERROR;
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		free(t);
		return GCMSG_ERROR;
	}
	if (!(t->multi = curl_multi_init())) {
		gcmsg__transport_free(t);
		return GCMSG_ERROR;
	}
	curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	/* keep every sender's connection alive between its requests */
	curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)max_connections + 4);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		gcmsg__transport_free(t);
		return GCMSG_ERROR;
	}
	t->started = 1;
	*out = t;
	return GCMSG_OK;
}

void gcmsg__transport_free(gcmsg__transport *t)
{
	if (!t)
		return;
	if (t->started) {
		pthread_mutex_lock(&t->mu);
		t->stop = 1;
		pthread_mutex_unlock(&t->mu);
		curl_multi_wakeup(t->multi);
		pthread_join(t->thread, NULL);
	}
	if (t->multi)
		curl_multi_cleanup(t->multi);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

CURLcode gcmsg__transport_perform(gcmsg__transport *t, CURL *h)
{
	job j;

	j.h = h;
	j.rc = CURLE_OK;
	j.done = 0;
	j.next = NULL;
	if (pthread_cond_init(&j.cv, NULL) != 0)
		return CURLE_FAILED_INIT; /* never started: provably unsent */
	pthread_mutex_lock(&t->mu);
	if (t->tail)
		t->tail->next = &j;
	else
		t->head = &j;
	t->tail = &j;
	pthread_mutex_unlock(&t->mu);
	curl_multi_wakeup(t->multi);
	pthread_mutex_lock(&t->mu);
	while (!j.done)
		pthread_cond_wait(&j.cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
	pthread_cond_destroy(&j.cv);
	return j.rc;
}
