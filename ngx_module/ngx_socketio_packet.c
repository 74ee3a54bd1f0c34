
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_packet.h"


/* event names a client may not emit (socket.io RESERVED_EVENTS) */

static ngx_str_t  ngx_socketio_reserved_events[] = {
    ngx_string("connect"),
    ngx_string("connect_error"),
    ngx_string("disconnect"),
    ngx_string("disconnecting"),
    ngx_string("newListener"),
    ngx_string("removeListener"),
    ngx_null_string
};


ngx_int_t
ngx_socketio_packet_parse(u_char *p, size_t len, ngx_socketio_packet_t *pkt)
{
    u_char      *end, *start;
    uint64_t     n;
    ngx_uint_t   digits;

    end = p + len;

    /*
     * socket.io-parser takes an empty string for a CONNECT on "/"
     * (Number("") is 0); Engine.IO never hands it one over WebSocket
     * since "4" alone is refused before, so this stays strict.
     */

    if (p == end || *p < '0' || *p > '6') {
        return NGX_ERROR;
    }

    pkt->type = *p++ - '0';
    pkt->attachments = 0;
    pkt->id = NGX_SOCKETIO_NO_ID;

    if (pkt->type == NGX_SOCKETIO_BINARY_EVENT
        || pkt->type == NGX_SOCKETIO_BINARY_ACK)
    {
        n = 0;
        digits = 0;

        while (p < end && *p >= '0' && *p <= '9') {
            n = n * 10 + (*p++ - '0');

            if (++digits > 4) {
                return NGX_ERROR;
            }
        }

        if (p == end || *p != '-' || digits == 0 || n == 0
            || n > NGX_SOCKETIO_MAX_ATTACHMENTS)
        {
            return NGX_ERROR;
        }

        p++;
        pkt->attachments = (ngx_uint_t) n;
    }

    if (p < end && *p == '/') {
        start = p;

        while (p < end && *p != ',') {
            p++;
        }

        pkt->nsp.data = start;
        pkt->nsp.len = p - start;

        if (p < end) {
            p++;                              /* the "," */
        }

    } else {
        ngx_str_set(&pkt->nsp, "/");
    }

    /*
     * The ack id.  socket.io-parser also takes a space as a digit
     * (Number(" ") == 0); PROTOCOL 2.3 asks to refuse that, and a space
     * then fails as JSON.
     */

    if (p < end && *p >= '0' && *p <= '9') {
        n = 0;
        digits = 0;

        while (p < end && *p >= '0' && *p <= '9') {
            n = n * 10 + (*p++ - '0');

            if (++digits > 16) {
                return NGX_ERROR;
            }
        }

        if (n > NGX_SOCKETIO_MAX_ID) {
            return NGX_ERROR;
        }

        pkt->id = n;
    }

    pkt->payload.data = p;
    pkt->payload.len = end - p;

    return NGX_OK;
}


ngx_int_t
ngx_socketio_packet_check(ngx_socketio_packet_t *pkt, json_t **json)
{
    json_t        *v, *first;
    size_t         len;
    const char    *name;
    json_error_t   err;

    *json = NULL;

    if (pkt->payload.len == 0) {

        switch (pkt->type) {

        case NGX_SOCKETIO_CONNECT:
        case NGX_SOCKETIO_DISCONNECT:
            return NGX_OK;

        default:
            /* Node takes "2" and "3"; the protocol says a payload is due */
            return NGX_ERROR;
        }
    }

    if (pkt->type == NGX_SOCKETIO_DISCONNECT) {
        return NGX_ERROR;
    }

    /*
     * Node's encoder never writes white space there; "2 [...]" is the
     * parser quirk that reads the space as ack id 0 (PROTOCOL 2.3)
     */

    switch (pkt->payload.data[0]) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
        return NGX_ERROR;
    }

    /*
     * JSON.parse() semantics as near as jansson gets: any value at the
     * top, NUL allowed in strings, every number a double.
     */

    v = json_loadb((const char *) pkt->payload.data, pkt->payload.len,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                   &err);
    if (v == NULL) {
        return NGX_ERROR;
    }

    switch (pkt->type) {

    case NGX_SOCKETIO_CONNECT:
        if (!json_is_object(v)) {
            goto invalid;
        }

        break;

    case NGX_SOCKETIO_EVENT:
    case NGX_SOCKETIO_BINARY_EVENT:
        if (!json_is_array(v) || json_array_size(v) == 0) {
            goto invalid;
        }

        first = json_array_get(v, 0);

        if (json_is_number(first)) {
            break;
        }

        if (!json_is_string(first)) {
            goto invalid;
        }

        name = json_string_value(first);
        len = json_string_length(first);

        if (ngx_socketio_packet_reserved((u_char *) name, len)) {
            goto invalid;
        }

        break;

    case NGX_SOCKETIO_ACK:
    case NGX_SOCKETIO_BINARY_ACK:
        if (!json_is_array(v)) {
            goto invalid;
        }

        break;

    default:
        /* CONNECT_ERROR: only a server sends it */
        goto invalid;
    }

    *json = v;

    return NGX_OK;

