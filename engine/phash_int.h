/*
 * phash_int.h - minimal perfect hashing over XXH3, PTHash style.
 *
 * Layer: engine, internal.  Built once per snapshot for exact origins,
 * subdomain suffixes, method names, header names and policy names.  A
 * lookup maps any key to a slot in [0, n); the caller stores key i at slot
 * pos[i] and must compare the full key there, because a key that was
 * not in the build set also lands on some slot.
 *
 * The compiled form is position-independent: a struct corsd_phash followed
 * in the same memory by its pilot and remap arrays, copied into the
 * snapshot arena by corsd_phash_write().
 */
#ifndef CORSD_PHASH_INT_H
#define CORSD_PHASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "corsd_engine.h"

struct corsd_phash {
	uint64_t seed;
	uint32_t n; /* keys, and slots */
	uint32_t nbuckets;
	uint32_t table_size; /* >= n; positions >= n go through remap */
	uint32_t pad;
	/* followed by: uint32_t pilots[nbuckets];
	 *              uint32_t remap[table_size - n]; */
};

/* Build-time result: owns malloc'd arrays until corsd_phash_result_release().
 */
struct corsd_phash_result {
	struct corsd_phash hdr;
	uint32_t *pilots;
	uint32_t *remap;
	uint32_t *pos; /* pos[i]: slot of keys[i] */
};

/**
 * corsd_phash_build() - build a minimal perfect hash for @n distinct keys.
 * Return: 0; -CORSD_EINVAL for duplicate keys; -CORSD_EHASH if no seed
 * worked; -CORSD_ENOMEM.  n == 0 is fine (every lookup returns n).
 */
int corsd_phash_build(const struct corsd_str *keys, size_t n,
		      struct corsd_phash_result *res);

void corsd_phash_result_release(struct corsd_phash_result *res);

/* Bytes corsd_phash_write() needs (a multiple of 8). */
size_t corsd_phash_bytes(const struct corsd_phash_result *res);

/* Copy the compiled form to @dst, 8-byte aligned, corsd_phash_bytes() long. */
void corsd_phash_write(const struct corsd_phash_result *res, void *dst);

/**
 * corsd_phash_lookup() - the slot for a key, in [0, n), or n when the
 * table is empty.  The caller compares the key stored at that slot.
 */
uint32_t corsd_phash_lookup(const struct corsd_phash *ph, const char *key,
			    size_t len);

#endif /* CORSD_PHASH_INT_H */
