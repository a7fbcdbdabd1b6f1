/*
 * json.c - corsctl's JSON (and terminal-safe text) output.
 *
 * Layer: tools/corsctl.  Answers hold bytes that came from requests
 * (echoed origins, reflected header names) and error messages quote
 * whatever a batch line held, so every string goes through one escaper
 * that yields valid JSON for any bytes (see json_int.h for the rules).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json_int.h"

/*
 * Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0 when
 * the bytes there are not one.  Overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

void
corsctl_json_str(FILE *f, const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	putc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			i++;
			continue;
		case '\\':
			fputs("\\\\", f);
			i++;
			continue;
		case '\n':
			fputs("\\n", f);
			i++;
			continue;
		case '\r':
			fputs("\\r", f);
			i++;
			continue;
		case '\t':
			fputs("\\t", f);
			i++;
			continue;
		default:
			break;
		}
		/* DEL is legal in JSON but escaped all the same: the output
		 * is read on terminals too. */
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_len(s + i, len - i);
		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
	putc('"', f);
}

void
corsctl_json_answer(FILE *f, const struct corsd_answer *ans)
{
	char reason[CORSD_ANSWER_SUBJECT_MAX + 256];
	const char *verdict = corsd_verdict_name(ans->verdict);
	unsigned nh = ans->nheaders;
	int n;

	if (nh > CORSD_ANSWER_HEADERS_MAX)
		nh = CORSD_ANSWER_HEADERS_MAX;
	fputs("{\"verdict\":", f);
	corsctl_json_str(f, verdict, strlen(verdict));
	fprintf(f, ",\"status\":%u,\"headers\":[", (unsigned)ans->status);
	for (unsigned i = 0; i < nh; i++) {
		struct corsd_str name = corsd_answer_header_name(ans, i);
		struct corsd_str value = corsd_answer_header_value(ans, i);

		fputs(i ? ",[" : "[", f);
		corsctl_json_str(f, name.p, name.len);
		putc(',', f);
		corsctl_json_str(f, value.p, value.len);
		putc(']', f);
	}
	fputs("],\"max_age\":", f);
	if (ans->max_age == CORSD_MAX_AGE_NONE)
		fputs("null", f);
	else
		fprintf(f, "%lu", (unsigned long)ans->max_age);
	fputs(",\"reason\":", f);
	n = corsd_answer_reason(ans, reason, sizeof(reason));
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(reason))
		n = (int)sizeof(reason) - 1;
	corsctl_json_str(f, reason, (size_t)n);
	fputs("}\n", f);
}

void
corsctl_json_error(FILE *f, unsigned long line, const char *msg)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "line %lu: %s", line, msg);

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	fputs("{\"error\":", f);
	corsctl_json_str(f, buf, (size_t)n);
	fputs("}\n", f);
}

void
corsctl_text_str(FILE *f, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c < 0x7f)
			putc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}
