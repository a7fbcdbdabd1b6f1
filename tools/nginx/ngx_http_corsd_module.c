
/*
 * ngx_http_corsd_module - CORS decisions from corsd.
 *
 * Layer: tools/nginx, a dynamic module for nginx; it links the corsd
 * client library (libcorsd_client.a) and nothing else of the project.
 * Written in nginx's own style.
 *
 * Per worker: one client handle (one request slot in corsd's segment),
 * opened in init_process and closed in exit_process, and one static
 * struct corsd_answer to decide into.  Per request: a small context in
 * the request pool with copies of the answer's headers; it survives
 * internal redirects (error_page, try_files) through a pool cleanup
 * entry, as the realip module does.
 *
 * Preflights are answered in the PREACCESS phase, with the answer's
 * status, headers and an empty body.  PREACCESS runs after the rewrites
 * (so the final location's corsd_policy applies) and before every ACCESS
 * phase handler whatever the order the modules were loaded in: a browser
 * sends a preflight without credentials, so auth_basic, auth_request or
 * allow/deny must never turn it into a 401 or 403.  It also keeps a
 * rejection of an actual request (403) out of "satisfy any".
 *
 * Every response of a location with a policy goes through the header
 * filter, error pages included: it removes the Access-Control-* headers
 * that the upstream or the application set, adds the answer's headers and
 * merges the answer's Vary tokens into the response's Vary.  A request
 * that ended before PREACCESS ("return 500" in a location, a server-level
 * "return") is decided in the filter itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "corsd_client.h"


#define NGX_HTTP_CORSD_UNAVAILABLE_CLOSED  0
#define NGX_HTTP_CORSD_UNAVAILABLE_PASS    1

#define NGX_HTTP_CORSD_DEFAULT_TIMEOUT     50

#define NGX_HTTP_CORSD_ORIGIN              0
#define NGX_HTTP_CORSD_ACRM                1
#define NGX_HTTP_CORSD_ACRH                2
#define NGX_HTTP_CORSD_ACRPN               3
#define NGX_HTTP_CORSD_NFIELDS             4


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  warned;   /* NO_POLICY logged by this worker */
} ngx_http_corsd_policy_t;


typedef struct {
    ngx_str_t                   instance;   /* NUL-terminated; "" default */
    ngx_array_t                 policies;   /* of ngx_http_corsd_policy_t * */
    ngx_flag_t                  enabled;    /* a corsd_policy is not "off" */
} ngx_http_corsd_main_conf_t;


typedef struct {
    ngx_http_corsd_policy_t    *policy;     /* NULL: off */
    ngx_msec_t                  timeout;
    ngx_uint_t                  unavailable;
} ngx_http_corsd_loc_conf_t;


typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   value;
    u_char                     *lowcase_name;
} ngx_http_corsd_header_t;


typedef struct {
    ngx_uint_t                  verdict;    /* enum corsd_verdict */
    ngx_uint_t                  status;
    ngx_uint_t                  nheaders;
    ngx_http_corsd_header_t    *headers;
    unsigned                    preflight:1;
    unsigned                    own:1;      /* strip the upstream's CORS */
} ngx_http_corsd_ctx_t;


static ngx_int_t ngx_http_corsd_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_corsd_header_filter(ngx_http_request_t *r);
static ngx_http_corsd_ctx_t *ngx_http_corsd_get_ctx(ngx_http_request_t *r);
static ngx_http_corsd_ctx_t *ngx_http_corsd_decide(ngx_http_request_t *r,
    ngx_http_corsd_loc_conf_t *lcf);
static ngx_int_t ngx_http_corsd_request_fields(ngx_http_request_t *r,
    struct corsd_request *req);
static ngx_http_corsd_ctx_t *ngx_http_corsd_copy_answer(ngx_http_request_t *r,
    struct corsd_answer *ans);
static void ngx_http_corsd_log_answer(ngx_http_request_t *r,
    ngx_http_corsd_loc_conf_t *lcf, struct corsd_answer *ans, int rc);
static ngx_int_t ngx_http_corsd_send_empty(ngx_http_request_t *r,
    ngx_uint_t status);
static void ngx_http_corsd_strip(ngx_http_request_t *r);
static ngx_int_t ngx_http_corsd_merge_vary(ngx_http_request_t *r,
    ngx_http_corsd_header_t *vary);
