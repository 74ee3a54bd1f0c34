
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <sys/random.h>
#include "ngx_socketio_id.h"


static u_char      ngx_socketio_id_pool[512];
static size_t      ngx_socketio_id_left;
static uint32_t    ngx_socketio_id_counter;

static u_char      ngx_socketio_id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


void
ngx_socketio_id_random(u_char *out, size_t n)
{
    size_t   k;
    ssize_t  got;

    while (n) {

        if (ngx_socketio_id_left == 0) {
            got = getrandom(ngx_socketio_id_pool,
                            sizeof(ngx_socketio_id_pool), GRND_NONBLOCK);

            if (got != (ssize_t) sizeof(ngx_socketio_id_pool)) {
                /*
                 * only before the kernel's pool is ready, at early boot:
                 * ids must still be unique, not secret
                 */

                for (k = 0; k < sizeof(ngx_socketio_id_pool); k++) {
                    ngx_socketio_id_pool[k] ^= (u_char) (ngx_random()
                                                         ^ ngx_pid ^ k);
                }
            }

            ngx_socketio_id_left = sizeof(ngx_socketio_id_pool);
        }

        k = ngx_min(n, ngx_socketio_id_left);

        ngx_memcpy(out, ngx_socketio_id_pool
                        + sizeof(ngx_socketio_id_pool) - ngx_socketio_id_left,
                   k);

        ngx_socketio_id_left -= k;
        out += k;
        n -= k;
    }
}


void
ngx_socketio_id_base64id(u_char *out)
{
    u_char      raw[15];
    uint32_t    n;
    ngx_uint_t  i;

    static u_char  b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    ngx_socketio_id_random(raw, 12);

    n = ngx_socketio_id_counter++;

    raw[11] = (u_char) (n >> 24);
    raw[12] = (u_char) (n >> 16);
    raw[13] = (u_char) (n >> 8);
    raw[14] = (u_char) n;

    for (i = 0; i < 5; i++) {
        out[0] = b64[raw[i * 3] >> 2];
        out[1] = b64[((raw[i * 3] & 0x03) << 4) | (raw[i * 3 + 1] >> 4)];
        out[2] = b64[((raw[i * 3 + 1] & 0x0f) << 2) | (raw[i * 3 + 2] >> 6)];
        out[3] = b64[raw[i * 3 + 2] & 0x3f];
        out += 4;
    }
}


void
ngx_socketio_id_uid2(u_char *out, size_t n)
{
    size_t  i;

    ngx_socketio_id_random(out, n);

    for (i = 0; i < n; i++) {
        out[i] = ngx_socketio_id_alphabet[out[i] & 63];
    }
}
