/*
 * main.c - corsctl, the command-line tool: check a policy file, decide
 * requests against it in-process, and talk to a running corsd (query
 * through the client library, reload and stats through its control
 * socket).
 *
 * Layer: tools.  Uses the public APIs only (corsd_engine.h,
 * corsd_client.h).
 * DESIGN.md section 4 is the contract.  Exit status: 0 done (whatever the
 * verdict: the verdict is the output), 1 the run failed (policy file
 * errors, unreadable files, a batch line answered with an error), 2 the
 * command line was wrong.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corsd_client.h"
#include "corsd_engine.h"

#include "answer_int.h"
#include "batch_int.h"
#include "control_client_int.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

static const char usage_text[] =
	"usage: corsctl COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  check FILE      validate a policy file: every error and warning as\n"
	"                  FILE:LINE:COL, then a summary line\n"
	"  decide -c FILE [-p POLICY] [--origin O] [--method M] [--acrm M]\n"
	"         [--acrh H]... [--acrpn] [--json]\n"
	"                  decide one request in-process and print the answer\n"
	"  decide -c FILE [-p POLICY] --batch FILE.jsonl|-\n"
	"                  decide one JSON request per line, write one JSON\n"
	"                  answer per line\n"
	"  query [--instance NAME] -p POLICY [--origin O] [--method M] ...\n"
	"        [--timeout MS] [--json] | --batch FILE.jsonl|-\n"
	"                  ask a running corsd, exactly as a web-server "
	"worker\n"
	"                  does (shared-memory cache, then corsd); same "
	"request\n"
	"                  options as decide\n"
	"  reload [--instance NAME]\n"
	"                  make a running corsd reload its policy file; "
	"prints\n"
	"                  the new generation or why the file was refused\n"
	"  stats [--instance NAME] [--json]\n"
	"                  what a running corsd has done: requests, cache "
	"hits\n"
	"                  and misses, verdicts, reasons, reloads, workers,\n"
	"                  latency\n"
	"  help            this text\n"
	"\n"
	"decide options:\n"
	"  -c, --config FILE   the policy file\n"
	"  -p, --policy NAME   the policy; default: the file's only policy\n"
	"  --origin O          the Origin header; omitted: absent, \"\": "
	"present but empty\n"
	"  --method M          the request method (default GET)\n"
	"  --acrm M            Access-Control-Request-Method; with --method "
	"OPTIONS\n"
	"                      the request is a preflight\n"
	"  --acrh H            Access-Control-Request-Headers; repeat it as "
	"several\n"
	"                      header lines: the values are joined with \",\"\n"
	"  --acrpn             Access-Control-Request-Private-Network: true\n"
	"  --json              print the answer as one JSON object\n"
	"  --batch FILE|-      read requests, one JSON object per line:\n"
	"                      {\"policy\":...,\"origin\":...,\"method\":...,"
	"\"acrm\":...,\n"
	"                       \"acrh\":\"...\"|[...],\"acrpn\":true|false}\n"
	"                      (all optional; - reads standard input)\n"
	"\n"
	"  --instance NAME     the corsd instance (query, reload, stats); "
	"default\n"
	"                      \"default\"; its control socket is in "
	"$CORSD_RUNDIR,\n"
	"                      else /run/corsd\n"
	"  --timeout MS        how long query waits for corsd (default 1000)\n"
	"\n"
	"exit status: 0 done, whatever the verdict; 1 the policy file has "
	"errors,\n"
	"a file cannot be read, a batch line had an error, corsd is not "
	"running\n"
	"or refused a reload; 2 usage error\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

/* A wrong command line: what is wrong, then the usage, exit status 2. */
static int
usage_error(const char *fmt, const char *arg)
{
	fputs("corsctl: ", stderr);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
	fputs("\n\n", stderr);
	usage(stderr);
	return EXIT_USAGE;
}

static const char *
plural(unsigned long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
print_diag(const struct corsd_diags *d, size_t i)
{
	char buf[CORSD_DIAG_MESSAGE_MAX + 512];
	int n = corsd_diags_format(d, i, buf, sizeof(buf));
	char *big;

	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf)) {
		fprintf(stderr, "%s\n", buf);
		return;
	}
	/* A long file name: format again into a buffer that fits. */
	big = malloc((size_t)n + 1);
	if (!big) {
		fprintf(stderr, "%s\n", buf);
		return;
	}
	corsd_diags_format(d, i, big, (size_t)n + 1);
	fprintf(stderr, "%s\n", big);
	free(big);
}