static ngx_uint_t ngx_http_corsd_next_token(u_char **pos, u_char *end,
    u_char **start, size_t *len);
static ngx_uint_t ngx_http_corsd_has_token(ngx_str_t *list, u_char *token,
    size_t len);
static void ngx_http_corsd_cleanup(void *data);

static void *ngx_http_corsd_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_corsd_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_corsd_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_corsd_instance(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_corsd_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_corsd_timeout_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_corsd_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_corsd_init_process(ngx_cycle_t *cycle);
static void ngx_http_corsd_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_corsd_unavailable[] = {
    { ngx_string("closed"), NGX_HTTP_CORSD_UNAVAILABLE_CLOSED },
    { ngx_string("pass"), NGX_HTTP_CORSD_UNAVAILABLE_PASS },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_http_corsd_timeout_post =
    { ngx_http_corsd_timeout_check };


static ngx_command_t  ngx_http_corsd_commands[] = {

    { ngx_string("corsd_instance"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_corsd_instance,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("corsd_policy"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_corsd_policy,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("corsd_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_corsd_loc_conf_t, timeout),
      &ngx_http_corsd_timeout_post },

    { ngx_string("corsd_unavailable"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_corsd_loc_conf_t, unavailable),
      &ngx_http_corsd_unavailable },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_corsd_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_corsd_init,                   /* postconfiguration */

    ngx_http_corsd_create_main_conf,       /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_corsd_create_loc_conf,        /* create location configuration */
    ngx_http_corsd_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_corsd_module = {
    NGX_MODULE_V1,
    &ngx_http_corsd_module_ctx,            /* module context */
    ngx_http_corsd_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_corsd_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_corsd_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/*
 * Per-worker state.  A worker is single-threaded, and a handle is not
 * inherited across fork(): each worker opens its own in init_process.
 * The answer is decided into this one static buffer (12 KB) and only the
 * few bytes a response needs are copied into the request pool.
 */

static struct corsd_client  *ngx_http_corsd_client;
static struct corsd_answer   ngx_http_corsd_answer;
static ngx_msec_t            ngx_http_corsd_client_timeout;
static const char           *ngx_http_corsd_instance_name = "default";
static ngx_uint_t            ngx_http_corsd_down;
static u_char                ngx_http_corsd_last_why[320];


static ngx_str_t  ngx_http_corsd_fields[NGX_HTTP_CORSD_NFIELDS] = {
    ngx_string("origin"),
    ngx_string("access-control-request-method"),
    ngx_string("access-control-request-headers"),
    ngx_string("access-control-request-private-network")
};


static ngx_int_t
ngx_http_corsd_handler(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    ngx_http_corsd_ctx_t       *ctx;
    ngx_http_corsd_loc_conf_t  *lcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_corsd_get_ctx(r);

    if (ctx != NULL) {
        /* decided before an internal redirect: the first answer stands */
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_corsd_module);

    if (lcf->policy == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_corsd_decide(r, lcf);

    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ctx->preflight) {

        if (ctx->verdict == CORSD_VERDICT_DENY) {
            return (ctx->status >= 400 && ctx->status <= 599)
                   ? (ngx_int_t) ctx->status : NGX_HTTP_FORBIDDEN;
        }

        return NGX_DECLINED;
    }

    switch (ctx->verdict) {

    case CORSD_VERDICT_ALLOW:
        status = ctx->status ? ctx->status : NGX_HTTP_NO_CONTENT;
        break;

    case CORSD_VERDICT_DENY:
        status = ctx->status ? ctx->status : NGX_HTTP_FORBIDDEN;
        break;

    case CORSD_VERDICT_EMPTY:
        status = ctx->status ? ctx->status : NGX_HTTP_OK;
        break;

    case CORSD_VERDICT_UNAVAILABLE:

        if (lcf->unavailable == NGX_HTTP_CORSD_UNAVAILABLE_PASS) {
            return NGX_DECLINED;
        }

        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        break;

    default: /* PASS, NO_POLICY: the application answers */
        return NGX_DECLINED;
    }

    if (status < 200 || status > 599) {
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, ngx_http_corsd_send_empty(r, status));

    return NGX_DONE;
}


static ngx_int_t
ngx_http_corsd_send_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    /* the header filter below adds the answer's headers */

    return ngx_http_send_header(r);
}


static ngx_int_t
ngx_http_corsd_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                  i;
    ngx_table_elt_t            *h;
    ngx_http_corsd_ctx_t       *ctx;
    ngx_http_corsd_header_t    *hdr;
    ngx_http_corsd_loc_conf_t  *lcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_corsd_get_ctx(r);

    if (ctx == NULL) {
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_corsd_module);

        if (lcf->policy == NULL
            || r->method_name.len == 0
            || r->headers_in.headers.last == NULL)
        {
            return ngx_http_next_header_filter(r);
        }

        /* the request ended before PREACCESS, e.g. "return 500" */

        ctx = ngx_http_corsd_decide(r, lcf);

        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    if (!ctx->own) {
        return ngx_http_next_header_filter(r);
    }

    ngx_http_corsd_strip(r);

    for (i = 0; i < ctx->nheaders; i++) {
        hdr = &ctx->headers[i];

        if (hdr->name.len == sizeof("vary") - 1
            && ngx_strncmp(hdr->lowcase_name, "vary", sizeof("vary") - 1)
               == 0)
        {
            if (ngx_http_corsd_merge_vary(r, hdr) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = hdr->name;
        h->value = hdr->value;
        h->lowcase_key = hdr->lowcase_name;
    }

    return ngx_http_next_header_filter(r);
}


/* Remove every Access-Control-* header the upstream or the app set. */

static void
ngx_http_corsd_strip(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len >= sizeof("access-control-") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "access-control-",
                               sizeof("access-control-") - 1)
               == 0)
        {
            h[i].hash = 0;
        }
    }
}


/*
 * Append the tokens of the answer's Vary that the response's Vary lines
 * do not have yet (compared case-insensitively) to the first Vary line;
 * a response without Vary gets the answer's.  "Vary: *" covers all.
 */

static ngx_int_t
ngx_http_corsd_merge_vary(ngx_http_request_t *r, ngx_http_corsd_header_t *vary)
{
    u_char           *p, *last, *start, *end, *dst;
    size_t            len;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *first, *lines[8];

    first = NULL;
    n = 0;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != sizeof("vary") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "vary",
                               sizeof("vary") - 1)
               != 0)
        {
            continue;
        }

        if (first == NULL) {
            first = &h[i];
        }

        if (n < sizeof(lines) / sizeof(lines[0])) {
            lines[n++] = &h[i];
        }
    }

    if (first == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = vary->name;
        h->value = vary->value;
        h->lowcase_key = vary->lowcase_name;

        return NGX_OK;
    }

    /* at most the whole answer's value is appended, with ", " each */

    len = first->value.len + vary->value.len * 2 + 2;

    dst = ngx_pnalloc(r->pool, len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    last = ngx_cpymem(dst, first->value.data, first->value.len);

    p = vary->value.data;
    end = p + vary->value.len;

    while (ngx_http_corsd_next_token(&p, end, &start, &len)) {

        for (i = 0; i < n; i++) {
            if (ngx_http_corsd_has_token(&lines[i]->value, start, len)) {
                break;
            }
        }

        if (i < n) {
            continue;
        }

        if (last > dst) {
            *last++ = ',';
            *last++ = ' ';
        }

        last = ngx_cpymem(last, start, len);

        /* later tokens of the answer are compared with this one too */

        first->value.data = dst;
        first->value.len = last - dst;
    }

    return NGX_OK;
}


/*
 * The next element of a comma-separated header list, without the optional
 * whitespace around it; empty elements are skipped.  Returns 0 at the end.
 */

static ngx_uint_t
ngx_http_corsd_next_token(u_char **pos, u_char *end, u_char **start,
    size_t *len)
{
    u_char  *p;

    for (p = *pos; p < end; /* void */) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        *start = p;

        while (p < end && *p != ',') {
            p++;
        }

        *len = p - *start;

        while (*len && ((*start)[*len - 1] == ' '
                        || (*start)[*len - 1] == '\t'))
        {
            (*len)--;
        }

        if (*len) {
            *pos = p;
            return 1;
        }
    }

    *pos = end;
    return 0;
}


static ngx_uint_t
ngx_http_corsd_has_token(ngx_str_t *list, u_char *token, size_t len)
{
    u_char  *p, *end, *start;
    size_t   n;

    p = list->data;
    end = p + list->len;

    while (ngx_http_corsd_next_token(&p, end, &start, &n)) {

        if (n == 1 && *start == '*') {
            return 1;
        }

        if (n == len && ngx_strncasecmp(start, token, len) == 0) {
            return 1;
        }
    }

    return 0;
}


static ngx_http_corsd_ctx_t *
ngx_http_corsd_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_corsd_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_corsd_module);

    if (ctx == NULL && r == r->main && (r->internal || r->filter_finalize)) {

        /*
         * an internal redirect cleared the module contexts; the answer
         * is still referenced by its pool cleanup entry
         */

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_corsd_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_corsd_module);
                break;
            }
        }
    }

    return ctx;
}


