/*
 * compile.c - policy set -> one immutable snapshot arena.
 *
 * Layer: engine.  Everything decide() needs is computed here once: the
 * perfect-hashed tables (exact origins, subdomain suffixes, host:* origins,
 * methods, header names, policy names) and the pre-rendered header
 * templates, so that decide() mostly selects and copies bytes.  The arena
 * grows by realloc while it is built, so everything in it is addressed by
 * offset and no pointer into it is kept across an allocation.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii_int.h"
#include "policy_int.h"
#include "snapshot_int.h"

static const char *const hdr_names[CORSD_HDR__COUNT] = {
#define CORSD_HDR(name, text) [CORSD_HDR_##name] = text,
#include "corsd/tbl_headers.h"
#undef CORSD_HDR
};

struct arena {
	char *p;
	size_t len;
	size_t cap;
};

/* Return: the offset of @size fresh zeroed bytes, or 0 (the header's own
 * offset, never handed out) when memory or the 32-bit offsets run out. */
static uint32_t
arena_alloc(struct arena *a, size_t size, size_t align)
{
	size_t off = (a->len + align - 1) & ~(align - 1);
	size_t end = off + size;

	if (end > UINT32_MAX)
		return 0;
	if (end > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		char *p;

		while (cap < end)
			cap *= 2;
		p = realloc(a->p, cap);
		if (!p)
			return 0;
		a->p = p;
		a->cap = cap;
	}
	memset(a->p + a->len, 0, end - a->len);
	a->len = end;
	return (uint32_t)off;
}

static uint32_t
arena_str(struct arena *a, const char *s, size_t len)
{
	uint32_t off = arena_alloc(a, len + 1, 1);

	if (off)
		memcpy(a->p + off, s, len);
	return off;
}

/*
 * Build a perfect-hashed table of @n keys into the arena; key i carries
 * payload (pa[i], pb[i]) when those are given.
 */
static int
table_build(struct arena *a, struct snap_table *t, const struct corsd_str *keys,
	    const uint32_t *pa, const uint32_t *pb, size_t n)
{
	struct corsd_phash_result res;
	struct snap_key *slots;
	int rc;

	memset(t, 0, sizeof(*t));
	if (n > UINT32_MAX / 2)
		return -CORSD_ETOOBIG;
	rc = corsd_phash_build(keys, n, &res);
	if (rc)
		return rc;
	t->n = (uint32_t)n;
	t->ph_off = arena_alloc(a, corsd_phash_bytes(&res), 8);
	if (!t->ph_off)
		goto nomem;
	corsd_phash_write(&res, a->p + t->ph_off);
	t->keys_off = arena_alloc(a, n * sizeof(struct snap_key), 8);
	if (n && !t->keys_off)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		uint32_t off = arena_str(a, keys[i].p, keys[i].len);

		if (!off)
			goto nomem;
		slots = (struct snap_key *)(a->p + t->keys_off);
		slots[res.pos[i]].off = off;
		slots[res.pos[i]].len = (uint32_t)keys[i].len;
		slots[res.pos[i]].a = pa ? pa[i] : 0;
		slots[res.pos[i]].b = pb ? pb[i] : 0;
		if (keys[i].len > t->max_len)
			t->max_len = (uint32_t)keys[i].len;
	}
	corsd_phash_result_release(&res);
	return 0;
nomem:
	corsd_phash_result_release(&res);
	return -CORSD_ENOMEM;
}

/* ---- header templates ------------------------------------------------- */

struct tmpl_builder {
	struct snap_tmpl t;
	char block[CORSD_ANSWER_BLOCK_MAX];
	int err;
};

static void
tb_init(struct tmpl_builder *b)
{
	memset(&b->t, 0, sizeof(b->t));
	b->t.dyn_origin = SNAP_DYN_NONE;
	b->t.dyn_acrm = SNAP_DYN_NONE;
	b->t.dyn_acrh = SNAP_DYN_NONE;
	b->err = 0;
}

