
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_STATS_H_INCLUDED_
#define _NGX_SOCKETIO_STATS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The counters of one worker.  Each worker writes only its own; with a
 * shared memory zone they live there (one slot per worker) and the status
 * endpoint of any worker reads them all.
 */

typedef struct {
    uint64_t    connections;         /* Engine.IO connections now */
    uint64_t    connections_total;
    uint64_t    sockets;             /* namespace sockets now */
    uint64_t    messages_in;         /* Engine.IO messages from clients */
    uint64_t    messages_out;        /* frames queued to clients */
    uint64_t    bytes_in;
    uint64_t    bytes_out;
    uint64_t    broadcasts;          /* broadcasts received from the cluster */
    uint64_t    dropped_volatile;
    uint64_t    slow_consumers;      /* closed: send queue over its bound */
    uint64_t    unrouted_events;     /* client events nothing handles */
    uint64_t    protocol_errors;     /* connections closed for bad input */
    uint64_t    redis_connected;     /* 1 when both connections are up */
    uint64_t    redis_reconnects;
    uint64_t    redis_messages;
    uint64_t    redis_malformed;
    uint64_t    redis_requests;      /* cluster requests received */
    uint64_t    redis_responses;     /* responses published */
    uint64_t    rooms_unindexed;     /* missing from the shared room index */
} ngx_socketio_stats_t;


extern ngx_socketio_stats_t  *ngx_socketio_stats;


#endif /* _NGX_SOCKETIO_STATS_H_INCLUDED_ */
