/*
 * tbl_rules.h - the rules the policy loader enforces, as an X-macro table.
 *
 * Layer: engine.  Row: CORSD_RULE(NAME, "rule-id", "what it guards").
 * The rule id is printed in every diagnostic (file:line:col: severity:
 * message [rule-id]) and asserted by the bad-policy corpus in tests/data,
 * so ids never change meaning once released.
 */
CORSD_RULE(YAML_SYNTAX, "yaml-syntax",
	"the file is not well-formed YAML (or JSON)")
CORSD_RULE(DOCUMENT, "document",
	"the file holds exactly one mapping document with 'version' and 'policies'")
CORSD_RULE(VERSION, "version",
	"'version' is present and is 1")
CORSD_RULE(UNKNOWN_KEY, "unknown-key",
	"every key is one the format defines; a typo never silently widens or narrows access")
CORSD_RULE(DUPLICATE_KEY, "duplicate-key",
	"a key appears at most once in a mapping")
CORSD_RULE(TYPE, "type",
	"each value has the type its key requires")
CORSD_RULE(POLICY_NAME, "policy-name",
	"policy names are 1-64 bytes of [A-Za-z0-9._-]")
CORSD_RULE(ORIGINS_REQUIRED, "origins-required",
	"every policy lists at least one origin")
CORSD_RULE(ORIGIN_SYNTAX, "origin-syntax",
	"origins are scheme://host[:port]: no path, query, userinfo, fragment or non-ASCII host")
CORSD_RULE(ORIGIN_REGEX_ANCHOR, "origin-regex-anchor",
	"a regex origin is anchored with ^ and $")
CORSD_RULE(ORIGIN_REGEX_COMPILE, "origin-regex-compile",
	"a regex origin compiles with PCRE2")
CORSD_RULE(ORIGIN_NULL, "origin-null",
	"allowing the opaque origin 'null' lets sandboxed documents and data: URLs in (warning)")
CORSD_RULE(ORIGIN_PUBLIC_SUFFIX, "origin-public-suffix",
	"a subdomain wildcard on a public suffix lets strangers in (error with credentials)")
CORSD_RULE(ORIGIN_DUPLICATE, "origin-duplicate",
	"an origin is listed once per policy (warning)")
CORSD_RULE(CREDENTIALS_WILDCARD_ORIGIN, "credentials-wildcard-origin",
	"'*' as the only origin with credentials could never work")
CORSD_RULE(CREDENTIALS_WILDCARD_EXPOSE, "credentials-wildcard-expose",
	"'*' expose_headers with credentials could never work")
CORSD_RULE(CREDENTIALS_WILDCARD_REFLECT, "credentials-wildcard-reflect",
	"'*' methods or allow_headers with credentials are answered by reflection (warning)")
CORSD_RULE(METHOD_SYNTAX, "method-syntax",
	"a method is an HTTP token")
CORSD_RULE(HEADER_SYNTAX, "header-syntax",
	"a header name is an HTTP token")
CORSD_RULE(MAX_AGE_RANGE, "max-age-range",
	"max_age is an integer from 0 to 86400")
CORSD_RULE(MAX_AGE_CAP, "max-age-cap",
	"max_age above 7200 is capped by Chromium (warning)")
CORSD_RULE(PREFLIGHT_STATUS, "preflight-status",
	"preflight_status is 200 or 204")
CORSD_RULE(REJECT_BEHAVIOUR, "reject-behaviour",
	"on_preflight_reject is deny, pass or empty; on_origin_reject is pass or deny")
CORSD_RULE(LIMIT, "limit",
	"a list or rendered header stays within corsd's fixed bounds")
