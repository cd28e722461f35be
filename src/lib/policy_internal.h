/*
 * policy_internal.h - the content policy's private parts, shared by policy.c
 * (checks and results), policy_file.c (the policy file) and detectors.c (the
 * built-in detectors), and by their unit tests and fuzz targets.
 */
#ifndef GCMSG_POLICY_INTERNAL_H
#define GCMSG_POLICY_INTERNAL_H

#include <stddef.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "internal.h"

/* ---- caps ---- */
#define GCMSG__POLICY_TEXT_CAP ((size_t)16 * 1024 * 1024) /* gcmsg_policy_check_text: EUSAGE beyond */
/* texts beyond this are over every Genesys limit; only the text, length and SMS rules run */
#define GCMSG__POLICY_DEEP_CAP ((size_t)16 * 1024)
#define GCMSG__POLICY_FILE_CAP ((size_t)1024 * 1024)   /* bytes of a policy file */
#define GCMSG__POLICY_MAX_PATTERNS ((size_t)1000)      /* [patterns.*] and [allow.*] each */
#define GCMSG__POLICY_MAX_QUEUES ((size_t)10000)       /* [queues.*] */
#define GCMSG__POLICY_MAX_TYPES ((size_t)1000)         /* attachment types in one list */
#define GCMSG__POLICY_MAX_REGEX ((size_t)64 * 1024)    /* bytes of one regex */
#define GCMSG__POLICY_MAX_PER_RULE ((size_t)100)       /* violations listed per rule */

/* ---- Genesys' limits and our defaults ---- */
#define GCMSG__LIMIT_SMS 765u
#define GCMSG__LIMIT_MESSAGING 2000u
#define GCMSG__LIMIT_CHAT 4000u
#define GCMSG__LIMIT_MAX 4000u /* the highest of them */
#define GCMSG__ATTACH_DEFAULT_MAX ((unsigned long long)10 * 1024 * 1024)
#define GCMSG__ATTACH_HARD_MAX 2147483647ULL /* contentLengthBytes is an int32 */
#define GCMSG__SMS_MAX_SEGMENTS 255L         /* highest max_segments accepted */
#define GCMSG__PCRE_MATCH_LIMIT 1000000UL
#define GCMSG__PCRE_DEPTH_LIMIT 100000UL
#define GCMSG__PCRE_HEAP_LIMIT_KIB 32768UL

/* ---- channels ---- */
typedef enum gcmsg__channel {
	GCMSG__CH_SMS = 0,
	GCMSG__CH_WEBMESSAGING,
	GCMSG__CH_WHATSAPP,
	GCMSG__CH_OPEN,
	GCMSG__CH_FACEBOOK,
	GCMSG__CH_INSTAGRAM,
	GCMSG__CH_APPLE,
	GCMSG__CH_TWITTER,
	GCMSG__CH_CHAT,
	GCMSG__CH_COUNT,
	GCMSG__CH_UNKNOWN = -1
} gcmsg__channel;

extern const char *const gcmsg__channel_names[GCMSG__CH_COUNT];
/* the channel named (case-insensitively), or GCMSG__CH_UNKNOWN (also for NULL) */
gcmsg__channel gcmsg__channel_lookup(const char *name);
/* Genesys' length limit in UTF-16 units (765 for an unknown channel) */
unsigned gcmsg__channel_limit(gcmsg__channel ch);

/* ---- detectors (detectors.c) ---- */
typedef enum gcmsg__detector {
	GCMSG__DET_PAYMENT_CARD = 0,
	GCMSG__DET_IBAN,
	GCMSG__DET_US_SSN,
	GCMSG__DET_EMAIL,
	GCMSG__DET_PHONE,
	GCMSG__DET_CREDENTIAL,
	GCMSG__DET_COUNT
} gcmsg__detector;

/* "payment-card", ... (the rule id is "detector." + the name) */
extern const char *const gcmsg__detector_names[GCMSG__DET_COUNT];
extern const int gcmsg__detector_defaults[GCMSG__DET_COUNT]; /* on (1) or off (0) by default */
/* the detector named, or -1 */
int gcmsg__detector_lookup(const char *name);