static size_t
tb_put(struct tmpl_builder *b, const char *s, size_t len)
{
	size_t off = b->t.block_len;

	if (off + len > sizeof(b->block)) {
		b->err = -CORSD_ETOOBIG;
		return off;
	}
	memcpy(b->block + off, s, len);
	b->t.block_len = (uint16_t)(off + len);
	return off;
}

/* Add a header; a NULL value is filled in by decide(). Return its index. */
static unsigned
tb_add(struct tmpl_builder *b, enum corsd_hdr h, const char *value)
{
	unsigned i = b->t.nheaders;
	struct corsd_header_ref *r = &b->t.headers[i];
	size_t vlen = value ? strlen(value) : 0;

	if (i == CORSD_ANSWER_HEADERS_MAX) {
		b->err = -CORSD_ETOOBIG;
		return 0;
	}
	r->name_len = (uint16_t)strlen(hdr_names[h]);
	r->name_off = (uint16_t)tb_put(b, hdr_names[h], r->name_len);
	r->value_len = (uint16_t)vlen;
	r->value_off = (uint16_t)tb_put(b, value ? value : "", vlen);
	b->t.nheaders++;
	return i;
}

/* Render a configured list as "A, B, C", with "*" first when wildcard. */
static int
render_list(const struct corsd_name_list *l, bool wildcard, char *out,
	    size_t size)
{
	size_t len = 0;
	int n;

	out[0] = '\0';
	if (wildcard) {
		n = snprintf(out, size, "*");
		len = (size_t)n;
	}
	for (size_t i = 0; i < l->n; i++) {
		n = snprintf(out + len, size - len, "%s%.*s", len ? ", " : "",
			     (int)l->len[i], l->v[i]);
		if (n < 0 || (size_t)n >= size - len)
			return -CORSD_ETOOBIG;
		len += (size_t)n;
	}
	return 0;
}

/* Whether every answer of the policy has the constant ACAO '*'. */
static bool
acao_is_constant_star(const struct corsd_policy *p)
{
	return p->origin_any && p->norigins == 0 && !p->origin_null;
}

static void
render_actual(struct tmpl_builder *b, const struct corsd_policy *p,
	      enum snap_class cls, char *list, size_t size)
{
	bool cred = p->credentials && cls == SNAP_MATCHED;

	if (cls == SNAP_MATCHED)
		b->t.dyn_origin = (uint8_t)tb_add(b, CORSD_HDR_ACAO, NULL);
	else
		tb_add(b, CORSD_HDR_ACAO, "*");
	if (cred)
		tb_add(b, CORSD_HDR_ACAC, "true");
	/* The loader refuses '*' expose_headers with credentials; in the
	 * public class of a mixed policy there are no credentials, so '*'
	 * keeps its wildcard meaning there. */
	if (p->expose_headers.n || p->expose_headers.wildcard) {
		if (render_list(&p->expose_headers, p->expose_headers.wildcard,
				list, size))
			b->err = -CORSD_ETOOBIG;
		tb_add(b, CORSD_HDR_ACEH, list);
	}
	if (!acao_is_constant_star(p))
		tb_add(b, CORSD_HDR_VARY, hdr_names[CORSD_HDR_ORIGIN]);
}

static const char *
vary_preflight(const struct corsd_policy *p)
{
	/* Malformed or refused values are denied under every policy, so a
	 * preflight answer always depends on all three request headers. */
	return p->private_network ? "Origin, Access-Control-Request-Method, "
				    "Access-Control-Request-Headers, "
				    "Access-Control-Request-Private-Network"
				  : "Origin, Access-Control-Request-Method, "
				    "Access-Control-Request-Headers";
}

static void
render_preflight(struct tmpl_builder *b, const struct corsd_policy *p,
		 enum snap_class cls, char *list, size_t size)
{
	bool cred = p->credentials && cls == SNAP_MATCHED;
	char num[24];

