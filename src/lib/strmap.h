/*
 * strmap.h - a small hash map from byte strings to size_t (private, header
 * only). Keys are copied; they may hold any bytes (length given). Used by the
 * TOML reader (table and key paths) and by response_*.c (ids seen while
 * paging, names in a library file).
 */
#ifndef GCMSG_STRMAP_H
#define GCMSG_STRMAP_H

#include <stdlib.h>
#include <string.h>

typedef struct gcmsg__strmap_slot {
	char *key; /* NULL: empty slot */
	size_t len;
	size_t value;
	size_t hash;
} gcmsg__strmap_slot;

typedef struct gcmsg__strmap {
	gcmsg__strmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
} gcmsg__strmap;

#define GCMSG__STRMAP_INIT { NULL, 0, 0 }

static inline size_t gcmsg__strmap_hash(const char *key, size_t len)
{
	size_t h = (size_t)14695981039346656037ULL, i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

static inline gcmsg__strmap_slot *gcmsg__strmap_slot_of(const gcmsg__strmap *m, const char *key, size_t len,
                                                        size_t hash)
{
	size_t i = hash & (m->cap - 1);

	for (;;) {
		gcmsg__strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static inline int gcmsg__strmap_grow(gcmsg__strmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	gcmsg__strmap old = *m;

	if (ncap > ((size_t)-1) / sizeof(gcmsg__strmap_slot))
		return -1;
	m->slots = calloc(ncap, sizeof(gcmsg__strmap_slot));
	if (!m->slots) {
		*m = old;
		return -1;
	}
	m->cap = ncap;
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*gcmsg__strmap_slot_of(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return 0;
}

/* 1: found (*value set when value is non-NULL), 0: absent. */
static inline int gcmsg__strmap_get(const gcmsg__strmap *m, const char *key, size_t len, size_t *value)
{
	gcmsg__strmap_slot *s;

	if (!m->cap)
		return 0;
	s = gcmsg__strmap_slot_of(m, key, len, gcmsg__strmap_hash(key, len));
	if (!s->key)
		return 0;
	if (value)
		*value = s->value;
	return 1;
}

/* 1: added, 0: already there (its value is left alone), -1: out of memory. */
static inline int gcmsg__strmap_put(gcmsg__strmap *m, const char *key, size_t len, size_t value)
{
	size_t hash = gcmsg__strmap_hash(key, len);
	gcmsg__strmap_slot *s;

	if ((m->count + 1) * 4 > m->cap * 3 && gcmsg__strmap_grow(m) < 0)
		return -1;
	s = gcmsg__strmap_slot_of(m, key, len, hash);
	if (s->key)
		return 0;
	s->key = malloc(len + 1);
	if (!s->key)
		return -1;
	if (len)
		memcpy(s->key, key, len);
	s->key[len] = '\0';
	s->len = len;
	s->value = value;
	s->hash = hash;
	m->count++;
	return 1;
}

/* Replace the value of a key that is there; 0, or -1 when absent. */
static inline int gcmsg__strmap_set(gcmsg__strmap *m, const char *key, size_t len, size_t value)
{
	gcmsg__strmap_slot *s;

	if (!m->cap)
		return -1;
	s = gcmsg__strmap_slot_of(m, key, len, gcmsg__strmap_hash(key, len));
	if (!s->key)
		return -1;
	s->value = value;
	return 0;
}

static inline void gcmsg__strmap_free(gcmsg__strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

#endif