static void
ngx_http_corsd_cleanup(void *data)
{
    /* nothing to free: the entry only finds the context again */
}


static ngx_http_corsd_ctx_t *
ngx_http_corsd_decide(ngx_http_request_t *r, ngx_http_corsd_loc_conf_t *lcf)
{
    int                    rc;
    ngx_uint_t             preflight;
    ngx_pool_cleanup_t    *cln;
    struct corsd_answer   *ans;
    struct corsd_request   req;
    ngx_http_corsd_ctx_t  *ctx;

    ngx_memzero(&req, sizeof(struct corsd_request));

    req.policy.p = (const char *) lcf->policy->name.data;
    req.policy.len = lcf->policy->name.len;
    req.method.p = (const char *) r->method_name.data;
    req.method.len = r->method_name.len;

    if (ngx_http_corsd_request_fields(r, &req) != NGX_OK) {
        return NULL;
    }

    /*
     * corsd says whether the request was a preflight; an UNAVAILABLE
     * answer comes from the client library and does not, so the module
     * tells it itself, as DESIGN.md section 3 defines it
     */

    preflight = corsd_request_is_preflight(&req);

    ans = &ngx_http_corsd_answer;

    if (ngx_http_corsd_client == NULL) {
        ngx_memzero(ans, offsetof(struct corsd_answer, block));
        ans->verdict = CORSD_VERDICT_UNAVAILABLE;
        ans->reason = CORSD_REASON_UNAVAILABLE;
        rc = -CORSD_EUNAVAIL;

    } else {

        if (lcf->timeout != ngx_http_corsd_client_timeout
            && corsd_client_set_timeout(ngx_http_corsd_client,
                                        (unsigned) lcf->timeout)
               == 0)
        {
            ngx_http_corsd_client_timeout = lcf->timeout;
        }

        rc = corsd_client_decide(ngx_http_corsd_client, &req, ans);
    }

    ngx_http_corsd_log_answer(r, lcf, ans, rc);

    ctx = ngx_http_corsd_copy_answer(r, ans);
    if (ctx == NULL) {
        return NULL;
    }

    if (ans->verdict != CORSD_VERDICT_UNAVAILABLE) {
        preflight = (ans->flags & CORSD_ANSWER_PREFLIGHT) ? 1 : 0;
    }

    ctx->preflight = preflight;
    ctx->own = !(ans->verdict == CORSD_VERDICT_UNAVAILABLE
                 && lcf->unavailable == NGX_HTTP_CORSD_UNAVAILABLE_PASS);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_corsd_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_corsd_module);

    return ctx;
}