struct loaded {
	struct corsd_snapshot *snap;
	unsigned long errors;
	unsigned long warnings;
};

/*
 * Load and compile @path.  Every error, and every warning when
 * @warnings, is printed to stderr.  A file that cannot be read and a set
 * that does not compile each count as one error.
 * Return: true when @out->snap is a compiled snapshot.
 */
static bool
load(const char *path, bool warnings, struct loaded *out)
{
	struct corsd_policy_set *set;
	struct corsd_diags d;
	int err = 0;

	memset(out, 0, sizeof(*out));
	corsd_diags_init(&d);
	set = corsd_policy_set_load_file(path, &d, &err);
	for (size_t i = 0; i < d.n; i++)
		if (warnings || d.v[i].severity == CORSD_SEV_ERROR)
			print_diag(&d, i);
	out->errors = d.errors;
	out->warnings = d.warnings;
	corsd_diags_release(&d);

	if (!set) {
		if (out->errors == 0) {
			const char *why = corsd_strerror(err);
			FILE *f;

			/* The engine says only "input/output error"; opening
			 * the file again tells the user which. */
			if (err == -CORSD_EIO) {
				f = fopen(path, "r");
				if (!f)
					why = strerror(errno);
				else
					fclose(f);
			}
			fprintf(stderr, "%s: error: cannot load the file: %s\n",
				path, why);
			out->errors = 1;
		}
		return false;
	}
	out->snap = corsd_snapshot_compile(set, 1, &err);
	corsd_policy_set_free(set);
	if (!out->snap) {
		fprintf(stderr, "%s: error: the policies do not compile: %s\n",
			path, corsd_strerror(err));
		out->errors++;
		return false;
	}
	return true;
}

static int
cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	struct loaded l;
	bool ok;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (a[0] == '-' && a[1])
			return usage_error("unknown option '%s' for check", a);
		if (path)
			return usage_error("check takes one policy file; '%s' "
					   "is one too many",
					   a);
		path = a;
	}
	if (!path)
		return usage_error("check needs a policy file%s", "");

	ok = load(path, true, &l);
	if (ok) {
		size_t n = corsd_snapshot_policy_count(l.snap);

		printf("%s: %zu %s, %lu %s, %lu %s\n", path, n,
		       plural(n, "policy", "policies"), l.errors,
		       plural(l.errors, "error", "errors"), l.warnings,
		       plural(l.warnings, "warning", "warnings"));
		corsd_snapshot_free(l.snap);
	} else {
		printf("%s: %lu %s, %lu %s\n", path, l.errors,
		       plural(l.errors, "error", "errors"), l.warnings,
		       plural(l.warnings, "warning", "warnings"));
	}
	return ok && l.errors == 0 ? 0 : EXIT_FAILED;
}

/* ---- decide ----------------------------------------------------------- */

enum opt_id {
	O_CONFIG,
	O_POLICY,
	O_ORIGIN,
	O_METHOD,
	O_ACRM,
	O_ACRH,
	O_ACRPN,
	O_JSON,
	O_BATCH,
	O_HELP,
	O_INSTANCE,
	O_TIMEOUT,
	O__COUNT
};

static const struct opt {
	char short_name; /* 0: long form only */
	const char *long_name;
	bool takes_value;
	bool repeats;
} opts[O__COUNT] = {
	[O_CONFIG] = {'c', "config", true, false},
	[O_POLICY] = {'p', "policy", true, false},
	[O_ORIGIN] = {0, "origin", true, false},
	[O_METHOD] = {0, "method", true, false},
	[O_ACRM] = {0, "acrm", true, false},
	[O_ACRH] = {0, "acrh", true, true},
	[O_ACRPN] = {0, "acrpn", false, false},
	[O_JSON] = {0, "json", false, false},
	[O_BATCH] = {0, "batch", true, false},
	[O_HELP] = {'h', "help", false, false},
	[O_INSTANCE] = {0, "instance", true, false},
	[O_TIMEOUT] = {0, "timeout", true, false},
};

