
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include "ngx_socketio_utf8.h"
#include "ngx_socketio_json.h"


ngx_int_t
ngx_socketio_wbuf_init(ngx_socketio_wbuf_t *b, size_t size)
{
    b->start = malloc(size);
    if (b->start == NULL) {
        b->pos = NULL;
        b->end = NULL;
        b->failed = 1;
        return NGX_ERROR;
    }

    b->pos = b->start;
    b->end = b->start + size;
    b->failed = 0;

    return NGX_OK;
}


ngx_int_t
ngx_socketio_wbuf_grow(ngx_socketio_wbuf_t *b, size_t n)
{
    u_char  *p;
    size_t   used, size;

    if (b->failed) {
        return NGX_ERROR;
    }

    used = b->pos - b->start;
    size = b->end - b->start;

    if (size - used >= n) {
        return NGX_OK;
    }

    do {
        size = size ? size * 2 : 256;
    } while (size - used < n);

    p = realloc(b->start, size);
    if (p == NULL) {
        b->failed = 1;
        return NGX_ERROR;
    }

    b->start = p;
    b->pos = p + used;
    b->end = p + size;

    return NGX_OK;
}


void
ngx_socketio_wbuf_free(ngx_socketio_wbuf_t *b)
{
    free(b->start);

    b->start = NULL;
    b->pos = NULL;
    b->end = NULL;
}


void
ngx_socketio_wbuf_add(ngx_socketio_wbuf_t *b, const void *p, size_t n)
{
    if (n == 0 || !ngx_socketio_wbuf_room(b, n)) {
        return;
    }

    b->pos = ngx_cpymem(b->pos, p, n);
}


void
ngx_socketio_wbuf_addc(ngx_socketio_wbuf_t *b, u_char c)
{
    if (!ngx_socketio_wbuf_room(b, 1)) {
        return;
    }

    *b->pos++ = c;
}


/*
 * 0: byte copied as is; 1: escaped with a backslash and a letter;
 * 2: escaped as \u00XX; 3: not ASCII, goes through the UTF-8 decoder
 */

static u_char  ngx_socketio_json_class[256] = {
    2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3
};


void
ngx_socketio_json_string(ngx_socketio_wbuf_t *b, const u_char *s, size_t len)
{
    u_char         c;
    size_t         n;
    uint32_t       cp;
    const u_char  *p, *end, *run;

    static u_char  hex[] = "0123456789abcdef";

    /*
     * Room for the common case (nothing to escape) is taken at once;
     * escapes take more as they come, so a long string never costs six
     * times its size.
     */

    if (!ngx_socketio_wbuf_room(b, len + 2)) {
        return;
    }

    *b->pos++ = '"';

    p = s;
    end = s + len;

    while (p < end) {

        run = p;

        while (p < end && ngx_socketio_json_class[*p] == 0) {
            p++;
        }

        if (p != run) {
            if (!ngx_socketio_wbuf_room(b, (p - run) + (end - p) + 1)) {
                return;
            }

            b->pos = ngx_cpymem(b->pos, run, p - run);
            continue;
        }

        if (!ngx_socketio_wbuf_room(b, 6 + (end - p) + 1)) {
            return;
        }

        c = *p;

        switch (ngx_socketio_json_class[c]) {

        case 1:
            *b->pos++ = '\\';

            switch (c) {
            case '\b': *b->pos++ = 'b'; break;
            case '\t': *b->pos++ = 't'; break;
            case '\n': *b->pos++ = 'n'; break;
            case '\f': *b->pos++ = 'f'; break;
            case '\r': *b->pos++ = 'r'; break;
            default:   *b->pos++ = c;   break;    /* " and \ */
            }

            p++;
            break;

        case 2:
            *b->pos++ = '\\';
            *b->pos++ = 'u';
            *b->pos++ = '0';
            *b->pos++ = '0';
            *b->pos++ = hex[c >> 4];
            *b->pos++ = hex[c & 0xf];
            p++;
            break;

        default: /* 3 */
            n = ngx_socketio_utf8_next(p, end, &cp);

            if (cp == NGX_SOCKETIO_UTF8_INVALID) {
                /* U+FFFD, as Node's Buffer.toString("utf8") */
                *b->pos++ = 0xef;
                *b->pos++ = 0xbf;
                *b->pos++ = 0xbd;

            } else {
                b->pos = ngx_cpymem(b->pos, p, n);
            }

            p += n;
            break;
        }
    }

    if (!ngx_socketio_wbuf_room(b, 1)) {
        return;
    }

    *b->pos++ = '"';
}


void
ngx_socketio_json_int(ngx_socketio_wbuf_t *b, int64_t v)
{
    if (v < 0) {

        if (v < -9007199254740992LL) {
            /* JavaScript numbers are doubles */
            ngx_socketio_json_double(b, (double) v);
            return;
        }

        ngx_socketio_wbuf_addc(b, '-');
        ngx_socketio_json_uint(b, (uint64_t) -v);
        return;
    }

    ngx_socketio_json_uint(b, (uint64_t) v);
}


