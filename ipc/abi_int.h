/*
 * abi_int.h - the layout of corsd's two shared-memory segments.
 *
 * Layer: ipc, internal; shared by the client library and corsd.  Fixed
 * width fields and offsets only, never pointers; sizes and offsets are
 * pinned with _Static_assert and any change bumps CORSD_ABI_VERSION.
 *
 * Three kinds of shared memory, because they have different writers and
 * different readers.  The two segments are files in corsd's own runtime
 * directory (os.h), which only corsd's user can write: a worker maps them
 * only after checking that (SECURITY.md).
 *
 *   <rundir>/<instance>.cache   0640, written by corsd alone and mapped
 *       PROT_READ by workers: the daemon's identity (epoch, pid, start
 *       time, state), the policy generation, geometry, and the decision
 *       cache.  A worker can neither forge an answer nor fake the
 *       daemon's state.
 *
 *   <rundir>/<instance>.slots   0660: only what every worker must share,
 *       the doorbell futex, the count of sleeping serving threads and the
 *       pending bitmap.  No request and no answer is ever in it.
 *
 *   a worker's slot: one struct corsd_slot (single producer, single
 *       consumer) in a memfd that corsd creates for that worker alone at
 *       registration, sealed against shrinking and growing (a worker can
 *       never make corsd's mapping fault), and hands over on the
 *       registration socket <rundir>/<instance>.workers (SCM_RIGHTS; the
 *       message is struct corsd_reg_msg).  No name in any file system
 *       leads to it: only that worker and corsd map it, so no worker can
 *       read another's request or write another's answer.  The worker
 *       keeps the connection open while it holds the slot; its end
 *       (exit, crash) retires the slot at once, and a new registration
 *       always gets a new memfd.
 *
 * Everything a worker can write (its slot, the .slots segment) is
 * untrusted input to corsd: corsd keeps its own copy of the geometry and
 * copies, bounds and validates whatever it reads.
 *
 * The doorbell is a bitmap with one bit per slot: a worker that posts a
 * request sets its bit; a serving thread finds work with a find-first-set
 * over a word of slots at a time instead of visiting idle slots one by one. One
 * thread at a time serves a slot (corsd's private flag per slot); it
 * clears the bit after answering and then looks at the slot once more.
 * While spinning, a serving thread also watches the req_seq of the slot
 * it answered last, which a busy worker writes again soonest.  A worker
 * can set or clear any bit: a spurious round for corsd, or an answer
 * delayed up to the victim's timeout, never a request read or an answer
 * written (SECURITY.md).
 */
#ifndef CORSD_ABI_INT_H
#define CORSD_ABI_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "corsd_types.h"

#define CORSD_ABI_VERSION 5u
/* The unit of layout: fields with different writers live on different
 * lines of this size, so no two writers share one. */
#define CORSD_CACHE_LINE 64u
/* The doorbell: one bit per slot in words of this many bits. */
#define CORSD_PENDING_BITS  64u
#define CORSD_CACHE_MAGIC   0x454843414344534fULL /* "OSDCACHE" */
#define CORSD_SLOTS_MAGIC   0x53544f4c5344534fULL /* "OSDSLOTS" */
#define CORSD_SLOTS_MAX	    1024u
#define CORSD_PENDING_WORDS (CORSD_SLOTS_MAX / CORSD_PENDING_BITS)
#define CORSD_INSTANCE_MAX  32u

enum corsd_daemon_state {
	CORSD_STATE_STARTING = 1,
	CORSD_STATE_SERVING = 2,
	CORSD_STATE_STOPPED = 3, /* clean exit: re-attach when it is back */
};

/*
 * Request fields as the worker copied them: each at most one byte past
 * the engine's bound (see corsd_client_decide()), so the request area has
 * a fixed size.
 */
