
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_CODEC_H_INCLUDED_
#define _NGX_SOCKETIO_CODEC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"
#include "ngx_socketio_msgpack.h"
#include "ngx_socketio_frame.h"
#include <jansson.h>


/*
 * The one place that knows both encodings: msgpack values as the Node
 * adapters publish them (notepack.io semantics) and Socket.IO packets as
 * Node delivers them to clients (JSON.stringify plus binary attachments).
 */


#define NGX_SOCKETIO_FLAG_VOLATILE   0x01
#define NGX_SOCKETIO_FLAG_COMPRESS   0x02


/* a broadcast as the classic adapter publishes it: [uid, packet, opts] */

typedef struct {
    ngx_str_t            uid;
    ngx_uint_t           type;        /* packet.type */
    ngx_str_t            nsp;         /* packet.nsp; "/" when absent */
    ngx_socketio_mp_t    data;        /* packet.data */
    uint64_t             id;          /* packet.id, or NGX_SOCKETIO_NO_ID */
    ngx_socketio_mp_t    rooms;       /* first element of opts.rooms */
    uint32_t             nrooms;
    ngx_socketio_mp_t    except;
    uint32_t             nexcept;
    ngx_uint_t           flags;
    ngx_msec_t           timeout;     /* opts.flags.timeout, or 0 */
} ngx_socketio_broadcast_t;


/* a request in msgpack, as the classic adapter's BROADCAST with acks */

typedef struct {
    ngx_uint_t           type;
    ngx_str_t            request_id;
    ngx_socketio_broadcast_t  bc;     /* uid, packet, opts */
} ngx_socketio_request_t;


/* room names of a broadcast, ready for target selection */

typedef struct {
    ngx_str_t           *names;
    ngx_uint_t           n;
    u_char              *scratch;     /* numeric names as text */
    void                *alloc;
    ngx_str_t            inline_names[16];
    u_char               inline_scratch[16 * NGX_SOCKETIO_JSON_NUMBER_LEN];
} ngx_socketio_names_t;


/* validates a classic broadcast message and finds its parts */
ngx_int_t ngx_socketio_codec_broadcast(const u_char *msg, size_t len,
    ngx_socketio_broadcast_t *bc);

/* validates a request map and finds its parts */
ngx_int_t ngx_socketio_codec_request(const u_char *msg, size_t len,
    ngx_socketio_request_t *req);

/* reads n room names (strings or numbers) at mp */
ngx_int_t ngx_socketio_codec_names(ngx_socketio_mp_t *mp, uint32_t n,
    ngx_socketio_names_t *names);
void ngx_socketio_codec_names_free(ngx_socketio_names_t *names);

/*
 * Encodes packet data (a msgpack array, [event, ...args] or ack args) as
 * the WebSocket frames Node would write to a client of namespace nsp:
 * "42[...]" or "45n-[...]" plus one binary frame per attachment.
 */
ngx_socketio_frame_t *ngx_socketio_codec_frame(ngx_socketio_mp_t *data,
    ngx_uint_t type, ngx_str_t *nsp, uint64_t id);

/* writes one msgpack value as JSON; binary is not allowed (NGX_ERROR) */
ngx_int_t ngx_socketio_codec_json(ngx_socketio_wbuf_t *b,
    ngx_socketio_mp_t *mp);

/*
 * The other way: a value a client sent (parsed JSON, with its binary
 * attachments) as notepack.io would encode what JSON.parse() and
 * reconstructPacket() make of it: placeholders become bin, integral
 * numbers integers, object keys in JavaScript's order.
 */
ngx_int_t ngx_socketio_codec_msgpack(ngx_socketio_wbuf_t *b, json_t *v,
    ngx_str_t *att, ngx_uint_t natt);


#endif /* _NGX_SOCKETIO_CODEC_H_INCLUDED_ */
