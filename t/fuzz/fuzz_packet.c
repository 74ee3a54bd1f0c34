
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * libFuzzer target: the Socket.IO packet decoder as the server uses it
 * (ngx_socketio_socket.c): a text message without its Engine.IO "4" is
 * split by ngx_socketio_packet_parse(), its payload parsed and checked by
 * ngx_socketio_packet_check() (jansson), and the attachment placeholders
 * of an event's arguments looked up.
 *
 * Invariants (abort() on failure):
 *   - the parts of a parsed packet lie inside the input, within limits;
 *   - the head the server would write for the parts of a valid packet
 *     parses back the same;
 *   - a checked payload has the shape its type asks for;
 *   - a placeholder found names an attachment that exists.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_socketio_packet.h"


#define FUZZ_PACKET_MAX_DEPTH  16


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_packet_parts(u_char *buf, size_t size,
    ngx_socketio_packet_t *pkt);
static void fuzz_packet_head(ngx_socketio_packet_t *pkt);
static void fuzz_packet_shape(ngx_socketio_packet_t *pkt, json_t *json);
static void fuzz_packet_placeholders(json_t *v, ngx_uint_t attachments,
    ngx_uint_t depth);


#define fuzz_assert(cond)                                                     \
    if (!(cond)) {                                                            \
        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,           \
                __LINE__, #cond);                                             \
        abort();                                                              \
    }


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                 *buf;
    json_t                 *json, *v;
    size_t                  i;
    ngx_int_t               rc;
    ngx_uint_t              num;
    ngx_socketio_packet_t   pkt;

    /* exactly the input: ASan sees any read past it */

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    ngx_memcpy(buf, data, size);

    if (ngx_socketio_packet_parse(buf, size, &pkt) != NGX_OK) {
        free(buf);
        return 0;
    }

    fuzz_packet_parts(buf, size, &pkt);

    json = NULL;

    if (ngx_socketio_packet_check(&pkt, &json) != NGX_OK) {
        fuzz_assert(json == NULL);
        free(buf);
        return 0;
    }

    fuzz_packet_shape(&pkt, json);
    fuzz_packet_head(&pkt);

    /* as ngx_socketio_socket_event(): the arguments of a binary packet */

    if (pkt.attachments && json_is_array(json)) {
        json_array_foreach(json, i, v) {
            num = (ngx_uint_t) -1;
            rc = ngx_socketio_packet_placeholder(v, pkt.attachments, &num);

            fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED
                        || rc == NGX_ERROR);
            fuzz_assert(rc != NGX_OK || num < pkt.attachments);
        }
    }

    /* and anywhere, with the largest count a client may announce */

    fuzz_packet_placeholders(json, NGX_SOCKETIO_MAX_ATTACHMENTS, 0);

    json_decref(json);
    free(buf);

    return 0;
}


static void
fuzz_packet_parts(u_char *buf, size_t size, ngx_socketio_packet_t *pkt)
{
    u_char  *end;

    end = buf + size;

    fuzz_assert(pkt->type <= NGX_SOCKETIO_BINARY_ACK);

    if (pkt->type == NGX_SOCKETIO_BINARY_EVENT
        || pkt->type == NGX_SOCKETIO_BINARY_ACK)
    {
        fuzz_assert(pkt->attachments >= 1
                    && pkt->attachments <= NGX_SOCKETIO_MAX_ATTACHMENTS);

    } else {
        fuzz_assert(pkt->attachments == 0);
    }

    fuzz_assert(pkt->id == NGX_SOCKETIO_NO_ID
                || pkt->id <= NGX_SOCKETIO_MAX_ID);

    fuzz_assert(pkt->nsp.len >= 1 && pkt->nsp.data[0] == '/');
    fuzz_assert(ngx_strlchr(pkt->nsp.data, pkt->nsp.data + pkt->nsp.len, ',')
                == NULL);

    if (pkt->nsp.data < buf || pkt->nsp.data >= end) {
        /* the default "/" */
        fuzz_assert(pkt->nsp.len == 1);

    } else {
        fuzz_assert(pkt->nsp.len <= (size_t) (end - pkt->nsp.data));
    }

    fuzz_assert(pkt->payload.data >= buf && pkt->payload.data <= end);
    fuzz_assert(pkt->payload.data + pkt->payload.len == end);
}


