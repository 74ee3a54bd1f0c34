
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_WS_H_INCLUDED_
#define _NGX_SOCKETIO_WS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_SOCKETIO_WS_CONT            0x0
#define NGX_SOCKETIO_WS_TEXT            0x1
#define NGX_SOCKETIO_WS_BINARY          0x2
#define NGX_SOCKETIO_WS_CLOSE           0x8
#define NGX_SOCKETIO_WS_PING            0x9
#define NGX_SOCKETIO_WS_PONG            0xa

#define NGX_SOCKETIO_WS_NORMAL          1000
#define NGX_SOCKETIO_WS_GOING_AWAY      1001
#define NGX_SOCKETIO_WS_PROTOCOL_ERROR  1002
#define NGX_SOCKETIO_WS_INVALID_DATA    1007
#define NGX_SOCKETIO_WS_TOO_BIG         1009

/* the largest header: 2 + 8 (length) + 4 (mask) */
#define NGX_SOCKETIO_WS_MAX_HEADER      14

/* the largest header the server writes: unmasked */
#define NGX_SOCKETIO_WS_MAX_OUT_HEADER  10

#define NGX_SOCKETIO_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


typedef struct {
    uint64_t     payload_len;
    size_t       header_len;
    u_char       mask[4];
    unsigned     opcode:4;
    unsigned     fin:1;
} ngx_socketio_ws_frame_t;


/*
 * Parses a client frame header.  NGX_AGAIN: more bytes are needed;
 * NGX_ERROR: *code is the close code to answer with (1002, or 1009 when
 * the frame alone is larger than max_payload).
 */
ngx_int_t ngx_socketio_ws_parse_header(const u_char *p, size_t len,
    uint64_t max_payload, ngx_socketio_ws_frame_t *f, ngx_uint_t *code);

/* unmasks n bytes that start at "offset" bytes into the payload */
void ngx_socketio_ws_unmask(u_char *p, size_t n, const u_char mask[4],
    uint64_t offset);

/* writes a server frame header; returns its length (2, 4 or 10) */
size_t ngx_socketio_ws_header(u_char *p, ngx_uint_t opcode, uint64_t len);

/* the length of that header */
size_t ngx_socketio_ws_header_len(uint64_t len);

/*
 * Checks a received close frame payload (RFC 6455 7.4, 5.5.1).
 * NGX_ERROR: *code is the close code to answer with.
 */
ngx_int_t ngx_socketio_ws_check_close(const u_char *p, size_t len,
    ngx_uint_t *code);


#endif /* _NGX_SOCKETIO_WS_H_INCLUDED_ */
