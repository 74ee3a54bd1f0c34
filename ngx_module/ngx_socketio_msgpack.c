
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include "ngx_socketio_msgpack.h"


#define ngx_socketio_mp_be16(p)                                               \
    ((uint32_t) (p)[0] << 8 | (p)[1])

#define ngx_socketio_mp_be32(p)                                               \
    ((uint32_t) (p)[0] << 24 | (uint32_t) (p)[1] << 16                        \
     | (uint32_t) (p)[2] << 8 | (p)[3])

#define ngx_socketio_mp_be64(p)                                               \
    ((uint64_t) ngx_socketio_mp_be32(p) << 32 | ngx_socketio_mp_be32(p + 4))


static ngx_int_t ngx_socketio_mp_payload(ngx_socketio_mp_t *mp,
    ngx_socketio_mp_obj_t *o, size_t lenlen, size_t extra);


/*
 * Reads the header of one value.  Scalars are complete; for str, bin and
 * ext the payload is in o->ptr / o->len and skipped; for arrays and maps
 * o->len is the count and the cursor stays on the first element.
 */

ngx_int_t
ngx_socketio_mp_read(ngx_socketio_mp_t *mp, ngx_socketio_mp_obj_t *o)
{
    u_char         c;
    size_t         left;
    uint64_t       bits;
    const u_char  *p;
    union {
        uint32_t   u;
        float      f;
    } f32;
    union {
        uint64_t   u;
        double     f;
    } f64;

    if (mp->pos >= mp->end) {
        return NGX_ERROR;
    }

    c = *mp->pos++;
    p = mp->pos;
    left = mp->end - p;

    o->ptr = NULL;
    o->len = 0;
    o->head = c;

    if (c <= 0x7f) {
        o->type = NGX_SOCKETIO_MP_UINT;
        o->v.u = c;
        return NGX_OK;
    }

    if (c >= 0xe0) {
        o->type = NGX_SOCKETIO_MP_INT;
        o->v.i = (int8_t) c;
        return NGX_OK;
    }

    if (c <= 0x8f) {
        o->type = NGX_SOCKETIO_MP_MAP;
        o->len = c & 0x0f;
        return NGX_OK;
    }

    if (c <= 0x9f) {
        o->type = NGX_SOCKETIO_MP_ARRAY;
        o->len = c & 0x0f;
        return NGX_OK;
    }

    if (c <= 0xbf) {
        o->type = NGX_SOCKETIO_MP_STR;
        o->len = c & 0x1f;
        return ngx_socketio_mp_payload(mp, o, 0, 0);
    }

    switch (c) {

    case 0xc0:
        o->type = NGX_SOCKETIO_MP_NIL;
        return NGX_OK;

    case 0xc2:
    case 0xc3:
        o->type = NGX_SOCKETIO_MP_BOOL;
        o->v.b = c & 1;
        return NGX_OK;

    case 0xc4:
    case 0xc5:
    case 0xc6:
        o->type = NGX_SOCKETIO_MP_BIN;
        return ngx_socketio_mp_payload(mp, o, (size_t) 1 << (c - 0xc4), 0);

    case 0xc7:
    case 0xc8:
    case 0xc9:
        o->type = NGX_SOCKETIO_MP_EXT;
        return ngx_socketio_mp_payload(mp, o, (size_t) 1 << (c - 0xc7), 1);

    case 0xca:
        if (left < 4) {
            return NGX_ERROR;
        }

        f32.u = ngx_socketio_mp_be32(p);
        o->type = NGX_SOCKETIO_MP_FLOAT;
        o->v.f = f32.f;
        mp->pos += 4;
        return NGX_OK;

    case 0xcb:
        if (left < 8) {
            return NGX_ERROR;
        }

        f64.u = ngx_socketio_mp_be64(p);
        o->type = NGX_SOCKETIO_MP_FLOAT;
        o->v.f = f64.f;
        mp->pos += 8;
        return NGX_OK;

    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        left = (size_t) 1 << (c - 0xcc);

        if ((size_t) (mp->end - p) < left) {
            return NGX_ERROR;
        }

        switch (left) {
        case 1: bits = p[0]; break;
        case 2: bits = ngx_socketio_mp_be16(p); break;
        case 4: bits = ngx_socketio_mp_be32(p); break;
        default: bits = ngx_socketio_mp_be64(p); break;
        }

        o->type = NGX_SOCKETIO_MP_UINT;
        o->v.u = bits;
        mp->pos += left;
        return NGX_OK;

    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        left = (size_t) 1 << (c - 0xd0);

        if ((size_t) (mp->end - p) < left) {
            return NGX_ERROR;
        }

        switch (left) {
        case 1: o->v.i = (int8_t) p[0]; break;
        case 2: o->v.i = (int16_t) ngx_socketio_mp_be16(p); break;
        case 4: o->v.i = (int32_t) ngx_socketio_mp_be32(p); break;
        default: o->v.i = (int64_t) ngx_socketio_mp_be64(p); break;
        }

        if (o->v.i >= 0) {
            o->type = NGX_SOCKETIO_MP_UINT;
            o->v.u = (uint64_t) o->v.i;

        } else {
            o->type = NGX_SOCKETIO_MP_INT;
        }

        mp->pos += left;
        return NGX_OK;

    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        /* fixext 1, 2, 4, 8, 16 */

        o->type = NGX_SOCKETIO_MP_EXT;
        o->len = 1 << (c - 0xd4);

        if (left < 1 + (size_t) o->len) {
            return NGX_ERROR;
        }

        o->ext = (int8_t) p[0];
        o->ptr = p + 1;
        mp->pos += 1 + o->len;
        return NGX_OK;

    case 0xd9:
    case 0xda:
    case 0xdb:
        o->type = NGX_SOCKETIO_MP_STR;
        return ngx_socketio_mp_payload(mp, o, (size_t) 1 << (c - 0xd9), 0);

    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
        left = (c == 0xdc || c == 0xde) ? 2 : 4;

        if ((size_t) (mp->end - p) < left) {
            return NGX_ERROR;
        }

        o->type = (c <= 0xdd) ? NGX_SOCKETIO_MP_ARRAY : NGX_SOCKETIO_MP_MAP;
        o->len = (left == 2) ? ngx_socketio_mp_be16(p)
                             : ngx_socketio_mp_be32(p);
        mp->pos += left;
        return NGX_OK;

    default:
        /* 0xc1 is never used */
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_socketio_mp_payload(ngx_socketio_mp_t *mp, ngx_socketio_mp_obj_t *o,
    size_t lenlen, size_t extra)
{
    size_t         left;
    const u_char  *p;

    p = mp->pos;
    left = mp->end - p;

    if (left < lenlen + extra) {
        return NGX_ERROR;
    }

    switch (lenlen) {
    case 0: break;                                 /* fixstr: len is set */
    case 1: o->len = p[0]; break;
    case 2: o->len = ngx_socketio_mp_be16(p); break;
    default: o->len = ngx_socketio_mp_be32(p); break;
    }

    p += lenlen;
    left -= lenlen;

    if (extra) {
        o->ext = (int8_t) p[0];
        p++;
        left--;
    }

    if (left < o->len) {
        return NGX_ERROR;
    }

    o->ptr = p;
    mp->pos = p + o->len;

    return NGX_OK;
}


/*
 * Skips one complete value without recursion: "left" counts the values
 * still to read, containers add their elements to it.
 */

ngx_int_t
ngx_socketio_mp_skip(ngx_socketio_mp_t *mp)
{
    uint64_t               left;
    ngx_socketio_mp_obj_t  o;

    left = 1;

    while (left) {
        if (ngx_socketio_mp_read(mp, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        left--;

        if (o.type == NGX_SOCKETIO_MP_ARRAY) {
            left += o.len;

        } else if (o.type == NGX_SOCKETIO_MP_MAP) {
            left += (uint64_t) o.len * 2;
        }

        /* every value takes at least one byte */

        if (left > (uint64_t) (mp->end - mp->pos)) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The whole buffer is exactly one value, nested at most
 * NGX_SOCKETIO_MP_MAX_DEPTH deep, so that recursive walkers may follow.
 */

ngx_int_t
ngx_socketio_mp_validate(const u_char *p, size_t len)
{
    ngx_uint_t             depth;
    ngx_socketio_mp_t      mp;
    ngx_socketio_mp_obj_t  o;
    uint64_t               left[NGX_SOCKETIO_MP_MAX_DEPTH + 1];

    mp.pos = p;
    mp.end = p + len;

    depth = 0;
    left[0] = 1;

    for ( ;; ) {

        while (left[depth] == 0) {
            if (depth == 0) {
                return (mp.pos == mp.end) ? NGX_OK : NGX_ERROR;
            }

            depth--;
        }

        if (ngx_socketio_mp_read(&mp, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        left[depth]--;

        if (o.type != NGX_SOCKETIO_MP_ARRAY && o.type != NGX_SOCKETIO_MP_MAP)
        {
            continue;
        }

        if (o.len == 0) {
            continue;
        }

        if (depth == NGX_SOCKETIO_MP_MAX_DEPTH) {
            return NGX_ERROR;
        }

        depth++;
        left[depth] = (o.type == NGX_SOCKETIO_MP_MAP) ? (uint64_t) o.len * 2
                                                      : o.len;

        if (left[depth] > (uint64_t) (mp.end - mp.pos)) {
            return NGX_ERROR;
        }
    }
}


ngx_int_t
ngx_socketio_mp_map_find(const ngx_socketio_mp_t *map, uint32_t n,
    const char *key, ngx_socketio_mp_t *value)
{
    size_t                 len;
    uint32_t               i;
    ngx_uint_t             match, found;
    ngx_socketio_mp_t      mp, k;
    ngx_socketio_mp_obj_t  o;

    len = ngx_strlen(key);
    mp = *map;
    found = 0;

    for (i = 0; i < n; i++) {

        k = mp;

        if (ngx_socketio_mp_read(&k, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        match = (o.type == NGX_SOCKETIO_MP_STR
                 && o.len == len
                 && ngx_memcmp(o.ptr, key, len) == 0);

        if (ngx_socketio_mp_skip(&mp) != NGX_OK) {
            return NGX_ERROR;
        }

        /* JavaScript objects keep the last of duplicate keys */

        if (match) {
            *value = mp;
            found = 1;
        }

        if (ngx_socketio_mp_skip(&mp) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return found ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_socketio_mp_number(ngx_socketio_mp_obj_t *o, double *v)
{
    switch (o->type) {

    case NGX_SOCKETIO_MP_UINT:
        *v = (double) o->v.u;
        return NGX_OK;

    case NGX_SOCKETIO_MP_INT:
        *v = (double) o->v.i;
        return NGX_OK;

    case NGX_SOCKETIO_MP_FLOAT:
        *v = o->v.f;
        return NGX_OK;

    default:
        return NGX_DECLINED;
    }
}


static void
ngx_socketio_mp_head(ngx_socketio_wbuf_t *b, u_char fix, u_char fixmax,
    u_char c16, uint32_t n)
{
    u_char  *p;

    if (!ngx_socketio_wbuf_room(b, 5)) {
        return;
    }

    p = b->pos;

    if (n <= fixmax) {
        *p++ = (u_char) (fix | n);

    } else if (n <= 0xffff) {
        *p++ = c16;
        *p++ = (u_char) (n >> 8);
        *p++ = (u_char) n;

    } else {
        *p++ = (u_char) (c16 + 1);
        *p++ = (u_char) (n >> 24);
        *p++ = (u_char) (n >> 16);
        *p++ = (u_char) (n >> 8);
        *p++ = (u_char) n;
    }

    b->pos = p;
}


void
ngx_socketio_mp_array(ngx_socketio_wbuf_t *b, uint32_t n)
{
    ngx_socketio_mp_head(b, 0x90, 15, 0xdc, n);
}


void
ngx_socketio_mp_map(ngx_socketio_wbuf_t *b, uint32_t n)
{
    ngx_socketio_mp_head(b, 0x80, 15, 0xde, n);
}


static void
ngx_socketio_mp_bytes(ngx_socketio_wbuf_t *b, u_char c8, const u_char *s,
    size_t n)
{
    u_char  *p;

    if (!ngx_socketio_wbuf_room(b, n + 5)) {
        return;
    }

    p = b->pos;

    if (n <= 0xff) {
        *p++ = c8;
        *p++ = (u_char) n;

    } else if (n <= 0xffff) {
        *p++ = (u_char) (c8 + 1);
        *p++ = (u_char) (n >> 8);
        *p++ = (u_char) n;

    } else {
        *p++ = (u_char) (c8 + 2);
        *p++ = (u_char) (n >> 24);
        *p++ = (u_char) (n >> 16);
        *p++ = (u_char) (n >> 8);
        *p++ = (u_char) n;
    }

    b->pos = ngx_cpymem(p, s, n);
}


void
ngx_socketio_mp_str(ngx_socketio_wbuf_t *b, const u_char *s, size_t n)
{
    if (n < 32) {
        if (!ngx_socketio_wbuf_room(b, n + 1)) {
            return;
        }

        *b->pos++ = (u_char) (0xa0 | n);
        b->pos = ngx_cpymem(b->pos, s, n);
        return;
    }

    ngx_socketio_mp_bytes(b, 0xd9, s, n);
}


void
ngx_socketio_mp_bin(ngx_socketio_wbuf_t *b, const u_char *s, size_t n)
{
    ngx_socketio_mp_bytes(b, 0xc4, s, n);
}


/* the smallest form, as notepack.io and @msgpack/msgpack write */

void
ngx_socketio_mp_int(ngx_socketio_wbuf_t *b, int64_t v)
{
    int       i, n;
    u_char   *p, c;
    uint64_t  u;

    if (!ngx_socketio_wbuf_room(b, 9)) {
        return;
    }

    p = b->pos;

    if (v >= 0) {
        if (v <= 0x7f) {
            *p++ = (u_char) v;
            b->pos = p;
            return;
        }

        if (v <= 0xff) {
            c = 0xcc; n = 1;
        } else if (v <= 0xffff) {
            c = 0xcd; n = 2;
        } else if (v <= 0xffffffffLL) {
            c = 0xce; n = 4;
        } else {
            c = 0xcf; n = 8;
        }

    } else {
        if (v >= -32) {
            *p++ = (u_char) v;
            b->pos = p;
            return;
        }

        if (v >= -128) {
            c = 0xd0; n = 1;
        } else if (v >= -32768) {
            c = 0xd1; n = 2;
        } else if (v >= -2147483648LL) {
            c = 0xd2; n = 4;
        } else {
            c = 0xd3; n = 8;
        }
    }

    *p++ = c;
    u = (uint64_t) v;

    for (i = n - 1; i >= 0; i--) {
        *p++ = (u_char) (u >> (i * 8));
    }

    b->pos = p;
}


void
ngx_socketio_mp_double(ngx_socketio_wbuf_t *b, double v)
{
    int       i;
    u_char   *p;
    union {
        double    f;
        uint64_t  u;
    } f64;

    /* JavaScript encoders write integral numbers as integers */

    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        ngx_socketio_mp_int(b, (int64_t) v);
        return;
    }

    if (!ngx_socketio_wbuf_room(b, 9)) {
        return;
    }

    f64.f = v;
    p = b->pos;
    *p++ = 0xcb;

    for (i = 7; i >= 0; i--) {
        *p++ = (u_char) (f64.u >> (i * 8));
    }

    b->pos = p;
}


void
ngx_socketio_mp_nil(ngx_socketio_wbuf_t *b)
{
    ngx_socketio_wbuf_addc(b, 0xc0);
}


void
ngx_socketio_mp_bool(ngx_socketio_wbuf_t *b, ngx_uint_t v)
{
    ngx_socketio_wbuf_addc(b, v ? 0xc3 : 0xc2);
}
