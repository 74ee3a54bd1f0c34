
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include "ngx_socketio_socket.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_id.h"
#include "ngx_socketio_stats.h"


/* how many acks one socket may owe the cluster at once */
#define NGX_SOCKETIO_SOCKET_MAX_ACKS  1024


/* a binary packet waiting for its attachments */

/* the acks a socket owes: ids in the order they were sent */

struct ngx_socketio_acks_s {
    ngx_uint_t               n;
    ngx_uint_t               size;
    struct {
        uint64_t             id;
        ngx_socketio_ack_t  *ack;
    }                        e[1];
};


struct ngx_socketio_pending_s {
    ngx_socketio_packet_t    pkt;
    json_t                  *json;
    ngx_uint_t               received;
    ngx_str_t                att[NGX_SOCKETIO_MAX_ATTACHMENTS];
    u_char                   nsp[1];
};


static void ngx_socketio_socket_message(ngx_socketio_conn_t *conn,
    u_char *data, size_t len, ngx_uint_t binary);
static void ngx_socketio_socket_closed(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason);
static ngx_int_t ngx_socketio_socket_text(ngx_socketio_client_t *client,
    u_char *data, size_t len);
static ngx_int_t ngx_socketio_socket_binary(ngx_socketio_client_t *client,
    u_char *data, size_t len);
static ngx_int_t ngx_socketio_socket_packet(ngx_socketio_client_t *client,
    ngx_socketio_packet_t *pkt, json_t *json, ngx_str_t *att);
static ngx_int_t ngx_socketio_socket_connect(ngx_socketio_client_t *client,
    ngx_socketio_packet_t *pkt);
static ngx_int_t ngx_socketio_socket_placeholders(json_t *v,
    ngx_uint_t count, ngx_uint_t depth);
static ngx_int_t ngx_socketio_socket_event(ngx_socketio_socket_t *s,
    ngx_socketio_packet_t *pkt, json_t *json, ngx_str_t *att);
static void ngx_socketio_socket_reply(ngx_socketio_socket_t *s);
static ngx_int_t ngx_socketio_socket_wait(ngx_socketio_socket_t *s,
    ngx_uint_t ticket);
static void ngx_socketio_socket_free(ngx_socketio_socket_t *s);
static ngx_int_t ngx_socketio_socket_ack(ngx_socketio_socket_t *s,
    ngx_socketio_packet_t *pkt, json_t *json, ngx_str_t *att);
static void ngx_socketio_socket_send_disconnect(ngx_socketio_socket_t *s);
static void ngx_socketio_ack_timeout(ngx_event_t *ev);
static void ngx_socketio_ack_unref(ngx_socketio_ack_t *ack);
static void ngx_socketio_pending_free(ngx_socketio_client_t *client);
static ngx_socketio_socket_t *ngx_socketio_socket_find(
    ngx_socketio_client_t *client, ngx_str_t *nsp);


void
ngx_socketio_socket_init(void)
{
    ngx_socketio_eio_init(ngx_socketio_socket_message,
                          ngx_socketio_socket_closed);
}


ngx_socketio_client_t *
ngx_socketio_client_create(ngx_socketio_socket_conf_t *conf, ngx_str_t *joins,
    ngx_uint_t njoins, ngx_str_t *data, ngx_str_t *handshake, ngx_log_t *log)
{
    u_char                 *p;
    size_t                  size;
    ngx_uint_t              i;
    ngx_socketio_client_t  *client;

    size = sizeof(ngx_socketio_client_t) + data->len + handshake->len;

    for (i = 0; i < njoins; i++) {
        size += joins[i].len + 1;
    }

    client = ngx_alloc(size, log);
    if (client == NULL) {
        return NULL;
    }

    client->conn = NULL;
    client->conf = conf;
    client->sockets = NULL;
    client->pending = NULL;

    p = (u_char *) (client + 1);

    client->joins.data = p;

    for (i = 0; i < njoins; i++) {
        p = ngx_cpymem(p, joins[i].data, joins[i].len);
        *p++ = '\0';
    }

    client->joins.len = p - client->joins.data;

    client->data.data = p;
    client->data.len = data->len;
    p = ngx_cpymem(p, data->data, data->len);

    client->handshake.data = p;
    client->handshake.len = handshake->len;
    ngx_memcpy(p, handshake->data, handshake->len);

    return client;
}


