
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_JSON_H_INCLUDED_
#define _NGX_SOCKETIO_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * A growable output buffer.  The codecs write into it without knowing
 * where the bytes go; it is backed by malloc()/realloc() so that a frame
 * can be encoded in place and handed on without a copy.
 *
 * "failed" is sticky: writers check it once at the end instead of after
 * every byte.
 */

typedef struct {
    u_char      *start;
    u_char      *pos;
    u_char      *end;
    ngx_uint_t   failed;
} ngx_socketio_wbuf_t;


ngx_int_t ngx_socketio_wbuf_init(ngx_socketio_wbuf_t *b, size_t size);
ngx_int_t ngx_socketio_wbuf_grow(ngx_socketio_wbuf_t *b, size_t n);
void ngx_socketio_wbuf_free(ngx_socketio_wbuf_t *b);

#define ngx_socketio_wbuf_room(b, n)                                          \
    ((size_t) ((b)->end - (b)->pos) >= (size_t) (n)                           \
     || ngx_socketio_wbuf_grow(b, n) == NGX_OK)

#define ngx_socketio_wbuf_len(b)  ((size_t) ((b)->pos - (b)->start))

void ngx_socketio_wbuf_add(ngx_socketio_wbuf_t *b, const void *p, size_t n);
void ngx_socketio_wbuf_addc(ngx_socketio_wbuf_t *b, u_char c);

/* s must be a literal: "" s stops anything else from compiling */
#define ngx_socketio_wbuf_str(b, s)                                           \
    ngx_socketio_wbuf_add(b, (u_char *) "" s, sizeof(s) - 1)


/*
 * JSON text exactly as JavaScript's JSON.stringify() writes it
 * (PROTOCOL 2.11): string escapes, ECMAScript Number::toString, and
 * Date.prototype.toISOString for dates.
 */

void ngx_socketio_json_string(ngx_socketio_wbuf_t *b, const u_char *s,
    size_t len);
void ngx_socketio_json_double(ngx_socketio_wbuf_t *b, double v);
void ngx_socketio_json_int(ngx_socketio_wbuf_t *b, int64_t v);
void ngx_socketio_json_uint(ngx_socketio_wbuf_t *b, uint64_t v);
void ngx_socketio_json_date(ngx_socketio_wbuf_t *b, double ms);

/*
 * ECMAScript ToString(number) into buf, which needs
 * NGX_SOCKETIO_JSON_NUMBER_LEN bytes: the longest is 25,
 * "-0.0000012345678901234567".
 */
#define NGX_SOCKETIO_JSON_NUMBER_LEN  32

size_t ngx_socketio_json_format_double(u_char *buf, double v);

/* "1", "42": a canonical array index ("0" ... "4294967294") */
ngx_int_t ngx_socketio_json_array_index(const u_char *s, size_t len,
    uint32_t *index);


#endif /* _NGX_SOCKETIO_JSON_H_INCLUDED_ */
