
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_MSGPACK_H_INCLUDED_
#define _NGX_SOCKETIO_MSGPACK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_json.h"


/*
 * A msgpack reader that walks a buffer in place: no allocation, every
 * length checked against the bytes that remain.  Messages from Redis are
 * validated as a whole first (ngx_socketio_mp_validate()); after that the
 * cursor functions cannot fail on them.
 */

typedef enum {
    NGX_SOCKETIO_MP_NIL = 0,
    NGX_SOCKETIO_MP_BOOL,
    NGX_SOCKETIO_MP_INT,          /* negative integer, in v.i */
    NGX_SOCKETIO_MP_UINT,         /* non-negative integer, in v.u */
    NGX_SOCKETIO_MP_FLOAT,        /* float32 or float64, in v.f */
    NGX_SOCKETIO_MP_STR,
    NGX_SOCKETIO_MP_BIN,
    NGX_SOCKETIO_MP_ARRAY,
    NGX_SOCKETIO_MP_MAP,
    NGX_SOCKETIO_MP_EXT
} ngx_socketio_mp_type_e;


typedef struct {
    ngx_socketio_mp_type_e   type;
    union {
        int64_t              i;
        uint64_t             u;
        double               f;
        ngx_uint_t           b;
    } v;
    const u_char            *ptr;        /* str, bin, ext payload */
    uint32_t                 len;        /* bytes, or array/map count */
    int8_t                   ext;        /* ext type */
    u_char                   head;       /* the first byte: the encoding */
} ngx_socketio_mp_obj_t;


typedef struct {
    const u_char            *pos;
    const u_char            *end;
} ngx_socketio_mp_t;


#define NGX_SOCKETIO_MP_MAX_DEPTH  32


ngx_int_t ngx_socketio_mp_validate(const u_char *p, size_t len);
ngx_int_t ngx_socketio_mp_read(ngx_socketio_mp_t *mp,
    ngx_socketio_mp_obj_t *o);
ngx_int_t ngx_socketio_mp_skip(ngx_socketio_mp_t *mp);

/*
 * In a map of n entries whose first key is at mp->pos, find the value of
 * a string key.  On NGX_OK, *value points at the value.
 */
ngx_int_t ngx_socketio_mp_map_find(const ngx_socketio_mp_t *mp, uint32_t n,
    const char *key, ngx_socketio_mp_t *value);

/* an integer or integral float, as JavaScript sees it */
ngx_int_t ngx_socketio_mp_number(ngx_socketio_mp_obj_t *o, double *v);

/* msgpack writer: the few shapes the adapters publish */
void ngx_socketio_mp_array(ngx_socketio_wbuf_t *b, uint32_t n);
void ngx_socketio_mp_map(ngx_socketio_wbuf_t *b, uint32_t n);
void ngx_socketio_mp_str(ngx_socketio_wbuf_t *b, const u_char *s, size_t n);
void ngx_socketio_mp_bin(ngx_socketio_wbuf_t *b, const u_char *s, size_t n);
void ngx_socketio_mp_int(ngx_socketio_wbuf_t *b, int64_t v);
void ngx_socketio_mp_double(ngx_socketio_wbuf_t *b, double v);
void ngx_socketio_mp_nil(ngx_socketio_wbuf_t *b);
void ngx_socketio_mp_bool(ngx_socketio_wbuf_t *b, ngx_uint_t v);

#define ngx_socketio_mp_cstr(b, s)                                            \
    ngx_socketio_mp_str(b, (u_char *) s, sizeof(s) - 1)


#endif /* _NGX_SOCKETIO_MSGPACK_H_INCLUDED_ */
