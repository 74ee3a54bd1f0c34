
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_utf8.h"


size_t
ngx_socketio_utf8_next(const u_char *p, const u_char *end, uint32_t *cp)
{
    u_char      c, lower, upper;
    size_t      i, need;
    uint32_t    v;

    c = *p;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    lower = 0x80;
    upper = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        v = c & 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        v = c & 0x0f;

        if (c == 0xe0) {
            lower = 0xa0;

        } else if (c == 0xed) {
            /* no UTF-16 surrogates */
            upper = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        v = c & 0x07;

        if (c == 0xf0) {
            lower = 0x90;

        } else if (c == 0xf4) {
            upper = 0x8f;
        }

    } else {
        *cp = NGX_SOCKETIO_UTF8_INVALID;
        return 1;
    }

    for (i = 1; i <= need; i++) {

        if (p + i >= end || p[i] < lower || p[i] > upper) {
            *cp = NGX_SOCKETIO_UTF8_INVALID;
            return i;
        }

        v = (v << 6) | (p[i] & 0x3f);
        lower = 0x80;
        upper = 0xbf;
    }

    *cp = v;

    return need + 1;
}


ngx_int_t
ngx_socketio_utf8_valid(const u_char *p, size_t len)
{
    uint32_t      cp;
    const u_char *end;

    end = p + len;

    while (p < end) {

        /* the common case: a run of ASCII */

        if (*p < 0x80) {
            p++;
            continue;
        }

        p += ngx_socketio_utf8_next(p, end, &cp);

        if (cp == NGX_SOCKETIO_UTF8_INVALID) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