	if (cls == SNAP_MATCHED)
		b->t.dyn_origin = (uint8_t)tb_add(b, CORSD_HDR_ACAO, NULL);
	else
		tb_add(b, CORSD_HDR_ACAO, "*");
	if (cred)
		tb_add(b, CORSD_HDR_ACAC, "true");

	/* With credentials a browser reads '*' as a literal name, so the
	 * wildcard is answered by reflecting the request instead. */
	if (p->methods.wildcard && cred) {
		b->t.dyn_acrm = (uint8_t)tb_add(b, CORSD_HDR_ACAM, NULL);
	} else if (p->methods.wildcard) {
		tb_add(b, CORSD_HDR_ACAM, "*");
	} else if (p->methods.n) {
		if (render_list(&p->methods, false, list, size))
			b->err = -CORSD_ETOOBIG;
		tb_add(b, CORSD_HDR_ACAM, list);
	}

	if (p->allow_headers.wildcard && cred) {
		b->t.dyn_acrh = (uint8_t)tb_add(b, CORSD_HDR_ACAH, NULL);
	} else if (p->allow_headers.wildcard || p->allow_headers.n) {
		/* "*, Authorization": the wildcard never covers
		 * Authorization, so a listed one is named beside it. */
		if (render_list(&p->allow_headers, p->allow_headers.wildcard,
				list, size))
			b->err = -CORSD_ETOOBIG;
		tb_add(b, CORSD_HDR_ACAH, list);
	}

	if (p->max_age != CORSD_MAX_AGE_UNSET) {
		snprintf(num, sizeof(num), "%lld", (long long)p->max_age);
		tb_add(b, CORSD_HDR_ACMA, num);
	}
	tb_add(b, CORSD_HDR_VARY, vary_preflight(p));
}

static int
emit_tmpl(struct arena *a, struct tmpl_builder *b, uint32_t *off)
{
	if (b->err)
		return b->err;
	*off = arena_alloc(a, sizeof(b->t) + b->t.block_len, 8);
	if (!*off)
		return -CORSD_ENOMEM;
	memcpy(a->p + *off, &b->t, sizeof(b->t));
	memcpy(a->p + *off + sizeof(b->t), b->block, b->t.block_len);
	return 0;
}

static int
compile_templates(struct arena *a, const struct corsd_policy *p,
		  struct snap_policy *sp)
{
	struct tmpl_builder *b = malloc(sizeof(*b));
	char *list = malloc(CORSD_LIST_RENDER_MAX * 2 + 16);
	size_t size = CORSD_LIST_RENDER_MAX * 2 + 16;
	int rc = -CORSD_ENOMEM;

	if (!b || !list)
		goto out;
	for (int id = 0; id < SNAP_T__COUNT; id++) {
		tb_init(b);
		switch (id) {
		case SNAP_T_ACTUAL_MATCHED:
			render_actual(b, p, SNAP_MATCHED, list, size);
			break;
		case SNAP_T_ACTUAL_PUBLIC:
			render_actual(b, p, SNAP_PUBLIC, list, size);
			break;
		case SNAP_T_PREFLIGHT_MATCHED:
			render_preflight(b, p, SNAP_MATCHED, list, size);
			break;
		case SNAP_T_PREFLIGHT_PUBLIC:
			render_preflight(b, p, SNAP_PUBLIC, list, size);
			break;
		case SNAP_T_VARY_ORIGIN:
			tb_add(b, CORSD_HDR_VARY, hdr_names[CORSD_HDR_ORIGIN]);
			break;
		case SNAP_T_VARY_PREFLIGHT:
			tb_add(b, CORSD_HDR_VARY, vary_preflight(p));
			break;
		}
		rc = emit_tmpl(a, b, &sp->tmpl_off[id]);
		if (rc)
			goto out;
	}
	rc = 0;
out:
	free(list);
	free(b);
	return rc;
}

/* ---- origin, method and header tables ---------------------------------- */

