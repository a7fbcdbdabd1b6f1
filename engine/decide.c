/*
 * decide.c - one CORS decision against a compiled snapshot.
 *
 * Layer: engine, the hot path.  DESIGN.md section 3 is the contract.
 * Every request string is untrusted: read only within its length, bounded
 * before any work proportional to it, never echoed unless it was proven
 * to be a serialised origin, a method token or a header-name token.  No
 * heap allocation, no locale-dependent calls, no strlen.
 */
#include <stdbool.h>
#include <string.h>

#include "ascii_int.h"
#include "policy_int.h"
#include "snapshot_int.h"

static const char ACAPN_NAME[] = "Access-Control-Allow-Private-Network";

#define SMALL_TABLE 8

static const struct snap_key *
table_find(const struct corsd_snapshot *s, const struct snap_table *t,
	   const char *k, size_t len)
{
	const struct snap_key *e;
	uint32_t slot;

	if (len > t->max_len)
		return NULL;
	/* A few keys (policy names, methods, header names usually) are
	 * found sooner by comparing lengths than by hashing the key. */
	if (t->n <= SMALL_TABLE) {
		e = snap_at(s, t->keys_off);
		for (uint32_t i = 0; i < t->n; i++, e++)
			if (e->len == len &&
			    memcmp(snap_at(s, e->off), k, len) == 0)
				return e;
		return NULL;
	}
	slot = corsd_phash_lookup(snap_at(s, t->ph_off), k, len);
	e = (const struct snap_key *)snap_at(s, t->keys_off) + slot;
	if (e->len != len || memcmp(snap_at(s, e->off), k, len) != 0)
		return NULL;
	return e;
}