/*
 * Origin, Access-Control-Request-Method, -Headers and -Private-Network.
 * A header sent on several lines is joined with ",": every ACRH line
 * counts, and two Origin or ACRM values reach corsd as what they are, a
 * list, which it denies.  The second pass runs only when a field came on
 * several lines.
 */

static ngx_int_t
ngx_http_corsd_request_fields(ngx_http_request_t *r, struct corsd_request *req)
{
    size_t             len[NGX_HTTP_CORSD_NFIELDS];
    u_char            *buf[NGX_HTTP_CORSD_NFIELDS];
    ngx_uint_t         i, k, pass, joined, n[NGX_HTTP_CORSD_NFIELDS];
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;
    struct corsd_str  *field[NGX_HTTP_CORSD_NFIELDS];

    field[NGX_HTTP_CORSD_ORIGIN] = &req->origin;
    field[NGX_HTTP_CORSD_ACRM] = &req->acrm;
    field[NGX_HTTP_CORSD_ACRH] = &req->acrh;
    field[NGX_HTTP_CORSD_ACRPN] = &req->acrpn;

    ngx_memzero(len, sizeof(len));
    ngx_memzero(n, sizeof(n));
    joined = 0;

    for (pass = 0; pass < 2; pass++) {

        part = &r->headers_in.headers.part;
        h = part->elts;

        for (i = 0; /* void */ ; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if (h[i].hash == 0 || h[i].lowcase_key == NULL) {
                continue;
            }

            for (k = 0; k < NGX_HTTP_CORSD_NFIELDS; k++) {
                if (h[i].key.len == ngx_http_corsd_fields[k].len
                    && ngx_strncmp(h[i].lowcase_key,
                                   ngx_http_corsd_fields[k].data,
                                   h[i].key.len)
                       == 0)
                {
                    break;
                }
            }

            if (k == NGX_HTTP_CORSD_NFIELDS) {
                continue;
            }

            if (pass == 0) {
                if (n[k]++ == 0) {
                    field[k]->p = h[i].value.data
                                  ? (const char *) h[i].value.data : "";
                    field[k]->len = h[i].value.len;
                }

                len[k] += h[i].value.len + 1;
                continue;
            }

            if (n[k] < 2) {
                continue;
            }

            if (field[k]->len) {
                buf[k][field[k]->len++] = ',';
            }

            ngx_memcpy(buf[k] + field[k]->len, h[i].value.data,
                       h[i].value.len);
            field[k]->len += h[i].value.len;
        }

        if (pass == 1) {
            break;
        }

        for (k = 0; k < NGX_HTTP_CORSD_NFIELDS; k++) {

            if (n[k] < 2) {
                continue;
            }

            buf[k] = ngx_pnalloc(r->pool, len[k]);
            if (buf[k] == NULL) {
                return NGX_ERROR;
            }

            field[k]->p = (const char *) buf[k];
            field[k]->len = 0;
            joined = 1;
        }

        if (!joined) {
            break;
        }
    }

    return NGX_OK;
}