struct suffix_sort {
	const struct corsd_origin_pattern *pat;
};

static int
cmp_suffix(const void *x, const void *y)
{
	const struct corsd_origin_pattern *a =
		((const struct suffix_sort *)x)->pat;
	const struct corsd_origin_pattern *b =
		((const struct suffix_sort *)y)->pat;
	size_t n = a->text_len < b->text_len ? a->text_len : b->text_len;
	int c = memcmp(a->text, b->text, n);

	if (c)
		return c;
	return (a->text_len > b->text_len) - (a->text_len < b->text_len);
}

static int
compile_suffixes(struct arena *a, const struct corsd_policy *p,
		 struct snap_policy *sp, size_t nsuffix)
{
	struct suffix_sort *v = calloc(nsuffix ? nsuffix : 1, sizeof(*v));
	struct corsd_str *keys = calloc(nsuffix ? nsuffix : 1, sizeof(*keys));
	uint32_t *first = calloc(nsuffix ? nsuffix : 1, sizeof(*first));
	uint32_t *count = calloc(nsuffix ? nsuffix : 1, sizeof(*count));
	size_t n = 0, nkeys = 0;
	int rc = -CORSD_ENOMEM;

	if (!v || !keys || !first || !count)
		goto out;
	for (size_t i = 0; i < p->norigins; i++)
		if (p->origins[i].kind == CORSD_ORIGIN_SUBDOMAIN)
			v[n++].pat = &p->origins[i];
	qsort(v, n, sizeof(*v), cmp_suffix);

	sp->suffix_rules_off = arena_alloc(
		a, (n ? n : 1) * sizeof(struct snap_suffix_rule), 8);
	if (!sp->suffix_rules_off)
		goto out;
	sp->suffix_min_len = UINT32_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct corsd_origin_pattern *pat = v[i].pat;
		uint32_t soff = arena_str(a, pat->scheme, pat->scheme_len);
		struct snap_suffix_rule *r;

		if (!soff)
			goto out;
		r = (struct snap_suffix_rule *)(a->p + sp->suffix_rules_off) +
		    i;
		r->scheme_off = soff;
		r->scheme_len = (uint32_t)pat->scheme_len;
		r->port = pat->port;
		if (nkeys && keys[nkeys - 1].len == pat->text_len &&
		    memcmp(keys[nkeys - 1].p, pat->text, pat->text_len) == 0) {
			count[nkeys - 1]++;
			continue;
		}
		keys[nkeys].p = pat->text;
		keys[nkeys].len = pat->text_len;
		first[nkeys] = (uint32_t)i;
		count[nkeys] = 1;
		nkeys++;
		if (pat->text_len < sp->suffix_min_len)
			sp->suffix_min_len = (uint32_t)pat->text_len;
	}
	rc = table_build(a, &sp->suffix, keys, first, count, nkeys);
out:
	free(v);
	free(keys);
	free(first);
	free(count);
	return rc;
}

