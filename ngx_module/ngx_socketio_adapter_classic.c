
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_adapter.h"
#include "ngx_socketio_codec.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_rooms.h"
#include "ngx_socketio_socket.h"
#include "ngx_socketio_id.h"
#include "ngx_socketio_ops.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_msgpack.h"
#include "ngx_socketio_stats.h"


/*
 * @socket.io/redis-adapter's classic adapter (PROTOCOL 4) and the
 * @socket.io/redis-emitter messages (PROTOCOL 5).
 */


#define NGX_SOCKETIO_CLASSIC_UID_LEN   6

/* a requester's uid that fits its own response channel */
#define NGX_SOCKETIO_CLASSIC_UID_MAX   64

#define NGX_SOCKETIO_CLASSIC_RESPONSE_LEN(cn)                                 \
    ((cn)->response.len + NGX_SOCKETIO_CLASSIC_UID_MAX + 1)

/* request types (PROTOCOL 4.4) */
#define NGX_SOCKETIO_REQ_SOCKETS             0
#define NGX_SOCKETIO_REQ_ALL_ROOMS           1
#define NGX_SOCKETIO_REQ_REMOTE_JOIN         2
#define NGX_SOCKETIO_REQ_REMOTE_LEAVE        3
#define NGX_SOCKETIO_REQ_REMOTE_DISCONNECT   4
#define NGX_SOCKETIO_REQ_REMOTE_FETCH        5
#define NGX_SOCKETIO_REQ_SERVER_SIDE_EMIT    6
#define NGX_SOCKETIO_REQ_BROADCAST           7
#define NGX_SOCKETIO_REQ_BROADCAST_ACK       9

typedef struct {
    ngx_socketio_nsp_t           *nsp;
    u_char                        uid[NGX_SOCKETIO_CLASSIC_UID_LEN];
    ngx_str_t                     prefix;        /* K#N#               */
    ngx_str_t                     pattern;       /* K#N#*              */
    ngx_str_t                     request;       /* K-request#N#       */
    ngx_str_t                     response;      /* K-response#N#      */
    ngx_str_t                     own_response;  /* K-response#N#uid#  */
} ngx_socketio_classic_nsp_t;


typedef struct {
    ngx_socketio_adapter_conf_t  *conf;
    ngx_socketio_redis_t         *sub;
    ngx_socketio_redis_t         *cmd;
    ngx_array_t                   nsps;          /* classic_nsp_t */
    ngx_log_t                    *log;

    /* subscription confirmations: sent and received (rooms mode) */
    uint32_t                      sub_sent;
    uint32_t                      sub_confirmed;
} ngx_socketio_classic_t;


typedef struct {
    ngx_socketio_frame_t         *frame;
    ngx_uint_t                    flags;
} ngx_socketio_classic_delivery_t;


/* a broadcast with acks: where its answers go (PROTOCOL 4.4, 4.5) */

typedef struct {
    ngx_str_t                     request_id;
    ngx_str_t                     channel;
    ngx_uint_t                    pending;       /* clients yet to answer */
} ngx_socketio_classic_ack_t;


static ngx_int_t ngx_socketio_classic_init(ngx_cycle_t *cycle,
    ngx_socketio_adapter_conf_t *conf);
static void ngx_socketio_classic_exit(ngx_cycle_t *cycle);
static ngx_int_t ngx_socketio_classic_channels(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *key, ngx_pool_t *pool);
static void ngx_socketio_classic_state(ngx_socketio_redis_t *r,
    ngx_uint_t up, void *data);
static void ngx_socketio_classic_subscribe_all(void);
static void ngx_socketio_classic_subscribe_rooms(
    ngx_socketio_classic_nsp_t *cn);
static void ngx_socketio_classic_push(ngx_socketio_redis_t *r,
    redisReply *reply, void *data);
static void ngx_socketio_classic_message(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *channel, u_char *msg, size_t len);
static void ngx_socketio_classic_broadcast(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *room, u_char *msg, size_t len);
static void ngx_socketio_classic_deliver(ngx_socketio_socket_t *s,
    void *data);
static void ngx_socketio_classic_room_added(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name);
static void ngx_socketio_classic_room_removed(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name);
static void ngx_socketio_classic_room_command(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name, const char *command);
static ngx_uint_t ngx_socketio_classic_barrier(ngx_socketio_nsp_t *nsp);
static void ngx_socketio_classic_release(void);
static void ngx_socketio_classic_malformed(const char *what,
    ngx_str_t *channel);
static void ngx_socketio_classic_request(ngx_socketio_classic_nsp_t *cn,
    u_char *msg, size_t len);
static ngx_int_t ngx_socketio_classic_query(ngx_socketio_classic_nsp_t *cn,
    json_t *req, ngx_int_t type, ngx_pool_t *pool);
static ngx_int_t ngx_socketio_classic_apply(ngx_socketio_classic_nsp_t *cn,
    json_t *req, ngx_int_t type, ngx_pool_t *pool);
static void ngx_socketio_classic_broadcast_ack(ngx_socketio_classic_nsp_t *cn,
    u_char *msg, size_t len);
static void ngx_socketio_classic_acked(ngx_socketio_ack_t *ack, json_t *arg,
    ngx_str_t *att, ngx_uint_t natt);
static void ngx_socketio_classic_response_channel(
    ngx_socketio_classic_nsp_t *cn, ngx_str_t *uid, ngx_str_t *channel);
