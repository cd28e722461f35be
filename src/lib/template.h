/*
 * template.h - the `{{ID}}` placeholder scanner (private). It only cuts a
 * text into pieces; resolving values and building the result is render.c's
 * job.
 *
 * The grammar (the contract of include/gcmsg/render.h and gcmsg(1)):
 *
 *  - A placeholder is `{{` ID `}}`, ID being one or more ASCII letters,
 *    digits, `_`, `-` or `.`. It ends at the first `}}`, so `{{A}}}` is the
 *    placeholder A followed by a literal `}`.
 *  - A run of three or more `{` opens at its last two: the braces before them
 *    are literal text, so `{{{A}}}` is `{`, the placeholder A, `}`.
 *  - A lone `}}` and single braces are literal text.
 *  - Anything else that starts with `{{` is malformed, with one reason:
 *      "empty {{}}"                                `{{}}`
 *      "whitespace inside {{ }}"                   `{{ A }}`, `{{A\nB}}` (checked before characters)
 *      "character 'x' not allowed in a placeholder id"   `{{A!}}`, `{{é}}`
 *      "'{{' nested inside a placeholder"          `{{A{{B}}}}`: a `{{` before the
 *                                                  first `}}`, and that `}}` is
 *                                                  directly followed by another `}}`;
 *                                                  the piece is everything up to
 *                                                  the second `}}`
 *      "'{{' without a closing '}}'"               no `}}` follows, or another `{{`
 *                                                  comes first (and it is not the
 *                                                  nesting above): the piece is the
 *                                                  `{{` and the ID characters right
 *                                                  after it; scanning resumes there,
 *                                                  so a later `{{B}}` is still found.
 *    A malformed piece never swallows a well-formed placeholder except in the
 *    nesting case.
 */
#ifndef GCMSG_TEMPLATE_H
#define GCMSG_TEMPLATE_H

#include <stddef.h>

typedef enum gcmsg__tpl_kind {
	GCMSG__TPL_TEXT = 0,    /* literal text, copied as is */
	GCMSG__TPL_PLACEHOLDER, /* a well-formed {{ID}} */
	GCMSG__TPL_MALFORMED    /* something starting with {{ that is not one */
} gcmsg__tpl_kind;

typedef struct gcmsg__tpl_piece {
	gcmsg__tpl_kind kind;
	size_t off, len;       /* the piece in the text (for placeholders: braces included) */
	size_t id_off, id_len; /* PLACEHOLDER: the id, without the braces */
	char reason[80];       /* MALFORMED: why, one short phrase; else "" */
} gcmsg__tpl_piece;

/*
 * Cut the next piece of s[0..len) starting at *pos. Returns 1 and advances
 * *pos past the piece, or 0 at the end of the text. Pieces are contiguous
 * and cover the whole text. s need not be NUL-terminated; NUL bytes are
 * ordinary (not allowed in ids) characters.
 */
int gcmsg__tpl_next(const char *s, size_t len, size_t *pos, gcmsg__tpl_piece *piece);

/* Whether c may appear in a placeholder id. */
int gcmsg__tpl_id_char(int c);

/* Whether s[0..len) is a valid placeholder id (non-empty, only id characters). */
int gcmsg__tpl_valid_id(const char *s, size_t len);

/*
 * Decode one UTF-8 character at s[0..len) into *cp. Returns its length (1-4),
 * or 0 when s does not start with a valid, shortest-form character (stray or
 * truncated bytes, overlong forms, surrogates, beyond U+10FFFF). Shared with
 * html_text.c and render.c.
 */
size_t gcmsg__utf8_decode(const char *s, size_t len, unsigned long *cp);

#endif
