
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>
#include "ngx_http_socketio_module.h"
#include "ngx_http_socketio_handshake.h"
#include "ngx_http_socketio_status.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_ws.h"
#include "ngx_socketio_rooms.h"
#include "ngx_socketio_stats.h"
#include "ngx_socketio_shm.h"


#define NGX_HTTP_SOCKETIO_MAX_NSP   256


static ngx_int_t ngx_http_socketio_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_socketio_refuse(ngx_http_request_t *r,
    ngx_uint_t upgrade, ngx_uint_t code, const char *message);
static ngx_int_t ngx_http_socketio_respond(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *body, size_t len);
static ngx_uint_t ngx_http_socketio_is_upgrade(ngx_http_request_t *r);
static ngx_int_t ngx_http_socketio_accept(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *accept);
static ngx_int_t ngx_http_socketio_joins(ngx_http_request_t *r,
    ngx_http_socketio_loc_conf_t *slcf, ngx_array_t *joins);
static ngx_int_t ngx_http_socketio_data(ngx_http_request_t *r,
    ngx_http_socketio_loc_conf_t *slcf, ngx_str_t *data);
static void ngx_http_socketio_upgrade_handler(ngx_event_t *ev);

static ngx_int_t ngx_http_socketio_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_socketio_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_socketio_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_socketio_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_socketio_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_socketio(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_socketio_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_socketio_namespaces(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_socketio_join(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_socketio_data_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_socketio_adapter(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_socketio_shm_size(ngx_conf_t *cf, void *post,
    void *data);

static ngx_int_t ngx_http_socketio_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_socketio_init_process(ngx_cycle_t *cycle);
static void ngx_http_socketio_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_socketio_subscribe_modes[] = {
    { ngx_string("pattern"), NGX_SOCKETIO_SUBSCRIBE_PATTERN },
    { ngx_string("rooms"), NGX_SOCKETIO_SUBSCRIBE_ROOMS },
    { ngx_null_string, 0 }
};


static ngx_conf_post_handler_pt  ngx_http_socketio_shm_size_p =
    ngx_http_socketio_shm_size;


static ngx_command_t  ngx_http_socketio_commands[] = {

    { ngx_string("socketio"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_socketio,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_socketio_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_socketio_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_adapter"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_socketio_adapter,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_socketio_main_conf_t, adapter.key),
      NULL },

    { ngx_string("socketio_subscribe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_socketio_main_conf_t, adapter.subscribe),
      &ngx_http_socketio_subscribe_modes },

    { ngx_string("socketio_requests_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_socketio_main_conf_t, adapter.requests_timeout),
      NULL },

    { ngx_string("socketio_specific_response_channel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_socketio_main_conf_t,
               adapter.specific_response_channel),
      NULL },

    { ngx_string("socketio_shm_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_socketio_main_conf_t, shm_size),
      &ngx_http_socketio_shm_size_p },

    { ngx_string("socketio_namespaces"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_socketio_namespaces,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_join"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_socketio_join,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_data"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_socketio_data_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("socketio_ping_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_socketio_loc_conf_t, eio.ping_interval),
      NULL },

    { ngx_string("socketio_ping_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_socketio_loc_conf_t, eio.ping_timeout),
      NULL },

    { ngx_string("socketio_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_socketio_loc_conf_t, eio.connect_timeout),
      NULL },

    { ngx_string("socketio_max_payload"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_socketio_loc_conf_t, eio.max_payload),
      NULL },

    { ngx_string("socketio_send_queue"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_socketio_loc_conf_t, eio.send_queue),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_socketio_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_socketio_postconfiguration,   /* postconfiguration */

    ngx_http_socketio_create_main_conf,    /* create main configuration */
    ngx_http_socketio_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_socketio_create_loc_conf,     /* create location configuration */
    ngx_http_socketio_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_socketio_module = {
    NGX_MODULE_V1,
    &ngx_http_socketio_module_ctx,         /* module context */
    ngx_http_socketio_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_socketio_init_module,         /* init module */
    ngx_http_socketio_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_socketio_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_socketio_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_socketio_html_type = ngx_string("text/html");


/*
 * The Engine.IO handshake.  The checks and answers are Node's, in Node's
 * order (PROTOCOL 1.2, 8.1); the WebSocket ones are those of its ws.
 */

static ngx_int_t
ngx_http_socketio_handler(ngx_http_request_t *r)
{
    ngx_str_t                      value, accept, data, handshake;
    ngx_uint_t                     upgrade, i;
    ngx_array_t                    joins;
    ngx_connection_t              *c;
    ngx_table_elt_t               *h;
    ngx_socketio_conn_t           *conn;
    ngx_socketio_client_t         *client;
    ngx_http_socketio_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_socketio_module);
    c = r->connection;

    upgrade = ngx_http_socketio_is_upgrade(r);

    if (ngx_http_arg(r, (u_char *) "transport", 9, &value) != NGX_OK
        || value.len != 9
        || ngx_strncmp(value.data, "websocket", 9) != 0)
    {
        /* polling too: this node speaks WebSocket only */
        return ngx_http_socketio_refuse(r, upgrade, 0, "Transport unknown");
    }

    h = ngx_http_socketio_find_header(r, "origin", 6);

    if (h) {
        for (i = 0; i < h->value.len; i++) {
            if ((h->value.data[i] < 0x20 && h->value.data[i] != '\t')
                || h->value.data[i] == 0x7f)
            {
                return ngx_http_socketio_refuse(r, upgrade, 3, "Bad request");
            }
        }
    }

    /* as Node's "if (sid)": an empty sid is no sid */

    if (ngx_http_arg(r, (u_char *) "sid", 3, &value) == NGX_OK && value.len) {
        /* there are no polling sessions here to upgrade */
        return ngx_http_socketio_refuse(r, upgrade, 1, "Session ID unknown");
    }

    if (r->method != NGX_HTTP_GET) {
        return ngx_http_socketio_refuse(r, 0, 2, "Bad handshake method");
    }

    if (!upgrade) {
        return ngx_http_socketio_refuse(r, 0, 3, "Bad request");
    }

    h = ngx_http_socketio_find_header(r, "sec-websocket-version", 21);

    if (h == NULL
        || !((h->value.len == 2 && ngx_strncmp(h->value.data, "13", 2) == 0)
             || (h->value.len == 1 && h->value.data[0] == '8')))
    {
        return ngx_http_socketio_refuse(r, 1, 3,
                             "Missing or invalid Sec-WebSocket-Version header");
    }

    h = ngx_http_socketio_find_header(r, "sec-websocket-key", 17);

    if (h == NULL || ngx_http_socketio_accept(r, &h->value, &accept) != NGX_OK)
    {
        return ngx_http_socketio_refuse(r, 1, 3,
                                 "Missing or invalid Sec-WebSocket-Key header");
    }

    /*
     * Node would upgrade and then write the 400 into the WebSocket; an
     * answer before the upgrade is what PROTOCOL 1.2 asks of this node
     */

    if (ngx_http_arg(r, (u_char *) "EIO", 3, &value) != NGX_OK
        || value.len != 1 || value.data[0] != '4')
    {
        return ngx_http_socketio_refuse(r, 1, 5,
                                        "Unsupported protocol version");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what the handshake decides: rooms and socket.data, by variables */

    if (ngx_array_init(&joins, r->pool, 4, sizeof(ngx_str_t)) != NGX_OK
        || ngx_http_socketio_joins(r, slcf, &joins) != NGX_OK
        || ngx_http_socketio_data(r, slcf, &data) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_socketio_handshake(r, &handshake) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    client = ngx_socketio_client_create(&slcf->socket, joins.elts,
                                        joins.nelts, &data, &handshake,
                                        c->log);
    if (client == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    conn = ngx_socketio_eio_create(c, &slcf->eio, &accept, client);
    if (conn == NULL) {
        ngx_socketio_client_free(client);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    client->conn = conn;

    ngx_http_set_ctx(r, conn, ngx_http_socketio_module);

    /*
     * The request is kept until the current event is over: the HTTP core
     * still looks at it on the way out.  Then it is freed and the
     * connection becomes a session of its own.
     */

    r->main->count++;
    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;

    c->read->handler = ngx_http_socketio_upgrade_handler;
    c->write->handler = ngx_http_socketio_upgrade_handler;

    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_DONE;
}


static void
ngx_http_socketio_upgrade_handler(ngx_event_t *ev)
{
    u_char                 *pipelined;
    size_t                  len;
    ngx_buf_t              *b;
    ngx_chain_t            *cl;
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_socketio_conn_t    *conn;
    ngx_http_connection_t  *hc;

    c = ev->data;
    r = c->data;

    conn = ngx_http_get_module_ctx(r, ngx_http_socketio_module);
    hc = r->http_connection;

    /* bytes a client sent behind its request, before it saw the 101 */

    pipelined = NULL;
    len = r->header_in->last - r->header_in->pos;

    if (len) {
        pipelined = ngx_alloc(len, c->log);
        if (pipelined == NULL) {
            len = 0;

        } else {
            ngx_memcpy(pipelined, r->header_in->pos, len);
        }
    }

    /* the access log line is written now, with status 101 */

    ngx_http_free_request(r, 0);
    c->destroyed = 0;

    /*
     * An upgraded connection keeps only what it needs: the header buffers
     * go back as for an idle keepalive connection.
     */

    b = c->buffer;

    if (b && b->start && ngx_pfree(c->pool, b->start) == NGX_OK) {
        b->start = NULL;
        b->pos = NULL;
        b->last = NULL;
        b->end = NULL;
    }

    for (cl = hc->free; cl; cl = cl->next) {
        ngx_pfree(c->pool, cl->buf->start);
    }

    hc->free = NULL;

    for (cl = hc->busy; cl; cl = cl->next) {
        ngx_pfree(c->pool, cl->buf->start);
    }

    hc->busy = NULL;
    hc->nbusy = 0;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        ngx_ssl_free_buffer(c);
    }
#endif

    ngx_socketio_eio_start(conn, pipelined, len);

    if (pipelined) {
        ngx_free(pipelined);
    }
}


static ngx_int_t
ngx_http_socketio_refuse(ngx_http_request_t *r, ngx_uint_t upgrade,
    ngx_uint_t code, const char *message)
{
    u_char  *p, buf[128];
    size_t   len;

    len = ngx_strlen(message);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "socketio: handshake refused: %s", message);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->keepalive = 0;

    if (upgrade) {
        /* what engine.io / ws write before the upgrade: status 400 */

        return ngx_http_socketio_respond(r, NGX_HTTP_BAD_REQUEST,
                                         &ngx_http_socketio_html_type,
                                         (u_char *) message, len);
    }

    p = ngx_snprintf(buf, sizeof(buf), "{\"code\":%ui,\"message\":\"%s\"}",
                     code, message);

    return ngx_http_socketio_respond(r, code == 4 ? NGX_HTTP_FORBIDDEN
                                                  : NGX_HTTP_BAD_REQUEST,
                                     &ngx_http_socketio_json_type, buf,
                                     p - buf);
}


static ngx_int_t
ngx_http_socketio_respond(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, body, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* what makes Node's HTTP server emit "upgrade", and ws accept it */

static ngx_uint_t
ngx_http_socketio_is_upgrade(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    if (r->http_version != NGX_HTTP_VERSION_11) {
        return 0;
    }

#if (NGX_HTTP_V2)
    if (r->stream) {
        return 0;
    }
#endif

    h = ngx_http_socketio_find_header(r, "upgrade", 7);

    if (h == NULL || h->value.len != 9
        || ngx_strncasecmp(h->value.data, (u_char *) "websocket", 9) != 0)
    {
        return 0;
    }

    h = ngx_http_socketio_find_header(r, "connection", 10);

    if (h == NULL
        || ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "upgrade", 7 - 1)
           == NULL)
    {
        return 0;
    }

    return 1;
}


/* Sec-WebSocket-Accept; the key must be the base64 of 16 bytes */

static ngx_int_t
ngx_http_socketio_accept(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *accept)
{
    u_char       decoded[32], digest[20];
    ngx_str_t    d, s;
    ngx_sha1_t   sha1;

    if (key->len != 24) {
        return NGX_ERROR;
    }

    d.data = decoded;

    if (ngx_decode_base64(&d, key) != NGX_OK || d.len != 16) {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, NGX_SOCKETIO_WS_GUID,
                    sizeof(NGX_SOCKETIO_WS_GUID) - 1);
    ngx_sha1_final(digest, &sha1);

    accept->data = ngx_pnalloc(r->pool, ngx_base64_encoded_length(20));
    if (accept->data == NULL) {
        return NGX_ERROR;
    }

    s.data = digest;
    s.len = 20;

    ngx_encode_base64(accept, &s);

    return NGX_OK;
}


/*
 * socketio_join: each value is split on white space and commas; only
 * empty tokens are skipped
 */

static ngx_int_t
ngx_http_socketio_joins(ngx_http_request_t *r,
    ngx_http_socketio_loc_conf_t *slcf, ngx_array_t *joins)
{
    u_char                    *p, *end, *start;
    ngx_str_t                  value, *name;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    if (slcf->join == NULL) {
        return NGX_OK;
    }

    cv = slcf->join->elts;

    for (i = 0; i < slcf->join->nelts; i++) {

        if (ngx_http_complex_value(r, &cv[i], &value) != NGX_OK) {
            return NGX_ERROR;
        }

        p = value.data;
        end = p + value.len;

        while (p < end) {

            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'
                               || *p == '\n' || *p == ','))
            {
                p++;
            }

            start = p;

            while (p < end && *p != ' ' && *p != '\t' && *p != '\r'
                   && *p != '\n' && *p != ',' && *p != '\0')
            {
                p++;
            }

            if (p == start) {
                if (p < end && *p == '\0') {
                    /* a NUL cannot be in a room name here */
                    p++;
                }

                continue;
            }

            name = ngx_array_push(joins);
            if (name == NULL) {
                return NGX_ERROR;
            }

            name->data = start;
            name->len = p - start;
        }
    }

    return NGX_OK;
}


/*
 * socketio_data: socket.data is an object of string values, escaped here,
 * so that no variable can inject JSON
 */

static ngx_int_t
ngx_http_socketio_data(ngx_http_request_t *r,
    ngx_http_socketio_loc_conf_t *slcf, ngx_str_t *data)
{
    u_char                    *p;
    ngx_str_t                  value;
    ngx_uint_t                 i;
    ngx_socketio_wbuf_t        b;
    ngx_http_socketio_data_t  *d;

    if (slcf->data == NULL) {
        ngx_str_set(data, "{}");
        return NGX_OK;
    }

    if (ngx_socketio_wbuf_init(&b, 64) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_wbuf_addc(&b, '{');

    d = slcf->data->elts;

    for (i = 0; i < slcf->data->nelts; i++) {

        if (ngx_http_complex_value(r, &d[i].value, &value) != NGX_OK) {
            ngx_socketio_wbuf_free(&b);
            return NGX_ERROR;
        }

        if (i) {
            ngx_socketio_wbuf_addc(&b, ',');
        }

        ngx_socketio_json_string(&b, d[i].key.data, d[i].key.len);
        ngx_socketio_wbuf_addc(&b, ':');
        ngx_socketio_json_string(&b, value.data, value.len);
    }

    ngx_socketio_wbuf_addc(&b, '}');

    if (b.failed) {
        ngx_socketio_wbuf_free(&b);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, b.pos - b.start);
    if (p == NULL) {
        ngx_socketio_wbuf_free(&b);
        return NGX_ERROR;
    }

    data->len = b.pos - b.start;
    data->data = p;
    ngx_memcpy(p, b.start, data->len);

    ngx_socketio_wbuf_free(&b);

    return NGX_OK;
}


static ngx_int_t
ngx_http_socketio_init_module(ngx_cycle_t *cycle)
{
    ngx_http_socketio_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_socketio_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    return ngx_socketio_shm_init_module(smcf->shm_zone);
}


static ngx_int_t
ngx_http_socketio_init_process(ngx_cycle_t *cycle)
{
    ngx_str_t                      *ns;
    ngx_uint_t                      i;
    ngx_http_socketio_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_socketio_module);

    if (smcf == NULL || !smcf->enabled) {
        return NGX_OK;
    }

    /* a slot in the zone for this worker's counters, before anything counts */

    ngx_socketio_shm_init_process(smcf->shm_zone, cycle->log);

    /* the namespaces of every location, each with its own adapter state */

    ns = smcf->namespaces.elts;

    for (i = 0; i < smcf->namespaces.nelts; i++) {
        if (ngx_socketio_nsp_add(&ns[i], cycle->log) == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_socketio_socket_init();

    if (ngx_socketio_adapter_init(cycle, &smcf->adapter) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_socketio_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_socketio_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_socketio_module);

    if (smcf == NULL || !smcf->enabled) {
        return;
    }

    /* sessions first: their rooms go, while the adapter still listens */

    ngx_socketio_eio_close_all(cycle);
    ngx_socketio_adapter_exit(cycle);
    ngx_socketio_nsps_free();

    /* the slot goes last: closing the sessions above counted in it */

    ngx_socketio_shm_exit_process();
}


/*
 * The zone is added once the locations are merged: only an instance with
 * a socketio location has one.
 */

static ngx_int_t
ngx_http_socketio_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_socketio_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_socketio_module);

    if (!smcf->enabled) {
        return NGX_OK;
    }

    smcf->shm_zone = ngx_socketio_shm_add(cf, smcf->shm_size,
                                          &ngx_http_socketio_module);
    if (smcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_socketio_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_socketio_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_socketio_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->adapter.redis = NULL;
     *     smcf->adapter.key = { 0, NULL };
     *     smcf->shm_zone = NULL;
     *     smcf->enabled = 0;
     */

    smcf->adapter.kind = NGX_CONF_UNSET_UINT;
    smcf->adapter.subscribe = NGX_CONF_UNSET_UINT;
    smcf->adapter.requests_timeout = NGX_CONF_UNSET_MSEC;
    smcf->adapter.specific_response_channel = NGX_CONF_UNSET;
    smcf->shm_size = NGX_CONF_UNSET_SIZE;

    if (ngx_array_init(&smcf->namespaces, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static char *
ngx_http_socketio_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_socketio_main_conf_t  *smcf = conf;

    /* the defaults of @socket.io/redis-adapter */

    ngx_conf_init_uint_value(smcf->adapter.kind, NGX_SOCKETIO_ADAPTER_CLASSIC);
    ngx_conf_init_uint_value(smcf->adapter.subscribe,
                             NGX_SOCKETIO_SUBSCRIBE_PATTERN);
    ngx_conf_init_msec_value(smcf->adapter.requests_timeout, 5000);
    ngx_conf_init_value(smcf->adapter.specific_response_channel, 0);
    ngx_conf_init_size_value(smcf->shm_size, 16 * 1024 * 1024);

    if (smcf->adapter.key.data == NULL) {
        ngx_str_set(&smcf->adapter.key, "socket.io");
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_socketio_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_socketio_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_socketio_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->socket.namespaces = NULL;
     *     slcf->join = NULL;
     *     slcf->data = NULL;
     */

    slcf->enable = NGX_CONF_UNSET;
    slcf->eio.ping_interval = NGX_CONF_UNSET_MSEC;
    slcf->eio.ping_timeout = NGX_CONF_UNSET_MSEC;
    slcf->eio.connect_timeout = NGX_CONF_UNSET_MSEC;
    slcf->eio.max_payload = NGX_CONF_UNSET_SIZE;
    slcf->eio.send_queue = NGX_CONF_UNSET_SIZE;

    return slcf;
}


static char *
ngx_http_socketio_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_socketio_loc_conf_t *prev = parent;
    ngx_http_socketio_loc_conf_t *conf = child;

    ngx_str_t                      *ns, *all;
    ngx_uint_t                      i, j;
    ngx_http_socketio_main_conf_t  *smcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    /* Node's defaults */

    ngx_conf_merge_msec_value(conf->eio.ping_interval,
                              prev->eio.ping_interval, 25000);
    ngx_conf_merge_msec_value(conf->eio.ping_timeout,
                              prev->eio.ping_timeout, 20000);
    ngx_conf_merge_msec_value(conf->eio.connect_timeout,
                              prev->eio.connect_timeout, 45000);
    ngx_conf_merge_size_value(conf->eio.max_payload,
                              prev->eio.max_payload, 1024 * 1024);
    ngx_conf_merge_size_value(conf->eio.send_queue,
                              prev->eio.send_queue, 1024 * 1024);

    if (conf->eio.ping_interval == 0 || conf->eio.ping_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "socketio_ping_interval and socketio_ping_timeout "
                           "must be positive");
        return NGX_CONF_ERROR;
    }

    if (conf->socket.namespaces == NULL) {
        conf->socket.namespaces = prev->socket.namespaces;
    }

    if (conf->socket.namespaces == NULL) {
        conf->socket.namespaces = ngx_array_create(cf->pool, 1,
                                                   sizeof(ngx_str_t));
        if (conf->socket.namespaces == NULL) {
            return NGX_CONF_ERROR;
        }

        ns = ngx_array_push(conf->socket.namespaces);
        if (ns == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_str_set(ns, "/");
    }

    if (conf->join == NULL) {
        conf->join = prev->join;
    }

    if (conf->data == NULL) {
        conf->data = prev->data;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    /* every worker serves the namespaces of all locations */

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_socketio_module);
    smcf->enabled = 1;

    ns = conf->socket.namespaces->elts;

    for (i = 0; i < conf->socket.namespaces->nelts; i++) {

        all = smcf->namespaces.elts;

        for (j = 0; j < smcf->namespaces.nelts; j++) {
            if (all[j].len == ns[i].len
                && ngx_strncmp(all[j].data, ns[i].data, ns[i].len) == 0)
            {
                break;
            }
        }

        if (j < smcf->namespaces.nelts) {
            continue;
        }

        all = ngx_array_push(&smcf->namespaces);
        if (all == NULL) {
            return NGX_CONF_ERROR;
        }

        *all = ns[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_socketio_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    slcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_socketio_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_socketio_main_conf_t *smcf = conf;

    char       *rv;
    ngx_str_t  *value;

    if (smcf->adapter.redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rv = ngx_socketio_redis_parse_url(cf, &value[1], &smcf->redis);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    smcf->adapter.redis = &smcf->redis;

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio_adapter(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_socketio_main_conf_t *smcf = conf;

    ngx_str_t  *value;

    if (smcf->adapter.kind != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "classic") == 0) {
        smcf->adapter.kind = NGX_SOCKETIO_ADAPTER_CLASSIC;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "sharded") == 0
        || ngx_strcmp(value[1].data, "streams") == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "socketio_adapter \"%V\" is not supported by this "
                           "version; use \"classic\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid socketio_adapter \"%V\", expected "
                       "\"classic\", \"sharded\" or \"streams\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_socketio_shm_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    size_t  min;

    min = ngx_socketio_shm_min_size();

    if (*sp < min) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "socketio_shm_size must be at least %uzk",
                           min / 1024);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio_namespaces(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_socketio_loc_conf_t *slcf = conf;

    ngx_str_t   *value, *ns;
    ngx_uint_t   i;

    if (slcf->socket.namespaces) {
        return "is duplicate";
    }

    slcf->socket.namespaces = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                               sizeof(ngx_str_t));
    if (slcf->socket.namespaces == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /*
         * a namespace name starts with "/" and cannot hold the "," that
         * ends it in a packet
         */

        if (value[i].len == 0 || value[i].data[0] != '/'
            || value[i].len > NGX_HTTP_SOCKETIO_MAX_NSP
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, ',')
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, '#'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid namespace \"%V\": it starts with "
                               "\"/\", has no \",\" or \"#\", and at most %d "
                               "characters", &value[i],
                               NGX_HTTP_SOCKETIO_MAX_NSP);
            return NGX_CONF_ERROR;
        }

        ns = ngx_array_push(slcf->socket.namespaces);
        if (ns == NULL) {
            return NGX_CONF_ERROR;
        }

        *ns = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio_join(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_socketio_loc_conf_t *slcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (slcf->join) {
        return "is duplicate";
    }

    slcf->join = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                  sizeof(ngx_http_complex_value_t));
    if (slcf->join == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        cv = ngx_array_push(slcf->join);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_socketio_data_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_socketio_loc_conf_t *slcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_socketio_data_t          *d;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (slcf->data == NULL) {
        slcf->data = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_socketio_data_t));
        if (slcf->data == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    d = slcf->data->elts;

    for (i = 0; i < slcf->data->nelts; i++) {
        if (d[i].key.len == value[1].len
            && ngx_strncmp(d[i].key.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate socketio_data key \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    d = ngx_array_push(slcf->data);
    if (d == NULL) {
        return NGX_CONF_ERROR;
    }

    d->key = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &d->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