/*
 * The header names corsd speaks, from its one table (corsd/tbl_headers.h),
 * and their lower case, made once at configuration into static storage
 * (the same bytes at every reload): a name found here is not copied or
 * lowercased for each request.
 */

typedef struct {
    ngx_str_t                   name;
    u_char                      lowcase[48];
} ngx_http_corsd_known_t;


static ngx_http_corsd_known_t  ngx_http_corsd_known[] = {
#define CORSD_HDR(id, text)  { ngx_string(text), "" },
#include "corsd/tbl_headers.h"
#undef CORSD_HDR
    { ngx_null_string, "" }
};


static ngx_int_t
ngx_http_corsd_init_known(void)
{
    ngx_http_corsd_known_t  *k;

    for (k = ngx_http_corsd_known; k->name.len; k++) {
        if (k->name.len >= sizeof(k->lowcase)) {
            return NGX_ERROR;
        }

        ngx_strlow(k->lowcase, k->name.data, k->name.len);
        k->lowcase[k->name.len] = '\0';
    }

    return NGX_OK;
}


static ngx_http_corsd_known_t *
ngx_http_corsd_find_known(struct corsd_str *name)
{
    ngx_http_corsd_known_t  *k;

    for (k = ngx_http_corsd_known; k->name.len; k++) {
        if (k->name.len == name->len
            && ngx_memcmp(k->name.data, name->p, name->len) == 0)
        {
            return k;
        }
    }

    return NULL;
}


/* The verdict, the status and copies of the headers, in one allocation. */

static ngx_http_corsd_ctx_t *
ngx_http_corsd_copy_answer(ngx_http_request_t *r, struct corsd_answer *ans)
{
    u_char                   *p;
    size_t                    size;
    ngx_uint_t                i, n;
    struct corsd_str          name, value;
    ngx_http_corsd_ctx_t     *ctx;
    ngx_http_corsd_known_t   *known[CORSD_ANSWER_HEADERS_MAX];
    ngx_http_corsd_header_t  *hdr;

    n = ans->nheaders;

    if (n > CORSD_ANSWER_HEADERS_MAX) {
        n = 0;
    }

    size = sizeof(ngx_http_corsd_ctx_t) + n * sizeof(ngx_http_corsd_header_t);

    for (i = 0; i < n; i++) {
        name = corsd_answer_header_name(ans, i);
        known[i] = ngx_http_corsd_find_known(&name);

        size += ans->headers[i].value_len;

        if (known[i] == NULL) {
            size += 2 * ans->headers[i].name_len;
        }
    }

    /* every field is set below, preflight and own by the caller */

    ctx = ngx_palloc(r->pool, size);
    if (ctx == NULL) {
        return NULL;
    }

    ctx->verdict = ans->verdict;
    ctx->status = ans->status;
    ctx->nheaders = n;
    ctx->headers = (ngx_http_corsd_header_t *) (ctx + 1);

    p = (u_char *) (ctx->headers + n);

    for (i = 0; i < n; i++) {
        hdr = &ctx->headers[i];
        value = corsd_answer_header_value(ans, i);

        if (known[i]) {
            hdr->name = known[i]->name;
            hdr->lowcase_name = known[i]->lowcase;

        } else {
            name = corsd_answer_header_name(ans, i);

            hdr->name.data = p;
            hdr->name.len = name.len;
            p = ngx_cpymem(p, name.p, name.len);

            hdr->lowcase_name = p;
            ngx_strlow(p, hdr->name.data, name.len);
            p += name.len;
        }

        hdr->value.data = p;
        hdr->value.len = value.len;
        p = ngx_cpymem(p, value.p, value.len);
    }

    return ctx;
}


