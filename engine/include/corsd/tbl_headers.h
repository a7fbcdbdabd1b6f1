/*
 * tbl_headers.h - the response and request header names corsd speaks, as an
 * X-macro table.  Row: CORSD_HDR(NAME, "Header-Name").
 *
 * Layer: engine.  Spelled once here so code, docs and tests agree.
 */
CORSD_HDR(ACAO,  "Access-Control-Allow-Origin")
CORSD_HDR(ACAC,  "Access-Control-Allow-Credentials")
CORSD_HDR(ACAM,  "Access-Control-Allow-Methods")
CORSD_HDR(ACAH,  "Access-Control-Allow-Headers")
CORSD_HDR(ACMA,  "Access-Control-Max-Age")
CORSD_HDR(ACEH,  "Access-Control-Expose-Headers")
CORSD_HDR(ACAPN, "Access-Control-Allow-Private-Network")
CORSD_HDR(VARY,  "Vary")
CORSD_HDR(ORIGIN, "Origin")
CORSD_HDR(ACRM,  "Access-Control-Request-Method")
CORSD_HDR(ACRH,  "Access-Control-Request-Headers")
CORSD_HDR(ACRPN, "Access-Control-Request-Private-Network")
