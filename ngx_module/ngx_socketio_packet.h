
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_PACKET_H_INCLUDED_
#define _NGX_SOCKETIO_PACKET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_socketio.h"
#include "ngx_socketio_json.h"


/* Engine.IO v4 packet types (PROTOCOL 1.4) */
#define NGX_SOCKETIO_EIO_OPEN           '0'
#define NGX_SOCKETIO_EIO_CLOSE          '1'
#define NGX_SOCKETIO_EIO_PING           '2'
#define NGX_SOCKETIO_EIO_PONG           '3'
#define NGX_SOCKETIO_EIO_MESSAGE        '4'
#define NGX_SOCKETIO_EIO_UPGRADE        '5'
#define NGX_SOCKETIO_EIO_NOOP           '6'

/* Socket.IO v5 packet types (PROTOCOL 2.1) */
#define NGX_SOCKETIO_CONNECT            0
#define NGX_SOCKETIO_DISCONNECT         1
#define NGX_SOCKETIO_EVENT              2
#define NGX_SOCKETIO_ACK                3
#define NGX_SOCKETIO_CONNECT_ERROR      4
#define NGX_SOCKETIO_BINARY_EVENT       5
#define NGX_SOCKETIO_BINARY_ACK         6

#define NGX_SOCKETIO_NO_ID              ((uint64_t) -1)

/* ack ids are JavaScript numbers; keep them exact */
#define NGX_SOCKETIO_MAX_ID             9007199254740991ULL


typedef struct {
    ngx_uint_t     type;
    ngx_uint_t     attachments;
    ngx_str_t      nsp;
    uint64_t       id;
    ngx_str_t      payload;       /* JSON text; empty when absent */
} ngx_socketio_packet_t;


/*
 * Splits a Socket.IO packet (without the Engine.IO "4") as
 * socket.io-parser does (PROTOCOL 2.3).  NGX_ERROR: not a valid packet.
 */
ngx_int_t ngx_socketio_packet_parse(u_char *p, size_t len,
    ngx_socketio_packet_t *pkt);

/*
 * Parses and checks the payload against the rules of its type.  On NGX_OK,
 * *json is the parsed payload (NULL when there is none); the caller owns it.
 */
ngx_int_t ngx_socketio_packet_check(ngx_socketio_packet_t *pkt,
    json_t **json);

/* a name no client may receive as an event: its parser would fail */
ngx_int_t ngx_socketio_packet_reserved(const u_char *name, size_t len);

/* is this object an attachment placeholder {"_placeholder":true,"num":n} */
ngx_int_t ngx_socketio_packet_placeholder(json_t *value, ngx_uint_t count,
    ngx_uint_t *num);

/*
 * Writes "4" and the packet head: type, "n-" for attachments, "nsp," when
 * the namespace is not "/", and the ack id.  The head takes at most
 * ngx_socketio_packet_head_size() bytes.
 */
void ngx_socketio_packet_head(ngx_socketio_wbuf_t *b, ngx_uint_t type,
    ngx_uint_t attachments, ngx_str_t *nsp, uint64_t id);
u_char *ngx_socketio_packet_head_write(u_char *p, ngx_uint_t type,
    ngx_uint_t attachments, ngx_str_t *nsp, uint64_t id);

#define ngx_socketio_packet_head_size(nsp)  (2 + 21 + (nsp)->len + 1 + 21)

/* the Engine.IO open packet (PROTOCOL 1.5) */
void ngx_socketio_packet_open(ngx_socketio_wbuf_t *b, u_char *sid,
    ngx_msec_t ping_interval, ngx_msec_t ping_timeout, size_t max_payload);

void ngx_socketio_packet_connect(ngx_socketio_wbuf_t *b, ngx_str_t *nsp,
    u_char *sid);
void ngx_socketio_packet_connect_error(ngx_socketio_wbuf_t *b,
    ngx_str_t *nsp, ngx_str_t *message);
void ngx_socketio_packet_disconnect(ngx_socketio_wbuf_t *b, ngx_str_t *nsp);


#endif /* _NGX_SOCKETIO_PACKET_H_INCLUDED_ */
