
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_frame.h"


/*
 * While a frame is built, f->len holds the offset at which its text
 * starts: the buffer may move, offsets stay right.
 */

ngx_int_t
ngx_socketio_frame_start(ngx_socketio_wbuf_t *b, size_t reserve, size_t size)
{
    ngx_socketio_frame_t  *f;

    if (ngx_socketio_wbuf_init(b, NGX_SOCKETIO_FRAME_HEAD + reserve + size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    f = (ngx_socketio_frame_t *) b->start;
    f->refs = 1;
    f->len = NGX_SOCKETIO_FRAME_HEAD + reserve;
    f->data = NULL;

    b->pos = b->start + f->len;

    return NGX_OK;
}


void
ngx_socketio_frame_prepend(ngx_socketio_wbuf_t *b, const u_char *p,
    size_t len)
{
    ngx_socketio_frame_t  *f;

    if (b->failed) {
        return;
    }

    f = (ngx_socketio_frame_t *) b->start;
    f->len -= len;

    ngx_memcpy(b->start + f->len, p, len);
}


/*
 * The text length is known only now: its WebSocket header goes right in
 * front of it, into the room kept there.
 */

void
ngx_socketio_frame_text_done(ngx_socketio_wbuf_t *b, ngx_uint_t opcode)
{
    size_t                 len, hlen;
    u_char                *text;
    ngx_socketio_frame_t  *f;

    if (b->failed) {
        return;
    }

    f = (ngx_socketio_frame_t *) b->start;

    text = b->start + f->len;
    len = b->pos - text;
    hlen = ngx_socketio_ws_header_len(len);

    ngx_socketio_ws_header(text - hlen, opcode, len);

    f->len -= hlen;
}


void
ngx_socketio_frame_binary(ngx_socketio_wbuf_t *b, const u_char *p,
    size_t len)
{
    if (!ngx_socketio_wbuf_room(b, NGX_SOCKETIO_WS_MAX_OUT_HEADER + len)) {
        return;
    }

    b->pos += ngx_socketio_ws_header(b->pos, NGX_SOCKETIO_WS_BINARY, len);
    b->pos = ngx_cpymem(b->pos, p, len);
}


ngx_socketio_frame_t *
ngx_socketio_frame_finish(ngx_socketio_wbuf_t *b)
{
    size_t                 off, used;
    u_char                *p;
    ngx_socketio_frame_t  *f;

    if (b->failed) {
        ngx_socketio_wbuf_free(b);
        return NULL;
    }

    used = b->pos - b->start;

    /* give back what escaping reserved and did not use */

    if ((size_t) (b->end - b->start) > used + used / 2 + 256) {
        p = realloc(b->start, used);
        if (p != NULL) {
            b->start = p;
        }
    }

    f = (ngx_socketio_frame_t *) b->start;
    off = f->len;

    f->data = b->start + off;
    f->len = used - off;

    b->start = NULL;
    b->pos = NULL;
    b->end = NULL;

    return f;
}


ngx_socketio_frame_t *
ngx_socketio_frame_text(const u_char *p, size_t len)
{
    ngx_socketio_wbuf_t  b;

    if (ngx_socketio_frame_start(&b, 0, len) != NGX_OK) {
        return NULL;
    }

    ngx_socketio_wbuf_add(&b, p, len);
    ngx_socketio_frame_text_done(&b, NGX_SOCKETIO_WS_TEXT);

    return ngx_socketio_frame_finish(&b);
}


ngx_socketio_frame_t *
ngx_socketio_frame_raw(const u_char *p, size_t len)
{
    ngx_socketio_frame_t  *f;

    f = malloc(sizeof(ngx_socketio_frame_t) + len);
    if (f == NULL) {
        return NULL;
    }

    f->refs = 1;
    f->len = len;
    f->data = (u_char *) (f + 1);

    ngx_memcpy(f->data, p, len);

    return f;
}


void
ngx_socketio_frame_release(ngx_socketio_frame_t *f)
{
    if (--f->refs == 0) {
        free(f);
    }
}