void
ngx_socketio_client_free(ngx_socketio_client_t *client)
{
    ngx_socketio_pending_free(client);

    while (client->sockets) {
        ngx_socketio_socket_free(client->sockets);
    }

    ngx_free(client);
}


static void
ngx_socketio_socket_closed(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason)
{
    ngx_socketio_client_t  *client;

    client = conn->data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, conn->connection->log, 0,
                   "socketio client gone: %V", &ngx_socketio_reasons[reason]);

    ngx_socketio_client_free(client);
}


static void
ngx_socketio_socket_message(ngx_socketio_conn_t *conn, u_char *data,
    size_t len, ngx_uint_t binary)
{
    ngx_int_t               rc;
    ngx_socketio_client_t  *client;

    client = conn->data;

    rc = binary ? ngx_socketio_socket_binary(client, data, len)
                : ngx_socketio_socket_text(client, data, len);

    if (rc == NGX_ERROR) {
        /*
         * Node answers any Socket.IO protocol violation by closing the
         * whole connection, with an empty close frame (PROTOCOL 2.3)
         */

        ngx_socketio_stats->protocol_errors++;
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_FORCED_CLOSE, 0);
    }
}


static ngx_int_t
ngx_socketio_socket_text(ngx_socketio_client_t *client, u_char *data,
    size_t len)
{
    json_t                  *json;
    ngx_int_t                rc;
    ngx_socketio_packet_t    pkt;
    ngx_socketio_pending_t  *pending;

    if (client->pending) {
        ngx_log_error(NGX_LOG_INFO, client->conn->connection->log, 0,
                      "socketio: text packet while attachments were due");
        return NGX_ERROR;
    }

    if (ngx_socketio_packet_parse(data, len, &pkt) != NGX_OK
        || ngx_socketio_packet_check(&pkt, &json) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, client->conn->connection->log, 0,
                      "socketio: invalid packet \"%*s\"",
                      ngx_min(len, 64), data);
        return NGX_ERROR;
    }

    if (pkt.attachments == 0) {
        rc = ngx_socketio_socket_packet(client, &pkt, json, NULL);
        json_decref(json);
        return rc;
    }

    /* a binary packet: the attachments come as the next messages */

    pending = ngx_calloc(sizeof(ngx_socketio_pending_t) + pkt.nsp.len,
                         client->conn->connection->log);
    if (pending == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    pending->pkt = pkt;
    pending->pkt.nsp.data = pending->nsp;
    ngx_memcpy(pending->nsp, pkt.nsp.data, pkt.nsp.len);
    pending->pkt.payload.data = NULL;
    pending->pkt.payload.len = 0;
    pending->json = json;

    client->pending = pending;

    return NGX_OK;
}


static ngx_int_t
ngx_socketio_socket_binary(ngx_socketio_client_t *client, u_char *data,
    size_t len)
{
    ngx_int_t                rc;
    ngx_str_t               *att;
    ngx_socketio_pending_t  *pending;

    pending = client->pending;

    if (pending == NULL) {
        ngx_log_error(NGX_LOG_INFO, client->conn->connection->log, 0,
                      "socketio: binary data when no packet waits for it");
        return NGX_ERROR;
    }

    att = &pending->att[pending->received];

    att->data = ngx_alloc(len ? len : 1, client->conn->connection->log);
    if (att->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(att->data, data, len);
    att->len = len;

    if (++pending->received < pending->pkt.attachments) {
        return NGX_OK;
    }

    client->pending = NULL;

    rc = ngx_socketio_socket_packet(client, &pending->pkt, pending->json,
                                    pending->att);

    client->pending = pending;
    ngx_socketio_pending_free(client);

    return rc;
}


static void
ngx_socketio_pending_free(ngx_socketio_client_t *client)
{
    ngx_uint_t               i;
    ngx_socketio_pending_t  *pending;

    pending = client->pending;

    if (pending == NULL) {
        return;
    }

    for (i = 0; i < pending->received; i++) {
        ngx_free(pending->att[i].data);
    }

    json_decref(pending->json);
    ngx_free(pending);

    client->pending = NULL;
}


static ngx_int_t
ngx_socketio_socket_packet(ngx_socketio_client_t *client,
    ngx_socketio_packet_t *pkt, json_t *json, ngx_str_t *att)
{
    ngx_socketio_socket_t  *s;

    s = ngx_socketio_socket_find(client, &pkt->nsp);

    if (pkt->type == NGX_SOCKETIO_CONNECT) {

        if (s) {
            ngx_log_error(NGX_LOG_INFO, client->conn->connection->log, 0,
                          "socketio: second CONNECT to \"%V\"", &pkt->nsp);
            return NGX_ERROR;
        }

        return ngx_socketio_socket_connect(client, pkt);
    }

    /* anything else needs the namespace joined first (PROTOCOL 2.5) */

    if (s == NULL) {
        ngx_log_error(NGX_LOG_INFO, client->conn->connection->log, 0,
                      "socketio: packet for \"%V\", not joined", &pkt->nsp);
        return NGX_ERROR;
    }

    switch (pkt->type) {

    case NGX_SOCKETIO_DISCONNECT:
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, client->conn->connection->log, 0,
                       "socketio socket %*s left",
                       (size_t) NGX_SOCKETIO_SID_LEN, s->sid);
        ngx_socketio_socket_free(s);
        return NGX_OK;

    case NGX_SOCKETIO_EVENT:
    case NGX_SOCKETIO_BINARY_EVENT:
        return ngx_socketio_socket_event(s, pkt, json, att);

    default: /* ACK, BINARY_ACK */
        return ngx_socketio_socket_ack(s, pkt, json, att);
    }
}