invalid:

    json_decref(v);

    return NGX_ERROR;
}


ngx_int_t
ngx_socketio_packet_reserved(const u_char *name, size_t len)
{
    ngx_str_t  *r;

    for (r = ngx_socketio_reserved_events; r->len; r++) {
        if (r->len == len && ngx_strncmp(r->data, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_socketio_packet_placeholder(json_t *value, ngx_uint_t count,
    ngx_uint_t *num)
{
    double   d;
    json_t  *ph, *n;

    if (!json_is_object(value)) {
        return NGX_DECLINED;
    }

    ph = json_object_get(value, "_placeholder");

    if (!json_is_true(ph)) {
        return NGX_DECLINED;
    }

    n = json_object_get(value, "num");

    if (!json_is_number(n)) {
        return NGX_ERROR;
    }

    d = json_number_value(n);

    if (d < 0 || d >= (double) count || d != (double) (ngx_uint_t) d) {
        return NGX_ERROR;
    }

    *num = (ngx_uint_t) d;

    return NGX_OK;
}


void
ngx_socketio_packet_head(ngx_socketio_wbuf_t *b, ngx_uint_t type,
    ngx_uint_t attachments, ngx_str_t *nsp, uint64_t id)
{
    if (!ngx_socketio_wbuf_room(b, ngx_socketio_packet_head_size(nsp))) {
        return;
    }

    b->pos = ngx_socketio_packet_head_write(b->pos, type, attachments, nsp,
                                            id);
}


static u_char *
ngx_socketio_packet_decimal(u_char *p, uint64_t v)
{
    u_char   buf[21], *q;

    q = buf + sizeof(buf);

    do {
        *--q = (u_char) ('0' + v % 10);
        v /= 10;
    } while (v);

    return ngx_cpymem(p, q, buf + sizeof(buf) - q);
}


u_char *
ngx_socketio_packet_head_write(u_char *p, ngx_uint_t type,
    ngx_uint_t attachments, ngx_str_t *nsp, uint64_t id)
{
    *p++ = NGX_SOCKETIO_EIO_MESSAGE;
    *p++ = (u_char) ('0' + type);

    if (attachments) {
        p = ngx_socketio_packet_decimal(p, attachments);
        *p++ = '-';
    }

    if (nsp->len != 1 || nsp->data[0] != '/') {
        p = ngx_cpymem(p, nsp->data, nsp->len);
        *p++ = ',';
    }

    if (id != NGX_SOCKETIO_NO_ID) {
        p = ngx_socketio_packet_decimal(p, id);
    }

    return p;
}


void
ngx_socketio_packet_open(ngx_socketio_wbuf_t *b, u_char *sid,
    ngx_msec_t ping_interval, ngx_msec_t ping_timeout, size_t max_payload)
{
    ngx_socketio_wbuf_str(b, "0{\"sid\":\"");
    ngx_socketio_wbuf_add(b, sid, NGX_SOCKETIO_SID_LEN);
    ngx_socketio_wbuf_str(b, "\",\"upgrades\":[],\"pingInterval\":");
    ngx_socketio_json_uint(b, ping_interval);
    ngx_socketio_wbuf_str(b, ",\"pingTimeout\":");
    ngx_socketio_json_uint(b, ping_timeout);
    ngx_socketio_wbuf_str(b, ",\"maxPayload\":");
    ngx_socketio_json_uint(b, max_payload);
    ngx_socketio_wbuf_addc(b, '}');
}


void
ngx_socketio_packet_connect(ngx_socketio_wbuf_t *b, ngx_str_t *nsp,
    u_char *sid)
{
    ngx_socketio_packet_head(b, NGX_SOCKETIO_CONNECT, 0, nsp,
                             NGX_SOCKETIO_NO_ID);
    ngx_socketio_wbuf_str(b, "{\"sid\":\"");
    ngx_socketio_wbuf_add(b, sid, NGX_SOCKETIO_SID_LEN);
    ngx_socketio_wbuf_str(b, "\"}");
}


void
ngx_socketio_packet_connect_error(ngx_socketio_wbuf_t *b, ngx_str_t *nsp,
    ngx_str_t *message)
{
    ngx_socketio_packet_head(b, NGX_SOCKETIO_CONNECT_ERROR, 0, nsp,
                             NGX_SOCKETIO_NO_ID);
    ngx_socketio_wbuf_str(b, "{\"message\":");
    ngx_socketio_json_string(b, message->data, message->len);
    ngx_socketio_wbuf_addc(b, '}');
}


void
ngx_socketio_packet_disconnect(ngx_socketio_wbuf_t *b, ngx_str_t *nsp)
{
    ngx_socketio_packet_head(b, NGX_SOCKETIO_DISCONNECT, 0, nsp,
                             NGX_SOCKETIO_NO_ID);
}
