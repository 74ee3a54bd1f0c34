
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_FRAME_H_INCLUDED_
#define _NGX_SOCKETIO_FRAME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_ws.h"


/*
 * An encoded, ready-to-write byte string: one WebSocket message (a text
 * frame) plus the binary frames of its attachments.  It is immutable once
 * built and shared by reference: a broadcast is encoded once and every
 * target socket queues a reference to the same frame.
 *
 * Layout of the single allocation:
 *   [ngx_socketio_frame_t][room for the text frame header][text][binary...]
 */

struct ngx_socketio_frame_s {
    ngx_uint_t     refs;
    size_t         len;
    u_char        *data;
};


#define NGX_SOCKETIO_FRAME_HEAD                                               \
    (sizeof(ngx_socketio_frame_t) + NGX_SOCKETIO_WS_MAX_OUT_HEADER)


/*
 * Starts a frame in b; the text is written at b->pos.  "reserve" bytes are
 * kept before it for a prefix that is known only after the text (the
 * Socket.IO packet head carries the attachment count).
 */
ngx_int_t ngx_socketio_frame_start(ngx_socketio_wbuf_t *b, size_t reserve,
    size_t size);

/* writes a prefix of at most "reserve" bytes in front of the text */
void ngx_socketio_frame_prepend(ngx_socketio_wbuf_t *b, const u_char *p,
    size_t len);

/* ends the text part; binary frames may be appended after it */
void ngx_socketio_frame_text_done(ngx_socketio_wbuf_t *b,
    ngx_uint_t opcode);

/* appends one binary frame (an attachment) */
void ngx_socketio_frame_binary(ngx_socketio_wbuf_t *b, const u_char *p,
    size_t len);

/*
 * Returns the frame with one reference held by the caller, or NULL if
 * the buffer failed (the buffer is released either way).
 */
ngx_socketio_frame_t *ngx_socketio_frame_finish(ngx_socketio_wbuf_t *b);

/* a frame of one text message, copied from p */
ngx_socketio_frame_t *ngx_socketio_frame_text(const u_char *p, size_t len);

/* a frame of raw bytes (the 101 response, a close frame) */
ngx_socketio_frame_t *ngx_socketio_frame_raw(const u_char *p, size_t len);

#define ngx_socketio_frame_ref(f)  ((f)->refs++)

void ngx_socketio_frame_release(ngx_socketio_frame_t *f);


#endif /* _NGX_SOCKETIO_FRAME_H_INCLUDED_ */