void
ngx_socketio_json_uint(ngx_socketio_wbuf_t *b, uint64_t v)
{
    u_char   buf[24], *p;

    if (v > 9007199254740992ULL) {
        ngx_socketio_json_double(b, (double) v);
        return;
    }

    p = buf + sizeof(buf);

    do {
        *--p = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    ngx_socketio_wbuf_add(b, p, buf + sizeof(buf) - p);
}


/*
 * The shortest digit string that reads back as v: the smallest precision
 * whose correctly rounded "%.*e" round-trips.  Round-tripping is monotonic
 * in the precision, so a binary search over 1..17 finds it.
 */

static ngx_int_t
ngx_socketio_json_shortest(double v, u_char *digits, int *exp10)
{
    int     lo, hi, mid, e;
    char    tmp[40], best[40], *p, *q;
    size_t  n;

    lo = 1;
    hi = 17;

    snprintf(best, sizeof(best), "%.16e", v);

    while (lo <= hi) {
        mid = (lo + hi) / 2;

        snprintf(tmp, sizeof(tmp), "%.*e", mid - 1, v);

        if (strtod(tmp, NULL) == v) {
            memcpy(best, tmp, sizeof(tmp));
            hi = mid - 1;

        } else {
            lo = mid + 1;
        }
    }

    /* best is "d[.ddd]e[+-]xx" */

    p = best;
    n = 0;

    while (*p && *p != 'e') {
        if (*p != '.') {
            digits[n++] = (u_char) *p;
        }
        p++;
    }

    while (n > 1 && digits[n - 1] == '0') {
        n--;
    }

    e = (int) strtol(p + 1, &q, 10);

    *exp10 = e;

    return (ngx_int_t) n;
}


size_t
ngx_socketio_json_format_double(u_char *buf, double v)
{
    int      exp10, n, k, i, e;
    u_char  *p, digits[24];

    if (isnan(v) || isinf(v)) {
        /* JSON.stringify writes null; callers check before */
        return ngx_cpymem(buf, "null", 4) - buf;
    }

    p = buf;

    if (v == 0) {
        /* -0 is "0" too */
        *p++ = '0';
        return p - buf;
    }

    if (v < 0) {
        *p++ = '-';
        v = -v;
    }

    k = (int) ngx_socketio_json_shortest(v, digits, &exp10);

    /* v = 0.d1d2...dk * 10^n */

    n = exp10 + 1;

    if (k <= n && n <= 21) {
        p = ngx_cpymem(p, digits, k);

        for (i = 0; i < n - k; i++) {
            *p++ = '0';
        }

    } else if (0 < n && n <= 21) {
        p = ngx_cpymem(p, digits, n);
        *p++ = '.';
        p = ngx_cpymem(p, digits + n, k - n);

    } else if (-6 < n && n <= 0) {
        *p++ = '0';
        *p++ = '.';

        for (i = 0; i < -n; i++) {
            *p++ = '0';
        }

        p = ngx_cpymem(p, digits, k);

    } else {
        *p++ = digits[0];

        if (k > 1) {
            *p++ = '.';
            p = ngx_cpymem(p, digits + 1, k - 1);
        }

        *p++ = 'e';

        e = n - 1;

        if (e < 0) {
            *p++ = '-';
            e = -e;

        } else {
            *p++ = '+';
        }

        p += snprintf((char *) p, 8, "%d", e);
    }

    return p - buf;
}


void
ngx_socketio_json_double(ngx_socketio_wbuf_t *b, double v)
{
    u_char  buf[32];

    if (isnan(v) || isinf(v)) {
        ngx_socketio_wbuf_str(b, "null");
        return;
    }

    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        ngx_socketio_json_int(b, (int64_t) v);
        return;
    }

    ngx_socketio_wbuf_add(b, buf, ngx_socketio_json_format_double(buf, v));
}


/*
 * Date.prototype.toISOString(): "1970-01-01T00:00:00.000Z",
 * six-digit signed years outside 0..9999, null for an invalid date
 * (toJSON returns null then).
 */

void
ngx_socketio_json_date(ngx_socketio_wbuf_t *b, double ms)
{
    int64_t   t, days, rem, z, era, doe, yoe, y, doy, mp, d, m;
    u_char    buf[40], *p;

    if (isnan(ms) || fabs(ms) > 8.64e15) {
        ngx_socketio_wbuf_str(b, "null");
        return;
    }

    t = (int64_t) ms;              /* TimeClip truncates toward zero */

    days = t / 86400000;
    rem = t % 86400000;

    if (rem < 0) {
        rem += 86400000;
        days--;
    }

    /* civil from days, H. Hinnant's algorithm */

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;

    if (m <= 2) {
        y++;
    }

    p = buf;

    if (y >= 0 && y <= 9999) {
        p += snprintf((char *) p, 8, "%04d", (int) y);

    } else {
        p += snprintf((char *) p, 10, "%c%06d", y < 0 ? '-' : '+',
                      (int) (y < 0 ? -y : y));
    }

    p += snprintf((char *) p, sizeof(buf) - (p - buf),
                  "-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  (int) m, (int) d, (int) (rem / 3600000),
                  (int) (rem / 60000 % 60), (int) (rem / 1000 % 60),
                  (int) (rem % 1000));

    ngx_socketio_wbuf_addc(b, '"');
    ngx_socketio_wbuf_add(b, buf, p - buf);
    ngx_socketio_wbuf_addc(b, '"');
}


ngx_int_t
ngx_socketio_json_array_index(const u_char *s, size_t len, uint32_t *index)
{
    size_t    i;
    uint64_t  v;

    if (len == 0 || len > 10 || (s[0] == '0' && len > 1)) {
        return NGX_DECLINED;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NGX_DECLINED;
        }

        v = v * 10 + (s[i] - '0');
    }

    if (v > 4294967294ULL) {
        return NGX_DECLINED;
    }

    *index = (uint32_t) v;

    return NGX_OK;
}