static ngx_int_t
ngx_socketio_socket_connect(ngx_socketio_client_t *client,
    ngx_socketio_packet_t *pkt)
{
    u_char                 *p, *end;
    ngx_str_t              *ns, name, message;
    ngx_uint_t              i, ticket;
    ngx_socketio_nsp_t     *nsp;
    ngx_socketio_wbuf_t     b;
    ngx_socketio_socket_t  *s;

    nsp = NULL;
    ns = client->conf->namespaces->elts;

    for (i = 0; i < client->conf->namespaces->nelts; i++) {
        if (ns[i].len == pkt->nsp.len
            && ngx_memcmp(ns[i].data, pkt->nsp.data, pkt->nsp.len) == 0)
        {
            nsp = ngx_socketio_nsp_find(&pkt->nsp);
            break;
        }
    }

    if (nsp == NULL) {
        /* the connection stays open (PROTOCOL 2.5) */

        ngx_str_set(&message, "Invalid namespace");

        if (ngx_socketio_wbuf_init(&b, 64 + pkt->nsp.len) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_socketio_packet_connect_error(&b, &pkt->nsp, &message);

        if (!b.failed) {
            (void) ngx_socketio_eio_send_text(client->conn, b.start,
                                              b.pos - b.start);
        }

        ngx_socketio_wbuf_free(&b);

        return NGX_OK;
    }

    s = ngx_calloc(sizeof(ngx_socketio_socket_t), client->conn->connection->log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    /* handshake.auth: the CONNECT payload, kept as its JSON text */

    if (pkt->payload.len) {
        s->auth = ngx_alloc(pkt->payload.len + 1,
                            client->conn->connection->log);
        if (s->auth == NULL) {
            ngx_free(s);
            return NGX_ERROR;
        }

        *ngx_cpymem(s->auth, pkt->payload.data, pkt->payload.len) = '\0';
    }

    s->nsp = nsp;
    s->client = client;
    s->next = client->sockets;
    client->sockets = s;

    /* a new id, not the Engine.IO sid; the socket is in its own room */

    ngx_socketio_id_base64id(s->sid);
    ngx_socketio_rooms_add_socket(s);

    ngx_socketio_stats->sockets++;

    /* socketio_join: the same rooms in every namespace */

    p = client->joins.data;
    end = p + client->joins.len;

    while (p < end) {
        name.data = p;
        name.len = ngx_strlen(p);

        if (ngx_socketio_rooms_join(s, &name) != NGX_OK) {
            ngx_socketio_socket_free(s);
            return NGX_ERROR;
        }

        p += name.len + 1;
    }

    ngx_socketio_eio_connected(client->conn);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, client->conn->connection->log, 0,
                   "socketio socket %*s joined \"%V\"",
                   (size_t) NGX_SOCKETIO_SID_LEN, s->sid, &nsp->name);

    /*
     * With per-room subscriptions, the reply waits until Redis confirmed
     * them: a client that sees itself connected can be reached.
     */

    ticket = nsp->barrier ? nsp->barrier(nsp) : 0;

    if (ticket) {
        return ngx_socketio_socket_wait(s, ticket);
    }

    ngx_socketio_socket_reply(s);

    return NGX_OK;
}


static void
ngx_socketio_socket_reply(ngx_socketio_socket_t *s)
{
    ngx_socketio_wbuf_t  b;

    s->connected = 1;

    if (ngx_socketio_wbuf_init(&b, 64 + s->nsp->name.len) != NGX_OK) {
        return;
    }

    ngx_socketio_packet_connect(&b, &s->nsp->name, s->sid);

    if (!b.failed) {
        (void) ngx_socketio_eio_send_text(s->client->conn, b.start,
                                          b.pos - b.start);
    }

    ngx_socketio_wbuf_free(&b);
}


static ngx_int_t
ngx_socketio_socket_wait(ngx_socketio_socket_t *s, ngx_uint_t ticket)
{
    ngx_uint_t               size;
    ngx_socketio_nsp_t      *nsp;
    ngx_socketio_socket_t  **w;

    nsp = s->nsp;

    if (nsp->nwaiting == nsp->waiting_size) {
        size = nsp->waiting_size ? nsp->waiting_size * 2 : 16;

        w = ngx_alloc(size * sizeof(ngx_socketio_socket_t *), ngx_cycle->log);
        if (w == NULL) {
            ngx_socketio_socket_reply(s);
            return NGX_OK;
        }

        if (nsp->waiting) {
            ngx_memcpy(w, nsp->waiting,
                       nsp->nwaiting * sizeof(ngx_socketio_socket_t *));
            ngx_free(nsp->waiting);
        }

        nsp->waiting = w;
        nsp->waiting_size = size;
    }

    s->ticket = (uint32_t) ticket;
    nsp->waiting[nsp->nwaiting++] = s;

    return NGX_OK;
}


void
ngx_socketio_socket_barrier(ngx_socketio_nsp_t *nsp, ngx_uint_t ticket)
{
    ngx_uint_t              i, n;
    ngx_socketio_socket_t  *s;

    /* tickets grow: the waiting list is in ticket order */

    for (n = 0; n < nsp->nwaiting; n++) {
        if ((int32_t) ((uint32_t) ticket - nsp->waiting[n]->ticket) < 0) {
            break;
        }
    }

    for (i = 0; i < n; i++) {
        s = nsp->waiting[i];
        s->ticket = 0;
        ngx_socketio_socket_reply(s);
    }

    nsp->nwaiting -= n;
    ngx_memmove(nsp->waiting, nsp->waiting + n,
                nsp->nwaiting * sizeof(ngx_socketio_socket_t *));
}


/* socket.io-parser's reconstructPacket(): every placeholder, any depth */

static ngx_int_t
ngx_socketio_socket_placeholders(json_t *v, ngx_uint_t count,
    ngx_uint_t depth)
{
    size_t       i;
    json_t      *e;
    ngx_uint_t   num;
    const char  *key;

    /* jansson's parser nests no deeper than 2048 */

    if (depth > 2048) {
        return NGX_ERROR;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (ngx_socketio_socket_placeholders(e, count, depth + 1)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;
    }

    if (!json_is_object(v)) {
        return NGX_OK;
    }

    switch (ngx_socketio_packet_placeholder(v, count, &num)) {

    case NGX_OK:
        return NGX_OK;

    case NGX_ERROR:
        return NGX_ERROR;

    default:
        break;
    }

    json_object_foreach(v, key, e) {
        if (ngx_socketio_socket_placeholders(e, count, depth + 1) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_socketio_socket_event(ngx_socketio_socket_t *s, ngx_socketio_packet_t *pkt,
    json_t *json, ngx_str_t *att)
{
    ngx_socketio_wbuf_t   b;

    /* the placeholders, at any depth, must name attachments that came */

    if (pkt->attachments
        && ngx_socketio_socket_placeholders(json, pkt->attachments, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Nothing routes client events yet: never dropped in silence, the
     * drop is counted and an ack, if asked for, carries an error.
     */

    ngx_socketio_stats->unrouted_events++;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, s->client->conn->connection->log, 0,
                   "socketio event not routed, ack id %uL", pkt->id);

    if (pkt->id == NGX_SOCKETIO_NO_ID) {
        return NGX_OK;
    }

    if (ngx_socketio_wbuf_init(&b, 64 + s->nsp->name.len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_packet_head(&b, NGX_SOCKETIO_ACK, 0, &s->nsp->name, pkt->id);
    ngx_socketio_wbuf_str(&b, "[{\"error\":\"event not routed\"}]");

    if (!b.failed) {
        (void) ngx_socketio_eio_send_text(s->client->conn, b.start,
                                          b.pos - b.start);
    }

    ngx_socketio_wbuf_free(&b);

    return NGX_OK;
}


ngx_int_t
ngx_socketio_socket_send(ngx_socketio_socket_t *s, ngx_socketio_frame_t *frame,
    ngx_uint_t flags)
{
    return ngx_socketio_eio_send(s->client->conn, frame, flags);
}


static ngx_socketio_socket_t *
ngx_socketio_socket_find(ngx_socketio_client_t *client, ngx_str_t *nsp)
{
    ngx_socketio_socket_t  *s;

    for (s = client->sockets; s; s = s->next) {
        if (s->nsp->name.len == nsp->len
            && ngx_memcmp(s->nsp->name.data, nsp->data, nsp->len) == 0)
        {
            return s;
        }
    }

    return NULL;
}


static void
ngx_socketio_socket_free(ngx_socketio_socket_t *s)
{
    ngx_uint_t               i;
    ngx_socketio_nsp_t      *nsp;
    ngx_socketio_socket_t  **ps;

    nsp = s->nsp;

    for (ps = &s->client->sockets; *ps; ps = &(*ps)->next) {
        if (*ps == s) {
            *ps = s->next;
            break;
        }
    }

    if (s->ticket) {
        for (i = 0; i < nsp->nwaiting; i++) {
            if (nsp->waiting[i] == s) {
                nsp->nwaiting--;
                ngx_memmove(&nsp->waiting[i], &nsp->waiting[i + 1],
                            (nsp->nwaiting - i)
                            * sizeof(ngx_socketio_socket_t *));
                break;
            }
        }
    }

    ngx_socketio_rooms_remove_socket(s);

    ngx_socketio_stats->sockets--;

    if (s->acks) {
        for (i = 0; i < s->acks->n; i++) {
            ngx_socketio_ack_unref(s->acks->e[i].ack);
        }

        ngx_free(s->acks);
    }

    if (s->auth) {
        ngx_free(s->auth);
    }

    ngx_free(s);
}


/*
 * A client's ack: what the cluster waits for goes to its handler; an ack
 * nobody waits for is ignored (PROTOCOL 2.6)
 */

static ngx_int_t
ngx_socketio_socket_ack(ngx_socketio_socket_t *s, ngx_socketio_packet_t *pkt,
    json_t *json, ngx_str_t *att)
{
    json_t               *arg;
    ngx_uint_t            i;
    ngx_socketio_ack_t   *ack;
    ngx_socketio_acks_t  *acks;

    if (pkt->attachments
        && ngx_socketio_socket_placeholders(json, pkt->attachments, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    acks = s->acks;

    if (acks == NULL || pkt->id == NGX_SOCKETIO_NO_ID) {
        return NGX_OK;
    }

    for (i = 0; i < acks->n; i++) {
        if (acks->e[i].id == pkt->id) {
            break;
        }
    }

    if (i == acks->n) {
        return NGX_OK;
    }

    ack = acks->e[i].ack;

    acks->n--;
    ngx_memmove(&acks->e[i], &acks->e[i + 1],
                (acks->n - i) * sizeof(acks->e[0]));

    /* only the first argument crosses servers (PROTOCOL 4.4) */

    if (!ack->expired) {
        arg = json_array_size(json) ? json_array_get(json, 0) : NULL;
        ack->handler(ack, arg, att, pkt->attachments);
    }

    ngx_socketio_ack_unref(ack);

    return NGX_OK;
}


ngx_int_t
ngx_socketio_socket_expect_ack(ngx_socketio_socket_t *s, uint64_t id,
    ngx_socketio_ack_t *ack)
{
    ngx_uint_t            i, j, size;
    ngx_socketio_acks_t  *acks, *bigger;

    acks = s->acks;

    if (acks && acks->n == acks->size) {

        /* first, forget what nobody waits for any more */

        for (i = 0, j = 0; i < acks->n; i++) {
            if (acks->e[i].ack->expired) {
                ngx_socketio_ack_unref(acks->e[i].ack);
                continue;
            }

            acks->e[j++] = acks->e[i];
        }

        acks->n = j;

        /* a client that never answers owes a bounded number */

        if (acks->n == NGX_SOCKETIO_SOCKET_MAX_ACKS) {
            ngx_socketio_ack_unref(acks->e[0].ack);
            acks->n--;
            ngx_memmove(&acks->e[0], &acks->e[1],
                        acks->n * sizeof(acks->e[0]));
        }
    }

    if (acks == NULL || acks->n == acks->size) {
        size = acks ? ngx_min(acks->size * 2, NGX_SOCKETIO_SOCKET_MAX_ACKS)
                    : 4;

        bigger = ngx_alloc(offsetof(ngx_socketio_acks_t, e)
                           + size * sizeof(acks->e[0]), ngx_cycle->log);
        if (bigger == NULL) {
            return NGX_ERROR;
        }

        bigger->n = 0;
        bigger->size = size;

        if (acks) {
            ngx_memcpy(bigger->e, acks->e, acks->n * sizeof(acks->e[0]));
            bigger->n = acks->n;
            ngx_free(acks);
        }

        s->acks = bigger;
        acks = bigger;
    }

    acks->e[acks->n].id = id;
    acks->e[acks->n].ack = ack;
    acks->n++;

    ack->refs++;

    return NGX_OK;
}


ngx_socketio_ack_t *
ngx_socketio_ack_create(size_t size, ngx_msec_t timeout,
    ngx_socketio_ack_pt handler, ngx_log_t *log)
{
    ngx_socketio_ack_t  *ack;

    ack = ngx_calloc(sizeof(ngx_socketio_ack_t) + size, log);
    if (ack == NULL) {
        return NULL;
    }

    /* the creator's reference, which the timeout ends */

    ack->refs = 1;
    ack->handler = handler;

    ack->timer.handler = ngx_socketio_ack_timeout;
    ack->timer.data = ack;
    ack->timer.log = log;
    ack->timer.cancelable = 1;

    ngx_add_timer(&ack->timer, timeout);

    return ack;
}


static void
ngx_socketio_ack_timeout(ngx_event_t *ev)
{
    ngx_socketio_ack_release(ev->data);
}


void
ngx_socketio_ack_release(ngx_socketio_ack_t *ack)
{
    if (ack->expired) {
        return;
    }

    ack->expired = 1;

    if (ack->timer.timer_set) {
        ngx_del_timer(&ack->timer);
    }

    ngx_socketio_ack_unref(ack);
}


static void
ngx_socketio_ack_unref(ngx_socketio_ack_t *ack)
{
    if (--ack->refs) {
        return;
    }

    if (ack->timer.timer_set) {
        ngx_del_timer(&ack->timer);
    }

    ngx_free(ack);
}


void
ngx_socketio_socket_disconnect(ngx_socketio_socket_t *s, ngx_uint_t close)
{
    ngx_socketio_socket_t  *t;
    ngx_socketio_client_t  *client;

    client = s->client;

    if (!close) {
        /* "server namespace disconnect": the connection stays */

        ngx_socketio_socket_send_disconnect(s);
        ngx_socketio_socket_free(s);
        return;
    }

    /* every namespace is told, then the connection closes (PROTOCOL 2.7) */

    for (t = client->sockets; t; t = t->next) {
        ngx_socketio_socket_send_disconnect(t);
    }

    ngx_socketio_eio_close(client->conn, NGX_SOCKETIO_REASON_FORCED_CLOSE, 0);
}


static void
ngx_socketio_socket_send_disconnect(ngx_socketio_socket_t *s)
{
    ngx_socketio_wbuf_t  b;

    if (ngx_socketio_wbuf_init(&b, 16 + s->nsp->name.len) != NGX_OK) {
        return;
    }

    ngx_socketio_packet_disconnect(&b, &s->nsp->name);

    if (!b.failed) {
        (void) ngx_socketio_eio_send_text(s->client->conn, b.start,
                                          b.pos - b.start);
    }

    ngx_socketio_wbuf_free(&b);
}