struct decide_args {
	const char *val[O__COUNT]; /* the last value of each option */
	bool seen[O__COUNT];
	char *acrh; /* every --acrh, joined with ',' */
	size_t acrh_len;
};

static int
find_opt(const char *a, const char **val)
{
	*val = NULL;
	if (a[0] == '-' && a[1] == '-' && a[2]) {
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		for (int i = 0; i < O__COUNT; i++)
			if (strlen(opts[i].long_name) == len &&
			    !memcmp(opts[i].long_name, name, len)) {
				*val = eq ? eq + 1 : NULL;
				return i;
			}
		return -1;
	}
	if (a[0] == '-' && a[1] && a[1] != '-') {
		for (int i = 0; i < O__COUNT; i++)
			if (opts[i].short_name == a[1]) {
				*val = a[2] ? a + 2 : NULL;
				return i;
			}
	}
	return -1;
}

static bool
acrh_add(struct decide_args *da, const char *v)
{
	size_t len = strlen(v), extra = da->seen[O_ACRH] ? 1 : 0;
	char *p = realloc(da->acrh, da->acrh_len + extra + len + 1);

	if (!p)
		return false;
	da->acrh = p;
	if (extra)
		p[da->acrh_len++] = ',';
	memcpy(p + da->acrh_len, v, len + 1);
	da->acrh_len += len;
	return true;
}

/*
 * decide and query share their request options; decide reads a policy
 * file (-c), query asks a running corsd (--instance, --timeout).
 * Return: -1 when parsed, else the exit status to return at once.
 */
static int
parse_request_args(int argc, char **argv, struct decide_args *da, bool query)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		int id = find_opt(a, &val);
		const struct opt *o;

		if (id >= 0 && (query ? id == O_CONFIG
				      : id == O_INSTANCE || id == O_TIMEOUT))
			id = -1;
		if (id < 0 && a[0] == '-' && a[1])
			return usage_error(query ? "unknown option '%s' for "
						   "query"
						 : "unknown option '%s' for "
						   "decide",
					   a);
		if (id < 0)
			return usage_error("unexpected argument '%s'; decide "
					   "and query take options only",
					   a);
		o = &opts[id];
		if (val && !o->takes_value)
			return usage_error("option '%s' takes no value", a);
		if (o->takes_value && !val) {
			if (i + 1 >= argc)
				return usage_error("option '%s' needs a value",
						   a);
			val = argv[++i];
		}
		if (da->seen[id] && !o->repeats)
			return usage_error("option '%s' is given twice", a);
		if (id == O_HELP) {
			usage(stdout);
			return 0;
		}
		if (id == O_ACRH && !acrh_add(da, val)) {
			fprintf(stderr, "corsctl: out of memory\n");
			return EXIT_FAILED;
		}
		da->seen[id] = true;
		da->val[id] = val;
	}
	if (!query && !da->seen[O_CONFIG])
		return usage_error("decide needs a policy file: -c FILE%s", "");
	if (query && !da->seen[O_POLICY] && !da->seen[O_BATCH])
		return usage_error("query needs a policy name: -p POLICY%s",
				   "");
	if (da->seen[O_BATCH]) {
		static const enum opt_id request_opts[] = {
			O_ORIGIN, O_METHOD, O_ACRM, O_ACRH, O_ACRPN,
		};

		for (size_t i = 0;
		     i < sizeof(request_opts) / sizeof(request_opts[0]); i++)
			if (da->seen[request_opts[i]])
				return usage_error(
					"--%s cannot be used with --batch: "
					"each line of the batch is a request",
					opts[request_opts[i]].long_name);
	}
	return -1;
}

static struct corsd_str
arg_str(const char *s)
{
	struct corsd_str r = {s, s ? strlen(s) : 0};

	return r;
}

/* "api, public, partner" - the policy names, for messages; cut short
 * after a few, since a file may hold many. */
