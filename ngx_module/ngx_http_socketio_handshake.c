
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_socketio_handshake.h"
#include "ngx_socketio_json.h"


/*
 * socket.handshake as Node builds it (PROTOCOL 2.9), without "auth" (per
 * namespace socket) and its closing brace: what fetchSockets() shows of a
 * socket.  Built once, when the request is still there.
 */


#define NGX_HTTP_SOCKETIO_MAX_QUERY_KEYS  1000


typedef struct {
    ngx_str_t   key;
    ngx_str_t   value;
    ngx_uint_t  done;
} ngx_http_socketio_pair_t;


static void ngx_http_socketio_handshake_headers(ngx_http_request_t *r,
    ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_handshake_time(ngx_socketio_wbuf_t *b);
static ngx_int_t ngx_http_socketio_handshake_query(ngx_http_request_t *r,
    ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_unescape(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_socketio_array_index(ngx_str_t *key,
    uint32_t *index);
static void ngx_http_socketio_latin1(ngx_socketio_wbuf_t *b, u_char *p,
    size_t len);


/* what Node's http parser keeps only once (the first wins) */

static ngx_str_t  ngx_http_socketio_single_headers[] = {
    ngx_string("age"), ngx_string("authorization"),
    ngx_string("content-length"), ngx_string("content-type"),
    ngx_string("etag"), ngx_string("expires"), ngx_string("from"),
    ngx_string("host"), ngx_string("if-modified-since"),
    ngx_string("if-unmodified-since"), ngx_string("last-modified"),
    ngx_string("location"), ngx_string("max-forwards"),
    ngx_string("proxy-authorization"), ngx_string("referer"),
    ngx_string("retry-after"), ngx_string("server"),
    ngx_string("user-agent"),
    ngx_null_string
};


ngx_int_t
ngx_http_socketio_handshake(ngx_http_request_t *r, ngx_str_t *out)
{
    ngx_msec_t            issued;
    ngx_table_elt_t      *h;
    ngx_time_t           *tp;
    ngx_socketio_wbuf_t   b;

    if (ngx_socketio_wbuf_init(&b, 512) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_wbuf_str(&b, "{\"headers\":");
    ngx_http_socketio_handshake_headers(r, &b);

    ngx_socketio_wbuf_str(&b, ",\"time\":");
    ngx_http_socketio_handshake_time(&b);

    /* after realip, as the application wants it */

    ngx_socketio_wbuf_str(&b, ",\"address\":");
    ngx_socketio_json_string(&b, r->connection->addr_text.data,
                             r->connection->addr_text.len);

    ngx_socketio_wbuf_str(&b, ",\"xdomain\":");

    h = ngx_http_socketio_find_header(r, "origin", 6);

    /* !!headers.origin: an empty Origin is no origin */

    if (h && h->value.len) {
        ngx_socketio_wbuf_str(&b, "true");

    } else {
        ngx_socketio_wbuf_str(&b, "false");
    }

    ngx_socketio_wbuf_str(&b, ",\"secure\":");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_socketio_wbuf_str(&b, "true");

    } else
#endif
    {
        ngx_socketio_wbuf_str(&b, "false");
    }

    tp = ngx_timeofday();
    issued = (ngx_msec_t) tp->sec * 1000 + tp->msec;

    ngx_socketio_wbuf_str(&b, ",\"issued\":");
    ngx_socketio_json_uint(&b, issued);

    ngx_socketio_wbuf_str(&b, ",\"url\":");
    ngx_http_socketio_latin1(&b, r->unparsed_uri.data, r->unparsed_uri.len);

    ngx_socketio_wbuf_str(&b, ",\"query\":");

    if (ngx_http_socketio_handshake_query(r, &b) != NGX_OK) {
        ngx_socketio_wbuf_free(&b);
        return NGX_ERROR;
    }

    if (b.failed) {
        ngx_socketio_wbuf_free(&b);
        return NGX_ERROR;
    }

    out->len = b.pos - b.start;
    out->data = ngx_pnalloc(r->pool, out->len);

    if (out->data == NULL) {
        ngx_socketio_wbuf_free(&b);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, b.start, out->len);
    ngx_socketio_wbuf_free(&b);

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_socketio_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Lower-cased names in arrival order; a repeated header is joined with
 * ", " ("; " for cookie), or kept once for those Node keeps once
 */

static void
ngx_http_socketio_handshake_headers(ngx_http_request_t *r,
    ngx_socketio_wbuf_t *b)
{
    u_char           *name;
    ngx_str_t        *single;
    ngx_uint_t        i, j, k, n, once, first;
    ngx_list_part_t  *part, *part2;
    ngx_table_elt_t  *h, *h2;

    ngx_socketio_wbuf_addc(b, '{');

    first = 1;
    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++, n++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        /* only the first of a name starts an entry */

        part2 = &r->headers_in.headers.part;
        h2 = part2->elts;

        for (j = 0, k = 0; k < n; j++, k++) {
            if (j >= part2->nelts) {
                part2 = part2->next;
                h2 = part2->elts;
                j = 0;
            }

            if (h2[j].key.len == h[i].key.len
                && ngx_strncasecmp(h2[j].key.data, h[i].key.data,
                                   h[i].key.len) == 0)
            {
                break;
            }
        }

        if (k < n) {
            continue;
        }

        name = ngx_pnalloc(r->pool, h[i].key.len);
        if (name == NULL) {
            b->failed = 1;
            return;
        }

        ngx_strlow(name, h[i].key.data, h[i].key.len);

        once = 0;

        for (single = ngx_http_socketio_single_headers; single->len; single++) {
            if (single->len == h[i].key.len
                && ngx_strncmp(single->data, name, single->len) == 0)
            {
                once = 1;
                break;
            }
        }

        if (!first) {
            ngx_socketio_wbuf_addc(b, ',');
        }

        first = 0;

        ngx_socketio_json_string(b, name, h[i].key.len);
        ngx_socketio_wbuf_addc(b, ':');

        if (once) {
            ngx_http_socketio_latin1(b, h[i].value.data, h[i].value.len);
            continue;
        }

        /* the value, with those of the same name after it, joined */

        {
            ngx_socketio_wbuf_t  v;
            ngx_uint_t           m;

            if (ngx_socketio_wbuf_init(&v, h[i].value.len + 1) != NGX_OK) {
                b->failed = 1;
                return;
            }

            part2 = part;
            h2 = h;
            m = 0;

            for (j = i; /* void */ ; j++) {

                if (j >= part2->nelts) {
                    if (part2->next == NULL) {
                        break;
                    }

                    part2 = part2->next;
                    h2 = part2->elts;
                    j = 0;
                }

                if (h2[j].key.len != h[i].key.len
                    || ngx_strncasecmp(h2[j].key.data, h[i].key.data,
                                       h[i].key.len) != 0)
                {
                    continue;
                }

                if (m++) {
                    if (h[i].key.len == 6
                        && ngx_strncmp(name, "cookie", 6) == 0)
                    {
                        ngx_socketio_wbuf_str(&v, "; ");

                    } else {
                        ngx_socketio_wbuf_str(&v, ", ");
                    }
                }

                ngx_socketio_wbuf_add(&v, h2[j].value.data, h2[j].value.len);
            }

            if (v.failed) {
                b->failed = 1;

            } else {
                ngx_http_socketio_latin1(b, v.start, v.pos - v.start);
            }

            ngx_socketio_wbuf_free(&v);
        }
    }

    ngx_socketio_wbuf_addc(b, '}');
}


/* new Date() + "": "Sun Nov 22 2026 08:15:22 GMT+0000 (Coordinated ...)" */

static void
ngx_http_socketio_handshake_time(ngx_socketio_wbuf_t *b)
{
    u_char     buf[96], *p;
    ngx_tm_t   tm;

    static const char  *days[] = {
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
    };

    static const char  *months[] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
    };

    ngx_gmtime(ngx_time(), &tm);

    p = ngx_sprintf(buf, "\"%s %s %02d %4d %02d:%02d:%02d GMT+0000 "
                    "(Coordinated Universal Time)\"",
                    days[tm.ngx_tm_wday], months[tm.ngx_tm_mon - 1],
                    tm.ngx_tm_mday, tm.ngx_tm_year, tm.ngx_tm_hour,
                    tm.ngx_tm_min, tm.ngx_tm_sec);

    ngx_socketio_wbuf_add(b, buf, p - buf);
}


/*
 * querystring.parse(): "+" is a space, %XX decoded, a repeated key gives
 * an array of its values; at most 1000 keys
 */

static ngx_int_t
ngx_http_socketio_handshake_query(ngx_http_request_t *r,
    ngx_socketio_wbuf_t *b)
{
    u_char                    *p, *end, *amp, *eq;
    uint32_t                   index, min;
    ngx_str_t                 *value;
    ngx_uint_t                 i, j, n, first, pass;
    ngx_array_t                pairs;
    ngx_http_socketio_pair_t  *pair, *all;

    if (ngx_array_init(&pairs, r->pool, 8, sizeof(ngx_http_socketio_pair_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = r->args.data;
    end = p + r->args.len;

    while (p < end && pairs.nelts < NGX_HTTP_SOCKETIO_MAX_QUERY_KEYS) {

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        eq = ngx_strlchr(p, amp, '=');

        pair = ngx_array_push(&pairs);
        if (pair == NULL) {
            return NGX_ERROR;
        }

        pair->done = 0;

        ngx_http_socketio_unescape(r->pool, p, (eq ? eq : amp) - p,
                                   &pair->key);

        if (eq) {
            ngx_http_socketio_unescape(r->pool, eq + 1, amp - eq - 1,
                                       &pair->value);

        } else {
            ngx_str_set(&pair->value, "");
        }

        if (pair->key.data == NULL || pair->value.data == NULL) {
            return NGX_ERROR;
        }

        p = amp + 1;
    }

    all = pairs.elts;
    n = pairs.nelts;
    first = 1;

    /*
     * Object.fromEntries(searchParams): a key where it first came, with
     * the value it last had; array-index keys go first, in numeric order,
     * as JavaScript orders the keys of an object
     */

    ngx_socketio_wbuf_addc(b, '{');

    for (pass = 0; pass < 2; pass++) {

        for ( ;; ) {

            /* pass 0: the smallest index left; pass 1: the next key */

            i = n;
            min = 0;

            for (j = 0; j < n; j++) {
                if (all[j].done) {
                    continue;
                }

                if (pass == 1) {
                    i = j;
                    break;
                }

                if (ngx_http_socketio_array_index(&all[j].key, &index)
                    == NGX_OK
                    && (i == n || index < min))
                {
                    min = index;
                    i = j;
                }
            }

            if (i == n) {
                break;
            }

            value = &all[i].value;

            for (j = i; j < n; j++) {
                if (all[j].key.len == all[i].key.len
                    && ngx_memcmp(all[j].key.data, all[i].key.data,
                                  all[i].key.len) == 0)
                {
                    value = &all[j].value;
                    all[j].done = 1;
                }
            }

            if (!first) {
                ngx_socketio_wbuf_addc(b, ',');
            }

            first = 0;

            ngx_socketio_json_string(b, all[i].key.data, all[i].key.len);
            ngx_socketio_wbuf_addc(b, ':');
            ngx_socketio_json_string(b, value->data, value->len);
        }
    }

    ngx_socketio_wbuf_addc(b, '}');

    return NGX_OK;
}


/*
 * application/x-www-form-urlencoded as URLSearchParams decodes it: "+" is
 * a space, "%" with two hex digits a byte, any other "%" stays; a byte of
 * the raw URL above 0x7f is the latin1 character Node's parser made of it
 */

static void
ngx_http_socketio_unescape(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    u_char  *d, *end, c;

    out->data = ngx_pnalloc(pool, 2 * len + 1);
    if (out->data == NULL) {
        return;
    }

    d = out->data;
    end = p + len;

    while (p < end) {
        c = *p++;

        if (c == '+') {
            *d++ = ' ';

        } else if (c == '%' && end - p >= 2
                   && isxdigit(p[0]) && isxdigit(p[1]))
        {
            *d++ = (u_char) (ngx_hextoi(p, 2));
            p += 2;

        } else if (c >= 0x80) {
            *d++ = (u_char) (0xc0 | (c >> 6));
            *d++ = (u_char) (0x80 | (c & 0x3f));

        } else {
            *d++ = c;
        }
    }

    out->len = d - out->data;
}


/* a canonical array index of JavaScript: "0" to "4294967294" */

static ngx_int_t
ngx_http_socketio_array_index(ngx_str_t *key, uint32_t *index)
{
    size_t    i;
    uint64_t  v;

    if (key->len == 0 || key->len > 10
        || (key->len > 1 && key->data[0] == '0'))
    {
        return NGX_DECLINED;
    }

    v = 0;

    for (i = 0; i < key->len; i++) {
        if (key->data[i] < '0' || key->data[i] > '9') {
            return NGX_DECLINED;
        }

        v = v * 10 + (key->data[i] - '0');
    }

    if (v >= 0xffffffff) {
        return NGX_DECLINED;
    }

    *index = (uint32_t) v;

    return NGX_OK;
}


/*
 * A JSON string of header bytes as Node reads them: each byte one latin1
 * character, so UTF-8 in a header arrives as its bytes' characters
 */

static void
ngx_http_socketio_latin1(ngx_socketio_wbuf_t *b, u_char *p, size_t len)
{
    size_t               i;
    ngx_socketio_wbuf_t  t;

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            break;
        }
    }

    if (i == len) {
        ngx_socketio_json_string(b, p, len);
        return;
    }

    if (ngx_socketio_wbuf_init(&t, 2 * len + 1) != NGX_OK) {
        b->failed = 1;
        return;
    }

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            ngx_socketio_wbuf_addc(&t, (u_char) (0xc0 | (p[i] >> 6)));
            ngx_socketio_wbuf_addc(&t, (u_char) (0x80 | (p[i] & 0x3f)));

        } else {
            ngx_socketio_wbuf_addc(&t, p[i]);
        }
    }

    if (t.failed) {
        b->failed = 1;

    } else {
        ngx_socketio_json_string(b, t.start, ngx_socketio_wbuf_len(&t));
    }

    ngx_socketio_wbuf_free(&t);
}
