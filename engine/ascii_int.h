/*
 * ascii_int.h - ASCII byte classes, case folding and the HTTP token table.
 *
 * Layer: engine, internal; the one home of these rules for every engine
 * file, the hot path included.  Written out byte by byte: no locale may
 * change them, and nothing here reads past the length it is given.
 *
 * corsd_tchar_lower[] is RFC 9110's tchar ("!#$%&'*+-.^_`|~", digits,
 * letters) with each byte mapped to its lowercase and every other byte to
 * 0, so decide() tells "is a token byte" and "its lowercase" with one
 * load.  It is defined once, in ascii.c, and declared here so that every
 * user reads the same table with an inlined load.
 */
#ifndef CORSD_ASCII_INT_H
#define CORSD_ASCII_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* RFC 9110 tchar: the lowercase of the byte, or 0 if it is no tchar. */
extern const uint8_t corsd_tchar_lower[256];

static inline bool
corsd_ascii_is_tchar(unsigned char c)
{
	return corsd_tchar_lower[c] != 0;
}

/* An HTTP token (RFC 9110 section 5.6.2): one or more tchar. */
static inline bool
corsd_ascii_is_token(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!corsd_tchar_lower[(unsigned char)p[i]])
			return false;
	return len > 0;
}

static inline bool
corsd_ascii_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
corsd_ascii_is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool
corsd_ascii_is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool
corsd_ascii_is_alpha(unsigned char c)
{
	return corsd_ascii_is_lower(c) || corsd_ascii_is_upper(c);
}

static inline bool
corsd_ascii_is_hex(unsigned char c)
{
	return corsd_ascii_is_digit(c) || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* ASCII case folding: A-Z to a-z, every other byte unchanged. */
static inline unsigned char
corsd_ascii_lower(unsigned char c)
{
	return corsd_ascii_is_upper(c) ? (unsigned char)(c | 0x20) : c;
}

/* Copy @n bytes of @src to @dst case folded; return the end of the copy. */
static inline char *
corsd_ascii_lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)corsd_ascii_lower((unsigned char)src[i]);
	return dst + n;
}

/* Are (@a, @al) and (@b, @bl) the same bytes, ASCII case folded? */
static inline bool
corsd_ascii_eq_nocase(const char *a, size_t al, const char *b, size_t bl)
{
	if (al != bl)
		return false;
	for (size_t i = 0; i < al; i++)
		if (corsd_ascii_lower((unsigned char)a[i]) !=
		    corsd_ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Are (@p, @len) exactly the bytes of the NUL-terminated @lit? */
static inline bool
corsd_ascii_eq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len == n && memcmp(p, lit, n) == 0;
}

#endif /* CORSD_ASCII_INT_H */