static void
policy_names(const struct corsd_snapshot *snap, char *buf, size_t size)
{
	size_t n = corsd_snapshot_policy_count(snap), len = 0;

	buf[0] = '\0';
	if (n == 0)
		snprintf(buf, size, "none");
	for (size_t i = 0; i < n && len < size; i++) {
		struct corsd_str name = corsd_snapshot_policy_name(snap, i);
		int w;

		if (i == 8) {
			snprintf(buf + len, size - len, ", ... %zu in all", n);
			break;
		}
		w = snprintf(buf + len, size - len, "%s%.*s", i ? ", " : "",
			     (int)name.len, name.p);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* Write @ans as --json asked, or as text.  Return: the exit status. */
static int
print_answer(const struct corsd_answer *ans, bool json)
{
	int rc;

	if (!json) {
		corsctl_answer_text(stdout, ans);
		return 0;
	}
	rc = corsctl_answer_json(stdout, ans);
	if (rc == 0)
		return 0;
	fprintf(stderr, "corsctl: cannot write the answer: %s\n",
		corsd_strerror(rc));
	return EXIT_FAILED;
}

static void
build_request(const struct decide_args *da, struct corsd_str policy,
	      struct corsd_request *req)
{
	req->policy = policy;
	req->method =
		da->val[O_METHOD] ? arg_str(da->val[O_METHOD]) : arg_str("GET");
	req->origin = arg_str(da->val[O_ORIGIN]);
	req->acrm = arg_str(da->val[O_ACRM]);
	req->acrh.p = da->acrh;
	req->acrh.len = da->acrh_len;
	req->acrpn = arg_str(da->seen[O_ACRPN] ? "true" : NULL);
}

static int
decide_in_process(void *ctx, const struct corsd_request *req,
		  struct corsd_answer *ans)
{
	return corsd_decide(ctx, req, ans);
}

static int
run_batch(const struct decide_args *da, corsctl_decide_fn fn, void *ctx,
	  struct corsd_str policy, const char *names)
{
	const char *path = da->val[O_BATCH];
	bool from_stdin = !strcmp(path, "-");
	struct corsctl_batch b = {
		.decide = fn,
		.ctx = ctx,
		.default_policy = policy,
		.policy_names = names,
		.flush_each = from_stdin,
	};
	FILE *in = from_stdin ? stdin : fopen(path, "r");
	long errors;

	if (!in) {
		fprintf(stderr, "corsctl: cannot open '%s': %s\n", path,
			strerror(errno));
		return EXIT_FAILED;
	}
	errors = corsctl_batch_run(&b, in, stdout);
	if (errors < 0)
		fprintf(stderr, "corsctl: cannot read '%s': %s\n", path,
			strerror(errno));
	if (!from_stdin)
		fclose(in);
	return errors == 0 ? 0 : EXIT_FAILED;
}

static int
cmd_decide(int argc, char **argv)
{
	struct decide_args da;
	struct corsd_request req;
	struct corsd_answer *ans;
	struct corsd_str policy;
	struct loaded l;
	char names[640];
	size_t npolicies;
	int rc;

	memset(&da, 0, sizeof(da));
	rc = parse_request_args(argc, argv, &da, false);
	if (rc >= 0)
		goto out_args;
	/* Warnings are check's business; decide shows errors only. */
	if (!load(da.val[O_CONFIG], false, &l)) {
		rc = EXIT_FAILED;
		goto out_args;
	}

	npolicies = corsd_snapshot_policy_count(l.snap);
	policy_names(l.snap, names, sizeof(names));
	policy = arg_str(da.val[O_POLICY]);
	if (!policy.p && npolicies == 1)
		policy = corsd_snapshot_policy_name(l.snap, 0);
	if (da.seen[O_BATCH]) {
		rc = run_batch(&da, decide_in_process, l.snap, policy, names);
		goto out_snap;
	}
	if (!policy.p) {
		fprintf(stderr,
			"corsctl: no policy named: '%s' has %zu %s (%s); "
			"choose one with -p\n",
			da.val[O_CONFIG], npolicies,
			plural(npolicies, "policy", "policies"), names);
		rc = EXIT_USAGE;
		goto out_snap;
	}

	build_request(&da, policy, &req);

	ans = malloc(sizeof(*ans));
	if (!ans) {
		fprintf(stderr, "corsctl: out of memory\n");
		rc = EXIT_FAILED;
		goto out_snap;
	}
	corsd_decide(l.snap, &req, ans);
	rc = print_answer(ans, da.seen[O_JSON]);
	free(ans);
out_snap:
	corsd_snapshot_free(l.snap);
out_args:
	free(da.acrh);
	return rc;
}

static int
decide_through_corsd(void *ctx, const struct corsd_request *req,
		     struct corsd_answer *ans)
{
	return corsd_client_decide(ctx, req, ans);
}

static int
cmd_query(int argc, char **argv)
{
	struct decide_args da;
	struct corsd_request req;
	struct corsd_answer *ans = NULL;
	struct corsd_client *c = NULL;
	unsigned long timeout = 1000;
	char *end;
	int rc, err;

	memset(&da, 0, sizeof(da));
	rc = parse_request_args(argc, argv, &da, true);
	if (rc >= 0)
		goto out;
	if (da.val[O_TIMEOUT]) {
		errno = 0;
		timeout = strtoul(da.val[O_TIMEOUT], &end, 10);
		if (*end || errno || timeout == 0 || timeout > 60000) {
			rc = usage_error("--timeout '%s' is not a number of "
					 "milliseconds from 1 to 60000",
					 da.val[O_TIMEOUT]);
			goto out;
		}
	}
	c = corsd_client_open(da.val[O_INSTANCE], (unsigned)timeout, &err);
	if (!c) {
		rc = usage_error("instance '%s' is not a valid name (1-32 "
				 "bytes of [A-Za-z0-9_-]), or CORSD_DAEMON_UID "
				 "is not a number",
				 da.val[O_INSTANCE] ? da.val[O_INSTANCE] : "");
		goto out;
	}
	if (da.seen[O_BATCH]) {
		rc = run_batch(&da, decide_through_corsd, c,
			       arg_str(da.val[O_POLICY]), "");
		goto out;
	}
	ans = malloc(sizeof(*ans));
	if (!ans) {
		fprintf(stderr, "corsctl: out of memory\n");
		rc = EXIT_FAILED;
		goto out;
	}
	build_request(&da, arg_str(da.val[O_POLICY]), &req);
	err = corsd_client_decide(c, &req, ans);
	rc = print_answer(ans, da.seen[O_JSON]);
	if (err == -CORSD_EUNAVAIL && corsd_client_why(c)[0]) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' is unavailable: %s\n",
			da.val[O_INSTANCE] ? da.val[O_INSTANCE] : "default",
			corsd_client_why(c));
		rc = EXIT_FAILED;
	} else if (err == -CORSD_EUNAVAIL) {
		fprintf(stderr,
			"corsctl: corsd instance '%s' did not answer within "
			"%lu ms: is it running?\n",
			da.val[O_INSTANCE] ? da.val[O_INSTANCE] : "default",
			timeout);
		rc = EXIT_FAILED;
	} else if (err) {
		fprintf(stderr, "corsctl: query failed: %s\n",
			corsd_strerror(err));
		rc = EXIT_FAILED;
	}
out:
	free(ans);
	corsd_client_close(c);
	free(da.acrh);
	return rc;
}

