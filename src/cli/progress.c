/*
 * progress.c - a one-line progress bar on a terminal: done/total, rate, ETA,
 * failures. Redrawn at most every 100 ms (a bulk run finishes items far more
 * often than a terminal needs); lines printed meanwhile go through
 * cli_progress_clear so they never mix with the bar.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define BAR_WIDTH 24
#define REDRAW_MS 100

void cli_progress_start(cli_progress *p, size_t total, int on)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->total = total;
	p->t0 = cli_now_ms();
}

static void draw(cli_progress *p, long long now)
{
	char bar[BAR_WIDTH + 1];
	double secs = (double)(now - p->t0) / 1000.0, rate = secs > 0 ? (double)p->done / secs : 0;
	size_t fill = p->total ? p->done * BAR_WIDTH / p->total : BAR_WIDTH, i;

	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu %3zu%%  %.0f msg/s", bar, p->done, p->total,
	        p->total ? p->done * 100 / p->total : 100, rate);
	if (rate > 0 && p->done < p->total) {
		long long eta = (long long)((double)(p->total - p->done) / rate + 0.5);
		fprintf(stderr, "  ETA %lld:%02lld", eta / 60, eta % 60);
	}
	if (p->failed)
		fprintf(stderr, "  failed %zu", p->failed);
	fputs("\033[K", stderr);
	fflush(stderr);
	p->drawn = 1;
	p->last_ms = now;
}

void cli_progress_update(cli_progress *p, size_t done, size_t failed)
{
	long long now;

	p->done = done;
	p->failed = failed;
	if (!p->on)
		return;
	now = cli_now_ms();
	if (now - p->last_ms >= REDRAW_MS || done == p->total)
		draw(p, now);
}

void cli_progress_clear(cli_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		p->drawn = 0;
		p->last_ms = 0; /* redraw at the next update */
	}
}

void cli_progress_end(cli_progress *p)
{
	if (!p->on)
		return;
	draw(p, cli_now_ms());
	fputc('\n', stderr);
	p->drawn = 0;
}