static void
ngx_http_corsd_log_answer(ngx_http_request_t *r,
    ngx_http_corsd_loc_conf_t *lcf, struct corsd_answer *ans, int rc)
{
    size_t                     len;
    u_char                     reason[512];
    const char                *why;
    struct corsd_client_stats  st;

    if (ans->verdict == CORSD_VERDICT_UNAVAILABLE) {

        /*
         * once per change of state or of reason: the client library
         * says what it found (corsd not running, segments that are not
         * corsd's, ...), or why its breaker is open (corsd did not
         * answer in time, or its tick is stale: the same words until
         * it closes), or only that corsd refused the request
         */

        why = ngx_http_corsd_client ? corsd_client_why(ngx_http_corsd_client)
                                    : "";
        if (why[0] == '\0') {
            why = corsd_strerror(rc);
        }

        len = ngx_strlen(why);
        if (len >= sizeof(ngx_http_corsd_last_why)) {
            len = sizeof(ngx_http_corsd_last_why) - 1;
        }

        if (!ngx_http_corsd_down
            || ngx_strncmp(ngx_http_corsd_last_why, why, len) != 0
            || ngx_http_corsd_last_why[len] != '\0')
        {
            ngx_http_corsd_down = 1;
            ngx_memcpy(ngx_http_corsd_last_why, why, len);
            ngx_http_corsd_last_why[len] = '\0';

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "corsd instance \"%s\" is unavailable (%s), "
                          "answering as \"corsd_unavailable %s\"",
                          ngx_http_corsd_instance_name,
                          ngx_http_corsd_last_why,
                          lcf->unavailable == NGX_HTTP_CORSD_UNAVAILABLE_PASS
                          ? "pass" : "closed");
        }

        return;
    }

    /*
     * a cache hit while the handle's breaker is open is not corsd
     * answering again: misses are still withheld
     */

    if (ngx_http_corsd_down
        && !(ngx_http_corsd_client
             && corsd_client_stats(ngx_http_corsd_client, &st) == 0
             && st.open))
    {
        ngx_http_corsd_down = 0;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "corsd instance \"%s\" answers again",
                      ngx_http_corsd_instance_name);
    }

    if (ans->verdict == CORSD_VERDICT_NO_POLICY) {

        if (!lcf->policy->warned) {
            lcf->policy->warned = 1;

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "corsd policy \"%V\" is not defined in the policy "
                          "file of instance \"%s\": no CORS headers are added",
                          &lcf->policy->name, ngx_http_corsd_instance_name);
        }

        return;
    }

    if (ans->verdict == CORSD_VERDICT_DENY
        && r->connection->log->log_level >= NGX_LOG_INFO)
    {
        corsd_answer_reason(ans, (char *) reason, sizeof(reason));

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "corsd policy \"%V\" denied the request (%ui): %s",
                      &lcf->policy->name, (ngx_uint_t) ans->status, reason);
        return;
    }

#if (NGX_DEBUG)

    if (r->connection->log->log_level & NGX_LOG_DEBUG_HTTP) {
        corsd_answer_reason(ans, (char *) reason, sizeof(reason));

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "corsd policy \"%V\": %s %ui, %s",
                       &lcf->policy->name, corsd_verdict_name(ans->verdict),
                       (ngx_uint_t) ans->status, reason);
    }

#endif
}


