/*
 * json_int.h - JSON in corsd and corsctl: libjansson, used one way.
 *
 * Layer: tools, internal (linked into corsd and corsctl).  Rule: every
 * JSON either program reads or writes goes through jansson (RFC 8259);
 * this file holds the few choices made once for both: the flags, strings
 * made from bytes that may not be UTF-8, and the position of a parse
 * error.  Nothing here escapes or validates by hand.
 */
#ifndef CORSD_TOOLS_JSON_INT_H
#define CORSD_TOOLS_JSON_INT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Reading: strict RFC 8259 with any value at the top (the caller says
 * which it wants), a duplicate key is an error, and \u0000 is kept:
 * strings are handed on by length, so a NUL is a byte like any other and
 * never cuts a string short.
 */
#define CORSD_JSON_LOAD_FLAGS \
	(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)

/* Writing: one compact line, object keys in the order they were set. */
#define CORSD_JSON_DUMP_FLAGS JSON_COMPACT

/*
 * A JSON string of the @len bytes at @p.  Bytes that are not UTF-8 (text
 * quoted from a client, or cut short by a bounded buffer) cannot be a
 * JSON string as they are: then every byte from 0x80 up is written as the
 * four characters \xHH instead, as corsctl's text output and the policy
 * loader's messages do.  Return: a new reference, NULL when out of memory.
 */
json_t *corsd_json_bytes(const char *p, size_t len);

/*
 * Parse the @len bytes at @p as one JSON value (CORSD_JSON_LOAD_FLAGS).
 * Return: a new reference, or NULL with "column C: malformed JSON: what"
 * in @err (C counts characters from 1 on the first line of @p; the
 * caller names the line).
 */
json_t *corsd_json_parse(const char *p, size_t len, char *err, size_t errsize);

/*
 * Write @v as one line, "\n" included, on @f; @v is released (NULL is
 * taken as an allocation that failed).  Return: 0, -CORSD_ENOMEM, or
 * -CORSD_EIO when @f refused the bytes.
 */
int corsd_json_print(FILE *f, json_t *v);

/*
 * Write @v as one line, "\n" included, into @buf; @v is released.
 * Return: the length, or 0 when it does not fit in @size bytes or memory
 * ran out (NULL @v included).
 */
size_t corsd_json_format(json_t *v, char *buf, size_t size);

#endif /* CORSD_TOOLS_JSON_INT_H */