#define CORSD_WIRE_POLICY_MAX (CORSD_POLICY_NAME_MAX + 1)
#define CORSD_WIRE_METHOD_MAX (CORSD_METHOD_MAX + 1)
#define CORSD_WIRE_ORIGIN_MAX (CORSD_ORIGIN_MAX + 1)
#define CORSD_WIRE_ACRM_MAX   (CORSD_METHOD_MAX + 1)
#define CORSD_WIRE_ACRH_MAX   (CORSD_ACRH_MAX + 1)
#define CORSD_WIRE_ACRPN_MAX  16

enum corsd_wire_field {
	CORSD_WIRE_POLICY,
	CORSD_WIRE_METHOD,
	CORSD_WIRE_ORIGIN,
	CORSD_WIRE_ACRM,
	CORSD_WIRE_ACRH,
	CORSD_WIRE_ACRPN,
	CORSD_WIRE__COUNT
};

#define CORSD_WIRE_BYTES                                                     \
	(CORSD_WIRE_POLICY_MAX + CORSD_WIRE_METHOD_MAX +                     \
	 CORSD_WIRE_ORIGIN_MAX + CORSD_WIRE_ACRM_MAX + CORSD_WIRE_ACRH_MAX + \
	 CORSD_WIRE_ACRPN_MAX)

/*
 * A request: the present fields (bit i of present) packed in enum order,
 * each len[i] bytes, from bytes[0].  Packed, a typical request shares the
 * cache line of req_seq, so corsd fetches one line, not one per field.
 */
struct corsd_wire_request {
	uint16_t len[CORSD_WIRE__COUNT];
	uint16_t present; /* bit per enum corsd_wire_field */
	uint16_t pad;
	char bytes[CORSD_WIRE_BYTES];
};

/* Round-trip latency buckets: bucket i counts trips < 2^i microseconds
 * (the last one everything slower). */
#define CORSD_LAT_BUCKETS 20

/*
 * One worker's slot, alone in its memfd.  The worker writes req, req_seq,
 * waiting and its counters; corsd writes rc, answer and rep_seq.  Who
 * owns it is no field: the registration connection is the ownership.
 *
 * Each writer's fields share cache lines only with what travels with
 * them: req_seq heads the request (corsd reads both in one transfer),
 * rep_seq heads the answer (the worker likewise), and the worker's
 * counters have lines of their own, so a round trip moves each line once.
 */
struct corsd_slot {
	_Atomic uint32_t waiting; /* worker sleeps on rep_seq */
	uint32_t pad_head;
	/* Worker-side counters: only the owner writes them, so workers
	 * never contend on a cache line for statistics. */
	_Alignas(CORSD_CACHE_LINE) _Atomic uint64_t n_requests;
	_Atomic uint64_t n_hits;
	_Atomic uint64_t n_misses;
	_Atomic uint64_t n_timeouts;
	_Atomic uint64_t n_sleeps;
	_Atomic uint64_t n_withheld;
	_Atomic uint64_t lat[CORSD_LAT_BUCKETS];
	_Alignas(CORSD_CACHE_LINE) _Atomic uint32_t
		req_seq; /* worker: bumped after req */
	uint32_t pad0;
	struct corsd_wire_request req;
	_Alignas(CORSD_CACHE_LINE) _Atomic uint32_t
		rep_seq; /* corsd: = req_seq, answered */
	int32_t rc;	 /* 0 or -CORSD_E*: corsd's verdict on req */
	struct corsd_answer answer;
};

struct corsd_slots_hdr {
	/* Stored last, with release (R0 in corsd_server_open()); loaded
	 * first, with acquire (A0 in the client's attach()): a worker
	 * that sees the magic sees the header it guards. */
	_Atomic uint64_t magic;
	uint32_t abi_version;
	uint32_t nslots; /* bits of pending that can mean a slot */
	uint64_t epoch;
	uint64_t pad1[5];
	/* Cache line 1: the doorbell futex and the count of serving
	 * threads asleep on it. */
	_Atomic uint32_t doorbell;
	_Atomic uint32_t sleepers;
	uint64_t pad2[7];
	/* Cache lines 2-3: one bit per slot with a posted request. */
	_Atomic uint64_t pending[CORSD_PENDING_WORDS];
};