static void ngx_socketio_classic_respond(ngx_socketio_classic_nsp_t *cn,
    json_t *req, ngx_socketio_wbuf_t *b, ngx_pool_t *pool);
static void ngx_socketio_classic_publish(ngx_str_t *channel,
    ngx_socketio_wbuf_t *b);
static ngx_int_t ngx_socketio_classic_json_str(json_t *v, ngx_str_t *s);
static ngx_int_t ngx_socketio_classic_json_name(json_t *v, ngx_pool_t *pool,
    ngx_str_t *name);
static ngx_int_t ngx_socketio_classic_json_names(json_t *a, ngx_pool_t *pool,
    ngx_str_t **names, ngx_uint_t *n);
static ngx_int_t ngx_socketio_classic_json_opts(json_t *opts,
    ngx_pool_t *pool, ngx_socketio_opts_t *o);


ngx_socketio_adapter_t  ngx_socketio_adapter_classic = {
    ngx_socketio_classic_init,
    ngx_socketio_classic_exit
};


static ngx_socketio_classic_t  *ngx_socketio_classic;


static ngx_int_t
ngx_socketio_classic_init(ngx_cycle_t *cycle,
    ngx_socketio_adapter_conf_t *conf)
{
    ngx_uint_t                   i;
    ngx_array_t                 *nsps;
    ngx_socketio_nsp_t         **nsp;
    ngx_socketio_classic_t      *cl;
    ngx_socketio_classic_nsp_t  *cn;

    cl = ngx_pcalloc(cycle->pool, sizeof(ngx_socketio_classic_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->conf = conf;
    cl->log = cycle->log;

    nsps = ngx_socketio_nsps();

    if (ngx_array_init(&cl->nsps, cycle->pool, nsps ? nsps->nelts : 1,
                       sizeof(ngx_socketio_classic_nsp_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    nsp = nsps ? nsps->elts : NULL;

    for (i = 0; nsps && i < nsps->nelts; i++) {
        cn = ngx_array_push(&cl->nsps);
        if (cn == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(cn, sizeof(ngx_socketio_classic_nsp_t));

        /* every worker is a node: a uid per namespace per worker */

        cn->nsp = nsp[i];
        ngx_socketio_id_uid2(cn->uid, NGX_SOCKETIO_CLASSIC_UID_LEN);

        if (ngx_socketio_classic_channels(cn, &conf->key, cycle->pool)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        nsp[i]->adapter = cn;

        if (conf->subscribe == NGX_SOCKETIO_SUBSCRIBE_ROOMS) {
            nsp[i]->room_added = ngx_socketio_classic_room_added;
            nsp[i]->room_removed = ngx_socketio_classic_room_removed;
            nsp[i]->barrier = ngx_socketio_classic_barrier;
        }

        ngx_log_error(NGX_LOG_INFO, cycle->log, 0,
                      "socketio: namespace \"%V\" uid %*s", &nsp[i]->name,
                      (size_t) NGX_SOCKETIO_CLASSIC_UID_LEN, cn->uid);
    }

    cl->sub = ngx_socketio_redis_create(conf->redis, "subscriber", 1,
                                        ngx_socketio_classic_state,
                                        ngx_socketio_classic_push, cl,
                                        cycle->log);
    cl->cmd = ngx_socketio_redis_create(conf->redis, "command", 0,
                                        ngx_socketio_classic_state,
                                        NULL, cl, cycle->log);

    if (cl->sub == NULL || cl->cmd == NULL) {
        return NGX_ERROR;
    }

    ngx_socketio_classic = cl;

    ngx_socketio_redis_connect(cl->sub);
    ngx_socketio_redis_connect(cl->cmd);

    return NGX_OK;
}


static void
ngx_socketio_classic_exit(ngx_cycle_t *cycle)
{
    ngx_socketio_classic_t  *cl;

    cl = ngx_socketio_classic;

    if (cl == NULL) {
        return;
    }

    ngx_socketio_classic = NULL;

    ngx_socketio_redis_destroy(cl->sub);
    ngx_socketio_redis_destroy(cl->cmd);
}


static ngx_int_t
ngx_socketio_classic_channel(ngx_str_t *ch, ngx_pool_t *pool, ngx_str_t *key,
    const char *kind, ngx_str_t *nsp, u_char *uid, const char *tail)
{
    size_t   len;
    u_char  *p;

    len = key->len + ngx_strlen(kind) + 1 + nsp->len + 1
          + (uid ? NGX_SOCKETIO_CLASSIC_UID_LEN + 1 : 0) + ngx_strlen(tail);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ch->data = p;

    p = ngx_cpymem(p, key->data, key->len);
    p = ngx_cpymem(p, kind, ngx_strlen(kind));
    *p++ = '#';
    p = ngx_cpymem(p, nsp->data, nsp->len);
    *p++ = '#';

    if (uid) {
        p = ngx_cpymem(p, uid, NGX_SOCKETIO_CLASSIC_UID_LEN);
        *p++ = '#';
    }

    p = ngx_cpymem(p, tail, ngx_strlen(tail));

    ch->len = p - ch->data;

    return NGX_OK;
}


static ngx_int_t
ngx_socketio_classic_channels(ngx_socketio_classic_nsp_t *cn, ngx_str_t *key,
    ngx_pool_t *pool)
{
    ngx_str_t  *n;

    n = &cn->nsp->name;

    if (ngx_socketio_classic_channel(&cn->prefix, pool, key, "", n, NULL, "")
           != NGX_OK
        || ngx_socketio_classic_channel(&cn->pattern, pool, key, "", n, NULL,
                                        "*")
           != NGX_OK
        || ngx_socketio_classic_channel(&cn->request, pool, key, "-request",
                                        n, NULL, "")
           != NGX_OK
        || ngx_socketio_classic_channel(&cn->response, pool, key,
                                        "-response", n, NULL, "")
           != NGX_OK
        || ngx_socketio_classic_channel(&cn->own_response, pool, key,
                                        "-response", n, cn->uid, "")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_socketio_classic_state(ngx_socketio_redis_t *r, ngx_uint_t up, void *data)
{
    ngx_socketio_classic_t  *cl;

    cl = data;

    ngx_socketio_stats->redis_connected =
                                     ngx_socketio_redis_ready(cl->sub)
                                     && ngx_socketio_redis_ready(cl->cmd);

    if (r != cl->sub) {
        return;
    }

    if (up) {
        /* the subscriptions of every namespace in one pipelined batch */
        ngx_socketio_classic_subscribe_all();
        return;
    }

    /*
     * Redis is away: local delivery goes on; nothing waits for
     * confirmations that cannot come
     */

    ngx_socketio_classic_release();
    ngx_socketio_stats->redis_reconnects++;
}


static void
ngx_socketio_classic_subscribe_all(void)
{
    ngx_uint_t                   i;
    const char                  *argv[4];
    size_t                       argvlen[4];
    ngx_socketio_classic_t      *cl;
    ngx_socketio_classic_nsp_t  *cn;

    cl = ngx_socketio_classic;
    cn = cl->nsps.elts;

    for (i = 0; i < cl->nsps.nelts; i++) {

        if (cl->conf->subscribe == NGX_SOCKETIO_SUBSCRIBE_PATTERN) {
            /* exactly what Node does (PROTOCOL 4.2) */

            argv[0] = "PSUBSCRIBE";
            argvlen[0] = 10;
            argv[1] = (const char *) cn[i].pattern.data;
            argvlen[1] = cn[i].pattern.len;

            (void) ngx_socketio_redis_subscribe(cl->sub, 2, argv, argvlen);

        } else {
            argv[0] = "SUBSCRIBE";
            argvlen[0] = 9;
            argv[1] = (const char *) cn[i].prefix.data;
            argvlen[1] = cn[i].prefix.len;

            (void) ngx_socketio_redis_subscribe(cl->sub, 2, argv, argvlen);
        }

        /* the request channel makes this worker count as a server */

        argv[0] = "SUBSCRIBE";
        argvlen[0] = 9;
        argv[1] = (const char *) cn[i].request.data;
        argvlen[1] = cn[i].request.len;
        argv[2] = (const char *) cn[i].response.data;
        argvlen[2] = cn[i].response.len;
        argv[3] = (const char *) cn[i].own_response.data;
        argvlen[3] = cn[i].own_response.len;

        (void) ngx_socketio_redis_subscribe(cl->sub, 4, argv, argvlen);

        cl->sub_sent += 4;

        if (cl->conf->subscribe == NGX_SOCKETIO_SUBSCRIBE_ROOMS) {
            ngx_socketio_classic_subscribe_rooms(&cn[i]);
        }
    }
}


/*
 * rooms mode: one channel per local room, sid rooms included; the
 * commands are pipelined and go out in one write
 */

static void
ngx_socketio_classic_subscribe_rooms(ngx_socketio_classic_nsp_t *cn)
{
    ngx_str_t               sid;
    ngx_queue_t            *q;
    ngx_rbtree_node_t      *node, *root, *sentinel;
    ngx_socketio_room_t    *room;
    ngx_socketio_socket_t  *s;

    for (q = ngx_queue_head(&cn->nsp->all);
         q != ngx_queue_sentinel(&cn->nsp->all);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_socketio_socket_t, queue);

        sid.data = s->sid;
        sid.len = NGX_SOCKETIO_SID_LEN;

        ngx_socketio_classic_room_command(cn->nsp, &sid, "SUBSCRIBE");
    }

    root = cn->nsp->rooms.root;
    sentinel = cn->nsp->rooms.sentinel;

    if (root == sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&cn->nsp->rooms, node))
    {
        room = (ngx_socketio_room_t *) node;
        ngx_socketio_classic_room_command(cn->nsp, &room->sn.str,
                                          "SUBSCRIBE");
    }
}


static void
ngx_socketio_classic_room_added(ngx_socketio_nsp_t *nsp, ngx_str_t *name)
{
    ngx_socketio_classic_room_command(nsp, name, "SUBSCRIBE");
}


static void
ngx_socketio_classic_room_removed(ngx_socketio_nsp_t *nsp, ngx_str_t *name)
{
    ngx_socketio_classic_room_command(nsp, name, "UNSUBSCRIBE");
}


static void
ngx_socketio_classic_room_command(ngx_socketio_nsp_t *nsp, ngx_str_t *name,
    const char *command)
{
    u_char                      *p;
    const char                  *argv[2];
    size_t                       argvlen[2];
    ngx_socketio_classic_t      *cl;
    ngx_socketio_classic_nsp_t  *cn;

    cl = ngx_socketio_classic;

    if (cl == NULL || !ngx_socketio_redis_ready(cl->sub)) {
        /* all current rooms are subscribed when it comes back */
        return;
    }

    cn = nsp->adapter;

    p = ngx_alloc(cn->prefix.len + name->len + 1, cl->log);
    if (p == NULL) {
        return;
    }

    ngx_memcpy(p, cn->prefix.data, cn->prefix.len);
    ngx_memcpy(p + cn->prefix.len, name->data, name->len);
    p[cn->prefix.len + name->len] = '#';

    argv[0] = command;
    argvlen[0] = ngx_strlen(command);
    argv[1] = (const char *) p;
    argvlen[1] = cn->prefix.len + name->len + 1;

    if (ngx_socketio_redis_subscribe(cl->sub, 2, argv, argvlen) == NGX_OK
        && command[0] == 'S')
    {
        cl->sub_sent++;
    }

    ngx_free(p);
}


/* the ticket a new socket waits for: all subscriptions sent so far */

static ngx_uint_t
ngx_socketio_classic_barrier(ngx_socketio_nsp_t *nsp)
{
    ngx_socketio_classic_t  *cl;

    cl = ngx_socketio_classic;

    if (cl == NULL || !ngx_socketio_redis_ready(cl->sub)
        || cl->sub_sent == cl->sub_confirmed)
    {
        return 0;
    }

    return cl->sub_sent ? cl->sub_sent : 1;
}


static void
ngx_socketio_classic_confirmed(void)
{
    ngx_uint_t                   i;
    ngx_socketio_classic_t      *cl;
    ngx_socketio_classic_nsp_t  *cn;

    cl = ngx_socketio_classic;
    cn = cl->nsps.elts;

    for (i = 0; i < cl->nsps.nelts; i++) {
        if (cn[i].nsp->nwaiting) {
            ngx_socketio_socket_barrier(cn[i].nsp, cl->sub_confirmed);
        }
    }
}


static void
ngx_socketio_classic_release(void)
{
    ngx_socketio_classic_t  *cl;

    cl = ngx_socketio_classic;

    cl->sub_confirmed = cl->sub_sent;
    ngx_socketio_classic_confirmed();
}


static void
ngx_socketio_classic_push(ngx_socketio_redis_t *r, redisReply *reply,
    void *data)
{
    ngx_uint_t                   i;
    ngx_str_t                    kind, channel, pattern;
    redisReply                  *msg;
    ngx_socketio_classic_t      *cl;
    ngx_socketio_classic_nsp_t  *cn, *best;

    cl = data;

    kind.data = (u_char *) reply->element[0]->str;
    kind.len = reply->element[0]->len;

    if (kind.len == 9 && ngx_strncmp(kind.data, "subscribe", 9) == 0) {
        cl->sub_confirmed++;
        ngx_socketio_classic_confirmed();
        return;
    }

    if (kind.len == 10 && ngx_strncmp(kind.data, "psubscribe", 10) == 0) {
        cl->sub_confirmed++;
        ngx_socketio_classic_confirmed();
        return;
    }

    if (kind.len == 8 && ngx_strncmp(kind.data, "pmessage", 8) == 0
        && reply->elements == 4)
    {
        /* the pattern says which namespace: K#N#* */

        pattern.data = (u_char *) reply->element[1]->str;
        pattern.len = reply->element[1]->len;
        channel.data = (u_char *) reply->element[2]->str;
        channel.len = reply->element[2]->len;
        msg = reply->element[3];

        if (reply->element[3]->type != REDIS_REPLY_STRING) {
            return;
        }

        cn = cl->nsps.elts;

        for (i = 0; i < cl->nsps.nelts; i++) {
            if (cn[i].pattern.len == pattern.len
                && ngx_memcmp(cn[i].pattern.data, pattern.data, pattern.len)
                   == 0)
            {
                ngx_socketio_classic_message(&cn[i], &channel,
                                             (u_char *) msg->str, msg->len);
                return;
            }
        }

        return;
    }

    if (kind.len == 7 && ngx_strncmp(kind.data, "message", 7) == 0
        && reply->elements == 3)
    {
        channel.data = (u_char *) reply->element[1]->str;
        channel.len = reply->element[1]->len;
        msg = reply->element[2];

        if (msg->type != REDIS_REPLY_STRING) {
            return;
        }

        /* the namespace whose prefix is the longest match */

        best = NULL;
        cn = cl->nsps.elts;

        for (i = 0; i < cl->nsps.nelts; i++) {
            if (channel.len >= cn[i].prefix.len
                && ngx_memcmp(channel.data, cn[i].prefix.data,
                              cn[i].prefix.len)
                   == 0
                && (best == NULL || cn[i].prefix.len > best->prefix.len))
            {
                best = &cn[i];
            }

            if ((channel.len == cn[i].request.len
                 && ngx_memcmp(channel.data, cn[i].request.data,
                               channel.len) == 0)
                || (channel.len == cn[i].response.len
                    && ngx_memcmp(channel.data, cn[i].response.data,
                                  channel.len) == 0)
                || (channel.len == cn[i].own_response.len
                    && ngx_memcmp(channel.data, cn[i].own_response.data,
                                  channel.len) == 0))
            {
                /* this worker asks nothing: responses are for others */

                if (channel.len == cn[i].request.len) {
                    ngx_socketio_classic_request(&cn[i], (u_char *) msg->str,
                                                 msg->len);
                }

                return;
            }
        }

        if (best) {
            ngx_socketio_classic_message(best, &channel, (u_char *) msg->str,
                                         msg->len);
        }
    }
}


/* a message on K#N# or K#N#room# */

static void
ngx_socketio_classic_message(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *channel, u_char *msg, size_t len)
{
    ngx_str_t  room;

    if (channel->len < cn->prefix.len
        || ngx_memcmp(channel->data, cn->prefix.data, cn->prefix.len) != 0)
    {
        return;
    }

    ngx_socketio_stats->redis_messages++;

    room.data = channel->data + cn->prefix.len;
    room.len = channel->len - cn->prefix.len;

    if (room.len) {
        if (room.data[room.len - 1] != '#') {
            return;
        }

        room.len--;
    }

    ngx_socketio_classic_broadcast(cn, &room, msg, len);
}


static void
ngx_socketio_classic_broadcast(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *room, u_char *msg, size_t len)
{
    ngx_uint_t                        i, any;
    ngx_socketio_nsp_t               *nsp;
    ngx_socketio_names_t              rooms, except;
    ngx_socketio_broadcast_t          bc;
    ngx_socketio_classic_delivery_t   d;

    nsp = cn->nsp;

    /*
     * A single-room broadcast that no local socket can receive is dropped
     * before it is even decoded, as Node does (PROTOCOL 4.3)
     */

    if (room->len && !ngx_socketio_rooms_exists(nsp, room)) {
        return;
    }

    if (ngx_socketio_codec_broadcast(msg, len, &bc) != NGX_OK) {
        ngx_socketio_classic_malformed("malformed broadcast", room);
        return;
    }

    /* our own echo */

    if (bc.uid.len == NGX_SOCKETIO_CLASSIC_UID_LEN
        && ngx_memcmp(bc.uid.data, cn->uid, NGX_SOCKETIO_CLASSIC_UID_LEN) == 0)
    {
        return;
    }

    if (bc.nsp.len != nsp->name.len
        || ngx_memcmp(bc.nsp.data, nsp->name.data, nsp->name.len) != 0)
    {
        return;
    }

    if (nsp->nsockets == 0) {
        return;
    }

    if (ngx_socketio_codec_names(&bc.rooms, bc.nrooms, &rooms) != NGX_OK) {
        ngx_socketio_classic_malformed("malformed rooms", room);
        return;
    }

    if (ngx_socketio_codec_names(&bc.except, bc.nexcept, &except) != NGX_OK) {
        ngx_socketio_codec_names_free(&rooms);
        ngx_socketio_classic_malformed("malformed except", room);
        return;
    }

    any = (rooms.n == 0);

    for (i = 0; i < rooms.n && !any; i++) {
        any = ngx_socketio_rooms_exists(nsp, &rooms.names[i]);
    }

    if (any) {
        /* encoded once for this worker; every target shares the frame */

        d.frame = ngx_socketio_codec_frame(&bc.data, bc.type, &nsp->name,
                                           bc.id);

        if (d.frame == NULL) {
            ngx_socketio_classic_malformed("unencodable broadcast", room);

        } else {
            d.flags = (bc.flags & NGX_SOCKETIO_FLAG_VOLATILE)
                      ? NGX_SOCKETIO_EIO_VOLATILE : 0;

            ngx_socketio_stats->broadcasts++;

            (void) ngx_socketio_rooms_select(nsp, rooms.names, rooms.n,
                                             except.names, except.n,
                                             ngx_socketio_classic_deliver, &d);

            ngx_socketio_frame_release(d.frame);
        }
    }

    ngx_socketio_codec_names_free(&rooms);
    ngx_socketio_codec_names_free(&except);
}


static void
ngx_socketio_classic_deliver(ngx_socketio_socket_t *s, void *data)
{
    ngx_socketio_classic_delivery_t  *d = data;

    (void) ngx_socketio_socket_send(s, d->frame, d->flags);
}


/* logged at info, at most once a second: Redis is not to flood the log */

static void
ngx_socketio_classic_malformed(const char *what, ngx_str_t *channel)
{
    static time_t  last;

    ngx_socketio_stats->redis_malformed++;

    if (last == ngx_time()) {
        return;
    }

    last = ngx_time();

    ngx_log_error(NGX_LOG_INFO, ngx_socketio_classic->log, 0,
                  "socketio: %s from redis dropped (room \"%V\")", what,
                  channel);
}


/*
 * A request on K-request#N# (PROTOCOL 4.4): JSON, but for the broadcast
 * with acks, which is msgpack.  Every node answers for the sockets it
 * holds; what this worker cannot read is ignored, as Node ignores it.
 */

static void
ngx_socketio_classic_request(ngx_socketio_classic_nsp_t *cn, u_char *msg,
    size_t len)
{
    json_t        *req, *v;
    ngx_int_t      rc;
    ngx_pool_t    *pool;
    json_error_t   err;

    ngx_socketio_stats->redis_requests++;

    if (len && msg[0] != '{') {
        ngx_socketio_classic_broadcast_ack(cn, msg, len);
        return;
    }

    req = json_loadb((const char *) msg, len, 0, &err);

    if (req == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_socketio_classic->log, 0,
                       "socketio: unreadable request ignored: %s", err.text);
        return;
    }

    v = json_object_get(req, "type");

    if (!json_is_object(req) || !json_is_integer(v)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_socketio_classic->log, 0,
                       "socketio: request without a type ignored");
        json_decref(req);
        return;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_socketio_classic->log);
    if (pool == NULL) {
        json_decref(req);
        return;
    }

    switch (json_integer_value(v)) {

    case NGX_SOCKETIO_REQ_SOCKETS:
    case NGX_SOCKETIO_REQ_ALL_ROOMS:
    case NGX_SOCKETIO_REQ_REMOTE_FETCH:
        rc = ngx_socketio_classic_query(cn, req, json_integer_value(v), pool);
        break;

    case NGX_SOCKETIO_REQ_REMOTE_JOIN:
    case NGX_SOCKETIO_REQ_REMOTE_LEAVE:
    case NGX_SOCKETIO_REQ_REMOTE_DISCONNECT:
        rc = ngx_socketio_classic_apply(cn, req, json_integer_value(v), pool);
        break;

    case NGX_SOCKETIO_REQ_SERVER_SIDE_EMIT:

        /*
         * nginx has no server-side listeners, and a Node server with no
         * listener for the event neither acts nor answers: the requester
         * of serverSideEmitWithAck() gets its timeout error, as it does
         * from such a Node server
         */

        rc = NGX_OK;
        break;

    default:
        rc = NGX_DECLINED;
        break;
    }

    if (rc != NGX_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_socketio_classic->log, 0,
                       "socketio: %s request ignored",
                       rc == NGX_DECLINED ? "unknown" : "malformed");
    }

    ngx_destroy_pool(pool);
    json_decref(req);
}


/* SOCKETS, ALL_ROOMS and REMOTE_FETCH: what this worker holds */

static ngx_int_t
ngx_socketio_classic_query(ngx_socketio_classic_nsp_t *cn, json_t *req,
    ngx_int_t type, ngx_pool_t *pool)
{
    ngx_int_t             rc;
    ngx_str_t             id;
    ngx_socketio_opts_t   opts;
    ngx_socketio_wbuf_t   b;

    if (ngx_socketio_classic_json_str(json_object_get(req, "requestId"), &id)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&opts, sizeof(ngx_socketio_opts_t));

    if (type == NGX_SOCKETIO_REQ_SOCKETS) {
        rc = ngx_socketio_classic_json_names(json_object_get(req, "rooms"),
                                             pool, &opts.rooms, &opts.nrooms);

    } else if (type == NGX_SOCKETIO_REQ_REMOTE_FETCH) {
        rc = ngx_socketio_classic_json_opts(json_object_get(req, "opts"),
                                            pool, &opts);

    } else {
        rc = NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_socketio_wbuf_init(&b, 256) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_wbuf_str(&b, "{\"requestId\":");
    ngx_socketio_json_string(&b, id.data, id.len);

    switch (type) {

    case NGX_SOCKETIO_REQ_SOCKETS:
        ngx_socketio_wbuf_str(&b, ",\"sockets\":");
        (void) ngx_socketio_ops_sockets(cn->nsp, &opts, &b);
        break;

    case NGX_SOCKETIO_REQ_ALL_ROOMS:
        ngx_socketio_wbuf_str(&b, ",\"rooms\":");
        ngx_socketio_ops_rooms(cn->nsp, &b);
        break;

    default: /* NGX_SOCKETIO_REQ_REMOTE_FETCH */
        ngx_socketio_wbuf_str(&b, ",\"sockets\":");
        (void) ngx_socketio_ops_fetch(cn->nsp, &opts, &b);
        break;
    }

    ngx_socketio_wbuf_addc(&b, '}');

    ngx_socketio_classic_respond(cn, req, &b, pool);

    ngx_socketio_wbuf_free(&b);

    return NGX_OK;
}


/*
 * REMOTE_JOIN, REMOTE_LEAVE, REMOTE_DISCONNECT.  With "opts" (8.x, the
 * emitter): every node applies it, the sender too, and nobody answers.
 * With "sid" (7.x): the socket's node applies it and answers.
 */

static ngx_int_t
ngx_socketio_classic_apply(ngx_socketio_classic_nsp_t *cn, json_t *req,
    ngx_int_t type, ngx_pool_t *pool)
{
    json_t                 *opts;
    ngx_str_t              *names, sid, room, id;
    ngx_uint_t              n;
    ngx_socketio_opts_t     o;
    ngx_socketio_wbuf_t     b;
    ngx_socketio_socket_t  *s;

    opts = json_object_get(req, "opts");

    if (opts) {
        if (ngx_socketio_classic_json_opts(opts, pool, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        if (type == NGX_SOCKETIO_REQ_REMOTE_DISCONNECT) {
            (void) ngx_socketio_ops_disconnect(cn->nsp, &o,
                                  json_is_true(json_object_get(req, "close")));
            return NGX_OK;
        }

        if (ngx_socketio_classic_json_names(json_object_get(req, "rooms"),
                                            pool, &names, &n)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (type == NGX_SOCKETIO_REQ_REMOTE_JOIN) {
            (void) ngx_socketio_ops_join(cn->nsp, &o, names, n);

        } else {
            (void) ngx_socketio_ops_leave(cn->nsp, &o, names, n);
        }

        return NGX_OK;
    }

    if (ngx_socketio_classic_json_str(json_object_get(req, "sid"), &sid)
        != NGX_OK
        || ngx_socketio_classic_json_str(json_object_get(req, "requestId"),
                                         &id)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    s = ngx_socketio_rooms_socket(cn->nsp, &sid);

    if (s == NULL) {
        /* another node's socket */
        return NGX_OK;
    }

    if (type != NGX_SOCKETIO_REQ_REMOTE_DISCONNECT) {
        if (ngx_socketio_classic_json_name(json_object_get(req, "room"), pool,
                                           &room)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (type == NGX_SOCKETIO_REQ_REMOTE_JOIN) {
            (void) ngx_socketio_rooms_join(s, &room);

        } else {
            ngx_socketio_rooms_leave(s, &room);
        }

    } else {
        ngx_socketio_socket_disconnect(s,
                                  json_is_true(json_object_get(req, "close")));
    }

    if (ngx_socketio_wbuf_init(&b, 64) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_wbuf_str(&b, "{\"requestId\":");
    ngx_socketio_json_string(&b, id.data, id.len);
    ngx_socketio_wbuf_addc(&b, '}');

    ngx_socketio_classic_respond(cn, req, &b, pool);

    ngx_socketio_wbuf_free(&b);

    return NGX_OK;
}


/*
 * BROADCAST with acks (PROTOCOL 4.5): the packet goes to the local
 * targets with one new ack id, the client count is published at once,
 * even when it is 0, then one BROADCAST_ACK per client that answers
 */

static void
ngx_socketio_classic_broadcast_ack(ngx_socketio_classic_nsp_t *cn,
    u_char *msg, size_t len)
{
    ngx_uint_t                   count;
    ngx_msec_t                   timeout;
    ngx_socketio_ack_t          *ack;
    ngx_socketio_opts_t          opts;
    ngx_socketio_wbuf_t          b;
    ngx_socketio_names_t         rooms, except;
    ngx_socketio_request_t       req;
    ngx_socketio_classic_ack_t  *ca;

    if (ngx_socketio_codec_request(msg, len, &req) != NGX_OK
        || req.type != NGX_SOCKETIO_REQ_BROADCAST
        || req.request_id.len == 0)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_socketio_classic->log, 0,
                       "socketio: malformed or unknown msgpack request "
                       "ignored");
        return;
    }

    if (ngx_socketio_codec_names(&req.bc.rooms, req.bc.nrooms, &rooms)
        != NGX_OK)
    {
        return;
    }

    if (ngx_socketio_codec_names(&req.bc.except, req.bc.nexcept, &except)
        != NGX_OK)
    {
        ngx_socketio_codec_names_free(&rooms);
        return;
    }

    /*
     * Node's receiving node keeps such acks as long as the socket lives;
     * the requester forgets them after its timeout, and so does this one
     */

    timeout = req.bc.timeout ? req.bc.timeout
                             : ngx_socketio_classic->conf->requests_timeout;

    ack = ngx_socketio_ack_create(sizeof(ngx_socketio_classic_ack_t)
                                  + req.request_id.len
                                  + NGX_SOCKETIO_CLASSIC_RESPONSE_LEN(cn),
                                  timeout, ngx_socketio_classic_acked,
                                  ngx_socketio_classic->log);
    if (ack == NULL) {
        goto done;
    }

    ca = ngx_socketio_ack_data(ack);

    ca->request_id.data = (u_char *) (ca + 1);
    ca->request_id.len = req.request_id.len;
    ngx_memcpy(ca->request_id.data, req.request_id.data, req.request_id.len);

    ca->channel.data = ca->request_id.data + ca->request_id.len;
    ngx_socketio_classic_response_channel(cn, &req.bc.uid, &ca->channel);

    opts.rooms = rooms.names;
    opts.nrooms = rooms.n;
    opts.except = except.names;
    opts.nexcept = except.n;

    /* the request's flags do not reach the packet, as in Node */

    if (ngx_socketio_ops_broadcast_ack(cn->nsp, &opts, &req.bc.data, 0, ack,
                                       &count)
        != NGX_OK)
    {
        ngx_socketio_classic_malformed("unencodable broadcast with acks",
                                       &cn->request);
    }

    ca->pending = count;

    if (ngx_socketio_wbuf_init(&b, 64) == NGX_OK) {
        ngx_socketio_wbuf_str(&b, "{\"type\":8,\"requestId\":");
        ngx_socketio_json_string(&b, ca->request_id.data, ca->request_id.len);
        ngx_socketio_wbuf_str(&b, ",\"clientCount\":");
        ngx_socketio_json_uint(&b, count);
        ngx_socketio_wbuf_addc(&b, '}');

        ngx_socketio_classic_publish(&ca->channel, &b);
        ngx_socketio_wbuf_free(&b);
    }

    if (count == 0) {
        ngx_socketio_ack_release(ack);
    }

done:

    ngx_socketio_codec_names_free(&rooms);
    ngx_socketio_codec_names_free(&except);
}


/* a client's ack: BROADCAST_ACK, msgpack, with its first argument only */

static void
ngx_socketio_classic_acked(ngx_socketio_ack_t *ack, json_t *arg,
    ngx_str_t *att, ngx_uint_t natt)
{
    ngx_socketio_wbuf_t          b;
    ngx_socketio_classic_ack_t  *ca;

    ca = ngx_socketio_ack_data(ack);

    if (ngx_socketio_wbuf_init(&b, 64) == NGX_OK) {

        /* no argument: no "packet" key, as notepack drops undefined */

        ngx_socketio_mp_map(&b, arg ? 3 : 2);
        ngx_socketio_mp_cstr(&b, "type");
        ngx_socketio_mp_int(&b, NGX_SOCKETIO_REQ_BROADCAST_ACK);
        ngx_socketio_mp_cstr(&b, "requestId");
        ngx_socketio_mp_str(&b, ca->request_id.data, ca->request_id.len);

        if (arg) {
            ngx_socketio_mp_cstr(&b, "packet");

            if (ngx_socketio_codec_msgpack(&b, arg, att, natt) != NGX_OK) {
                b.failed = 1;
            }
        }

        ngx_socketio_classic_publish(&ca->channel, &b);
        ngx_socketio_wbuf_free(&b);
    }

    if (--ca->pending == 0) {
        /* every target answered: nothing more to wait for */
        ngx_socketio_ack_release(ack);
    }
}


/* K-response#N#, or the requester's K-response#N#uid# when configured */

static void
ngx_socketio_classic_response_channel(ngx_socketio_classic_nsp_t *cn,
    ngx_str_t *uid, ngx_str_t *channel)
{
    u_char  *p;

    p = ngx_cpymem(channel->data, cn->response.data, cn->response.len);

    if (ngx_socketio_classic->conf->specific_response_channel
        && uid->len
        && uid->len <= NGX_SOCKETIO_CLASSIC_UID_MAX)
    {
        p = ngx_cpymem(p, uid->data, uid->len);
        *p++ = '#';
    }

    channel->len = p - channel->data;
}


static void
ngx_socketio_classic_respond(ngx_socketio_classic_nsp_t *cn, json_t *req,
    ngx_socketio_wbuf_t *b, ngx_pool_t *pool)
{
    ngx_str_t  uid, channel;

    if (ngx_socketio_classic_json_str(json_object_get(req, "uid"), &uid)
        != NGX_OK)
    {
        ngx_str_null(&uid);
    }

    channel.data = ngx_pnalloc(pool, NGX_SOCKETIO_CLASSIC_RESPONSE_LEN(cn));
    if (channel.data == NULL) {
        return;
    }

    ngx_socketio_classic_response_channel(cn, &uid, &channel);
    ngx_socketio_classic_publish(&channel, b);
}


static void
ngx_socketio_classic_publish(ngx_str_t *channel, ngx_socketio_wbuf_t *b)
{
    const char  *argv[3];
    size_t       argvlen[3];

    if (b->failed) {
        return;
    }

    argv[0] = "PUBLISH";
    argvlen[0] = 7;
    argv[1] = (const char *) channel->data;
    argvlen[1] = channel->len;
    argv[2] = (const char *) b->start;
    argvlen[2] = ngx_socketio_wbuf_len(b);

    if (ngx_socketio_redis_command(ngx_socketio_classic->cmd, 3, argv,
                                   argvlen, NULL, NULL)
        != NGX_OK)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_socketio_classic->log, 0,
                       "socketio: response on \"%V\" not sent, redis is away",
                       channel);
        return;
    }

    ngx_socketio_stats->redis_responses++;
}


static ngx_int_t
ngx_socketio_classic_json_str(json_t *v, ngx_str_t *s)
{
    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    s->data = (u_char *) json_string_value(v);
    s->len = json_string_length(v);

    return NGX_OK;
}


/* a room name: a string, or an integer as Node would make it a key */

static ngx_int_t
ngx_socketio_classic_json_name(json_t *v, ngx_pool_t *pool, ngx_str_t *name)
{
    u_char  *p;

    if (ngx_socketio_classic_json_str(v, name) == NGX_OK) {
        return NGX_OK;
    }

    if (!json_is_integer(v)) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    name->data = p;
    name->len = ngx_sprintf(p, "%L", (int64_t) json_integer_value(v)) - p;

    return NGX_OK;
}


/* an array of room names; absent is empty, as new Set(undefined) is */

static ngx_int_t
ngx_socketio_classic_json_names(json_t *a, ngx_pool_t *pool,
    ngx_str_t **names, ngx_uint_t *n)
{
    size_t      i;
    json_t     *v;
    ngx_str_t  *s;

    *names = NULL;
    *n = 0;

    if (a == NULL) {
        return NGX_OK;
    }

    if (!json_is_array(a)) {
        return NGX_ERROR;
    }

    s = ngx_palloc(pool, (json_array_size(a) + 1) * sizeof(ngx_str_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    json_array_foreach(a, i, v) {
        if (ngx_socketio_classic_json_name(v, pool, &s[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    *names = s;
    *n = json_array_size(a);

    return NGX_OK;
}


/* opts: {"rooms": [...], "except": [...]}; flags do not matter here */

static ngx_int_t
ngx_socketio_classic_json_opts(json_t *opts, ngx_pool_t *pool,
    ngx_socketio_opts_t *o)
{
    if (!json_is_object(opts)) {
        return NGX_ERROR;
    }

    if (ngx_socketio_classic_json_names(json_object_get(opts, "rooms"), pool,
                                        &o->rooms, &o->nrooms)
        != NGX_OK
        || ngx_socketio_classic_json_names(json_object_get(opts, "except"),
                                           pool, &o->except, &o->nexcept)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}

