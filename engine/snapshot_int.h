/*
 * snapshot_int.h - the layout of a compiled snapshot.
 *
 * Layer: engine, internal; shared by compile.c (the only writer) and
 * decide.c (the reader).  A snapshot is one arena: this header, then
 * tables and pre-rendered header templates, all reached by 32-bit offsets
 * from the snapshot's own address, never by pointers, so the arena could
 * be copied or mapped anywhere.  The one exception is the side table of
 * compiled regexes, which PCRE2 owns; corsd_snapshot_free() releases both.
 * Immutable once corsd_snapshot_compile() returns.
 */
#ifndef CORSD_SNAPSHOT_INT_H
#define CORSD_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "corsd_engine.h"
#include "origin_int.h"
#include "phash_int.h"

#define CORSD_SNAPSHOT_MAGIC 0x504e534453524f43ull /* "CORSDSNP" */

enum corsd_hdr {
#define CORSD_HDR(name, text) CORSD_HDR_##name,
#include "corsd/tbl_headers.h"
#undef CORSD_HDR
	CORSD_HDR__COUNT
};

/* A key stored at its perfect-hash slot; a and b are per-table payload. */
struct snap_key {
	uint32_t off;
	uint32_t len;
	uint32_t a;
	uint32_t b;
};

/* A perfect-hashed table: phash at ph_off, n snap_keys at keys_off. */
struct snap_table {
	uint32_t ph_off;
	uint32_t keys_off;
	uint32_t n;
	uint32_t max_len; /* longest key: longer inputs cannot match */
};

/* What a subdomain suffix also requires: scheme and port. */
struct snap_suffix_rule {
	uint32_t scheme_off;
	uint32_t scheme_len;
	int32_t port; /* CORSD_PORT_DEFAULT, CORSD_PORT_ANY or 1-65535 */
	uint32_t pad;
};

#define SNAP_DYN_NONE 0xff

/*
 * A pre-rendered answer: header refs and the bytes they point to.  A
 * header whose value depends on the request (the echoed origin, a
 * reflected method or header list) has its name in block and its value
 * appended by decide(); dyn_* give its index, or SNAP_DYN_NONE.
 */
struct snap_tmpl {
	uint16_t nheaders;
	uint16_t block_len;
	uint8_t dyn_origin;
	uint8_t dyn_acrm;
	uint8_t dyn_acrh;
	uint8_t pad;
	struct corsd_header_ref headers[CORSD_ANSWER_HEADERS_MAX];
	char block[];
};

/* Which origin rule let a request in: it picks the template. */
enum snap_class {
	SNAP_MATCHED = 0, /* listed: echoed, credentials if configured */
	SNAP_PUBLIC = 1,  /* only through '*': ACAO '*', never credentials */
};

enum snap_tmpl_id {
	SNAP_T_ACTUAL_MATCHED,
	SNAP_T_ACTUAL_PUBLIC,
	SNAP_T_PREFLIGHT_MATCHED,
	SNAP_T_PREFLIGHT_PUBLIC,
	SNAP_T_VARY_ORIGIN,    /* non-CORS and rejected actual requests */
	SNAP_T_VARY_PREFLIGHT, /* rejected preflights */
	SNAP_T__COUNT
};

#define SNAP_F_CREDENTIALS     0x01u
#define SNAP_F_PRIVATE_NETWORK 0x02u
#define SNAP_F_ORIGIN_ANY      0x04u
#define SNAP_F_ORIGIN_NULL     0x08u
#define SNAP_F_METHODS_ANY     0x10u
#define SNAP_F_HEADERS_ANY     0x20u

struct snap_policy {
	uint32_t name_off;
	uint32_t name_len;
	uint32_t flags;	  /* SNAP_F_* */
	uint32_t max_age; /* CORSD_MAX_AGE_NONE when unset */
	uint16_t preflight_status;
	uint8_t on_preflight_reject; /* enum corsd_preflight_reject */
	uint8_t on_origin_reject;    /* enum corsd_origin_reject */
	uint32_t regex_first;	     /* into corsd_snapshot.regexes */
	uint32_t nregex;
	uint32_t suffix_rules_off; /* struct snap_suffix_rule[] */
	uint32_t suffix_min_len;
	struct snap_table exact;   /* canonical origins */
	struct snap_table anyport; /* "scheme://host" of host:* entries */
	struct snap_table suffix;  /* ".example.org"; a/b: rule first/count */
	struct snap_table methods; /* configured methods, byte-exact */
	struct snap_table headers; /* configured allow_headers, lower case */
	uint32_t tmpl_off[SNAP_T__COUNT];
};

struct corsd_snapshot {
	uint64_t magic;
	uint64_t generation;
	uint64_t size; /* bytes of the arena, this header included */
	uint32_t npolicies;
	uint32_t policies_off;	 /* struct snap_policy[npolicies] */
	struct snap_table names; /* policy names; a = policy index */
	uint32_t nregexes;
	uint32_t pad;
	struct corsd_regex **regexes; /* side table, owned */
};

/*
 * Is @s a snapshot this engine compiled and has not freed?  Checked where
 * a snapshot enters the engine's API (corsd_decide(), corsd_snapshot_free()
 * and the accessors), so a corrupted pointer, or a freed snapshot whose
 * memory still holds what corsd_snapshot_free() left (a zero magic), is
 * refused rather than read.  One load and compare of a line decide() reads
 * anyway: no measurable cost (bench/callgrind.sh).
 */
static inline bool
snap_valid(const struct corsd_snapshot *s)
{
	return s && s->magic == CORSD_SNAPSHOT_MAGIC;
}

static inline const void *
snap_at(const struct corsd_snapshot *s, uint32_t off)
{
	return (const char *)s + off;
}

#endif /* CORSD_SNAPSHOT_INT_H */