/*
 * What corsd sends on a new connection to <rundir>/<instance>.workers,
 * once, with the slot's memfd as SCM_RIGHTS when idx != CORSD_REG_NO_SLOT
 * (every slot taken: no descriptor, and corsd closes the connection).
 * The worker sends nothing: any byte from it ends the registration.
 */
#define CORSD_REG_MAGIC	  0x47455244534f4343ULL /* "CCOSDREG" */
#define CORSD_REG_NO_SLOT UINT32_MAX

struct corsd_reg_msg {
	uint64_t magic;
	uint32_t abi_version;
	uint32_t idx;	    /* the slot's bit in pending, or NO_SLOT */
	uint64_t epoch;	    /* as the cache header's */
	uint64_t slot_size; /* the memfd's size */
};

/*
 * The decision cache.  Set-associative; entries are seqlocks (seq odd
 * while corsd writes) holding the full key, the generation of the
 * snapshot that answered, and an expiry on CLOCK_MONOTONIC in ms.
 */
#define CORSD_CACHE_KEY_MAX   432
#define CORSD_CACHE_BLOCK_MAX 1024
#define CORSD_CACHE_ANSWER_MAX \
	(offsetof(struct corsd_answer, block) + CORSD_CACHE_BLOCK_MAX)
#define CORSD_CACHE_WAYS 4

struct corsd_cache_entry {
	_Atomic uint32_t seq;
	uint16_t key_len;
	uint16_t answer_len;
	uint64_t hash;
	uint64_t generation;
	uint64_t expires_ms;
	char key[CORSD_CACHE_KEY_MAX];
	/* The first answer_len bytes of a struct corsd_answer: answers
	 * with a longer block are not cached. */
	_Alignas(8) char answer[CORSD_CACHE_ANSWER_MAX];
};

struct corsd_cache_hdr {
	_Atomic uint64_t magic; /* as corsd_slots_hdr.magic: R0/A0 */
	uint32_t abi_version;
	uint32_t hdr_size;
	uint64_t epoch; /* random, non-zero, per corsd start */
	uint32_t daemon_pid;
	uint32_t pad0;
	uint64_t daemon_start;	/* /proc start time of daemon_pid */
	_Atomic uint32_t state; /* enum corsd_daemon_state */
	uint32_t nsets;		/* power of two */
	uint32_t ways;
	uint32_t entry_size;
	uint64_t entries_off;
	uint64_t segment_size;
	uint32_t slots_nslots;	  /* geometry of the slots segment and */
	uint32_t slots_slot_size; /* a worker's slot memory (bytes), from */
	uint64_t slots_pad;	  /* the one writer we trust */
	uint64_t slots_segment_size;
	uint64_t pad1[4];
	/* Cache line 2: what changes while serving. */
	_Atomic uint64_t generation; /* policy snapshot in force */
	_Atomic uint64_t tick_ms;    /* corsd's CLOCK_MONOTONIC, ~100 ms */
	uint64_t pad2[6];
};

_Static_assert(sizeof(struct corsd_answer) % 8 == 0, "answer is 8-aligned");
_Static_assert(
	offsetof(struct corsd_slot, req_seq) % CORSD_CACHE_LINE == 0 &&
		offsetof(struct corsd_slot, rep_seq) % CORSD_CACHE_LINE == 0 &&
		offsetof(struct corsd_slot, n_requests) % CORSD_CACHE_LINE ==
			0 &&
		offsetof(struct corsd_slot, req) ==
			offsetof(struct corsd_slot, req_seq) + 8 &&
		offsetof(struct corsd_slot, answer) ==
			offsetof(struct corsd_slot, rep_seq) + 8,
	"slot layout: one writer per cache line");
_Static_assert(sizeof(struct corsd_slots_hdr) == 256, "slots header size");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && _Alignof(_Atomic uint64_t) == 8,
	       "an atomic magic is a plain 8-byte word in the layout");
_Static_assert(CORSD_SLOTS_MAX % CORSD_PENDING_BITS == 0,
	       "the doorbell is whole words");
