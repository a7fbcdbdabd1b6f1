/*
 * json.c - the JSON rules corsd and corsctl share, over libjansson.
 *
 * Layer: tools.  See json_int.h: jansson parses, validates UTF-8 and
 * escapes; this file only picks the flags and says what to do with bytes
 * jansson will not take as a string.
 */
#include <stdlib.h>
#include <string.h>

#include "corsd_err.h"

#include "json_int.h"

json_t *
corsd_json_bytes(const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	json_t *s = json_stringn(p, len);
	char *ascii;
	size_t o = 0;

	if (s || (len && !p))
		return s;
	/* Not UTF-8 (or out of memory, which the copy will meet too). */
	ascii = malloc(len * 4 + 1);
	if (!ascii)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80) {
			ascii[o++] = (char)c;
			continue;
		}
		ascii[o++] = '\\';
		ascii[o++] = 'x';
		ascii[o++] = hex[c >> 4];
		ascii[o++] = hex[c & 15];
	}
	s = json_stringn(ascii, o);
	free(ascii);
	return s;
}

json_t *
corsd_json_parse(const char *p, size_t len, char *err, size_t errsize)
{
	json_error_t e;
	json_t *v = json_loadb(p, len, CORSD_JSON_LOAD_FLAGS, &e);

	if (!v)
		snprintf(err, errsize, "column %d: malformed JSON: %s",
			 e.column > 0 ? e.column : 1, e.text);
	return v;
}

int
corsd_json_print(FILE *f, json_t *v)
{
	int rc = 0;

	if (!v)
		return -CORSD_ENOMEM;
	if (json_dumpf(v, f, CORSD_JSON_DUMP_FLAGS) != 0 ||
	    putc('\n', f) == EOF)
		rc = ferror(f) ? -CORSD_EIO : -CORSD_ENOMEM;
	json_decref(v);
	return rc;
}

size_t
corsd_json_format(json_t *v, char *buf, size_t size)
{
	size_t n;

	if (!v)
		return 0;
	n = json_dumpb(v, buf, size, CORSD_JSON_DUMP_FLAGS);
	json_decref(v);
	if (n == 0 || n + 1 > size)
		return 0;
	buf[n++] = '\n';
	return n;
}