/* Printable ASCII only, bounded: the subject ends up in logs and JSON. */
static void
set_subject(struct corsd_answer *ans, const char *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101u, highs = ones << 7;
	size_t i = 0;

	if (len > CORSD_ANSWER_SUBJECT_MAX)
		len = CORSD_ANSWER_SUBJECT_MAX;
	/* Usually all printable (a denied origin parsed as one): copy, and
	 * check eight bytes at a time for one below 0x20 or above 0x7e;
	 * from the first word that has one on, byte by byte. */
	memcpy(ans->subject, p, len);
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if ((((w - 0x20 * ones) & ~w) | (w + ones) | w) & highs)
			break;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		ans->subject[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	ans->subject_len = (uint16_t)len;
}

static void
apply_tmpl(struct corsd_answer *ans, const struct snap_tmpl *t)
{
	ans->nheaders = t->nheaders;
	ans->block_len = t->block_len;
	memcpy(ans->headers, t->headers,
	       t->nheaders * sizeof(struct corsd_header_ref));
	memcpy(ans->block, t->block, t->block_len);
}

static const struct snap_tmpl *
tmpl(const struct corsd_snapshot *s, const struct snap_policy *p,
     enum snap_tmpl_id id)
{
	return snap_at(s, p->tmpl_off[id]);
}

/* Append @len bytes to the block as the value of header @idx.  Bounded by
 * construction (templates, origin, method and ACRH limits add up to less
 * than the block), checked all the same. */
static bool
set_value(struct corsd_answer *ans, unsigned idx, const char *v, size_t len)
{
	size_t off = ans->block_len;

	if (off + len > CORSD_ANSWER_BLOCK_MAX)
		return false;
	memcpy(ans->block + off, v, len);
	ans->headers[idx].value_off = (uint16_t)off;
	ans->headers[idx].value_len = (uint16_t)len;
	ans->block_len = (uint16_t)(off + len);
	return true;
}

static void
drop_header(struct corsd_answer *ans, unsigned idx)
{
	memmove(&ans->headers[idx], &ans->headers[idx + 1],
		(ans->nheaders - idx - 1u) * sizeof(ans->headers[0]));
	ans->nheaders--;
}

enum match {
	MATCH_MALFORMED = -2,
	MATCH_NONE = -1,
	/* >= 0: an enum snap_class */
};

static bool
suffix_rule_ok(const struct corsd_snapshot *s, const struct snap_key *e,
	       const struct snap_policy *p, const struct corsd_origin_view *v)
{
	const struct snap_suffix_rule *r =
		(const struct snap_suffix_rule *)snap_at(s,
							 p->suffix_rules_off) +
		e->a;

	for (uint32_t i = 0; i < e->b; i++, r++) {
		if (r->scheme_len != v->scheme.len ||
		    memcmp(snap_at(s, r->scheme_off), v->scheme.p,
			   v->scheme.len) != 0)
			continue;
		if (r->port == CORSD_PORT_ANY)
			return true;
		if (r->port == CORSD_PORT_DEFAULT) {
			if (v->port.len == 0)
				return true;
			continue;
		}
		if (v->port.len) {
			/* The parser accepted at most 5 digits. */
			int32_t port = 0;

			for (size_t j = 0; j < v->port.len; j++)
				port = port * 10 + (v->port.p[j] - '0');
			if (port == r->port)
				return true;
		}
	}
	return false;
}

static int
match_origin(const struct corsd_snapshot *s, const struct snap_policy *p,
	     struct corsd_str o)
{
	struct corsd_origin_view v;

	if (o.len == 0 || o.len > CORSD_ORIGIN_MAX)
		return MATCH_MALFORMED;
	/* Configured exact origins are canonical, so a byte-exact hit is
	 * already a valid serialised origin: no need to parse first. */
	if (table_find(s, &p->exact, o.p, o.len))
		return SNAP_MATCHED;
	if (corsd_ascii_eq(o.p, o.len, "null"))
		return p->flags & SNAP_F_ORIGIN_NULL ? SNAP_MATCHED
						     : MATCH_NONE;
	if (!corsd_origin_parse_serialized(o, &v))
		return MATCH_MALFORMED;
	if (table_find(s, &p->anyport, v.no_port.p, v.no_port.len))
		return SNAP_MATCHED;
	if (p->suffix.n && v.host.len > p->suffix_min_len &&
	    v.host.p[0] != '[') {
		/* Only suffixes as long as some configured one can match:
		 * look for dots in that window of the host alone, longest
		 * suffix first.  The apex never matches (i >= 1). */
		size_t len = v.host.len;
		size_t i =
			len > p->suffix.max_len ? len - p->suffix.max_len : 1;

		for (; i <= len - p->suffix_min_len; i++) {
			const struct snap_key *e;

			if (v.host.p[i] != '.')
				continue;
			e = table_find(s, &p->suffix, v.host.p + i, len - i);
			if (e && suffix_rule_ok(s, e, p, &v))
				return SNAP_MATCHED;
		}
	}
	for (uint32_t i = 0; i < p->nregex; i++)
		if (corsd_regex_match(s->regexes[p->regex_first + i], o.p,
				      o.len))
			return SNAP_MATCHED;
	if (p->flags & SNAP_F_ORIGIN_ANY)
		return SNAP_PUBLIC;
	return MATCH_NONE;
}

static void
reject_actual(const struct corsd_snapshot *s, const struct snap_policy *p,
	      struct corsd_answer *ans, enum corsd_reason reason)
{
	apply_tmpl(ans, tmpl(s, p, SNAP_T_VARY_ORIGIN));
	ans->reason = reason;
	if (p->on_origin_reject == CORSD_ORIGIN_REJECT_DENY) {
		ans->verdict = CORSD_VERDICT_DENY;
		ans->status = 403;
	} else {
		ans->verdict = CORSD_VERDICT_PASS;
		ans->status = 0;
	}
}

static void
reject_preflight(const struct corsd_snapshot *s, const struct snap_policy *p,
		 struct corsd_answer *ans, enum corsd_reason reason)
{
	apply_tmpl(ans, tmpl(s, p, SNAP_T_VARY_PREFLIGHT));
	ans->reason = reason;
	switch (p->on_preflight_reject) {
	case CORSD_PREFLIGHT_REJECT_PASS:
		ans->verdict = CORSD_VERDICT_PASS;
		ans->status = 0;
		break;
	case CORSD_PREFLIGHT_REJECT_EMPTY:
		ans->verdict = CORSD_VERDICT_EMPTY;
		ans->status = 200;
		break;
	default:
		ans->verdict = CORSD_VERDICT_DENY;
		ans->status =
			reason == CORSD_REASON_METHOD_NOT_ALLOWED ||
					reason == CORSD_REASON_METHOD_MALFORMED
				? 405
				: 403;
		break;
	}
}

static bool
method_allowed(const struct corsd_snapshot *s, const struct snap_policy *p,
	       struct corsd_str m)
{
	/* CORS-safelisted methods need no listing (Fetch, "CORS-safelisted
	 * method"); the comparison is byte-exact as browsers send them. */
	if (corsd_ascii_eq(m.p, m.len, "GET") ||
	    corsd_ascii_eq(m.p, m.len, "HEAD") ||
	    corsd_ascii_eq(m.p, m.len, "POST"))
		return true;
	if (p->flags & SNAP_F_METHODS_ANY)
		return true;
	return table_find(s, &p->methods, m.p, m.len) != NULL;
}

/*
 * Check every name of Access-Control-Request-Headers.  When @reflect is
 * set, also append the lowercased names, ", "-separated, to the block as
 * the value of header @idx.  Bounded: the length is checked before the
 * first byte is read, at most CORSD_ACRH_NAMES_MAX names are looked at,
 * and no element is stored anywhere but the answer's own block.
 */
static enum corsd_reason
check_headers(const struct corsd_snapshot *s, const struct snap_policy *p,
	      struct corsd_str h, struct corsd_answer *ans, bool reflect,
	      unsigned idx)
{
	char lower[CORSD_ACRH_MAX];
	size_t i = 0, names = 0, out = ans->block_len;
	/* i only moves forward and every step is bounded by h.len. */

	if (h.len > CORSD_ACRH_MAX)
		return CORSD_REASON_HEADERS_TOO_LONG;
	for (;;) {
		size_t start, len;
		bool listed;
		uint8_t c;

		/* Empty elements and the OWS around commas, in one run. */
		while (i < h.len &&
		       (h.p[i] == ',' || h.p[i] == ' ' || h.p[i] == '\t'))
			i++;
		if (i == h.len)
			break;
		start = i;
		while (i < h.len &&
		       (c = corsd_tchar_lower[(unsigned char)h.p[i]])) {
			lower[i] = (char)c;
			i++;
		}
		len = i - start;
		while (i < h.len && (h.p[i] == ' ' || h.p[i] == '\t'))
			i++;
		if (len == 0 || (i < h.len && h.p[i] != ','))
			return CORSD_REASON_HEADERS_MALFORMED;
		if (++names > CORSD_ACRH_NAMES_MAX)
			return CORSD_REASON_HEADERS_TOO_MANY;
		listed = table_find(s, &p->headers, lower + start, len) != NULL;
		/* A wildcard never covers Authorization (Fetch: "CORS
		 * non-wildcard request-header name"); it must be listed. */
		if (!listed &&
		    (!(p->flags & SNAP_F_HEADERS_ANY) ||
		     (len == 13 &&
		      memcmp(lower + start, "authorization", 13) == 0))) {
			set_subject(ans, lower + start, len);
			return CORSD_REASON_HEADER_NOT_ALLOWED;
		}
		if (reflect) {
			if (out + len + 2 > CORSD_ANSWER_BLOCK_MAX)
				return CORSD_REASON_HEADERS_TOO_LONG;
			if (out > ans->block_len) {
				ans->block[out++] = ',';
				ans->block[out++] = ' ';
			}
			memcpy(ans->block + out, lower + start, len);
			out += len;
		}
	}
	if (reflect) {
		ans->headers[idx].value_off = ans->block_len;
		ans->headers[idx].value_len = (uint16_t)(out - ans->block_len);
		ans->block_len = (uint16_t)out;
	}
	return CORSD_REASON_ALLOWED;
}

static const struct snap_policy *
find_policy(const struct corsd_snapshot *s, struct corsd_str name)
{
	const struct snap_key *e;

	if (!name.p)
		return NULL;
	e = table_find(s, &s->names, name.p, name.len);
	if (!e)
		return NULL;
	return (const struct snap_policy *)snap_at(s, s->policies_off) + e->a;
}

static void
decide_preflight(const struct corsd_snapshot *s, const struct snap_policy *p,
		 const struct corsd_request *req, struct corsd_answer *ans,
		 int cls)
{
	const struct snap_tmpl *t;
	enum corsd_reason r;
	bool pna = corsd_ascii_eq(req->acrpn.p, req->acrpn.len, "true");

	ans->flags |= CORSD_ANSWER_PREFLIGHT;
	if (cls < 0) {
		if (cls == MATCH_NONE)
			set_subject(ans, req->origin.p, req->origin.len);
		reject_preflight(s, p, ans,
				 cls == MATCH_NONE
					 ? CORSD_REASON_ORIGIN_NOT_ALLOWED
					 : CORSD_REASON_ORIGIN_MALFORMED);
		return;
	}
	if (req->acrm.len > CORSD_METHOD_MAX ||
	    !corsd_ascii_is_token(req->acrm.p, req->acrm.len)) {
		reject_preflight(s, p, ans, CORSD_REASON_METHOD_MALFORMED);
		return;
	}
	if (!method_allowed(s, p, req->acrm)) {
		set_subject(ans, req->acrm.p, req->acrm.len);
		reject_preflight(s, p, ans, CORSD_REASON_METHOD_NOT_ALLOWED);
		return;
	}

	t = tmpl(s, p,
		 cls == SNAP_MATCHED ? SNAP_T_PREFLIGHT_MATCHED
				     : SNAP_T_PREFLIGHT_PUBLIC);
	apply_tmpl(ans, t);
	if (t->dyn_origin != SNAP_DYN_NONE)
		set_value(ans, t->dyn_origin, req->origin.p, req->origin.len);
	if (t->dyn_acrm != SNAP_DYN_NONE)
		set_value(ans, t->dyn_acrm, req->acrm.p, req->acrm.len);
	r = check_headers(s, p, req->acrh, ans, t->dyn_acrh != SNAP_DYN_NONE,
			  t->dyn_acrh);
	if (r != CORSD_REASON_ALLOWED) {
		reject_preflight(s, p, ans, r);
		return;
	}
	if (pna && !(p->flags & SNAP_F_PRIVATE_NETWORK)) {
		reject_preflight(s, p, ans,
				 CORSD_REASON_PRIVATE_NETWORK_NOT_ALLOWED);
		return;
	}
	/* Reflecting an absent or empty list would send an empty header. */
	if (t->dyn_acrh != SNAP_DYN_NONE &&
	    ans->headers[t->dyn_acrh].value_len == 0)
		drop_header(ans, t->dyn_acrh);
	if (pna && ans->nheaders < CORSD_ANSWER_HEADERS_MAX) {
		unsigned i = ans->nheaders++;

		ans->headers[i].name_off = ans->block_len;
		ans->headers[i].name_len = sizeof(ACAPN_NAME) - 1;
		memcpy(ans->block + ans->block_len, ACAPN_NAME,
		       sizeof(ACAPN_NAME) - 1);
		ans->block_len += sizeof(ACAPN_NAME) - 1;
		set_value(ans, i, "true", 4);
	}
	ans->verdict = CORSD_VERDICT_ALLOW;
	ans->status = p->preflight_status;
	ans->reason = CORSD_REASON_ALLOWED;
}

int
corsd_decide(const struct corsd_snapshot *s, const struct corsd_request *req,
	     struct corsd_answer *ans)
{
	const struct snap_policy *p;
	const struct snap_tmpl *t;
	int cls;

	if (!snap_valid(s) || !req || !ans)
		return -CORSD_EINVAL;
	ans->flags = 0;
	ans->status = 0;
	ans->nheaders = 0;
	ans->block_len = 0;
	ans->subject_len = 0;
	ans->max_age = CORSD_MAX_AGE_NONE;

	p = find_policy(s, req->policy);
	if (!p) {
		ans->verdict = CORSD_VERDICT_NO_POLICY;
		ans->reason = CORSD_REASON_UNKNOWN_POLICY;
		if (req->policy.p)
			set_subject(ans, req->policy.p, req->policy.len);
		return 0;
	}
	ans->max_age = p->max_age;

	if (!req->origin.p) {
		apply_tmpl(ans, tmpl(s, p, SNAP_T_VARY_ORIGIN));
		ans->verdict = CORSD_VERDICT_NOT_CORS;
		ans->reason = CORSD_REASON_NOT_CORS;
		return 0;
	}

	cls = match_origin(s, p, req->origin);
	if (corsd_request_is_preflight(req)) {
		decide_preflight(s, p, req, ans, cls);
		return 0;
	}
	if (cls < 0) {
		if (cls == MATCH_NONE)
			set_subject(ans, req->origin.p, req->origin.len);
		reject_actual(s, p, ans,
			      cls == MATCH_NONE
				      ? CORSD_REASON_ORIGIN_NOT_ALLOWED
				      : CORSD_REASON_ORIGIN_MALFORMED);
		return 0;
	}
	t = tmpl(s, p,
		 cls == SNAP_MATCHED ? SNAP_T_ACTUAL_MATCHED
				     : SNAP_T_ACTUAL_PUBLIC);
	apply_tmpl(ans, t);
	if (t->dyn_origin != SNAP_DYN_NONE)
		set_value(ans, t->dyn_origin, req->origin.p, req->origin.len);
	ans->verdict = CORSD_VERDICT_ALLOW;
	ans->reason = CORSD_REASON_ALLOWED;
	return 0;
}