_Static_assert(offsetof(struct corsd_slots_hdr, doorbell) == CORSD_CACHE_LINE,
	       "doorbell on its own cache line");
_Static_assert(offsetof(struct corsd_slots_hdr, pending) ==
		       2 * CORSD_CACHE_LINE,
	       "pending bitmap on its own cache lines");
_Static_assert(sizeof(struct corsd_cache_hdr) == 192, "cache header size");
_Static_assert(sizeof(struct corsd_reg_msg) == 32, "registration message");
_Static_assert(offsetof(struct corsd_cache_hdr, generation) ==
		       2 * CORSD_CACHE_LINE,
	       "generation on its own cache line");
_Static_assert(offsetof(struct corsd_cache_entry, key) == 32,
	       "cache entry layout");
_Static_assert(sizeof(struct corsd_cache_entry) % CORSD_CACHE_LINE == 0,
	       "cache entries are whole cache lines");

static inline size_t
corsd_wire_max(enum corsd_wire_field f)
{
	static const uint16_t max[CORSD_WIRE__COUNT] = {
		CORSD_WIRE_POLICY_MAX, CORSD_WIRE_METHOD_MAX,
		CORSD_WIRE_ORIGIN_MAX, CORSD_WIRE_ACRM_MAX,
		CORSD_WIRE_ACRH_MAX,   CORSD_WIRE_ACRPN_MAX,
	};
	return max[f];
}

/*
 * corsd_wire_pack() - pack @r into @w: the present fields back to back in
 * enum order.  @r must be clipped to the wire bounds first
 * (corsd_wire_clip()), so everything fits.  The one writer of the
 * format: the client library writes its slot with it, the benchmarks'
 * AF_UNIX baseline its messages.
 * Return: the bytes of w->bytes used.
 */
static inline size_t
corsd_wire_pack(struct corsd_wire_request *w, const struct corsd_request *r)
{
	const struct corsd_str *f[CORSD_WIRE__COUNT] = {
		&r->policy, &r->method, &r->origin,
		&r->acrm,   &r->acrh,	&r->acrpn,
	};
	uint16_t present = 0;
	size_t off = 0;

	for (int i = 0; i < CORSD_WIRE__COUNT; i++) {
		if (!f[i]->p) {
			w->len[i] = 0;
			continue;
		}
		present |= (uint16_t)(1u << i);
		w->len[i] = (uint16_t)f[i]->len;
		memcpy(w->bytes + off, f[i]->p, f[i]->len);
		off += f[i]->len;
	}
	w->present = present;
	return off;
}

/*
 * corsd_wire_unpack() - point @r's fields into w->bytes as @w's header
 * says.  The header is untrusted: unknown present bits, a length past
 * its field's bound, or fields past the @avail bytes of w->bytes that
 * are there make it no request.  The one reader of the format: corsd
 * reads slots with it (after copying the header out of shared memory),
 * the AF_UNIX baseline its messages.
 * Return: the bytes of w->bytes the fields take, or -1.
 */
static inline long
corsd_wire_unpack(const struct corsd_wire_request *w, size_t avail,
		  struct corsd_request *r)
{
	struct corsd_str *f[CORSD_WIRE__COUNT] = {
		&r->policy, &r->method, &r->origin,
		&r->acrm,   &r->acrh,	&r->acrpn,
	};
	size_t off = 0;

	if (w->present >> CORSD_WIRE__COUNT)
		return -1;
	for (int i = 0; i < CORSD_WIRE__COUNT; i++) {
		if (!(w->present & (1u << i))) {
			f[i]->p = NULL;
			f[i]->len = 0;
			continue;
		}
		if (w->len[i] > corsd_wire_max((enum corsd_wire_field)i) ||
		    w->len[i] > avail - off)
			return -1;
		f[i]->p = w->bytes + off;
		f[i]->len = w->len[i];
		off += w->len[i];
	}
	return (long)off;
}

#endif /* CORSD_ABI_INT_H */