/*
 * The head the server writes for these parts parses back the same.  Only
 * for valid packets: a payload that is not JSON may start with "/" or a
 * digit and read differently once the "/," that preceded it is left out.
 */

static void
fuzz_packet_head(ngx_socketio_packet_t *pkt)
{
    u_char                 *head, *last;
    size_t                  size;
    ngx_socketio_packet_t   back;

    size = ngx_socketio_packet_head_size(&pkt->nsp);

    head = malloc(size + pkt->payload.len);
    if (head == NULL) {
        return;
    }

    last = ngx_socketio_packet_head_write(head, pkt->type, pkt->attachments,
                                          &pkt->nsp, pkt->id);

    fuzz_assert(last > head && (size_t) (last - head) <= size);
    fuzz_assert(head[0] == NGX_SOCKETIO_EIO_MESSAGE);

    ngx_memcpy(last, pkt->payload.data, pkt->payload.len);
    last += pkt->payload.len;

    fuzz_assert(ngx_socketio_packet_parse(head + 1, last - head - 1, &back)
                == NGX_OK);

    fuzz_assert(back.type == pkt->type);
    fuzz_assert(back.attachments == pkt->attachments);
    fuzz_assert(back.id == pkt->id);
    fuzz_assert(back.nsp.len == pkt->nsp.len
                && ngx_memcmp(back.nsp.data, pkt->nsp.data, pkt->nsp.len)
                   == 0);
    fuzz_assert(back.payload.len == pkt->payload.len
                && ngx_memcmp(back.payload.data, pkt->payload.data,
                              pkt->payload.len)
                   == 0);

    free(head);
}


static void
fuzz_packet_shape(ngx_socketio_packet_t *pkt, json_t *json)
{
    if (pkt->payload.len == 0) {
        fuzz_assert(json == NULL);
        fuzz_assert(pkt->type == NGX_SOCKETIO_CONNECT
                    || pkt->type == NGX_SOCKETIO_DISCONNECT);
        return;
    }

    fuzz_assert(json != NULL);

    switch (pkt->type) {

    case NGX_SOCKETIO_CONNECT:
        fuzz_assert(json_is_object(json));
        break;

    case NGX_SOCKETIO_EVENT:
    case NGX_SOCKETIO_BINARY_EVENT:
        fuzz_assert(json_is_array(json) && json_array_size(json) > 0);
        fuzz_assert(json_is_string(json_array_get(json, 0))
                    || json_is_number(json_array_get(json, 0)));
        break;

    case NGX_SOCKETIO_ACK:
    case NGX_SOCKETIO_BINARY_ACK:
        fuzz_assert(json_is_array(json));
        break;

    default:
        /* DISCONNECT with a payload, CONNECT_ERROR: refused */
        fuzz_assert(0);
    }
}


static void
fuzz_packet_placeholders(json_t *v, ngx_uint_t attachments, ngx_uint_t depth)
{
    size_t       i;
    json_t      *e;
    ngx_int_t    rc;
    ngx_uint_t   num;
    const char  *key;

    if (v == NULL || depth == FUZZ_PACKET_MAX_DEPTH) {
        return;
    }

    num = (ngx_uint_t) -1;
    rc = ngx_socketio_packet_placeholder(v, attachments, &num);

    fuzz_assert(rc != NGX_OK || num < attachments);

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            fuzz_packet_placeholders(e, attachments, depth + 1);
        }

    } else if (json_is_object(v)) {
        json_object_foreach(v, key, e) {
            fuzz_packet_placeholders(e, attachments, depth + 1);
        }
    }
}