static int
compile_origins(struct arena *a, const struct corsd_policy *p,
		struct snap_policy *sp, struct corsd_regex **regexes,
		uint32_t *nregexes)
{
	size_t nexact = 0, nanyport = 0, nsuffix = 0;
	struct corsd_str *exact, *anyport;
	int rc = -CORSD_ENOMEM;

	for (size_t i = 0; i < p->norigins; i++) {
		switch (p->origins[i].kind) {
		case CORSD_ORIGIN_EXACT:
			nexact++;
			break;
		case CORSD_ORIGIN_ANYPORT:
			nanyport++;
			break;
		case CORSD_ORIGIN_SUBDOMAIN:
			nsuffix++;
			break;
		default:
			break;
		}
	}
	exact = calloc(nexact ? nexact : 1, sizeof(*exact));
	anyport = calloc(nanyport ? nanyport : 1, sizeof(*anyport));
	if (!exact || !anyport)
		goto out;
	nexact = nanyport = 0;
	sp->regex_first = *nregexes;
	for (size_t i = 0; i < p->norigins; i++) {
		const struct corsd_origin_pattern *o = &p->origins[i];
		struct corsd_str s = {o->text, o->text_len};
		enum corsd_rule rule;
		char msg[CORSD_DIAG_MESSAGE_MAX];

		switch (o->kind) {
		case CORSD_ORIGIN_EXACT:
			exact[nexact++] = s;
			break;
		case CORSD_ORIGIN_ANYPORT:
			anyport[nanyport++] = s;
			break;
		case CORSD_ORIGIN_REGEX:
			regexes[*nregexes] = corsd_regex_new(
				o->text, o->text_len, &rule, msg, sizeof(msg));
			if (!regexes[*nregexes]) {
				rc = -CORSD_EREGEX;
				goto out;
			}
			(*nregexes)++;
			sp->nregex++;
			break;
		default:
			break;
		}
	}
	rc = table_build(a, &sp->exact, exact, NULL, NULL, nexact);
	if (!rc)
		rc = table_build(a, &sp->anyport, anyport, NULL, NULL,
				 nanyport);
	if (!rc)
		rc = compile_suffixes(a, p, sp, nsuffix);
out:
	free(exact);
	free(anyport);
	return rc;
}

/* Methods byte-exact; header names lower case (they match
 * case-insensitively, and decide() lowercases the request's names). */
static int
compile_names(struct arena *a, const struct corsd_name_list *l,
	      struct snap_table *t, bool lower)
{
	struct corsd_str *keys = calloc(l->n ? l->n : 1, sizeof(*keys));
	char *buf = NULL;
	size_t total = 0, at = 0;
	int rc = -CORSD_ENOMEM;

	if (!keys)
		return rc;
	for (size_t i = 0; i < l->n; i++)
		total += l->len[i];
	buf = malloc(total ? total : 1);
	if (!buf)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		if (lower)
			corsd_ascii_lower_copy(buf + at, l->v[i], l->len[i]);
		else
			memcpy(buf + at, l->v[i], l->len[i]);
		keys[i].p = buf + at;
		keys[i].len = l->len[i];
		at += l->len[i];
	}
	rc = table_build(a, t, keys, NULL, NULL, l->n);
out:
	free(buf);
	free(keys);
	return rc;
}

static int
compile_policy(struct arena *a, const struct corsd_policy *p, uint32_t off,
	       struct corsd_regex **regexes, uint32_t *nregexes)
{
	struct snap_policy sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.name_off = arena_str(a, p->name, p->name_len);
	if (!sp.name_off)
		return -CORSD_ENOMEM;
	sp.name_len = (uint32_t)p->name_len;
	sp.flags = (p->credentials ? SNAP_F_CREDENTIALS : 0) |
		   (p->private_network ? SNAP_F_PRIVATE_NETWORK : 0) |
		   (p->origin_any ? SNAP_F_ORIGIN_ANY : 0) |
		   (p->origin_null ? SNAP_F_ORIGIN_NULL : 0) |
		   (p->methods.wildcard ? SNAP_F_METHODS_ANY : 0) |
		   (p->allow_headers.wildcard ? SNAP_F_HEADERS_ANY : 0);
	sp.max_age = p->max_age == CORSD_MAX_AGE_UNSET ? CORSD_MAX_AGE_NONE
						       : (uint32_t)p->max_age;
	sp.preflight_status = p->preflight_status;
	sp.on_preflight_reject = (uint8_t)p->on_preflight_reject;
	sp.on_origin_reject = (uint8_t)p->on_origin_reject;

	rc = compile_origins(a, p, &sp, regexes, nregexes);
	if (!rc)
		rc = compile_names(a, &p->methods, &sp.methods, false);
	if (!rc)
		rc = compile_names(a, &p->allow_headers, &sp.headers, true);
	if (!rc)
		rc = compile_templates(a, p, &sp);
	if (!rc)
		memcpy(a->p + off, &sp, sizeof(sp));
	return rc;
}