static void *
ngx_http_corsd_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_corsd_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_corsd_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->instance = { 0, NULL };
     *     cmcf->enabled = 0;
     */

    if (ngx_array_init(&cmcf->policies, cf->pool, 4,
                       sizeof(ngx_http_corsd_policy_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return cmcf;
}


static void *
ngx_http_corsd_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_corsd_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_corsd_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->policy = NGX_CONF_UNSET_PTR;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->unavailable = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_corsd_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_corsd_loc_conf_t *prev = parent;
    ngx_http_corsd_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->policy, prev->policy, NULL);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout,
                              NGX_HTTP_CORSD_DEFAULT_TIMEOUT);
    ngx_conf_merge_uint_value(conf->unavailable, prev->unavailable,
                              NGX_HTTP_CORSD_UNAVAILABLE_CLOSED);

    return NGX_CONF_OK;
}


static char *
ngx_http_corsd_instance(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_corsd_main_conf_t *cmcf = conf;

    u_char      c;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (cmcf->instance.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* the rule of corsd_client_open(): 1-32 bytes of [A-Za-z0-9_-] */

    if (value[1].len == 0 || value[1].len > 32) {
        goto invalid;
    }

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            goto invalid;
        }
    }

    /* the arguments of a directive are NUL-terminated */

    cmcf->instance = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid corsd instance name \"%V\": 1 to 32 bytes "
                       "of letters, digits, \"_\" and \"-\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_corsd_policy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_corsd_loc_conf_t *lcf = conf;

    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_http_corsd_policy_t      *policy, **pp;
    ngx_http_corsd_main_conf_t   *cmcf;

    if (lcf->policy != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        lcf->policy = NULL;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].len > CORSD_POLICY_NAME_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid corsd policy name \"%V\": 1 to %d bytes",
                           &value[1], CORSD_POLICY_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid corsd policy name \"%V\": "
                               "control character or space", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_corsd_module);

    /* one entry per name, shared by the locations that name it */

    pp = cmcf->policies.elts;

    for (i = 0; i < cmcf->policies.nelts; i++) {
        if (pp[i]->name.len == value[1].len
            && ngx_strncmp(pp[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            lcf->policy = pp[i];
            cmcf->enabled = 1;
            return NGX_CONF_OK;
        }
    }

    policy = ngx_pcalloc(cf->pool, sizeof(ngx_http_corsd_policy_t));
    if (policy == NULL) {
        return NGX_CONF_ERROR;
    }

    policy->name = value[1];

    pp = ngx_array_push(&cmcf->policies);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }

    *pp = policy;

    lcf->policy = policy;
    cmcf->enabled = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_corsd_timeout_check(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms < CORSD_CLIENT_TIMEOUT_MIN_MS
        || *ms > CORSD_CLIENT_TIMEOUT_MAX_MS)
    {
        return "must be between 1ms and 60s";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_corsd_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_corsd_init_known() != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "corsd: a header name in corsd/tbl_headers.h "
                           "is too long for the module's table");
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_corsd_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_corsd_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_corsd_init_process(ngx_cycle_t *cycle)
{
    int                          err;
    ngx_http_corsd_main_conf_t  *cmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        /* cache manager and loader: they serve no requests */
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_corsd_module);

    if (cmcf == NULL || !cmcf->enabled) {
        return NGX_OK;
    }

    if (cmcf->instance.len) {
        ngx_http_corsd_instance_name = (const char *) cmcf->instance.data;
    }

    /*
     * succeeds while corsd is not running yet: the handle attaches (and
     * re-attaches after a corsd restart) by itself
     */

    ngx_http_corsd_client = corsd_client_open(ngx_http_corsd_instance_name,
                                              NGX_HTTP_CORSD_DEFAULT_TIMEOUT,
                                              &err);

    if (ngx_http_corsd_client == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "corsd_client_open(\"%s\") failed: %s; requests are "
                      "answered as if corsd were unavailable",
                      ngx_http_corsd_instance_name, corsd_strerror(err));
        return NGX_OK;
    }

    ngx_http_corsd_client_timeout = NGX_HTTP_CORSD_DEFAULT_TIMEOUT;

    return NGX_OK;
}


static void
ngx_http_corsd_exit_process(ngx_cycle_t *cycle)
{
    corsd_client_close(ngx_http_corsd_client);
    ngx_http_corsd_client = NULL;
}
