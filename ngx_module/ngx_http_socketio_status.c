
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_socketio_module.h"
#include "ngx_http_socketio_status.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_utf8.h"
#include "ngx_socketio_shm.h"


/* rooms per namespace in the Prometheus output unless ?rooms=N says */
#define NGX_HTTP_SOCKETIO_STATUS_ROOMS  100

/* the longest line with numbers only that the writers print at once */
#define NGX_HTTP_SOCKETIO_STATUS_LINE   512


/* a counter of ngx_socketio_stats_t, as JSON and Prometheus name it */

typedef struct {
    char                             *json;
    char                             *metric;    /* NULL: JSON only */
    char                             *help;
    ngx_uint_t                        gauge;
    size_t                            offset;
} ngx_http_socketio_status_field_t;


/* what the zone holds, copied under its lock */

typedef struct {
    ngx_uint_t                        worker;
    ngx_pid_t                         pid;
    ngx_uint_t                        generation;
    time_t                            start;
    ngx_socketio_stats_t              stats;
} ngx_http_socketio_status_worker_t;


/* the count of one worker process in a namespace or a room */

typedef struct {
    ngx_uint_t                        worker;
    uint64_t                          n;
} ngx_http_socketio_status_count_t;


typedef struct {
    ngx_str_t                         name;
    uint64_t                          total;
    ngx_uint_t                        first;     /* in counts */
    ngx_uint_t                        n;
} ngx_http_socketio_status_item_t;


typedef struct {
    ngx_http_socketio_status_item_t   sockets;   /* name: the namespace */
    ngx_array_t                       rooms;     /* status_item_t */
} ngx_http_socketio_status_nsp_t;


typedef struct {
    ngx_uint_t                        generation;
    ngx_array_t                       workers;   /* status_worker_t */
    ngx_array_t                       nsps;      /* status_nsp_t */
    ngx_array_t                       counts;    /* status_count_t */
    ngx_uint_t                        limit;     /* rooms per namespace */
    ngx_http_request_t               *request;
} ngx_http_socketio_status_t;


static ngx_int_t ngx_http_socketio_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_socketio_status_snapshot(
    ngx_http_socketio_status_t *st, ngx_socketio_shm_t *shm);
static ngx_int_t ngx_http_socketio_status_copy(
    ngx_http_socketio_status_t *st, ngx_socketio_shm_t *shm,
    ngx_int_t *live);
static ngx_int_t ngx_http_socketio_status_copy_nsp(
    ngx_http_socketio_status_t *st, ngx_socketio_shm_nsp_t *sn,
    ngx_int_t *live);
static ngx_int_t ngx_http_socketio_status_count(
    ngx_http_socketio_status_t *st, ngx_http_socketio_status_item_t *item,
    ngx_uint_t worker, uint64_t n);
static int ngx_libc_cdecl ngx_http_socketio_status_cmp_workers(
    const void *one, const void *two);
static int ngx_libc_cdecl ngx_http_socketio_status_cmp_rooms(
    const void *one, const void *two);
static void ngx_http_socketio_status_sort_counts(
    ngx_http_socketio_status_t *st, ngx_http_socketio_status_item_t *item);
static int ngx_libc_cdecl ngx_http_socketio_status_cmp_counts(
    const void *one, const void *two);