/* reload and stats: [--instance NAME] [--json]. */
static int
cmd_control(int argc, char **argv, const char *what)
{
	const char *instance = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		const char *val;
		int id = find_opt(argv[i], &val);

		if (id == O_INSTANCE) {
			if (!val && i + 1 >= argc)
				return usage_error("option '%s' needs a value",
						   argv[i]);
			instance = val ? val : argv[++i];
		} else if (id == O_JSON && !val && !strcmp(what, "stats")) {
			json = true;
		} else if (id == O_HELP) {
			usage(stdout);
			return 0;
		} else {
			return usage_error(
				strcmp(what, "stats")
					? "unknown argument '%s' for "
					  "reload"
					: "unknown argument '%s' for "
					  "stats",
				argv[i]);
		}
	}
	return corsctl_control_command(instance, what, json);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!cmd) {
		fputs("corsctl: a command is needed\n\n", stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "check"))
		rc = cmd_check(argc - 1, argv + 1);
	else if (!strcmp(cmd, "decide"))
		rc = cmd_decide(argc - 1, argv + 1);
	else if (!strcmp(cmd, "query"))
		rc = cmd_query(argc - 1, argv + 1);
	else if (!strcmp(cmd, "reload") || !strcmp(cmd, "stats"))
		rc = cmd_control(argc - 1, argv + 1, cmd);
	else
		return usage_error("unknown command '%s'", cmd);

	/* A full disk or a closed pipe must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "corsctl: cannot write the output: %s\n",
			strerror(errno));
		return EXIT_FAILED;
	}
	return rc;
}