/*
 * A finding: bytes [start, end) of the text and a description that never
 * holds the text ("a payment card number (Luhn-valid, 16 digits)"). The
 * callback returns 0 to go on, non-zero to stop the scan (which then returns
 * that value).
 */
typedef int (*gcmsg__finding_cb)(void *ctx, size_t start, size_t end, const char *description);

/*
 * Run one detector over s[0..len) (any bytes; scanners are hand-written and
 * linear, or close to it: no backtracking regex). Findings come in order of
 * their start and do not overlap. Returns 0, the callback's non-zero value,
 * or -1 when out of memory (the callback must not return -1 itself).
 */
int gcmsg__detect(gcmsg__detector d, const char *s, size_t len, gcmsg__finding_cb cb, void *ctx);

/* pure helpers, for the tests */
int gcmsg__luhn_valid(const char *digits, size_t n); /* n ASCII digits */
/* an IBAN without spaces, letters in upper case: the country's length and mod-97 == 1 */
int gcmsg__iban_valid(const char *iban, size_t n);
/* the IBAN length of a country (two upper-case letters), 0 when not in the table */
unsigned gcmsg__iban_length(const char *cc);
/* area 001-899 but 666, group 01-99, serial 0001-9999 */
int gcmsg__ssn_valid(unsigned area, unsigned group, unsigned serial);

/* ---- text statistics (policy.c) ---- */
/* 1: in the GSM 03.38 basic table, 2: in its extension table (two septets), 0: neither */
int gcmsg__gsm7_class(unsigned long cp);

/* ---- the policy (policy_file.c fills it, policy.c uses it) ---- */
typedef struct gcmsg__scope {
	long max_length;            /* -1: not set */
	long max_segments;          /* -1: not set */
	signed char det[GCMSG__DET_COUNT]; /* -1: not set, 0 off, 1 on */
	long long max_bytes;        /* -1: not set */
	int types_set;
	char **types;               /* "type/subtype", or "type/" for a whole type, lower case */
	size_t ntypes;
	signed char *pat;           /* per pattern: -1 not set, 0 off, 1 on (NULL: none set) */
} gcmsg__scope;

typedef struct gcmsg__pattern {
	char *id;        /* [patterns.<id>] */
	char *message;   /* NULL: a default one */
	pcre2_code *code;
	int enabled;     /* the global default */
} gcmsg__pattern;

typedef struct gcmsg__allow {
	char *id;        /* [allow.<id>] */
	pcre2_code *code;
	char **rules;    /* the rule ids it exempts */
	size_t nrules;
} gcmsg__allow;

typedef struct gcmsg__queue_scope {
	char *queue_id;
	gcmsg__scope scope;
} gcmsg__queue_scope;

struct gcmsg_policy {
	gcmsg__err err;
	int failed;                        /* a load failed: every check refuses */
	gcmsg__scope global;
	gcmsg__scope channels[GCMSG__CH_COUNT];
	gcmsg__queue_scope *queues;
	size_t nqueues;
	gcmsg__pattern *patterns;
	size_t npatterns;
	gcmsg__allow *allows;
	size_t nallows;
	unsigned long match_limit, depth_limit, heap_limit_kib;
	int jit;                           /* try JIT compilation */
};

void gcmsg__scope_init(gcmsg__scope *s);
void gcmsg__scope_clear(gcmsg__scope *s);
/* a new policy with the defaults; NULL when out of memory */
gcmsg_policy *gcmsg__policy_alloc(void);
/*
 * Parse a policy file held in memory into p (fresh from gcmsg__policy_alloc).
 * GCMSG_OK, or GCMSG_ECONFIG with "name: line N: what" in p->err
 * (GCMSG_ERROR when out of memory).
 */
int gcmsg__policy_parse(gcmsg_policy *p, const char *text, size_t len, const char *name);
/*
 * Compile a pattern as the policy does (UTF, invalid UTF never matched, no \C;
 * JIT tried when `jit`). NULL with PCRE2's message and the byte offset in err.
 */
pcre2_code *gcmsg__policy_compile(const char *regex, int caseless, int jit, char *err, size_t errlen);

#endif
