/*
 * policy.c - the validated policy model: releasing it.
 *
 * Layer: engine.  The loader (load.c) builds a struct corsd_policy_set;
 * every string, list and origin in it is owned by the set, so one call
 * frees it all, also when the loader gives up half-way through a policy.
 */
#include <stdlib.h>

#include "policy_int.h"

static void
name_list_release(struct corsd_name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->len);
}

static void
policy_release(struct corsd_policy *p)
{
	free(p->name);
	for (size_t i = 0; i < p->norigins; i++)
		free(p->origins[i].text);
	free(p->origins);
	name_list_release(&p->methods);
	name_list_release(&p->allow_headers);
	name_list_release(&p->expose_headers);
}

void
corsd_policy_set_free(struct corsd_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		policy_release(&set->v[i]);
	free(set->v);
	free(set);
}