static void ngx_http_socketio_status_json(ngx_http_socketio_status_t *st,
    ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_status_json_counts(
    ngx_http_socketio_status_t *st, ngx_http_socketio_status_item_t *item,
    ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_status_prometheus(
    ngx_http_socketio_status_t *st, ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_status_family(ngx_socketio_wbuf_t *b,
    char *name, char *help, ngx_uint_t gauge);
static void ngx_http_socketio_status_label(ngx_socketio_wbuf_t *b,
    u_char *s, size_t len);
static void ngx_http_socketio_status_printf(ngx_socketio_wbuf_t *b,
    const char *fmt, ...);
static uint64_t ngx_http_socketio_status_merged(
    ngx_http_socketio_status_count_t *c, ngx_uint_t n, ngx_uint_t *i);
static ngx_int_t ngx_http_socketio_status_send(ngx_http_request_t *r,
    ngx_str_t *type, ngx_socketio_wbuf_t *b);
static void ngx_http_socketio_status_free(void *data);


#define ngx_http_socketio_status_stat(w, f)                                   \
    (*(uint64_t *) ((u_char *) &(w)->stats + (f)->offset))


static ngx_http_socketio_status_field_t  ngx_http_socketio_status_fields[] = {

    { "connections", "connections",
      "Engine.IO connections open now.",
      1, offsetof(ngx_socketio_stats_t, connections) },

    { "connections_total", "connections_accepted_total",
      "Engine.IO connections accepted.",
      0, offsetof(ngx_socketio_stats_t, connections_total) },

    /* per namespace in Prometheus: socketio_sockets */
    { "sockets", NULL, NULL,
      1, offsetof(ngx_socketio_stats_t, sockets) },

    { "messages_in", "messages_received_total",
      "Engine.IO messages received from clients.",
      0, offsetof(ngx_socketio_stats_t, messages_in) },

    { "messages_out", "messages_sent_total",
      "Engine.IO messages queued to clients.",
      0, offsetof(ngx_socketio_stats_t, messages_out) },

    { "bytes_in", "received_bytes_total",
      "Bytes received from clients.",
      0, offsetof(ngx_socketio_stats_t, bytes_in) },

    { "bytes_out", "sent_bytes_total",
      "Bytes sent to clients.",
      0, offsetof(ngx_socketio_stats_t, bytes_out) },

    { "broadcasts", "broadcasts_total",
      "Broadcasts received from the cluster.",
      0, offsetof(ngx_socketio_stats_t, broadcasts) },

    { "dropped_volatile", "volatile_dropped_total",
      "Volatile packets dropped for clients that could not take them.",
      0, offsetof(ngx_socketio_stats_t, dropped_volatile) },

    { "slow_consumers", "slow_consumers_total",
      "Clients closed because their send queue went past its bound.",
      0, offsetof(ngx_socketio_stats_t, slow_consumers) },

    { "unrouted_events", "unrouted_events_total",
      "Client events that nothing routes.",
      0, offsetof(ngx_socketio_stats_t, unrouted_events) },

    { "protocol_errors", "protocol_errors_total",
      "Connections closed for protocol errors.",
      0, offsetof(ngx_socketio_stats_t, protocol_errors) },

    { "redis_connected", "redis_connected",
      "1 when both Redis connections of the worker are up.",
      1, offsetof(ngx_socketio_stats_t, redis_connected) },

    { "redis_reconnects", "redis_reconnects_total",
      "Redis subscriber connections lost and reconnected.",
      0, offsetof(ngx_socketio_stats_t, redis_reconnects) },

    { "redis_messages", "redis_messages_total",
      "Messages received from Redis.",
      0, offsetof(ngx_socketio_stats_t, redis_messages) },

    { "redis_malformed", "redis_malformed_total",
      "Messages from Redis dropped as malformed.",
      0, offsetof(ngx_socketio_stats_t, redis_malformed) },

    { "redis_requests", "redis_requests_total",
      "Requests received from the cluster (fetchSockets() and others).",
      0, offsetof(ngx_socketio_stats_t, redis_requests) },

    { "redis_responses", "redis_responses_total",
      "Responses published to the cluster.",
      0, offsetof(ngx_socketio_stats_t, redis_responses) },

    { "rooms_unindexed", "rooms_unindexed_total",
      "Rooms left out of the room index: the shared memory zone was full.",
      0, offsetof(ngx_socketio_stats_t, rooms_unindexed) },

    { NULL, NULL, NULL, 0, 0 }
};


static ngx_str_t  ngx_http_socketio_status_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_socketio_status_prometheus_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");


char *
ngx_http_socketio_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_socketio_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_socketio_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc, n;
    ngx_str_t                       value, *type;
    ngx_uint_t                      prometheus;
    ngx_socketio_wbuf_t             b;
    ngx_http_socketio_status_t      st;
    ngx_http_socketio_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    prometheus = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) == NGX_OK) {

        if (value.len == 10
            && ngx_strncmp(value.data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (value.len != 4
                   || ngx_strncmp(value.data, "json", 4) != 0)
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    /* a scraper stores every room as a series: few unless asked */

    st.limit = prometheus ? NGX_HTTP_SOCKETIO_STATUS_ROOMS
                          : NGX_MAX_UINT32_VALUE;

    if (ngx_http_arg(r, (u_char *) "rooms", 5, &value) == NGX_OK) {
        n = ngx_atoi(value.data, value.len);

        if (n == NGX_ERROR) {
            return NGX_HTTP_BAD_REQUEST;
        }

        st.limit = n;
    }

    st.generation = 0;
    st.request = r;

    if (ngx_array_init(&st.workers, r->pool, 8,
                       sizeof(ngx_http_socketio_status_worker_t))
        != NGX_OK
        || ngx_array_init(&st.nsps, r->pool, 4,
                          sizeof(ngx_http_socketio_status_nsp_t))
           != NGX_OK
        || ngx_array_init(&st.counts, r->pool, 64,
                          sizeof(ngx_http_socketio_status_count_t))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_socketio_module);

    /* without a socketio location there is no zone: nothing to show */

    if (smcf->shm_zone
        && ngx_http_socketio_status_snapshot(&st, smcf->shm_zone->data)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_socketio_wbuf_init(&b, 4096) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prometheus) {
        ngx_http_socketio_status_prometheus(&st, &b);
        type = &ngx_http_socketio_status_prometheus_type;

    } else {
        ngx_http_socketio_status_json(&st, &b);
        type = &ngx_http_socketio_status_json_type;
    }

    if (b.failed) {
        ngx_socketio_wbuf_free(&b);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_socketio_status_send(r, type, &b);
}


/*
 * The zone is copied under its lock and written out after: the lock is
 * what every worker takes when one of its rooms comes or goes.
 */

static ngx_int_t
ngx_http_socketio_status_snapshot(ngx_http_socketio_status_t *st,
    ngx_socketio_shm_t *shm)
{
    ngx_int_t                         rc, *live;
    ngx_uint_t                        i, j;
    ngx_http_socketio_status_nsp_t   *nsp;
    ngx_http_socketio_status_item_t  *room;

    /* the worker number of each slot's live process, or -1 */

    live = ngx_palloc(st->request->pool,
                      NGX_SOCKETIO_SHM_SLOTS * sizeof(ngx_int_t));
    if (live == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shm->shpool->mutex);

    rc = ngx_http_socketio_status_copy(st, shm, live);

    ngx_shmtx_unlock(&shm->shpool->mutex);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    /* workers by number, an old one before its successor of a reload */

    ngx_qsort(st->workers.elts, st->workers.nelts,
              sizeof(ngx_http_socketio_status_worker_t),
              ngx_http_socketio_status_cmp_workers);

    /* the largest rooms first: a limit keeps those */

    nsp = st->nsps.elts;

    for (i = 0; i < st->nsps.nelts; i++) {
        ngx_qsort(nsp[i].rooms.elts, nsp[i].rooms.nelts,
                  sizeof(ngx_http_socketio_status_item_t),
                  ngx_http_socketio_status_cmp_rooms);

        ngx_http_socketio_status_sort_counts(st, &nsp[i].sockets);

        room = nsp[i].rooms.elts;

        for (j = 0; j < nsp[i].rooms.nelts; j++) {
            ngx_http_socketio_status_sort_counts(st, &room[j]);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_socketio_status_copy(ngx_http_socketio_status_t *st,
    ngx_socketio_shm_t *shm, ngx_int_t *live)
{
    ngx_uint_t                          i;
    ngx_queue_t                        *q;
    ngx_socketio_shm_nsp_t             *sn;
    ngx_socketio_shm_slot_t            *slot;
    ngx_http_socketio_status_worker_t  *w;

    st->generation = shm->sh->generation;

    /*
     * A worker that died is left out at once, before its successor
     * clears its slot: its sockets are gone with it.
     */

    for (i = 0; i < NGX_SOCKETIO_SHM_SLOTS; i++) {

        slot = ngx_socketio_shm_slot(shm->sh, i);

        if (!ngx_socketio_shm_slot_alive(slot)) {
            live[i] = -1;
            continue;
        }

        live[i] = slot->worker;

        w = ngx_array_push(&st->workers);
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->worker = slot->worker;
        w->pid = slot->pid;
        w->generation = slot->generation;
        w->start = slot->start;
        w->stats = slot->stats;
    }

    for (q = ngx_queue_head(&shm->sh->nsps);
         q != ngx_queue_sentinel(&shm->sh->nsps);
         q = ngx_queue_next(q))
    {
        sn = ngx_queue_data(q, ngx_socketio_shm_nsp_t, queue);

        if (ngx_http_socketio_status_copy_nsp(st, sn, live) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_socketio_status_copy_nsp(ngx_http_socketio_status_t *st,
    ngx_socketio_shm_nsp_t *sn, ngx_int_t *live)
{
    ngx_pool_t                       *pool;
    ngx_queue_t                      *q;
    ngx_rbtree_node_t                *node;
    ngx_socketio_shm_room_t          *r, *prev;
    ngx_socketio_shm_worker_t        *w;
    ngx_http_socketio_status_nsp_t   *nsp;
    ngx_http_socketio_status_item_t  *room;

    pool = st->request->pool;

    nsp = ngx_array_push(&st->nsps);
    if (nsp == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&nsp->sockets, sizeof(ngx_http_socketio_status_item_t));

    if (ngx_array_init(&nsp->rooms, pool, 8,
                       sizeof(ngx_http_socketio_status_item_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    nsp->sockets.first = st->counts.nelts;

    for (q = ngx_queue_head(&sn->workers);
         q != ngx_queue_sentinel(&sn->workers);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_socketio_shm_worker_t, queue);

        if (live[w->slot] == -1) {
            continue;
        }

        if (ngx_http_socketio_status_count(st, &nsp->sockets, live[w->slot],
                                           w->sockets)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (nsp->sockets.n == 0) {
        /* only workers that died had it */
        st->nsps.nelts--;
        return NGX_OK;
    }

    nsp->sockets.name.len = sn->len;
    nsp->sockets.name.data = ngx_pnalloc(pool, sn->len);
    if (nsp->sockets.name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(nsp->sockets.name.data, sn->name, sn->len);

    if (sn->rooms.root == sn->rooms.sentinel) {
        return NGX_OK;
    }

    /* the entries of one room are neighbours in the tree */

    prev = NULL;
    room = NULL;

    for (node = ngx_rbtree_min(sn->rooms.root, sn->rooms.sentinel);
         node;
         node = ngx_rbtree_next(&sn->rooms, node))
    {
        r = (ngx_socketio_shm_room_t *) node;

        if (live[r->slot] == -1) {
            continue;
        }

        if (prev == NULL || ngx_socketio_shm_room_cmp(prev, r) != 0) {

            room = ngx_array_push(&nsp->rooms);
            if (room == NULL) {
                return NGX_ERROR;
            }

            room->name.len = r->len;
            room->name.data = ngx_pnalloc(pool, r->len);
            if (room->name.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(room->name.data, r->name, r->len);

            room->total = 0;
            room->first = st->counts.nelts;
            room->n = 0;
        }

        if (ngx_http_socketio_status_count(st, room, live[r->slot],
                                           r->members)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        prev = r;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_socketio_status_count(ngx_http_socketio_status_t *st,
    ngx_http_socketio_status_item_t *item, ngx_uint_t worker, uint64_t n)
{
    ngx_http_socketio_status_count_t  *c;

    c = ngx_array_push(&st->counts);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->worker = worker;
    c->n = n;

    item->total += n;
    item->n++;

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_socketio_status_cmp_workers(const void *one, const void *two)
{
    const ngx_http_socketio_status_worker_t  *a = one;
    const ngx_http_socketio_status_worker_t  *b = two;

    if (a->worker != b->worker) {
        return (a->worker < b->worker) ? -1 : 1;
    }

    if (a->generation != b->generation) {
        return (a->generation < b->generation) ? -1 : 1;
    }

    return (a->pid < b->pid) ? -1 : (a->pid > b->pid);
}


static int ngx_libc_cdecl
ngx_http_socketio_status_cmp_rooms(const void *one, const void *two)
{
    const ngx_http_socketio_status_item_t  *a = one;
    const ngx_http_socketio_status_item_t  *b = two;

    int     rc;
    size_t  len;

    if (a->total != b->total) {
        return (a->total > b->total) ? -1 : 1;
    }

    len = ngx_min(a->name.len, b->name.len);

    rc = ngx_memcmp(a->name.data, b->name.data, len);

    if (rc != 0) {
        return rc;
    }

    return (a->name.len < b->name.len) ? -1 : (a->name.len > b->name.len);
}


static void
ngx_http_socketio_status_sort_counts(ngx_http_socketio_status_t *st,
    ngx_http_socketio_status_item_t *item)
{
    if (item->n > 1) {
        ngx_qsort((ngx_http_socketio_status_count_t *) st->counts.elts
                  + item->first,
                  item->n, sizeof(ngx_http_socketio_status_count_t),
                  ngx_http_socketio_status_cmp_counts);
    }
}


static int ngx_libc_cdecl
ngx_http_socketio_status_cmp_counts(const void *one, const void *two)
{
    const ngx_http_socketio_status_count_t  *a = one;
    const ngx_http_socketio_status_count_t  *b = two;

    return (a->worker < b->worker) ? -1 : (a->worker > b->worker);
}


/*
 * {"generation":N,
 *  "workers":[{"worker":0,"pid":P,"started":T,"exiting":false,...}],
 *  "totals":{"workers":N,...},
 *  "namespaces":{"/":{"sockets":N,"workers":{"0":N},"room_count":N,
 *                     "rooms":{"room":{"members":N,"workers":{"0":N}}}}}}
 */

static void
ngx_http_socketio_status_json(ngx_http_socketio_status_t *st,
    ngx_socketio_wbuf_t *b)
{
    uint64_t                            sum;
    ngx_uint_t                          i, j, k;
    ngx_http_socketio_status_nsp_t     *nsp;
    ngx_http_socketio_status_item_t    *room;
    ngx_http_socketio_status_field_t   *f;
    ngx_http_socketio_status_worker_t  *w;

    w = st->workers.elts;

    ngx_http_socketio_status_printf(b, "{\"generation\":%ui,\"workers\":[",
                                    st->generation);

    for (i = 0; i < st->workers.nelts; i++) {

        ngx_http_socketio_status_printf(b,
                        "%s{\"worker\":%ui,\"pid\":%P,\"started\":%T,"
                        "\"exiting\":%s",
                        i ? "," : "", w[i].worker, w[i].pid, w[i].start,
                        w[i].generation != st->generation ? "true" : "false");

        for (f = ngx_http_socketio_status_fields; f->json; f++) {
            ngx_http_socketio_status_printf(b, ",\"%s\":%uL", f->json,
                                  ngx_http_socketio_status_stat(&w[i], f));
        }

        ngx_socketio_wbuf_addc(b, '}');
    }

    /* gauges add up as counters do: connections of the instance */

    ngx_http_socketio_status_printf(b, "],\"totals\":{\"workers\":%ui",
                                    st->workers.nelts);

    for (f = ngx_http_socketio_status_fields; f->json; f++) {

        sum = 0;

        for (i = 0; i < st->workers.nelts; i++) {
            sum += ngx_http_socketio_status_stat(&w[i], f);
        }

        ngx_http_socketio_status_printf(b, ",\"%s\":%uL", f->json, sum);
    }

    ngx_socketio_wbuf_str(b, "},\"namespaces\":{");

    nsp = st->nsps.elts;

    for (i = 0; i < st->nsps.nelts; i++) {

        if (i) {
            ngx_socketio_wbuf_addc(b, ',');
        }

        ngx_socketio_json_string(b, nsp[i].sockets.name.data,
                                 nsp[i].sockets.name.len);

        ngx_http_socketio_status_printf(b, ":{\"sockets\":%uL,\"workers\":",
                                        nsp[i].sockets.total);

        ngx_http_socketio_status_json_counts(st, &nsp[i].sockets, b);

        ngx_http_socketio_status_printf(b,
                                        ",\"room_count\":%ui,\"rooms\":{",
                                        nsp[i].rooms.nelts);

        room = nsp[i].rooms.elts;
        k = ngx_min(nsp[i].rooms.nelts, st->limit);

        for (j = 0; j < k; j++) {

            if (j) {
                ngx_socketio_wbuf_addc(b, ',');
            }

            ngx_socketio_json_string(b, room[j].name.data, room[j].name.len);

            ngx_http_socketio_status_printf(b,
                                            ":{\"members\":%uL,\"workers\":",
                                            room[j].total);

            ngx_http_socketio_status_json_counts(st, &room[j], b);

            ngx_socketio_wbuf_addc(b, '}');
        }

        ngx_socketio_wbuf_str(b, "}}");
    }

    ngx_socketio_wbuf_str(b, "}}\n");
}


/* {"0":N,"1":N} */

static void
ngx_http_socketio_status_json_counts(ngx_http_socketio_status_t *st,
    ngx_http_socketio_status_item_t *item, ngx_socketio_wbuf_t *b)
{
    char                              *sep;
    uint64_t                           n;
    ngx_uint_t                         i, worker;
    ngx_http_socketio_status_count_t  *c;

    c = (ngx_http_socketio_status_count_t *) st->counts.elts + item->first;

    ngx_socketio_wbuf_addc(b, '{');

    sep = "";

    for (i = 0; i < item->n; /* void */ ) {
        worker = c[i].worker;
        n = ngx_http_socketio_status_merged(c, item->n, &i);

        ngx_http_socketio_status_printf(b, "%s\"%ui\":%uL", sep, worker, n);
        sep = ",";
    }

    ngx_socketio_wbuf_addc(b, '}');
}


/*
 * Counts are sorted by worker number: an old worker and its successor of
 * a reload are neighbours and add up.  The sum of the run at *i; *i moves
 * past it.
 */

static uint64_t
ngx_http_socketio_status_merged(ngx_http_socketio_status_count_t *c,
    ngx_uint_t n, ngx_uint_t *i)
{
    uint64_t    sum;
    ngx_uint_t  k;

    sum = 0;

    for (k = *i; k < n && c[k].worker == c[*i].worker; k++) {
        sum += c[k].n;
    }

    *i = k;

    return sum;
}


/*
 * The Prometheus text exposition format 0.0.4.  A series is a worker
 * number: during a reload an old worker and its successor share one
 * (their counters add up; the sum falls when the old one exits, which a
 * scraper takes as a counter reset).  Totals are left to sum().
 */

static void
ngx_http_socketio_status_prometheus(ngx_http_socketio_status_t *st,
    ngx_socketio_wbuf_t *b)
{
    uint64_t                            sum;
    ngx_uint_t                          i, j, k, worker;
    ngx_http_socketio_status_nsp_t     *nsp;
    ngx_http_socketio_status_item_t    *room;
    ngx_http_socketio_status_count_t   *c;
    ngx_http_socketio_status_field_t   *f;
    ngx_http_socketio_status_worker_t  *w;

    w = st->workers.elts;

    ngx_http_socketio_status_family(b, "workers",
               "Worker processes of the instance (old ones of a reload "
               "included until they exit).", 1);

    ngx_http_socketio_status_printf(b, "socketio_workers %ui\n",
                                    st->workers.nelts);

    ngx_http_socketio_status_family(b, "worker_info",
               "A worker process: its number and pid.", 1);

    for (i = 0; i < st->workers.nelts; i++) {
        ngx_http_socketio_status_printf(b,
                        "socketio_worker_info{worker=\"%ui\",pid=\"%P\"} 1\n",
                        w[i].worker, w[i].pid);
    }

    for (f = ngx_http_socketio_status_fields; f->json; f++) {

        if (f->metric == NULL) {
            continue;
        }

        ngx_http_socketio_status_family(b, f->metric, f->help, f->gauge);

        /* the workers are sorted by number */

        for (i = 0; i < st->workers.nelts; i = j) {

            sum = 0;

            for (j = i; j < st->workers.nelts; j++) {
                if (w[j].worker != w[i].worker) {
                    break;
                }

                sum += ngx_http_socketio_status_stat(&w[j], f);
            }

            ngx_http_socketio_status_printf(b,
                                            "socketio_%s{worker=\"%ui\"} %uL\n",
                                            f->metric, w[i].worker, sum);
        }
    }

    nsp = st->nsps.elts;

    ngx_http_socketio_status_family(b, "sockets",
               "Socket.IO sockets connected now.", 1);

    for (i = 0; i < st->nsps.nelts; i++) {

        c = (ngx_http_socketio_status_count_t *) st->counts.elts
            + nsp[i].sockets.first;

        for (j = 0; j < nsp[i].sockets.n; /* void */ ) {
            worker = c[j].worker;
            sum = ngx_http_socketio_status_merged(c, nsp[i].sockets.n, &j);

            ngx_socketio_wbuf_str(b, "socketio_sockets{namespace=\"");
            ngx_http_socketio_status_label(b, nsp[i].sockets.name.data,
                                           nsp[i].sockets.name.len);
            ngx_http_socketio_status_printf(b, "\",worker=\"%ui\"} %uL\n",
                                            worker, sum);
        }
    }

    ngx_http_socketio_status_family(b, "rooms",
               "Rooms with members on any worker, socket id rooms aside.", 1);

    for (i = 0; i < st->nsps.nelts; i++) {
        ngx_socketio_wbuf_str(b, "socketio_rooms{namespace=\"");
        ngx_http_socketio_status_label(b, nsp[i].sockets.name.data,
                                       nsp[i].sockets.name.len);
        ngx_http_socketio_status_printf(b, "\"} %ui\n", nsp[i].rooms.nelts);
    }

    ngx_http_socketio_status_family(b, "room_members",
               "Members of a room on all workers: the largest rooms of each "
               "namespace, as many as ?rooms=N asks (100 by default).", 1);

    for (i = 0; i < st->nsps.nelts; i++) {

        room = nsp[i].rooms.elts;
        k = ngx_min(nsp[i].rooms.nelts, st->limit);

        for (j = 0; j < k; j++) {
            ngx_socketio_wbuf_str(b, "socketio_room_members{namespace=\"");
            ngx_http_socketio_status_label(b, nsp[i].sockets.name.data,
                                           nsp[i].sockets.name.len);
            ngx_socketio_wbuf_str(b, "\",room=\"");
            ngx_http_socketio_status_label(b, room[j].name.data,
                                           room[j].name.len);
            ngx_http_socketio_status_printf(b, "\"} %uL\n", room[j].total);
        }
    }
}


static void
ngx_http_socketio_status_family(ngx_socketio_wbuf_t *b, char *name,
    char *help, ngx_uint_t gauge)
{
    ngx_http_socketio_status_printf(b, "# HELP socketio_%s %s\n"
                                    "# TYPE socketio_%s %s\n",
                                    name, help, name,
                                    gauge ? "gauge" : "counter");
}


/*
 * A label value: \ " and newline escaped, and what is not UTF-8 replaced
 * by U+FFFD, as a scraper takes nothing else
 */

static void
ngx_http_socketio_status_label(ngx_socketio_wbuf_t *b, u_char *s,
    size_t len)
{
    size_t     n;
    u_char    *p, *end;
    uint32_t   cp;

    if (!ngx_socketio_wbuf_room(b, len * 3)) {
        return;
    }

    p = s;
    end = s + len;

    while (p < end) {

        switch (*p) {

        case '\\':
        case '"':
            *b->pos++ = '\\';
            *b->pos++ = *p++;
            continue;

        case '\n':
            *b->pos++ = '\\';
            *b->pos++ = 'n';
            p++;
            continue;
        }

        if (*p < 0x80) {
            *b->pos++ = *p++;
            continue;
        }

        n = ngx_socketio_utf8_next(p, end, &cp);

        if (cp == NGX_SOCKETIO_UTF8_INVALID) {
            *b->pos++ = 0xef;
            *b->pos++ = 0xbf;
            *b->pos++ = 0xbd;

        } else {
            b->pos = ngx_cpymem(b->pos, p, n);
        }

        p += n;
    }
}


static void
ngx_http_socketio_status_printf(ngx_socketio_wbuf_t *b, const char *fmt, ...)
{
    va_list  args;

    if (!ngx_socketio_wbuf_room(b, NGX_HTTP_SOCKETIO_STATUS_LINE)) {
        return;
    }

    va_start(args, fmt);
    b->pos = ngx_vslprintf(b->pos, b->end, fmt, args);
    va_end(args);
}


static ngx_int_t
ngx_http_socketio_status_send(ngx_http_request_t *r, ngx_str_t *type,
    ngx_socketio_wbuf_t *b)
{
    ngx_int_t            rc;
    ngx_buf_t           *buf;
    ngx_chain_t          out;
    ngx_pool_cleanup_t  *cln;

    /* the text is sent from where it was written, and freed with r */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_socketio_wbuf_free(b);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_socketio_status_free;
    cln->data = b->start;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type = *type;
    r->headers_out.content_length_n = b->pos - b->start;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    buf = ngx_calloc_buf(r->pool);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    buf->pos = b->start;
    buf->last = b->pos;
    buf->memory = 1;
    buf->last_buf = (r == r->main) ? 1 : 0;
    buf->last_in_chain = 1;

    out.buf = buf;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_socketio_status_free(void *data)
{
    ngx_free(data);
}