struct corsd_snapshot *
corsd_snapshot_compile(const struct corsd_policy_set *set, uint64_t generation,
		       int *err)
{
	struct arena a = {0};
	struct corsd_snapshot *s;
	struct snap_table names_table;
	struct corsd_regex **regexes = NULL;
	struct corsd_str *names = NULL;
	uint32_t *idx = NULL;
	uint32_t nregexes = 0, policies_off, hdr_off;
	size_t nre = 0;
	int rc = -CORSD_ENOMEM;

	if (!set || set->n == 0 || set->n > UINT32_MAX) {
		rc = -CORSD_EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->v[i].norigins; j++)
			nre += set->v[i].origins[j].kind == CORSD_ORIGIN_REGEX;
	regexes = calloc(nre ? nre : 1, sizeof(*regexes));
	names = calloc(set->n, sizeof(*names));
	idx = calloc(set->n, sizeof(*idx));
	if (!regexes || !names || !idx)
		goto fail;

	hdr_off = arena_alloc(&a, sizeof(*s), 8);
	policies_off = arena_alloc(&a, set->n * sizeof(struct snap_policy), 8);
	if (hdr_off != 0 || !policies_off)
		goto fail;
	for (size_t i = 0; i < set->n; i++) {
		rc = compile_policy(
			&a, &set->v[i],
			policies_off +
				(uint32_t)(i * sizeof(struct snap_policy)),
			regexes, &nregexes);
		if (rc)
			goto fail;
		names[i].p = set->v[i].name;
		names[i].len = set->v[i].name_len;
		idx[i] = (uint32_t)i;
	}
	/* Built into a local: table_build() may move the arena. */
	rc = table_build(&a, &names_table, names, idx, NULL, set->n);
	if (rc)
		goto fail;

	s = realloc(a.p, a.len);
	if (!s)
		s = (struct corsd_snapshot *)a.p;
	s->magic = CORSD_SNAPSHOT_MAGIC;
	s->generation = generation;
	s->size = a.len;
	s->npolicies = (uint32_t)set->n;
	s->policies_off = policies_off;
	s->names = names_table;
	s->nregexes = nregexes;
	s->regexes = regexes;
	free(names);
	free(idx);
	if (err)
		*err = 0;
	return s;
fail:
	for (uint32_t i = 0; i < nregexes; i++)
		corsd_regex_free(regexes[i]);
	free(regexes);
	free(names);
	free(idx);
	free(a.p);
	if (err)
		*err = rc;
	return NULL;
}

void
corsd_snapshot_free(struct corsd_snapshot *s)
{
	/* Not a live snapshot: freeing what it points to would free
	 * whatever the bytes say; leaking is the lesser harm. */
	if (!snap_valid(s))
		return;
	for (uint32_t i = 0; i < s->nregexes; i++)
		corsd_regex_free(s->regexes[i]);
	free(s->regexes);
	s->magic = 0;
	free(s);
}

uint64_t
corsd_snapshot_generation(const struct corsd_snapshot *s)
{
	return snap_valid(s) ? s->generation : 0;
}

size_t
corsd_snapshot_size(const struct corsd_snapshot *s)
{
	return snap_valid(s) ? (size_t)s->size : 0;
}

size_t
corsd_snapshot_policy_count(const struct corsd_snapshot *s)
{
	return snap_valid(s) ? s->npolicies : 0;
}

struct corsd_str
corsd_snapshot_policy_name(const struct corsd_snapshot *s, size_t i)
{
	struct corsd_str r = {NULL, 0};
	const struct snap_policy *p;

	if (!snap_valid(s) || i >= s->npolicies)
		return r;
	p = (const struct snap_policy *)snap_at(s, s->policies_off) + i;
	r.p = snap_at(s, p->name_off);
	r.len = p->name_len;
	return r;
}
